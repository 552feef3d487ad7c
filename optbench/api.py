"""The Python API: everything the CLI does, callable from a notebook or script.

``optbench.run(...)`` validates its input (before compiling or computing anything), runs the
engine, writes the run folder and returns a ``Result`` holding the frames and the folder.
The CLI is a thin layer over these functions.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from optbench.config import (
    DEFAULT_BOUND,
    DEFAULT_PROBLEM,
    DEFAULT_STEPS,
    SweepConfig,
    build_run_configs,
)
from optbench.errors import OptbenchError
from optbench.results import (
    BEST_CSV,
    HISTORY_CSV,
    MANIFEST_JSON,
    RANKING_CSV,
    RUNS_CSV,
    history_frame,
    manifest,
    order_columns,
    prepare_folder,
    read_results,
    runs_frame,
    target_column,
    utc_now,
    write_csv,
    write_manifest,
)

if TYPE_CHECKING:
    import pandas as pd

SUMMARY_TARGET = 1e-3


@dataclass
class Result:
    """What a run produced: the tidy frames, the folder they were written to, the figures."""

    runs: pd.DataFrame
    history: pd.DataFrame
    manifest: dict
    folder: Path | None = None
    figures: list[Path] = field(default_factory=list)
    best: pd.DataFrame | None = None
    ranking: pd.DataFrame | None = None
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> pd.DataFrame:
        """The terminal table: optimizer, lr, final gap, distance to minimum, steps to 1e-3."""
        columns = {
            "optimizer": "optimizer",
            "lr": "lr",
            "final_gap": "final gap",
            "dist_to_min": "dist to min",
            target_column(SUMMARY_TARGET): f"steps to {SUMMARY_TARGET:g}",
            "diverged": "diverged",
        }
        table = self.runs[list(columns)].rename(columns=columns)
        if self.runs["seed"].nunique() > 1:
            table.insert(2, "seed", self.runs["seed"])
        if self.runs["problem"].nunique() > 1:
            table.insert(0, "problem", self.runs["problem"])
        return table


def run(
    optimizer: str | Sequence[str] = "adam",
    problem: str = DEFAULT_PROBLEM,
    *,
    lr: float | Mapping[str, float] | None = None,
    hp: Mapping[str, float] | None = None,
    preset: str = "torch",
    steps: int = DEFAULT_STEPS,
    start: Sequence[float] | str | None = None,
    seed: int | Sequence[int] = 0,
    noise: float = 0.0,
    record_every: int | None = None,
    bound: float = DEFAULT_BOUND,
    out: str | os.PathLike | None = None,
    save: bool = True,
    plots: bool = True,
    svg: bool = False,
    results_root: str | os.PathLike = "results",
) -> Result:
    """Run one or more optimizers on one problem and (by default) write a run folder.

    >>> import optbench
    >>> result = optbench.run(["sgd", "adam"], "bowl", lr={"sgd": 0.95, "adam": 0.3},
    ...                       start=(-7, 2), steps=30, save=False)
    >>> list(result.runs["optimizer"])
    ['sgd', 'adam']

    ``lr`` is one value, a {optimizer: lr} mapping, or None for each optimizer's default;
    ``hp`` sets other hyperparameters by name (``{"beta1": 0.95}``, or ``{"adam.beta1": 0.95}``
    for one optimizer). ``out`` names the run folder; without it a new folder
    ``results/<UTC time>-<problem>-<optimizers>/`` is made. ``save=False`` writes nothing.
    """
    started = utc_now()
    names = [optimizer] if isinstance(optimizer, str) else list(optimizer)
    seeds = [seed] if isinstance(seed, int) else list(seed)
    configs = build_run_configs(
        names,
        problem,
        lr=lr,
        hp=hp,
        preset=preset,
        steps=steps,
        start=start,
        seeds=seeds,
        noise=noise,
        record_every=record_every,
        bound=bound,
    )
    folder = None
    if save:
        label = f"{configs[0].problem.replace(':', '_')}-{'-'.join(dict.fromkeys(names))}"
        folder = prepare_folder(out, label[:80], results_root)

    from optbench.engine import run_many

    output = run_many(configs)
    runs = runs_frame(configs, output)
    history = history_frame(configs, output)
    command_config = {"kind": "run", "runs": [c.to_dict() for c in configs]}
    data = manifest(command_config, started, "run", [c.seed for c in configs])
    result = Result(runs=runs, history=history, manifest=data, folder=folder)
    if folder is not None:
        write_csv(runs, folder / RUNS_CSV)
        write_csv(history, folder / HISTORY_CSV)
        if plots:
            from optbench.plots import draw_run_figures

            result.figures = draw_run_figures(runs, history, folder, svg=svg)
        data["finished_utc"] = utc_now()
        write_manifest(folder, data)
    return result


def sweep(
    config: SweepConfig | str | os.PathLike | None = None,
    *,
    out: str | os.PathLike | None = None,
    resume: bool = False,
    workers: int | None = None,
    plots: bool = True,
    svg: bool = False,
    progress: Callable[[int], None] | None = None,
    chunk_size: int | None = None,
    results_root: str | os.PathLike = "results",
    **settings: object,
) -> Result:
    """Run a grid of runs, tune if asked, and write a sweep folder. Resumable.

    ``config`` is a ``SweepConfig``, a TOML file, or None to build the sweep from ``settings``
    (the TOML keys: ``optimizers``, ``problems``, ``lr``, ``hp``, ``preset``, ``steps``,
    ``seeds``, ``noise``, ``start``, ``record_every``, ``bound``, ``tune``, ``final_seeds``);
    with a file, ``settings`` override its top-level keys.

    >>> result = optbench.sweep(optimizers=["sgd", "adam"], problems=["rosenbrock"],
    ...                         lr="1e-4..1:9", seeds=3, steps=2000, tune="lr")  # doctest: +SKIP
    >>> result.best, result.ranking                                                # doctest: +SKIP
    """
    import warnings as _warnings

    from optbench.analysis import GridEdgeWarning, best_table, pick_points, ranking, runs_of_picks
    from optbench.chunks import (
        ChunkStore,
        Phase,
        check_folder,
        check_history_fits,
        execute,
        order_by_plan,
    )
    from optbench.config_file import load_sweep_file

    started = utc_now()
    if isinstance(config, SweepConfig):
        plan = config
    elif config is not None:
        plan, _ = load_sweep_file(config, dict(settings))
    else:
        plan = SweepConfig.from_raw(settings)
    grid = plan.expand()
    seeds = [*plan.seeds, *plan.final_seeds]
    check_history_fits(grid)
    _set_workers(workers)
    label = f"sweep-{'-'.join(p.replace(':', '_') for p in plan.problems)}"
    folder = prepare_folder(out, label[:80], results_root)
    check_folder(folder, plan, resume)
    config_record = {"kind": "sweep", "sha256": plan.sha256, "sweep": plan.to_dict()}
    if not resume or not (folder / MANIFEST_JSON).exists():
        initial = manifest(config_record, started, "sweep", seeds)
        write_manifest(folder, {**initial, "finished_utc": None})

    store = ChunkStore(folder)
    execute(store, Phase("grid", grid), chunk_size, progress)
    runs, history = store.read()
    grid_runs = order_by_plan(runs[runs["phase"] == "grid"], grid)
    with _warnings.catch_warnings(record=True) as caught:
        _warnings.simplefilter("always", GridEdgeWarning)
        picks = pick_points(grid_runs, plan)
    notes = [str(w.message) for w in caught if issubclass(w.category, GridEdgeWarning)]
    every = grid
    if plan.tune:
        finals = plan.final_runs(picks)
        execute(store, Phase("final", finals), chunk_size, progress)
        runs, history = store.read()
        every = grid + finals
        picked = order_by_plan(runs[runs["phase"] == "final"], finals)
    else:
        picked = runs_of_picks(grid_runs, picks)
    runs = order_columns(order_by_plan(runs, every))
    history = order_by_plan(history, every)
    best = best_table(picked, picks_from_fresh_seeds=bool(plan.tune))
    table = ranking(best)
    write_csv(runs, folder / RUNS_CSV)
    write_csv(history, folder / HISTORY_CSV)
    write_csv(best, folder / BEST_CSV)
    write_csv(table, folder / RANKING_CSV)
    data = manifest(config_record, started, "sweep", seeds)
    result = Result(
        runs=runs,
        history=history,
        manifest=data,
        folder=folder,
        best=best,
        ranking=table,
        warnings=notes,
    )
    if plots:
        from optbench.plots_sweep import draw_sweep_figures

        result.figures = draw_sweep_figures(grid_runs, picked, history, folder, svg=svg)
    data["finished_utc"] = utc_now()
    write_manifest(folder, data)
    return result


def _set_workers(workers: int | None) -> None:
    """Use ``workers`` threads for the parallel engine (results do not depend on it)."""
    if workers is None:
        return
    import numba

    limit = numba.config.NUMBA_NUM_THREADS
    if not 1 <= int(workers) <= limit:
        raise OptbenchError(f"workers={workers} must be between 1 and {limit} on this machine")
    numba.set_num_threads(int(workers))


def plot(folder: str | os.PathLike, svg: bool = False) -> list[Path]:
    """Redraw the figures of a finished run folder from its CSVs (no recomputing)."""
    from optbench.plots import draw_run_figures

    runs, history, _ = read_results(folder)
    return draw_run_figures(runs, history, Path(folder), svg=svg)


def load(folder: str | os.PathLike) -> Result:
    """A finished run folder as a ``Result`` (frames and manifest), for notebooks."""
    runs, history, data = read_results(folder)
    return Result(runs=runs, history=history, manifest=data, folder=Path(folder))


# --- bench (issue 5): the smoke suite with baselines, the perf suite, comparing perf runs ---


def bench(
    suite: str = "smoke",
    *,
    out: str | os.PathLike | None = None,
    baseline: str | os.PathLike | None = None,
    update_baseline: bool = False,
    optimizers: Sequence[str] | None = None,
    presets: Sequence[str] | None = None,
    lr: Mapping[str, float] | None = None,
    imports: Sequence[str] = (),
    repeats: int = 5,
    only: Sequence[str] | None = None,
    quick: bool = False,
    save: bool = True,
    progress: Callable[[str], None] | None = None,
    results_root: str | os.PathLike = "results",
):
    """Run a benchmark suite and (by default) write its folder; returns a ``BenchResult``.

    ``suite="smoke"``: every optimizer (or ``optimizers``) × preset on the smoke problems at
    fixed settings; ``failures`` lists each run that did not converge and, with ``baseline``
    (a CSV), each metric outside its tolerance. ``update_baseline`` rewrites the rows run in
    ``baseline`` (default ``benchmarks/baselines/smoke.csv``). ``lr`` sets learning rates for
    optimizers without smoke settings: ``{"rosenbrock": 0.01, "myopt.beale": 0.1, "": 0.05}``
    (a problem, an optimizer.problem, or every problem); without one it comes from the
    baseline, else a search. ``imports`` are modules (or .py files) imported first, so their
    ``@optbench.register_optimizer`` optimizers exist.

    ``suite="perf"``: throughput, compile and start-up figures, ``repeats`` samples each, each
    beside its hand-fused reference (``only`` picks benchmarks: engine, sweep, startup;
    ``quick`` shrinks the work for tests).

    >>> result = optbench.bench(baseline="benchmarks/baselines/smoke.csv")  # doctest: +SKIP
    >>> result.ok, result.failures                                     # doctest: +SKIP
    """
    from optbench import suites

    suites.check_suite(suite)
    suites.import_modules(list(imports))

    def folder() -> Path | None:  # made once the input is known to be good
        return prepare_folder(out, f"bench-{suite}", results_root) if save else None

    if suite == "perf":
        return suites.perf(
            make_folder=folder, repeats=repeats, only=only, quick=quick, progress=progress
        )
    return suites.smoke(
        make_folder=folder,
        baseline=baseline,
        update_baseline=update_baseline,
        optimizers=optimizers,
        presets=presets,
        lr=lr,
    )


def bench_compare(
    folder_a: str | os.PathLike, folder_b: str | os.PathLike, threshold: float = 1.10
) -> pd.DataFrame:
    """Compare two perf folders; rows with ``significant`` True beat the measured noise
    (non-overlapping min–max ranges and a median change beyond ``threshold``)."""
    from optbench import perf as pf

    return pf.compare(pf.read_samples(folder_a), pf.read_samples(folder_b), threshold)
