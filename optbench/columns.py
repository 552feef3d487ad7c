"""Names and numbers every layer agrees on, with no numba, numpy or pandas behind them.

The engines record against these targets, the results layer names its columns and files with
them, and analysis, plots and the report read them back. Keeping them here (not in an engine
module) is what lets ``import optbench.analysis`` or ``optbench.plots`` stay free of numba.
"""

from __future__ import annotations

GAP_TARGETS = (1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8)
"""Gap targets whose first-hit step every surface run records (``steps_to_<target>``)."""

LOG_GAP_FLOOR = 1e-30
"""Gaps below this count as this in log-gap statistics (mean_log10_gap, geometric means): a
run at 1e-60 and one at 1e-90 have both solved the problem, and an exact 0 has no log."""

ACCURACY_TARGETS = (0.75, 0.9, 0.95, 0.99)
"""Test accuracies whose first epoch every network run records (``epochs_to_<acc>``)."""

RUNS_CSV = "runs.csv"
HISTORY_CSV = "history.csv"
MANIFEST_JSON = "manifest.json"
BEST_CSV = "best.csv"
RANKING_CSV = "ranking.csv"

DATA_CSV = "data.csv"
BOUNDARY_CSV = "boundary.csv"
WEIGHT_PATH_CSV = "weight_path.csv"
LANDSCAPE_CSV = "landscape.csv"
NETWORK_FIGURE_CSVS = (DATA_CSV, BOUNDARY_CSV, WEIGHT_PATH_CSV, LANDSCAPE_CSV)
"""What a network run writes beside runs.csv so its figures redraw without the data set."""


def target_column(target: float) -> str:
    """``1e-3`` → ``steps_to_1e-03``: one spelling for every writer and reader."""
    return f"steps_to_{target:.0e}"


def accuracy_column(target: float) -> str:
    """``0.95`` → ``epochs_to_0.95``: one spelling for every writer and reader."""
    return f"epochs_to_{target:g}"
