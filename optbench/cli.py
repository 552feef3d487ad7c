"""The ``optbench`` command: parse, validate, call the API, print. Nothing else lives here.

Heavy libraries (numba, pandas, matplotlib) are imported inside commands, so ``--help`` and
``list`` start instantly. Every user error ends as one line on stderr and exit 2; a failed run
exits 1; tracebacks are for bugs only.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Any

import click

from optbench.config import DEFAULT_PROBLEM, DEFAULT_STEPS
from optbench.errors import OptbenchError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class InputError(click.ClickException):
    """Bad usage: printed as one line, exit 2."""

    exit_code = 2


class OneLineErrors(click.Group):
    """A group whose errors, click's own included, print as one line instead of usage + error."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as exc:
            where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
            click.echo(f"Error: {exc.format_message()}{where}", err=True)
            sys.exit(2)
        except click.ClickException as exc:
            click.echo(f"Error: {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        except OptbenchError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(2)
        except (click.Abort, KeyboardInterrupt):
            click.echo("Interrupted.", err=True)
            sys.exit(130)
        sys.exit(code if isinstance(code, int) else 0)


def _assignments(values: tuple[str, ...], flag: str) -> dict[str, float]:
    """``("beta1=0.95", "adam.eps=1e-7")`` → {"beta1": 0.95, "adam.eps": 1e-7}."""
    parsed = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"{flag} '{item}' must look like name=value, e.g. {flag} beta1=0.95")
        try:
            parsed[key.strip()] = float(value)
        except ValueError:
            raise InputError(f"{flag} {item}: '{value}' is not a number") from None
    return parsed


def _lr_option(values: tuple[str, ...]) -> float | dict[str, float] | None:
    """``--lr 0.1`` for every optimizer, or ``--lr adam=0.3`` (repeatable) for one."""
    if not values:
        return None
    plain = [v for v in values if "=" not in v]
    if plain:
        if len(values) > 1:
            raise InputError("--lr takes either one value for all, or name=value per optimizer")
        try:
            return float(plain[0])
        except ValueError:
            raise InputError(f"--lr '{plain[0]}' is not a number") from None
    return _assignments(values, "--lr")


def _grid_assignments(values: tuple[str, ...], flag: str) -> dict[str, str]:
    """``("beta1=0.8,0.9", "adam.lr=1e-4..1:9")`` → {"beta1": "0.8,0.9", ...} (parsed later)."""
    parsed = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise InputError(
                f"{flag} '{item}' must look like name=values, e.g. {flag} beta1=0.8,0.9"
            )
        parsed[key.strip()] = value.strip()
    return parsed


def _names(values: tuple[str, ...]) -> list[str]:
    """Repeated and comma-separated names: ``-o sgd -o momentum,adam``; an empty one is an error."""
    names = [name.strip() for value in values for name in value.split(",")]
    if "" in names:
        raise InputError("an empty name was given: name at least one, e.g. -o adam")
    return names


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _table(frame: Any) -> str:
    return (
        frame.astype(object)
        .where(frame.notna(), "—")
        .to_string(
            index=False, formatters={c: _fmt for c in frame.columns if frame[c].dtype.kind == "f"}
        )
    )


def _fmt(value: Any) -> str:
    return value if isinstance(value, str) else f"{value:.3g}"


NETWORK_OPTIONS = [
    click.option(
        "--model",
        metavar="mlp|perceptron",
        help="Networks: a multilayer perceptron, or Rosenblatt's perceptron. [default: mlp]",
    ),
    click.option(
        "--hidden",
        metavar="SIZES",
        help="Networks: hidden layer sizes, e.g. 100 or 64,32 (0: none). [default: the problem's]",
    ),
    click.option(
        "--activation",
        metavar="NAME",
        help="Networks: hidden activation: sigmoid, tanh, relu, leaky_relu. [default: problem's]",
    ),
    click.option(
        "--loss",
        metavar="NAME",
        help="Networks: output + loss: cross_entropy (softmax), bce (sigmoid), mse (identity).",
    ),
    click.option("--init", metavar="NAME", help="Networks: weight init: xavier, he, normal."),
    click.option("--l2", type=float, help="Networks: L2 penalty λ, adds ½λΣw² to the loss. [0]"),
    click.option("--epochs", type=int, help="Networks: passes over the training set."),
    click.option("--batch-size", type=int, help="Networks: examples per minibatch."),
    click.option(
        "--data-dir",
        type=click.Path(file_okay=False),
        help="MNIST / Fashion-MNIST: folder with the four IDX files. [default: the fetch cache]",
    ),
]


def network_options(command):
    """The options of network problems, shared by ``run`` and ``sweep``."""
    for option in reversed(NETWORK_OPTIONS):
        command = option(command)
    return command


@click.group(cls=OneLineErrors, context_settings=CONTEXT)
@click.version_option(package_name="optbench")
def cli() -> None:
    """Compare gradient-descent optimizers side by side.

    \b
    optbench run --optimizer adam
    optbench run -o sgd -o momentum -o adagrad -o adam --problem bowl
    optbench run --problem spirals -o sgd -o momentum -o adam
    optbench run --problem xor --model perceptron
    optbench list optimizers
    optbench plot results/<run>
    optbench data fetch fashion-mnist
    optbench report results/<run>
    """


@cli.command(context_settings=CONTEXT)
@click.option(
    "-o",
    "--optimizer",
    "optimizers",
    multiple=True,
    metavar="NAME",
    help="Optimizer to run; repeat or comma-separate for several. [default: adam]",
)
@click.option(
    "-p",
    "--problem",
    default=DEFAULT_PROBLEM,
    show_default=True,
    help="Problem name (see 'optbench list problems'); parameters as rosenbrock:b=1.",
)
@click.option(
    "--lr",
    "lrs",
    multiple=True,
    metavar="LR|NAME=LR",
    help="Learning rate for all, or per optimizer (repeatable). [default: each optimizer's]",
)
@click.option(
    "--hp",
    "hps",
    multiple=True,
    metavar="[OPT.]NAME=VALUE",
    help="Set a hyperparameter, e.g. beta1=0.95 or adam.eps=1e-7 (repeatable).",
)
@click.option(
    "--preset",
    type=click.Choice(["torch", "keras"]),
    default="torch",
    show_default=True,
    help="Formulas and defaults of torch.optim or of Keras 3.",
)
@click.option(
    "--steps",
    type=int,
    help=f"Number of updates (surfaces; networks train for --epochs). [default: {DEFAULT_STEPS}]",
)
@click.option("--start", metavar="X,Y", help="Start point. [default: the problem's classic start]")
@click.option(
    "--seed",
    "seeds",
    multiple=True,
    type=int,
    help="Random seed (repeatable: one run per seed). [default: 0]",
)
@click.option(
    "--noise",
    default=0.0,
    show_default=True,
    metavar="SIGMA",
    help="Standard deviation of Gaussian noise added to every gradient.",
)
@click.option(
    "--record-every",
    type=int,
    metavar="K",
    help="Keep every K-th step in history.csv (the last step always). "
    "[default: about 1000 rows per run]",
)
@click.option(
    "--bound",
    default=1e6,
    show_default=True,
    help="A run has diverged once any |parameter| exceeds this.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    help="Run folder to write. [default: a new folder in results/]",
)
@click.option("--svg", is_flag=True, help="Also write every figure as SVG.")
@click.option("--no-plots", is_flag=True, help="Write CSVs and manifest only.")
@click.option(
    "--animate",
    is_flag=True,
    help="Also write trajectories.gif: the paths growing over the contour.",
)
@network_options
def run(
    optimizers,
    problem,
    lrs,
    hps,
    preset,
    steps,
    start,
    seeds,
    noise,
    record_every,
    bound,
    out,
    svg,
    no_plots,
    animate,
    data_dir,
    **network,
) -> None:
    """Run optimizers on one problem: summary table, CSVs, trajectory and loss figures.

    Network problems (and, or, nand, xor, spirals, moons, circles, blobs, digits, mnist,
    fashion-mnist) train a network with the same optimizers: loss/accuracy curves, decision
    regions (2-D data) and the weight-space path.

    \b
    optbench run --optimizer adam
    optbench run -o sgd -o momentum -o adagrad -o adam --problem bowl --start -7,2 --steps 30 \\
        --lr sgd=0.95 --lr momentum=0.1 --lr adagrad=1.5 --lr adam=0.3
    optbench run -o adam --preset keras --hp beta1=0.95 --problem rosenbrock --lr 0.01
    optbench run --problem xor --model perceptron
    optbench run --problem xor --model mlp --hidden 2 --activation sigmoid -o sgd -o adam
    optbench run --problem digits --hidden 100 --activation relu --optimizer adam --epochs 20
    """
    from optbench import api

    result = api.run(
        _names(optimizers) or None,
        problem,
        lr=_lr_option(lrs),
        hp=_assignments(hps, "--hp"),
        preset=preset,
        steps=steps,
        start=start,
        seed=list(seeds) or 0,
        noise=noise,
        record_every=record_every,
        bound=bound,
        out=out,
        plots=not no_plots,
        svg=svg,
        data_dir=data_dir,
        animate=animate,
        **network,
    )
    click.echo(_table(result.summary()))
    if "test_accuracy" in result.runs:
        from optbench.families.networks.results import verdicts

        for line in verdicts(result.runs):
            click.echo(line)
    click.echo(
        f"\nwrote {result.folder}/ ({', '.join(p.name for p in result.figures) or 'no figures'})"
    )
    diverged = result.runs[result.runs["diverged"]]
    if len(diverged) and "test_accuracy" not in result.runs:
        names = ", ".join(f"{r.optimizer} (step {r.diverged_step})" for r in diverged.itertuples())
        click.echo(f"diverged: {names}", err=True)


@cli.group(name="list", context_settings=CONTEXT, invoke_without_command=True)
@click.pass_context
def list_(ctx: click.Context) -> None:
    """List optimizers or problems, with defaults and one-line docs."""
    if ctx.invoked_subcommand is None:
        raise InputError("say what to list: 'optbench list optimizers' or 'optbench list problems'")


@list_.command(name="optimizers")
def list_optimizers() -> None:
    """Every optimizer: summary, paper, defaults (torch) and what the keras preset changes."""
    from optbench.optimizers import all_optimizers

    specs = all_optimizers()
    width = max(map(len, specs))
    for name, spec in specs.items():
        torch, keras = spec.defaults["torch"], spec.defaults["keras"]
        click.echo(f"{name:<{width}}  {spec.summary}" + (f"  [{spec.paper}]" if spec.paper else ""))
        click.echo(f"{'':<{width}}    torch: " + " ".join(f"{k}={v:g}" for k, v in torch.items()))
        changed = {k: v for k, v in keras.items() if torch[k] != v}
        click.echo(
            f"{'':<{width}}    keras: "
            + (" ".join(f"{k}={v:g}" for k, v in changed.items()) or "same")
        )


@list_.command(name="problems")
def list_problems() -> None:
    """Every problem: formula, plot window, classic start, minima and f*."""
    from optbench.problems import PROBLEMS

    width = max(map(len, PROBLEMS))
    click.echo("2-D surfaces:")
    for name, spec in PROBLEMS.items():
        if spec.family == "network":
            continue
        (x0, x1), (y0, y1) = spec.window
        minima = ", ".join(f"({x:g}, {y:g})" for x, y in spec.minima) or "none (unbounded below)"
        fstar = "—" if spec.fstar is None else f"{spec.fstar:.6g}"
        click.echo(f"{name:<{width}}  {spec.formula}   — {spec.summary}")
        click.echo(
            f"{'':<{width}}    window [{x0:g}, {x1:g}] × [{y0:g}, {y1:g}]  start "
            f"({spec.start[0]:g}, {spec.start[1]:g})  minima {minima}  f* {fstar}"
            + (f"  params {dict(spec.params)}" if spec.params else "")
        )
    click.echo("\nnetworks (data sets; parameters as spirals:noise=0.2):")
    for name, spec in PROBLEMS.items():
        if spec.family != "network":
            continue
        hidden = "-".join(map(str, spec.hidden))
        click.echo(f"{name:<{width}}  {spec.summary}")
        params = " ".join(f"{k}={v:g}" for k, v in spec.params.items())
        click.echo(
            f"{'':<{width}}    {spec.features} inputs, {spec.classes} classes; default MLP "
            f"hidden {hidden} {spec.activation}, {spec.loss}, {spec.epochs} epochs, "
            f"batch {spec.batch_size}" + (f"  params {params}" if params else "")
        )


@cli.command(context_settings=CONTEXT)
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.option("--svg", is_flag=True, help="Also write every figure as SVG.")
@click.option(
    "--smooth",
    default=0.0,
    show_default=True,
    metavar="W",
    help="Networks: EMA weight in [0, 1) smoothing the loss and accuracy curves.",
)
@click.option("--animate", is_flag=True, help="Also redraw trajectories.gif.")
def plot(folder, svg, smooth, animate) -> None:
    """Redraw the figures of a finished run folder from its CSVs."""
    from optbench import api

    written = api.plot(folder, svg=svg, smoothing=smooth, animate=animate)
    click.echo(f"wrote {', '.join(str(p) for p in written)}")


@cli.command(context_settings=CONTEXT)
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@click.option(
    "-o",
    "--optimizer",
    "optimizers",
    multiple=True,
    metavar="NAME[,NAME…]",
    help="Optimizers to compare (repeatable, comma-separated).",
)
@click.option(
    "-p",
    "--problem",
    "problems",
    multiple=True,
    metavar="NAME[,NAME…]",
    help="Problems (repeatable, comma-separated).",
)
@click.option(
    "--lr",
    "lrs",
    multiple=True,
    metavar="GRID|NAME=GRID",
    help="Learning rates: 0.1 | 0.01,0.1 | 1e-4..1:13 (13 log-spaced); NAME= for one.",
)
@click.option(
    "--hp",
    "hps",
    multiple=True,
    metavar="[OPT.]NAME=GRID",
    help="Other hyperparameters, same grid forms, e.g. beta1=0.8,0.9 (repeatable).",
)
@click.option("--preset", metavar="NAME[,NAME]", help="torch, keras, or both: torch,keras.")
@click.option("--steps", metavar="N[,N…]", help="Updates per run (a list is an axis).")
@click.option("--seeds", metavar="N", help="Seeds 0 … N−1 per grid point.")
@click.option("--noise", metavar="SIGMA[,SIGMA…]", help="Gradient noise levels (an axis).")
@click.option("--start", metavar="X,Y", help="Start point for every problem.")
@click.option(
    "--record-every",
    type=int,
    metavar="K",
    help="Keep every K-th step in history.csv. [default: about 100 rows per run]",
)
@click.option("--bound", type=float, help="Divergence bound on |parameters|. [default: 1e6]")
@click.option(
    "--tune",
    metavar="NAME[,NAME]",
    help="Fair comparison: pick the best grid point per optimizer × problem on the "
    "seeds, then rerun it on fresh seeds.",
)
@click.option(
    "--final-seeds", metavar="N", help="Fresh seeds for the tuned reruns. [default: as --seeds]"
)
@click.option(
    "--workers",
    type=int,
    help="Threads (local) or worker processes (a local Dask cluster). [default: all cores]",
)
@click.option(
    "--executor",
    type=click.Choice(["local", "dask"]),
    help="Run chunks in this process (local) or on a Dask cluster. [default: local]",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="Dask scheduler, e.g. tcp://host:8786 [default: $OPTBENCH_DASK_SCHEDULER, "
    "else a local cluster].",
)
@click.option(
    "--out", type=click.Path(file_okay=False), help="Sweep folder. [default: new in results/]"
)
@click.option("--resume", is_flag=True, help="Finish an interrupted sweep in --out.")
@click.option("--dry-run", is_flag=True, help="Print the plan (grid, run count) and stop.")
@click.option("--svg", is_flag=True, help="Also write every figure as SVG.")
@click.option("--no-plots", is_flag=True, help="Write CSVs and manifest only.")
@network_options
@click.option("--chunk-size", type=int, hidden=True)
def sweep(
    file,
    optimizers,
    problems,
    lrs,
    hps,
    preset,
    steps,
    seeds,
    noise,
    start,
    record_every,
    bound,
    tune,
    final_seeds,
    workers,
    executor,
    scheduler,
    out,
    resume,
    dry_run,
    svg,
    no_plots,
    chunk_size,
    data_dir,
    **network,
) -> None:
    """Sweep a grid of optimizers × problems × hyperparameters × seeds, on every core.

    \b
    optbench sweep --optimizer sgd,adam --lr 1e-4..1:9 --seeds 5 --problem rosenbrock,beale
    optbench sweep experiments/fair.toml --tune lr
    optbench sweep experiments/fair.toml --resume --out DIR     # after Ctrl-C or a crash
    optbench sweep experiments/fair.toml --dry-run
    optbench sweep experiments/big.toml --executor dask --scheduler tcp://HOST:8786
    """
    from optbench import api
    from optbench.config import SweepConfig
    from optbench.config_file import load_sweep_file
    from optbench.results import new_folder_path

    flags = {
        "optimizers": _names(optimizers) or None,
        "problems": _names(problems) or None,
        "lr": _lr_grid(lrs),
        "hp": _grid_assignments(hps, "--hp") or None,
        "preset": preset,
        "steps": steps,
        "seeds": seeds,
        "noise": noise,
        "start": start,
        "record_every": record_every,
        "bound": bound,
        "tune": tune,
        "final_seeds": final_seeds,
        "network": {key: value for key, value in network.items() if value is not None} or None,
    }
    flags = {key: value for key, value in flags.items() if value is not None}
    plan, raw = load_sweep_file(file, flags) if file else (SweepConfig.from_raw(flags), {})
    executor = executor or str(raw.get("executor", "local"))
    scheduler = scheduler or raw.get("scheduler")
    data_dir = data_dir or raw.get("data_dir")
    if dry_run:
        click.echo(plan.describe())
        return
    if resume and not out:
        raise InputError("--resume needs --out DIR: the folder of the sweep to finish")
    folder = out or new_folder_path(f"sweep-{'-'.join(plan.problems)}".replace(":", "_")[:80])
    total = len(plan.expand()) + len(plan.cells()) * len(plan.final_seeds)
    try:
        with _progress(total) as advance:
            result = api.sweep(
                plan,
                out=folder,
                resume=resume,
                workers=workers,
                executor=executor,
                scheduler=scheduler,
                data_dir=data_dir,
                plots=not no_plots,
                svg=svg,
                progress=advance,
                chunk_size=chunk_size,
            )
    except KeyboardInterrupt:
        click.echo(
            f"\ninterrupted: finished runs are kept in {folder}/; finish them with\n"
            f"  optbench sweep {file or '…'} --resume --out {folder}",
            err=True,
        )
        sys.exit(130)
    for note in result.warnings:
        click.echo(f"warning: {note}", err=True)
    columns = {
        "problem": "problem",
        "optimizer": "optimizer",
        "lr": "lr",
        "final_gap_median": "median gap",
        "final_gap_geomean": "geo-mean gap",
        "final_gap_geo_ci_low": "95% CI low",
        "final_gap_geo_ci_high": "95% CI high",
        "diverged_fraction": "diverged",
    }
    gaps = result.runs["final_gap"].notna().all()
    score = "final gap" if gaps else "final gap, or final loss where f* is unknown (networks)"
    click.echo(f"best settings ({result.best['evaluated_on'].iloc[0]}; gap = {score}):")
    click.echo(_table(result.best[list(columns)].rename(columns=columns)))
    click.echo(f"\nranking (mean rank over problems, 1 = best median {score}):")
    click.echo(_table(result.ranking))
    figures = ", ".join(p.name for p in result.figures) or "no figures"
    click.echo(f"\nwrote {result.folder}/ ({len(result.runs):,} runs; {figures})")


@contextlib.contextmanager
def _progress(total: int):
    """A progress bar with ETA on a terminal; silence elsewhere (CI logs stay clean)."""
    if not sys.stderr.isatty():
        yield None
        return
    with click.progressbar(length=total, label="sweep", show_eta=True, file=sys.stderr) as bar:
        yield bar.update


def _lr_grid(values: tuple[str, ...]) -> str | dict[str, str] | None:
    """``--lr GRID`` for all optimizers, or ``--lr NAME=GRID`` (repeatable) per optimizer."""
    if not values:
        return None
    named = [v for v in values if "=" in v]
    if (named and len(named) != len(values)) or (not named and len(values) > 1):
        raise InputError("--lr takes either one grid for all, or NAME=GRID per optimizer")
    return _grid_assignments(values, "--lr") if named else values[0]


@cli.group(context_settings=CONTEXT)
def data() -> None:
    """Data sets for the network problems: download MNIST / Fashion-MNIST once."""


@data.command(name="fetch")
@click.argument("name")
@click.option(
    "--url",
    metavar="URL",
    help="Folder URL to download the four IDX files from (a mirror). "
    "[default: $OPTBENCH_DATA_URL, else the publisher's]",
)
def data_fetch(name, url) -> None:
    """Download NAME (mnist, fashion-mnist), verify SHA-256 checksums, keep it in the cache.

    \b
    optbench data fetch fashion-mnist
    optbench run --problem fashion-mnist
    """
    from optbench.fetch import fetch

    folder = fetch(name, url, progress=lambda f: click.echo(f"  downloaded and verified {f}"))
    click.echo(f"{name}: four IDX files verified in {folder}")
    click.echo(f"next: optbench run --problem {name}")


@data.command(name="path")
@click.argument("name")
def data_path(name) -> None:
    """Print the cache folder where 'data fetch NAME' stores NAME."""
    from optbench.errors import unknown_name
    from optbench.fetch import SOURCES, dataset_cache

    if name not in SOURCES:
        raise unknown_name("data set", name, SOURCES)
    click.echo(dataset_cache(name))


@cli.command(context_settings=CONTEXT)
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
def report(folder) -> None:
    """Write FOLDER/report.html, one self-contained page to share.

    Settings, versions, tables, every figure with a caption, and the divergences. Figures and
    styles are embedded, so the page opens offline in any browser and prints.
    """
    from optbench import api

    path = api.report(folder)
    click.echo(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")


# --- bench (issue 5): optbench bench --suite smoke|perf, optbench bench compare A B ---


@cli.group(invoke_without_command=True, context_settings=CONTEXT)
@click.option("--suite", metavar="smoke|perf", help="The suite to run.")
@click.option(
    "--out", type=click.Path(file_okay=False), help="Folder to write. [default: new in results/]"
)
@click.option("--baseline", metavar="FILE", help="smoke: compare with this baseline CSV.")
@click.option(
    "--update-baseline",
    is_flag=True,
    help="smoke: write the results of the runs made into --baseline "
    "[default: benchmarks/baselines/smoke.csv], keeping its other rows.",
)
@click.option(
    "-o",
    "--optimizer",
    "optimizers",
    multiple=True,
    metavar="NAME[,NAME…]",
    help="smoke: only these optimizers (your own too). [default: every registered one]",
)
@click.option(
    "--preset", metavar="NAME[,NAME]", help="smoke: torch, keras or both. [default: both]"
)
@click.option(
    "--lr",
    "lrs",
    multiple=True,
    metavar="[OPT.]PROBLEM=LR",
    help="smoke: lr for an optimizer without smoke settings, e.g. rosenbrock=0.01 "
    "(repeatable; a bare LR for every problem). [default: the baseline's, else a search]",
)
@click.option(
    "--import",
    "imports",
    multiple=True,
    metavar="MODULE|FILE.py",
    help="Import this first, so the optimizers it registers exist (repeatable).",
)
@click.option("--repeats", default=5, show_default=True, help="perf: samples per figure.")
@click.option(
    "--only", metavar="NAME[,NAME…]", help="perf: engine, sweep, startup, mlp. [default: all]"
)
@click.pass_context
def bench(
    ctx, suite, out, baseline, update_baseline, optimizers, preset, lrs, imports, repeats, only
) -> None:
    """CI smoke benchmark against a baseline, perf figures, and comparing perf runs.

    \b
    optbench bench --suite smoke --baseline benchmarks/baselines/smoke.csv   # exit 1 on regression
    optbench bench --suite smoke --update-baseline           # after an intended change
    optbench bench --suite smoke --import my_optimizers -o myopt --baseline my-smoke.csv
    optbench bench --suite perf --out DIR                    # throughput, compile, start-up
    optbench bench compare DIR_A DIR_B                       # what changed beyond the noise
    """
    if ctx.invoked_subcommand is not None:
        if suite:
            raise InputError(
                f"--suite goes without a subcommand, not with '{ctx.invoked_subcommand}'"
            )
        return
    if not suite:
        raise InputError("choose --suite smoke or --suite perf (or: optbench bench compare A B)")
    from optbench import api

    lr: dict[str, float] = {}
    for item in lrs:
        key, _, value = item.rpartition("=") if "=" in item else ("", "", item)
        try:
            lr[key.strip()] = float(value)
        except ValueError:
            raise InputError(f"--lr {item}: '{value}' is not a number") from None
    result = api.bench(
        suite,
        out=out,
        baseline=baseline,
        update_baseline=update_baseline,
        optimizers=_names(optimizers) or None,
        presets=_names((preset,)) if preset else None,
        lr=lr,
        imports=imports,
        repeats=repeats,
        only=_names((only,)) if only else None,
        progress=lambda name: click.echo(f"measuring {name} …", err=True),
    )
    if suite == "perf":
        _echo_perf(result)
    else:
        _echo_smoke(result)
    click.echo(f"\nwrote {result.folder}/ in {result.seconds:.1f} s")
    if result.failures:
        for line in result.failures:
            click.echo(line, err=True)
        raise click.ClickException(
            f"smoke suite failed: {len(result.failures)} finding(s) for "
            f"{', '.join(result.failed)} (listed above)"
        )


def _echo_smoke(result) -> None:
    from optbench.smoke import overview

    table = result.table
    optimizers, presets = table["optimizer"].nunique(), table["preset"].nunique()
    click.echo(
        f"smoke: {len(table)} runs ({_count(optimizers, 'optimizer')} × "
        f"{_count(presets, 'preset')} × {_count(table['problem'].nunique(), 'problem')}); "
        "steps (networks: epochs) to the goal @ lr, ✗ = not converged"
    )
    click.echo(_table(overview(table)))
    searched = table[table["lr_source"] == "search"]
    if len(searched):
        click.echo(f"learning rates searched for: {', '.join(searched['optimizer'].unique())}")
    if result.moved is not None:
        if result.moved.empty:
            click.echo("\nbaseline: nothing moved (every metric identical)")
        else:
            click.echo(f"\nbaseline: {len(result.moved)} value(s) moved")
            click.echo(_table(result.moved))
    if result.baseline_written is not None:
        click.echo(f"\nbaseline written: {result.baseline_written}")


def _echo_perf(result) -> None:
    summary = result.table
    shown = summary.assign(
        optbench=[f"{v:.4g}" for v in summary["optbench"]],
        range=[
            f"{lo:.4g} … {hi:.4g}"
            for lo, hi in zip(summary["optbench_min"], summary["optbench_max"], strict=True)
        ],
        reference=[f"{v:.4g}" for v in summary["reference"]],
        ratio=[f"{v:.2f}" for v in summary["ratio"]],
        noise=[f"{v:.1%}" for v in summary["noise"]],
        same=["—" if v != v else "yes" if v else "NO" for v in summary["same"]],
    )[["measure", "unit", "optbench", "range", "reference", "ratio", "noise", "repeats", "same"]]
    click.echo(
        "perf (medians; ratio = optbench ÷ reference: hand-fused numba; NumPy, torch for mlp; "
        "noise = range ÷ median; same = bit-identical results)"
    )
    click.echo(shown.to_string(index=False))


@bench.command(name="compare", context_settings=CONTEXT)
@click.argument("folder_a", type=click.Path(exists=True, file_okay=False))
@click.argument("folder_b", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--threshold",
    default=1.10,
    show_default=True,
    help="Smallest median change factor worth reporting (on top of non-overlapping ranges).",
)
@click.option("--all", "show_all", is_flag=True, help="Show every figure, changed or not.")
def bench_compare(folder_a, folder_b, threshold, show_all) -> None:
    """Compare two perf folders: only changes larger than the measured noise.

    A figure changed when its ratio to the hand-fused reference (measured beside it, so the
    machine's own drift cancels) has min–max ranges over the repeats in A and B that do not
    overlap, and medians that differ by more than --threshold. Change = median B ÷ median A.
    """
    from optbench import api

    table = api.bench_compare(folder_a, folder_b, threshold)
    shown = table if show_all else table[table["significant"]]
    if len(shown):
        click.echo(_table(shown.drop(columns="significant")) + "\n")
    counts = table.loc[~table["significant"], "verdict"].value_counts()
    others = ", ".join(f"{n} {verdict}" for verdict, n in counts.items())
    click.echo(f"{len(shown) if not show_all else int(table['significant'].sum())} changed "
               f"beyond the noise" + (f"; {others}" if others else ""))  # fmt: skip


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="optbench")
