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

    Each has the same entry points: ``draw_run_figures`` and ``draw_sweep_figures`` (the
    figures only that family has)."""
    from optbench.families import get_family

    return importlib.import_module(get_family(family).figure_module)


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
    written: list[Path] = []
    for suffix, sub, hist in per_problem(runs, history):
        module = family_module(str(family_names(sub).iloc[0]))
        written += module.draw_run_figures(sub, hist, folder, suffix, svg, smoothing)
    return written
