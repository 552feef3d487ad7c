"""Fair comparison from a sweep's runs: picking each cell's best point, best.csv, the ranking.

A *cell* is one (problem, preset, noise, steps, optimizer, and for networks the model and
training settings): the conditions an optimizer is compared under. Its points are the
hyperparameter grid. The tuning protocol picks, per cell,
the point with the best median final gap (final loss where f* is unknown) over the tuning seeds,
then judges it on fresh seeds, so an optimizer is not rewarded for a lucky seed.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from optbench.columns import LOG_GAP_FLOOR, target_column
from optbench.student_t import t_quantile

if TYPE_CHECKING:
    from optbench.config import SweepConfig

NETWORK_CELL = ["model", "hidden", "activation", "loss_fn", "init", "l2", "epochs", "batch_size"]
"""The runs.csv columns of a network's settings: each value is a condition of its own."""
CELL = ["problem", "preset", "noise", "steps", "optimizer", *NETWORK_CELL]
RANK_TARGET = 1e-3
EDGE_MIN_POINTS = 3  # a grid of two values always has its pick on an edge: nothing to say


class GridEdgeWarning(UserWarning):
    """The picked value of a tuned hyperparameter is an end point of its grid."""


def score(runs: pd.DataFrame) -> pd.Series:
    """What 'better' means per run: the final gap (the final loss where f* is unknown);
    a diverged run scores +inf, so it loses to any run that finished."""
    value = runs["final_gap"].where(runs["final_gap"].notna(), runs["final_loss"])
    return value.where(~runs["diverged"].astype(bool), np.inf).fillna(np.inf)


def cell_columns(frame: pd.DataFrame) -> list[str]:
    """The columns of ``CELL`` that ``frame`` has (surface runs have no network columns)."""
    return [c for c in CELL if c in frame.columns]


def varying(frame: pd.DataFrame, columns: Sequence[str]) -> list[str]:
    """The ``columns`` taking more than one value in ``frame`` (missing values ignored: a
    network setting is blank on a surface's rows)."""
    return [c for c in columns if c in frame and frame[c].nunique() > 1]


def hp_columns(runs: pd.DataFrame) -> list[str]:
    return ["lr", *(c for c in runs.columns if c.startswith("hp_"))]


def pick_points(runs: pd.DataFrame, sweep: SweepConfig) -> dict[tuple, dict[str, float]]:
    """Per cell (keyed by the values of its ``cell_columns``), the hyperparameters (a full
    {name: value} dict) with the best median score.

    The pick is over every axis of the cell's grid (``tune`` names the axes that are meant to
    be tuned). Ties go to the point met first in grid order. Warns when a pick sits at the edge
    of an axis of three or more values (the tuned axes, or every axis without ``tune``): the
    best value may lie outside the grid.
    """
    from optbench.optimizers import get_optimizer

    runs = runs.assign(_score=score(runs), _order=np.arange(len(runs)))
    picks = {}
    axes = {name: dict(named) for name, named in sweep.axes}
    columns_of_cell = cell_columns(runs)
    at = columns_of_cell.index("optimizer")
    for cell, group in runs.groupby(columns_of_cell, sort=False, dropna=False):
        optimizer = cell[at]
        names = get_optimizer(optimizer).hyper_names
        columns = ["lr", *(f"hp_{n}" for n in names[1:])]
        points = group.groupby(columns, sort=False, dropna=False).agg(
            median=("_score", "median"), first=("_order", "min")
        )
        best = points.sort_values(["median", "first"]).index[0]
        best = best if isinstance(best, tuple) else (best,)
        chosen = dict(zip(names, (float(v) for v in best), strict=True))
        picks[cell] = chosen
        own_axes = axes.get(optimizer, {})
        for hname in sweep.tune or own_axes:  # without tune, every axis was searched
            grid = own_axes.get(hname, ())
            if len(grid) >= EDGE_MIN_POINTS and chosen[hname] in (min(grid), max(grid)):
                warnings.warn(
                    f"{optimizer} on {cell[0]}: the best {hname} {chosen[hname]:g} is at the edge "
                    f"of its grid [{min(grid):g}, {max(grid):g}]; widen the grid",
                    GridEdgeWarning,
                    stacklevel=2,
                )
    return picks


def _mean_ci(values: np.ndarray) -> tuple[float, float, float]:
    """Mean and 95% t-interval; undefined (nan) for one value or any infinite (diverged) one."""
    values = np.asarray(values, dtype=float)
    mean = float(np.mean(values))
    if len(values) < 2 or not np.isfinite(values).all():
        return mean, math.nan, math.nan
    half = t_quantile(0.975, len(values) - 1) * np.std(values, ddof=1) / math.sqrt(len(values))
    return mean, mean - half, mean + half


def compared_by(runs: pd.DataFrame) -> str:
    """What ``score`` compares in ``runs`` (one problem): ``"final_gap"`` where f* is known,
    ``"final_loss"`` where it is not (a network, or a surface unbounded below)."""
    return "final_gap" if runs["final_gap"].notna().any() else "final_loss"


def best_table(evaluated: pd.DataFrame, picks_from_fresh_seeds: bool) -> pd.DataFrame:
    """best.csv: per cell, the picked point's results with mean and 95% confidence interval.

    ``evaluated`` holds only the runs of the picked points (the fresh-seed reruns when tuned).
    Each cell is summarised by the quantity its problem has (``compared_by``): the final gap
    where f* is known, else the final loss. Gaps span decades and cannot be negative, so they
    also get the interval of log10(gap), given back in gap units as a geometric mean and
    interval (``final_gap_geo_*``); a final loss can be negative (a surface unbounded below),
    so it gets no log or geometric statistic. The other quantity's columns are left blank.
    """
    rows = []
    hp = hp_columns(evaluated)
    target = target_column(RANK_TARGET)
    columns_of_cell = cell_columns(evaluated)
    for cell, group in evaluated.groupby(columns_of_cell, sort=False, dropna=False):
        quantity = compared_by(group)
        value = score(group).to_numpy()
        mean, low, high = _mean_ci(value)
        stats = {
            f"{quantity}_median": float(np.median(value)),
            f"{quantity}_mean": mean,
            f"{quantity}_ci_low": low,
            f"{quantity}_ci_high": high,
        }
        if quantity == "final_gap":
            log_mean, log_low, log_high = _mean_ci(np.log10(np.maximum(value, LOG_GAP_FLOOR)))
            stats |= {
                "log10_gap_mean": log_mean,
                "log10_gap_ci_low": log_low,
                "log10_gap_ci_high": log_high,
                "final_gap_geomean": 10**log_mean,
                "final_gap_geo_ci_low": 10**log_low,
                "final_gap_geo_ci_high": 10**log_high,
            }
        first = group.iloc[0]
        reached = group[target].dropna() if target in group else pd.Series(dtype=float)
        rows.append(
            {
                **dict(zip(columns_of_cell, cell, strict=True)),
                **{c: first[c] for c in hp if pd.notna(first[c])},
                "seeds": len(group),
                "evaluated_on": "fresh seeds" if picks_from_fresh_seeds else "tuning seeds",
                "compared_by": quantity,
                **dict.fromkeys(_STAT_COLUMNS, math.nan),
                **stats,
                f"{target}_median": float(reached.median())
                if len(reached) == len(group)
                else math.nan,
                "diverged_fraction": float(group["diverged"].astype(bool).mean()),
            }
        )
    table = pd.DataFrame(rows)
    empty = [c for c in _STAT_COLUMNS if table[c].isna().all()]  # a quantity no cell has
    table = table.drop(columns=empty)
    front = [*columns_of_cell, *(c for c in hp if c in table.columns)]
    return table[front + [c for c in table.columns if c not in front]]


_STAT_COLUMNS = [
    *(f"final_gap_{s}" for s in ("median", "mean", "ci_low", "ci_high")),
    *(f"log10_gap_{s}" for s in ("mean", "ci_low", "ci_high")),
    *(f"final_gap_{s}" for s in ("geomean", "geo_ci_low", "geo_ci_high")),
    *(f"final_loss_{s}" for s in ("median", "mean", "ci_low", "ci_high")),
]
"""best.csv's statistics, in order: of the gap (where f* is known), then of the final loss."""


def median_of_cell(best: pd.DataFrame) -> pd.Series:
    """Each best.csv row's median of the quantity it is compared by (``compared_by``)."""
    gap = best.get("final_gap_median", pd.Series(math.nan, index=best.index))
    loss = best.get("final_loss_median", pd.Series(math.nan, index=best.index))
    return gap.where(best["compared_by"] == "final_gap", loss)


def ranking(best: pd.DataFrame) -> pd.DataFrame:
    """Optimizers ranked by their mean rank over the comparison cells (1 = best median of the
    cell's quantity: the final gap where f* is known, else the final loss). Ranks mix fairly
    across problems; the raw medians do not, so ``median_gap`` is over the cells with a gap and
    ``median_final_loss`` over the others, each only when some cell has it."""
    conditions = [c for c in cell_columns(best) if c != "optimizer"]
    best = best.assign(_median=median_of_cell(best))
    ranks = best.assign(rank=best.groupby(conditions, dropna=False)["_median"].rank(method="min"))
    columns = {
        "mean_rank": ("rank", "mean"),
        "wins": ("rank", lambda r: int((r == 1).sum())),
        "cells": ("rank", "size"),
    }
    order = ["mean_rank"]
    for quantity, name in (("final_gap", "median_gap"), ("final_loss", "median_final_loss")):
        if (best["compared_by"] == quantity).any():
            ranks[name] = ranks["_median"].where(best["compared_by"] == quantity)
            columns[name] = (name, "median")
            order.append(name)
    table = ranks.groupby("optimizer").agg(**columns)
    return table.sort_values(order).reset_index()


def runs_of_picks(runs: pd.DataFrame, picks: dict[tuple, dict[str, float]]) -> pd.DataFrame:
    """The rows of ``runs`` whose cell (keyed as ``pick_points`` keys it) and hyperparameters
    are the cell's pick."""
    columns_of_cell = cell_columns(runs)
    keep = np.zeros(len(runs), dtype=bool)
    for cell, point in picks.items():
        mask = np.ones(len(runs), dtype=bool)
        for column, value in zip(columns_of_cell, cell, strict=True):
            mask &= _equal(runs[column], value)
        mask &= _equal(runs["lr"], point["lr"])
        for name, value in point.items():
            if name != "lr":
                mask &= _equal(runs[f"hp_{name}"], value)
        keep |= mask
    return runs[keep]


def _equal(column: pd.Series, value: object) -> np.ndarray:
    """``column == value``, where a missing value equals a missing value (surface runs have
    no network settings)."""
    if pd.isna(value):
        return column.isna().to_numpy()
    return (column == value).to_numpy()


def solved_steps(runs: pd.DataFrame, targets: Sequence[float]) -> pd.DataFrame:
    """Long table of steps-to-target per run and target (inf when never reached, or when the
    column is missing: no run reached that target), for ECDFs."""
    parts = []
    for target in targets:
        column = target_column(target)
        steps = runs[column] if column in runs.columns else pd.Series(np.nan, index=runs.index)
        steps = steps.astype("Float64").fillna(np.inf).astype(float)
        parts.append(runs[["optimizer", "problem", "seed"]].assign(target=target, steps=steps))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
