"""``optbench sweep``: a grid over every setting, resumable, with the fair-comparison tables."""

from __future__ import annotations

import contextlib
import sys

import click

from optbench.cli.common import (
    CONTEXT,
    InputError,
    given_settings,
    import_option,
    output_options,
    setting_options,
    table,
)

BEST_COLUMNS = {
    "lr": "lr",
    "final_gap_median": "median gap",
    "final_gap_geomean": "geo-mean gap",
    "final_gap_geo_ci_low": "gap 95% CI low",
    "final_gap_geo_ci_high": "gap 95% CI high",
    "final_loss_median": "median final loss",
    "final_loss_ci_low": "loss 95% CI low",
    "final_loss_ci_high": "loss 95% CI high",
    "diverged_fraction": "diverged",
}
"""best.csv's columns the printed table shows (those the sweep has), under these headers."""


@click.command(context_settings=CONTEXT)
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@setting_options("sweep")
@output_options
@import_option
@click.option("--resume", is_flag=True, help="Finish an interrupted sweep in --out.")
@click.option("--dry-run", is_flag=True, help="Print the plan (grid, run count) and stop.")
@click.option("--chunk-size", type=int, hidden=True)
def sweep(file, out, svg, no_plots, resume, dry_run, chunk_size, **values) -> None:
    """Sweep a grid of optimizers × problems × settings × seeds, on every core.

    Every setting takes a list or a grid (network settings too), in flags and in FILE (TOML,
    keys named as the flags); flags override the file's top-level keys.

    \b
    optbench sweep --optimizer sgd,adam --lr 1e-4..1:9 --seeds 5 --problem rosenbrock,beale
    optbench sweep -p spirals --activation sigmoid,tanh,relu --batch-size 1,32,800 -o sgd,adam
    optbench sweep experiments/fair.toml --tune lr
    optbench sweep experiments/fair.toml --resume --out DIR     # after Ctrl-C or a crash
    optbench sweep experiments/fair.toml --dry-run
    optbench sweep experiments/big.toml --executor dask --scheduler tcp://HOST:8786
    """
    from optbench.plots.ahead import figures_ahead

    # matplotlib gets ready in a child while the grid is planned and run
    with figures_ahead(not (no_plots or dry_run)):
        _sweep(file, out, svg, no_plots, resume, dry_run, chunk_size, values)


def _sweep(file, out, svg, no_plots, resume, dry_run, chunk_size, values) -> None:
    from optbench import api
    from optbench.results import new_folder_path

    given = given_settings(values)
    plan, execution = api.plan_sweep(file, **given)
    if dry_run:
        click.echo(plan.describe())
        return
    if resume and not out:
        raise InputError("--resume needs --out DIR: the folder of the sweep to finish")
    folder = out or new_folder_path(f"sweep-{'-'.join(plan.problems)}".replace(":", "_")[:80])
    try:
        with _progress(plan.run_count()) as advance:
            result = api.sweep(
                plan,  # planned once: a 10,000-point grid takes a while to check
                out=folder,
                resume=resume,
                plots=not no_plots,
                svg=svg,
                progress=advance,
                chunk_size=chunk_size,
                **execution,
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
    _echo_tables(result)


def _echo_tables(result) -> None:
    """best.csv and the ranking, with the settings that vary in front."""
    from optbench.analysis import cell_columns, searched, varying

    best = result.best
    shown = ["problem", *(c for c in varying(best, cell_columns(best)) if c != "problem")]
    shown = list(dict.fromkeys([*shown, "optimizer"]))
    tuned = {c: c.removeprefix("hp_") for c in searched(result.runs) if c in best}
    kinds = set(best["compared_by"])
    losses = ", ".join(dict.fromkeys(best.loc[best["compared_by"] == "final_loss", "problem"]))
    if kinds == {"final_gap"}:
        what = "gap = final f − f*"
    elif kinds == {"final_loss"}:
        what = "f* unknown, so the final loss"
    else:
        what = f"gap = final f − f*; the final loss where f* is unknown: {losses}"
    click.echo(f"best settings ({best['evaluated_on'].iloc[0]}; {what}):")
    columns = [c for c in BEST_COLUMNS if c in best.columns]
    columns[1:1] = list(tuned)  # the searched hyperparameters beside lr
    click.echo(table(best[[*shown, *columns]].rename(columns={**BEST_COLUMNS, **tuned})))
    score = {"final_gap": "gap", "final_loss": "final loss"}
    by = " (gap where f* is known, else final loss)" if len(kinds) > 1 else ""
    click.echo(
        f"\nranking (mean rank over the cells, 1 = best median "
        f"{score[kinds.pop()] if not by else 'score'}{by}):"
    )
    click.echo(table(result.ranking))
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


COMMANDS = [sweep]
