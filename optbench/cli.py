"""The ``optbench`` command: parse, validate, call the API, print. Nothing else lives here.

Heavy libraries (numba, pandas, matplotlib) are imported inside commands, so ``--help`` and
``list`` start instantly. Every user error ends as one line on stderr and exit 2; a failed run
exits 1; tracebacks are for bugs only.
"""

from __future__ import annotations

import sys
from typing import Any

import click

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


def _names(values: tuple[str, ...]) -> list[str]:
    """Repeated and comma-separated names: ``-o sgd -o momentum,adam``."""
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


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


@click.group(cls=OneLineErrors, context_settings=CONTEXT)
@click.version_option(package_name="optbench")
def cli() -> None:
    """Compare gradient-descent optimizers side by side.

    \b
    optbench run --optimizer adam
    optbench run -o sgd -o momentum -o adagrad -o adam --problem bowl
    optbench list optimizers
    optbench plot results/<run>
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
    default="rosenbrock",
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
@click.option("--steps", default=1000, show_default=True, help="Number of updates.")
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
    default=1,
    show_default=True,
    metavar="K",
    help="Keep every K-th step in history.csv (the last step always).",
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
) -> None:
    """Run optimizers on one problem: summary table, CSVs, trajectory and loss figures.

    \b
    optbench run --optimizer adam
    optbench run -o sgd -o momentum -o adagrad -o adam --problem bowl --start -7,2 --steps 30 \\
        --lr sgd=0.95 --lr momentum=0.1 --lr adagrad=1.5 --lr adam=0.3
    optbench run -o adam --preset keras --hp beta1=0.95 --problem rosenbrock --lr 0.01
    """
    from optbench import api

    result = api.run(
        _names(optimizers) or ["adam"],
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
        animate=animate,
    )
    click.echo(_table(result.summary()))
    click.echo(
        f"\nwrote {result.folder}/ ({', '.join(p.name for p in result.figures) or 'no figures'})"
    )
    diverged = result.runs[result.runs["diverged"]]
    if len(diverged):
        names = ", ".join(f"{r.optimizer} (step {r.diverged_step})" for r in diverged.itertuples())
        click.echo(f"diverged: {names}", err=True)


@cli.group(name="list", context_settings=CONTEXT)
def list_() -> None:
    """List optimizers or problems, with defaults and one-line docs."""


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
    for name, spec in PROBLEMS.items():
        (x0, x1), (y0, y1) = spec.window
        minima = ", ".join(f"({x:g}, {y:g})" for x, y in spec.minima) or "none (unbounded below)"
        fstar = "—" if spec.fstar is None else f"{spec.fstar:.6g}"
        click.echo(f"{name:<{width}}  {spec.formula}   — {spec.summary}")
        click.echo(
            f"{'':<{width}}    window [{x0:g}, {x1:g}] × [{y0:g}, {y1:g}]  start "
            f"({spec.start[0]:g}, {spec.start[1]:g})  minima {minima}  f* {fstar}"
            + (f"  params {dict(spec.params)}" if spec.params else "")
        )


@cli.command(context_settings=CONTEXT)
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.option("--svg", is_flag=True, help="Also write every figure as SVG.")
@click.option("--animate", is_flag=True, help="Also redraw trajectories.gif.")
def plot(folder, svg, animate) -> None:
    """Redraw the figures of a finished run folder from its CSVs."""
    from optbench import api

    written = api.plot(folder, svg=svg, animate=animate)
    click.echo(f"wrote {', '.join(str(p) for p in written)}")


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


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="optbench")
