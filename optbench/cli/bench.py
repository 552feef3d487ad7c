"""``optbench bench``: the smoke suite against a baseline, perf figures, comparing perf runs."""

from __future__ import annotations

import click

from optbench.cli.common import CONTEXT, InputError, count, names, table


@click.group(invoke_without_command=True, context_settings=CONTEXT)
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
@click.option(
    "-p",
    "--problem",
    "problems",
    multiple=True,
    metavar="NAME[,NAME…]",
    help="smoke: only these cases, or any surface or N-D problem with a known f* (yours too) "
    "as a case of its own. [default: the smoke cases]",
)
@click.option("--repeats", default=5, show_default=True, help="perf: samples per figure.")
@click.option(
    "--only",
    metavar="NAME[,NAME…]",
    help="perf: engine, sweep, nd, startup, mlp; cluster only when named. "
    "[default: all but cluster]",
)
@click.pass_context
def bench(
    ctx, suite, out, baseline, update_baseline, optimizers, preset, lrs, imports, problems,
    repeats, only,
) -> None:  # fmt: skip
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
    from optbench import suites

    lr: dict[str, float] = {}
    for item in lrs:
        key, _, value = item.rpartition("=") if "=" in item else ("", "", item)
        try:
            lr[key.strip()] = float(value)
        except ValueError:
            raise InputError(f"--lr {item}: '{value}' is not a number") from None
    result = suites.bench(
        suite,
        out=out,
        baseline=baseline,
        update_baseline=update_baseline,
        optimizers=names(optimizers) or None,
        presets=names((preset,)) if preset else None,
        lr=lr,
        imports=imports,
        problems=names(problems) or None,
        repeats=repeats,
        only=names((only,)) if only else None,
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
    from optbench.suites.smoke import overview

    frame = result.table
    optimizers, presets = frame["optimizer"].nunique(), frame["preset"].nunique()
    click.echo(
        f"smoke: {len(frame)} runs ({count(optimizers, 'optimizer')} × "
        f"{count(presets, 'preset')} × {count(frame['problem'].nunique(), 'problem')}); "
        "steps (networks: epochs) to the goal @ lr, ✗ = not converged"
    )
    click.echo(table(overview(frame)))
    searched = frame[frame["lr_source"] == "search"]
    if len(searched):
        click.echo(f"learning rates searched for: {', '.join(searched['optimizer'].unique())}")
    if result.moved is not None:
        if result.moved.empty:
            click.echo("\nbaseline: nothing moved (every metric identical)")
        else:
            click.echo(f"\nbaseline: {len(result.moved)} value(s) moved")
            click.echo(table(result.moved))
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
    from optbench import suites

    frame = suites.bench_compare(folder_a, folder_b, threshold)
    shown = frame if show_all else frame[frame["significant"]]
    if len(shown):
        click.echo(table(shown.drop(columns="significant")) + "\n")
    counts = frame.loc[~frame["significant"], "verdict"].value_counts()
    others = ", ".join(f"{n} {verdict}" for verdict, n in counts.items())
    click.echo(f"{len(shown) if not show_all else int(frame['significant'].sum())} changed "
               f"beyond the noise" + (f"; {others}" if others else ""))  # fmt: skip


COMMANDS = [bench]
