"""The Python API: everything the CLI does, callable from a notebook or script.

``optbench.run(...)`` validates its input (before compiling or computing anything), runs the
engine, writes the run folder and returns a ``Result`` holding the frames and the folder.
The CLI is a thin layer over these functions.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from optbench.config import SweepConfig, build_run_configs, execution_settings
from optbench.errors import OptbenchError
from optbench.families import family_of, family_of_runs
from optbench.results import (
    BEST_CSV,
    HISTORY_CSV,
    RANKING_CSV,
    RUNS_CSV,
    manifest,
    read_results,
    utc_now,
    write_csv,
    write_manifest,
    writing_folder,
)
from optbench.settings import EXECUTION

if TYPE_CHECKING:
    import pandas as pd


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
        """The terminal table of the runs' problem family (e.g. final gap, or test accuracy),
        each row labelled with its preset and schedule where those vary (``--preset
        torch,keras`` runs each optimizer once per convention)."""
        table = family_of_runs(self.runs).summary(self.runs)
        if "optimizer" in table and len(table) == len(self.runs):
            at = list(table.columns).index("optimizer") + 1
            for column in ("schedule", "preset"):
                if column in self.runs and self.runs[column].nunique() > 1:
                    table.insert(at, column, self.runs[column].to_numpy())
        return table

    def verdicts(self) -> list[str]:
        """Lines saying what the table means (networks' accuracy verdicts, surfaces' divergences),
        from the runs' problem family."""
        return family_of_runs(self.runs).notes(self.runs)


def _settings_documented(command: str) -> Callable:
    """Append the settings ``command`` takes to the function's docstring, from the one list
    of settings, so ``help(optbench.run)`` names every keyword the CLI has as a flag."""
    from optbench.settings import for_command

    def decorate(function: Callable) -> Callable:
        lines = [
            f"    ``{s.name}``" + (f" (or ``{s.alias}``)" if s.alias else "") + f": {s.help}"
            for s in for_command(command)
        ]
        function.__doc__ = (
            f"{function.__doc__}\n    Settings (the flags of ``optbench {command}`` and the keys of"
            " a sweep file):\n\n" + "\n".join(lines) + "\n"
        )
        return function

    return decorate


@_settings_documented("run")
def run(
    optimizer: str | Sequence[str] | None = None,
    problem: str | None = None,
    *,
    out: str | os.PathLike | None = None,
    save: bool = True,
    plots: bool = True,
    svg: bool = False,
    animate: bool = False,
    grad_norms: bool = False,
    results_root: str | os.PathLike = "results",
    **settings: object,
) -> Result:
    """Run one or more optimizers on one problem and (by default) write a run folder.

    >>> import optbench
    >>> result = optbench.run(["sgd", "adam"], "bowl", lr={"sgd": 0.95, "adam": 0.3},
    ...                       start=(-7, 2), steps=30, save=False)
    >>> list(result.runs["optimizer"])
    ['sgd', 'adam']

    ``settings`` are the settings of ``optbench run`` by name (``optbench.settings``; the same
    names as the flags and the TOML keys), one value each: ``lr`` is one value, a
    {optimizer: lr} mapping, or unset for each optimizer's default; ``hp`` sets other
    hyperparameters by name (``{"beta1": 0.95}``, or ``{"adam.beta1": 0.95}`` for one
    optimizer); ``seed`` is one seed or a list of seeds. Network problems take ``model``,
    ``hidden``, ``activation``, ``loss``, ``init``, ``l2``, ``epochs``, ``batch_size`` and
    ``data_dir``. ``out`` names the run folder; without it a new folder
    ``results/<UTC time>-<problem>-<optimizers>/`` is made. ``save=False`` writes nothing.
    ``animate=True`` adds ``trajectories.gif``: the paths growing over the contour.
    ``grad_norms=True`` (networks) adds ``grad_norm_layer1`` … to the history: each layer's
    weight-gradient norm over the training set at each recorded epoch (off by default: it
    costs a backward pass over the whole training set per record).
    """
    started = utc_now()
    if "seed" in settings:  # the singular names seeds, where ``seeds`` may count them
        seed = settings.pop("seed")
        several = isinstance(seed, list | tuple | range) or getattr(seed, "ndim", 0) > 0
        settings["seeds"] = list(seed) if several else [seed]  # type: ignore[arg-type]
    data_dir = execution_settings(settings).get("data_dir")
    settings.pop("data_dir", None)
    given = {"optimizers": optimizer, "problems": problem, **settings}
    configs = build_run_configs(**given)
    problem = configs[0].problem
    family = family_of(configs)
    from optbench.chunks import check_memory_fits

    check_memory_fits(configs)  # before any folder is made or anything computed
    if animate:
        if not save:
            raise OptbenchError("animate writes trajectories.gif into the run folder: keep save")
        if not family.can_animate:
            raise OptbenchError(f"animate draws paths over a 2-D surface; '{problem}' is not one")
    if grad_norms and not family.has_layers:
        raise OptbenchError(f"grad_norms records a network's layers; '{problem}' has none")
    with contextlib.ExitStack() as stack:
        folder = None
        if save:
            used = dict.fromkeys(c.optimizer for c in configs)
            label = f"{configs[0].problem.replace(':', '_')}-{'-'.join(used)}"
            folder = stack.enter_context(
                writing_folder(out, label[:80], results_root, must_be_new=True)
            )
        drawing = (plots, svg, animate)
        result = _run_into(configs, folder, family, started, data_dir, drawing, grad_norms)
    return result


def _run_into(configs, folder, family, started, data_dir, drawing, grad_norms) -> Result:
    """Compute the runs and write them (when ``folder``): CSVs, figures, the manifest last."""
    from optbench.engine import run_many
    from optbench.results import frames

    plots, svg, animate = drawing
    figures = plots and folder is not None
    output = run_many(configs, data_dir=data_dir, figures=figures, grad_norms=grad_norms)
    runs, history = frames(configs, output)
    command_config = {"kind": "run", "runs": [c.to_dict() for c in configs]}
    if data_dir is not None:
        command_config["data_dir"] = str(data_dir)
    data = manifest(command_config, started, "run", [c.seed for c in configs])
    result = Result(runs=runs, history=history, manifest=data, folder=folder)
    if folder is not None:
        figures = None
        if plots:
            from optbench.plots.ahead import drawing

            for name, frame in family.figure_frames(configs, output, data_dir).items():
                write_csv(frame, folder / name)  # e.g. a network's data and boundaries
            figures = drawing("optbench.plots:draw_run_figures", runs, history, folder, svg=svg)
        write_csv(runs, folder / RUNS_CSV)  # while a process started ahead draws
        write_csv(history, folder / HISTORY_CSV)
        if figures is not None:
            result.figures = figures()
        if animate:
            from optbench.plots.animate import write_animations

            result.figures += write_animations(runs, history, folder)
        data["finished_utc"] = utc_now()
        write_manifest(folder, data)
    return result


def plan_sweep(
    config: SweepConfig | str | os.PathLike | None = None, **settings: object
) -> tuple[SweepConfig, dict[str, object]]:
    """The sweep ``optbench.sweep`` would run, without running it (``--dry-run``), and its
    execution settings (executor, scheduler, workers, data_dir).

    ``config`` is a ``SweepConfig``, a TOML file, or None to build the sweep from ``settings``
    alone; with a file, ``settings`` override its top-level keys (the one merge of file and
    flags). Settings are named as in ``optbench.settings`` (the TOML keys and flags).
    """
    from optbench.config_file import load_sweep_file

    given = {k: v for k, v in settings.items() if v is not None}
    if isinstance(config, SweepConfig):
        grid = [k for k in given if k not in EXECUTION]
        if grid:
            raise OptbenchError(f"{', '.join(grid)}: a SweepConfig is complete; give a file")
        return config, execution_settings(given)
    if config is not None:
        return load_sweep_file(config, given)
    execution = execution_settings(given)
    plan = SweepConfig.from_raw({k: v for k, v in given.items() if k not in EXECUTION})
    return plan, execution


@_settings_documented("sweep")
def sweep(
    config: SweepConfig | str | os.PathLike | None = None,
    *,
    out: str | os.PathLike | None = None,
    resume: bool = False,
    plots: bool = True,
    svg: bool = False,
    progress: Callable[[int], None] | None = None,
    chunk_size: int | None = None,
    results_root: str | os.PathLike = "results",
    **settings: object,
) -> Result:
    """Run a grid of runs, tune if asked, and write a sweep folder. Resumable.

    ``config`` and ``settings`` are as in ``plan_sweep``: a ``SweepConfig``, a TOML file whose
    top-level keys ``settings`` override, or the settings alone. ``executor="dask"`` runs the
    chunks on a Dask cluster: the one at ``scheduler`` (or ``$OPTBENCH_DASK_SCHEDULER``), else a
    local cluster of ``workers`` processes; the numbers are the same as locally.

    >>> result = optbench.sweep(optimizers=["sgd", "adam"], problems=["rosenbrock"],
    ...                         lr="1e-4..1:9", seeds=3, steps=2000, tune="lr")  # doctest: +SKIP
    >>> result.best, result.ranking                                                # doctest: +SKIP
    """
    from optbench.chunks import ChunkStore, check_folder, check_memory_fits
    from optbench.executors import make_executor

    started = utc_now()
    plan, execution = plan_sweep(config, **settings)
    executor = str(execution.get("executor", "local"))
    workers = execution.get("workers")
    data_dir = execution.get("data_dir")
    grid = plan.expand()
    seeds = [*plan.seeds, *plan.final_seeds]
    check_memory_fits(grid, plan)  # the tuned reruns count too
    if executor == "local":
        _set_workers(workers)
    if resume and (out is None or not _is_folder(out)):
        raise OptbenchError(f"--resume needs the folder of an earlier sweep; '{out}' is none")
    label = f"sweep-{'-'.join(p.replace(':', '_') for p in plan.problems)}"
    with writing_folder(out, label[:80], results_root) as folder:
        check_folder(folder, plan, resume)
        engine = make_executor(executor, execution.get("scheduler"), workers, data_dir)
        try:
            config_record = {"kind": "sweep", "sha256": plan.sha256, "sweep": plan.to_record()}
            if not resume:
                initial = manifest(config_record, started, "sweep", seeds)
                write_manifest(folder, {**initial, "finished_utc": None})
            grid_runs, picked, runs, history, notes = _run_phases(
                plan, grid, ChunkStore(folder), engine, chunk_size, progress
            )
        finally:
            engine.close()
        return _finish_sweep(
            plan,
            folder,
            config_record,
            started,
            seeds,
            (grid_runs, picked, runs, history),
            notes,
            plots,
            svg,
        )


def _finish_sweep(plan, folder, config_record, started, seeds, frames, notes, plots, svg):
    """Write the sweep's tables and figures from its runs, and its manifest last."""
    from optbench.analysis import best_table, ranking

    grid_runs, picked, runs, history = frames
    best = best_table(picked, picks_from_fresh_seeds=bool(plan.tune))
    table = ranking(best)
    figures = None
    if plots:
        from optbench.plots.ahead import drawing

        figures = drawing(
            "optbench.plots.sweep:draw_sweep_figures", grid_runs, picked, history, folder, svg=svg
        )
    write_csv(runs, folder / RUNS_CSV)  # while a process started ahead draws
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
    if figures is not None:
        result.figures = figures()
    data["finished_utc"] = utc_now()
    write_manifest(folder, data)
    return result


def _is_folder(path: str | os.PathLike) -> bool:
    try:
        return Path(path).expanduser().is_dir()
    except (OSError, RuntimeError):  # a name too long, '~nouser/x'
        return False


def _run_phases(plan: SweepConfig, grid: list, store, engine, chunk_size, progress):
    """The grid, then (when tuning) the reruns of each cell's pick on fresh seeds.

    Returns the grid runs, the runs of the picks, all runs and history in plan order (as the
    chunk store reads them), and the warnings of the pick (a tuned value on the edge of its grid).
    """
    import warnings

    from optbench.analysis import GridEdgeWarning, cell_columns, pick_points, runs_of_picks
    from optbench.chunks import Phase, execute

    phases = [Phase("grid", grid)]
    execute(store, phases[0], engine, chunk_size, progress)
    runs, history = store.read(phases)
    grid_runs = runs[runs["phase"] == "grid"].reset_index(drop=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", GridEdgeWarning)
        picks = pick_points(grid_runs, plan)
    notes = [str(w.message) for w in caught if issubclass(w.category, GridEdgeWarning)]
    if plan.tune:
        by_id = {config.run_id: config for config in grid}
        first = runs_of_picks(grid_runs, picks).drop_duplicates(cell_columns(grid_runs))
        finals = plan.final_runs(by_id[run_id] for run_id in first["run_id"])
        phases.append(Phase("final", finals))
        execute(store, phases[1], engine, chunk_size, progress)
        runs, history = store.read(phases)
        picked = runs[runs["phase"] == "final"].reset_index(drop=True)
    else:
        picked = runs_of_picks(grid_runs, picks)
    return grid_runs, picked, runs, history, notes


def _set_workers(workers: int | None) -> None:
    """Use ``workers`` threads for the parallel engine (results do not depend on it)."""
    if workers is None:
        return
    import numba

    limit = numba.config.NUMBA_NUM_THREADS
    if not 1 <= int(workers) <= limit:
        raise OptbenchError(f"workers={workers} must be between 1 and {limit} on this machine")
    numba.set_num_threads(int(workers))


def plot(
    folder: str | os.PathLike, svg: bool = False, smoothing: float = 0.0, animate: bool = False
) -> list[Path]:
    """Redraw the figures of a finished run folder from its CSVs (no recomputing).

    ``smoothing`` in [0, 1) is an EMA weight applied to network loss/accuracy curves;
    ``animate=True`` also redraws ``trajectories.gif``.
    """
    from optbench.plots import check_frames, draw_run_figures

    if not 0.0 <= smoothing < 1.0:
        raise OptbenchError(f"smooth={smoothing:g} must be in [0, 1)")
    runs, history, _ = read_results(folder)
    check_frames(runs, history, Path(folder))  # before a sweep's rows are split by phase
    if "phase" in runs.columns:  # a sweep folder: its own figures, from runs.csv and best.csv
        return _plot_sweep(Path(folder), runs, history, svg)
    written = draw_run_figures(runs, history, Path(folder), svg=svg, smoothing=smoothing)
    if animate:
        from optbench.plots.animate import write_animations

        written += write_animations(runs, history, Path(folder))
    return written


def _plot_sweep(folder: Path, runs: pd.DataFrame, history: pd.DataFrame, svg: bool) -> list[Path]:
    """Redraw a sweep's figures: the grid runs, and the runs of each cell's pick (the fresh-seed
    reruns when it was tuned, else the grid runs at the point best.csv names)."""
    import pandas as pd

    from optbench.analysis import cell_columns, runs_of_picks
    from optbench.plots.sweep import draw_sweep_figures
    from optbench.results import read_csv_or_error

    grid_runs = runs[runs["phase"] == "grid"]
    if (runs["phase"] == "final").any():
        picked = runs[runs["phase"] == "final"]
    else:
        best = read_csv_or_error(folder / BEST_CSV)
        missing = {"lr", *cell_columns(grid_runs)} - set(best.columns)
        missing |= {c for c in best.columns if c.startswith("hp_")} - set(grid_runs.columns)
        missing = sorted(missing)
        if missing:
            raise OptbenchError(
                f"{folder / BEST_CSV} lacks {', '.join(missing)} (or runs.csv does): it is not "
                "the best.csv of this sweep"
            )
        picks = {}
        for row in best.to_dict("records"):
            key = tuple(row.get(c) for c in cell_columns(grid_runs))
            hps = {k[3:]: v for k, v in row.items() if k.startswith("hp_") and pd.notna(v)}
            picks[key] = {"lr": row["lr"], **hps}
        picked = runs_of_picks(grid_runs, picks)
    return draw_sweep_figures(grid_runs, picked, history, folder, svg=svg)


def report(folder: str | os.PathLike) -> Path:
    """Write ``folder/report.html``: one self-contained page (settings, versions, tables, every
    figure with a caption, divergences) that opens offline in any browser. Returns its path."""
    from optbench.reporting import write_report

    return write_report(folder)


def explore(
    folder: str | os.PathLike | None = None,
    *,
    problem: str | None = None,
    optimizers: str | Sequence[str] | None = None,
    lr: object = None,
    hp: dict[str, object] | None = None,
    steps: int | None = None,
    starts: str | None = None,
    epochs: int | None = None,
    preset: str | None = None,
    bound: float | None = None,
    out: str | os.PathLike | None = None,
    max_mb: float | None = None,
    results_root: str | os.PathLike = "results",
) -> Path:
    """Write one self-contained HTML page where lr, a second hyperparameter, the start point
    and the step are sliders over paths computed in advance, and return its path.

    With no arguments: bowl, sgd/momentum/adagrad/rmsprop/adam, lr 1e-3..3 (15 values),
    momentum's μ and adam's β1 in 0, 0.5, 0.9, 0.99, a 7 × 7 grid of starts plus the classic
    one, 60 steps → ``results/explore-bowl.html``. A network problem (``"spirals"``) trains
    each setting for ``epochs`` and shows loss and accuracy curves and the decision regions at
    a few epochs. ``lr`` and ``hp`` take the grids of
    ``optbench sweep`` (``"1e-4..1:25"``, ``{"momentum": "0,0.5,0.9"}``); each optimizer may
    vary one hyperparameter besides lr. ``starts`` is ``"9x9"``. A grid whose page would pass
    ``max_mb`` (default 3) is refused before computing, naming settings that would fit.

    ``folder``: a finished run or sweep folder whose history.csv holds every step of a full
    grid (``--record-every 1``); the page is built from its CSVs (default ``folder/explore.html``).
    """
    from optbench.explorer.build import PAGE_BUDGET_MB, check_budget, page_path, write_explorer

    max_mb = PAGE_BUDGET_MB if max_mb is None else float(max_mb)
    if not (math.isfinite(max_mb) and max_mb > 0):
        raise OptbenchError(f"max_mb={max_mb:g} must be a number > 0")
    given = {"problem": problem, "optimizers": optimizers, "lr": lr, "hp": hp, "steps": steps,
             "starts": starts, "epochs": epochs, "preset": preset, "bound": bound}  # fmt: skip
    if folder is not None:
        from optbench.explorer.grid import paths_from_folder

        named = [k for k, v in given.items() if v is not None]
        if named:
            raise OptbenchError(
                f"{', '.join(named)}: a folder's page shows the runs it holds; give settings "
                "or a folder, not both"
            )
        if not _is_folder(folder):
            raise OptbenchError(f"'{folder}' is not a folder")
        path = page_path(out, Path(folder) / "explore.html")
        return write_explorer(paths_from_folder(folder), path, max_mb)
    from optbench.explorer.grid import compute, plan_explore
    from optbench.explorer.networks import NetworkPlan, compute_network

    plan = plan_explore(**given)
    label = plan.sweep.problems[0].replace(":", "_").replace("=", "")
    path = page_path(out, Path(results_root) / f"explore-{label}.html")
    check_budget(plan, max_mb)  # before anything is computed
    paths = compute_network(plan) if isinstance(plan, NetworkPlan) else compute(plan)
    return write_explorer(paths, path, max_mb)


def load(folder: str | os.PathLike) -> Result:
    """A finished run folder as a ``Result`` (frames and manifest), for notebooks."""
    runs, history, data = read_results(folder)
    return Result(runs=runs, history=history, manifest=data, folder=Path(folder))


# --- bench (issue 5): the smoke suite with baselines, the perf suite, comparing perf runs ---


def warmup(families: Sequence[str] | None = None) -> dict[str, float]:
    """Compile (or load from numba's cache) what later runs need, and say how long each took:
    every family's engine (or those named) and every registered optimizer's kernel. A CI job
    or ``make run`` calls it once, so no later command waits on the compiler."""
    import time

    from optbench.families import REGISTRY, get_family
    from optbench.optimizers import all_optimizers

    names = list(REGISTRY) if families is None else list(dict.fromkeys(families))
    seconds: dict[str, float] = {}
    for name in names:
        family = get_family(name)
        started = time.perf_counter()
        getattr(family.engine(), "compile_all", lambda: None)()  # engines compiled on use
        seconds[f"{name} engine"] = time.perf_counter() - started
    started = time.perf_counter()
    for spec in all_optimizers().values():
        spec.compiled()
    seconds["optimizer kernels"] = time.perf_counter() - started
    return seconds
