"""Figures drawn from what results wrote (never from engine internals): one module per problem
family, the shared look in ``style``, a sweep's figures in ``sweep``, the GIF in ``animate``.

This module makes the one choice of figure module by family; nothing else here imports
matplotlib, so choosing costs nothing until a figure is drawn.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from optbench.families import family_names

if TYPE_CHECKING:
    import pandas as pd


def family_module(family: str) -> ModuleType:
    """The figure module ``family`` names (its ``figure_module``), imported on first use.

    Each has the same entry points, which list figures to draw as jobs (``concurrent``):
    ``run_figures`` and ``sweep_figures`` (the figures only that family has)."""
    from optbench.families import get_family

    return importlib.import_module(get_family(family).figure_module)


RUNS_COLUMNS = ("run_id", "problem", "optimizer", "lr", "seed", "diverged")
"""The runs.csv columns every figure reads; none may be blank in any row."""
NUMBERS = ("lr", "seed", "step", "epoch")
"""Columns a figure computes with or formats as numbers (text there is damage)."""


def ends_a_line(path: Path) -> bool:
    """Whether ``path`` is empty or ends with a line break, as every CSV optbench writes does;
    one that does not was cut off (an interrupted copy, a full disk) and its last row would
    read as blanks."""
    with open(path, "rb") as handle:
        if handle.seek(0, 2) == 0:
            return True
        handle.seek(-1, 2)
        return handle.read(1) == b"\n"


def check_frames(
    runs: pd.DataFrame, history: pd.DataFrame, folder: Path, needs: tuple[str, ...] = ()
) -> None:
    """Refuse, in one line, frames the figures cannot draw from: missing columns (another
    tool's folder, a damaged file), blank or non-numeric cells (a truncated file), no rows,
    or runs without history. Each family's figure module names the further columns it reads
    (``RUNS_COLUMNS``, ``HISTORY_COLUMNS``); ``needs`` adds runs columns of the caller."""
    import pandas as pd

    from optbench.errors import OptbenchError

    def fail(name: str, problem: str) -> None:
        raise OptbenchError(f"'{Path(folder) / name}' {problem}: not a results file optbench "
                            "wrote, or a damaged (truncated) one")  # fmt: skip

    def check(frame: pd.DataFrame, name: str, columns: list[str], filled: list[str]) -> None:
        missing = [c for c in dict.fromkeys(columns) if c not in frame.columns]
        if missing:
            fail(name, f"lacks the column(s) {', '.join(missing)}")
        if frame.empty:
            fail(name, "has no rows")
        blank = [c for c in filled if frame[c].isna().any()]
        if blank:
            fail(name, f"has blank cells in {', '.join(blank)}")
        text = [c for c in NUMBERS if c in filled and not pd.api.types.is_numeric_dtype(frame[c])]
        if text:
            fail(name, f"has text where numbers belong, in {', '.join(text)}")

    for name in ("runs.csv", "history.csv"):
        if (Path(folder) / name).is_file() and not ends_a_line(Path(folder) / name):
            fail(name, "ends in the middle of a line")
    check(runs, "runs.csv", [*RUNS_COLUMNS, *needs], list(RUNS_COLUMNS))
    families = family_names(runs)
    for family in dict.fromkeys(families):
        module = family_module(str(family))
        own = runs[families == family]
        check(own, "runs.csv", list(module.RUNS_COLUMNS), list(RUNS_COLUMNS))
        rows = history[history["run_id"].isin(own["run_id"])] if "run_id" in history else history
        check(rows, "history.csv", ["run_id", *module.HISTORY_COLUMNS], ["run_id", module.X])
        lost = own.loc[~own["run_id"].isin(rows["run_id"]), "run_id"]
        if len(lost):
            fail("history.csv", f"has no rows for run(s) {', '.join(map(str, lost[:3]))}")


def per_problem(
    runs: pd.DataFrame, history: pd.DataFrame
) -> Iterator[tuple[str, pd.DataFrame, pd.DataFrame]]:
    """(file-name suffix, runs, history) per problem: every drawing writes one file per problem.

    The suffix is empty when the folder holds one problem, ``-<problem>`` otherwise.
    """
    problems = list(runs["problem"].unique())
    for problem in problems:
        sub = runs[runs["problem"] == problem]
        hist = history[history["run_id"].isin(sub["run_id"])]
        suffix = "" if len(problems) == 1 else f"-{str(problem).replace(':', '_')}"
        yield suffix, sub, hist


def draw_run_figures(
    runs: pd.DataFrame,
    history: pd.DataFrame,
    folder: Path,
    svg: bool = False,
    smoothing: float = 0.0,
) -> list[Path]:
    """The standard figures of a run folder, by each problem's family; one file per figure per
    problem. ``smoothing`` (an EMA weight in [0, 1)) applies to the network curves."""
    from optbench.plots.concurrent import save_figures
    from optbench.plots.schedules import has_schedule, lr_figure

    check_frames(runs, history, folder)
    jobs = []
    for suffix, sub, hist in per_problem(runs, history):
        module = family_module(str(family_names(sub).iloc[0]))
        jobs += module.run_figures(sub, hist, folder, suffix, smoothing)
    if has_schedule(runs, history):
        jobs.append((folder / "lr.png", lambda: lr_figure(runs, history)))
    return save_figures(jobs, svg)
