"""The Python API: everything the CLI does, callable from a notebook or script.

``optbench.run(...)`` validates its input (before compiling or computing anything), runs the
engine, writes the run folder and returns a ``Result`` holding the frames and the folder.
The CLI is a thin layer over these functions.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from optbench.config import DEFAULT_BOUND, DEFAULT_PROBLEM, DEFAULT_STEPS, build_run_configs
from optbench.errors import OptbenchError
from optbench.problems import get_problem
from optbench.results import (
    HISTORY_CSV,
    RUNS_CSV,
    history_frame,
    manifest,
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

    def summary(self) -> pd.DataFrame:
        """The terminal table: optimizer, lr, final gap, distance to minimum, steps to 1e-3."""
        return summary_table(self.runs)


def summary_table(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per run of ``runs.csv``, the columns a reader compares first (CLI and report).

    Problem and seed columns appear only when they vary.
    """
    columns = {
        "optimizer": "optimizer",
        "lr": "lr",
        "final_gap": "final gap",
        "dist_to_min": "dist to min",
        target_column(SUMMARY_TARGET): f"steps to {SUMMARY_TARGET:g}",
        "diverged": "diverged",
    }
    table = runs[list(columns)].rename(columns=columns)
    if runs["seed"].nunique() > 1:
        table.insert(2, "seed", runs["seed"])
    if runs["problem"].nunique() > 1:
        table.insert(0, "problem", runs["problem"])
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
    record_every: int = 1,
    bound: float = DEFAULT_BOUND,
    out: str | os.PathLike | None = None,
    save: bool = True,
    plots: bool = True,
    svg: bool = False,
    animate: bool = False,
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
    ``animate=True`` adds ``trajectories.gif``: the paths growing over the contour.
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
    if animate:
        if not save:
            raise OptbenchError("animate writes trajectories.gif into the run folder: keep save")
        if get_problem(problem).family != "surface":
            raise OptbenchError(f"animate draws paths over a 2-D surface; '{problem}' is not one")
    folder = None
    if save:
        label = f"{configs[0].problem.replace(':', '_')}-{'-'.join(dict.fromkeys(names))}"
        folder = prepare_folder(out, label[:80], results_root)

    from optbench.engine import run_many

    output = run_many(configs)
    surfaces = [get_problem(c.problem) for c in configs]
    runs = runs_frame(configs, output, surfaces)
    history = history_frame(configs, output, surfaces)
    command_config = {"kind": "run", "runs": [c.to_dict() for c in configs]}
    data = manifest(command_config, started, command="run")
    result = Result(runs=runs, history=history, manifest=data, folder=folder)
    if folder is not None:
        write_csv(runs, folder / RUNS_CSV)
        write_csv(history, folder / HISTORY_CSV)
        if plots:
            from optbench.plots import draw_run_figures

            result.figures = draw_run_figures(runs, history, folder, svg=svg)
        if animate:
            from optbench.animate import write_animations

            result.figures += write_animations(runs, history, folder)
        data["finished_utc"] = utc_now()
        write_manifest(folder, data)
    return result


def plot(folder: str | os.PathLike, svg: bool = False, animate: bool = False) -> list[Path]:
    """Redraw the figures of a finished run folder from its CSVs (no recomputing).

    ``animate=True`` also redraws ``trajectories.gif``.
    """
    from optbench.plots import draw_run_figures

    runs, history, _ = read_results(folder)
    written = draw_run_figures(runs, history, Path(folder), svg=svg)
    if animate:
        from optbench.animate import write_animations

        written += write_animations(runs, history, Path(folder))
    return written


def report(folder: str | os.PathLike) -> Path:
    """Write ``folder/report.html``: one self-contained page (settings, versions, tables, every
    figure with a caption, divergences) that opens offline in any browser. Returns its path."""
    from optbench.html_report import write_report

    return write_report(folder)


def load(folder: str | os.PathLike) -> Result:
    """A finished run folder as a ``Result`` (frames and manifest), for notebooks."""
    runs, history, data = read_results(folder)
    return Result(runs=runs, history=history, manifest=data, folder=Path(folder))
