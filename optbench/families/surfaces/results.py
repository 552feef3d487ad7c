"""Surface and objective results as tidy frames: one row per run, and the recorded path of
every run (for a problem of d > 2 dimensions, ``x, y`` are its first two coordinates)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from optbench.columns import GAP_TARGETS, target_column

if TYPE_CHECKING:
    from optbench.config import RunConfig
    from optbench.families.output import EngineOutput

SUMMARY_TARGET = 1e-3


def _fstar(configs: Sequence[RunConfig]) -> tuple[dict[str, Any], np.ndarray]:
    """The problem spec of each distinct problem label, and f* per run (nan when unknown)."""
    from optbench.problems import get_problem

    problems = {label: get_problem(label) for label in dict.fromkeys(c.problem for c in configs)}
    known = {label: np.nan if p.fstar is None else p.fstar for label, p in problems.items()}
    fstar = np.array([known[c.problem] for c in configs])
    return problems, fstar


def _first_hits(values: np.ndarray) -> pd.arrays.IntegerArray:
    """A first-hit metric (-1: never) as a nullable integer column."""
    return pd.array(np.where(values >= 0, values, np.nan), "Int64")


def runs_frame(configs: Sequence[RunConfig], out: EngineOutput) -> pd.DataFrame:
    """One row per run: config columns, then metrics (the runs.csv column contract).

    Built column by column from the engine's arrays, so 10,000 runs take milliseconds.
    """
    problems, fstar = _fstar(configs)
    n_runs = len(configs)
    last = out.rows - 1
    final_x = out.history["x"][np.arange(n_runs), last]
    final_y = out.history["y"][np.arange(n_runs), last]
    final_dist = out.history["dist_to_min"][np.arange(n_runs), last]
    starts = {  # the first two coordinates of each start (an N-D default start is not stored)
        (c.problem, c.start): problems[c.problem].start_vector(c.start)[:2] for c in configs
    }
    start = [starts[(c.problem, c.start)] for c in configs]
    hp_names = list(dict.fromkeys(name for c in configs for name, _ in c.hp[1:]))
    hp_values = [c.hp_dict for c in configs]
    m = out.metrics
    columns: dict[str, Any] = {
        "run_id": [c.run_id for c in configs],
        "problem": [c.problem for c in configs],
        "optimizer": [c.optimizer for c in configs],
        "preset": [c.preset for c in configs],
        "lr": [c.lr for c in configs],
        "seed": [c.seed for c in configs],
        "steps": [c.steps for c in configs],
        **{f"hp_{name}": [hp.get(name, np.nan) for hp in hp_values] for name in hp_names},
        "start_x": [point[0] for point in start],
        "start_y": [point[1] if point.size > 1 else np.nan for point in start],
        "noise": [c.noise for c in configs],
        "final_loss": m["final_loss"],
        "best_loss": m["best_loss"],
        "final_gap": m["final_loss"] - fstar,
        "diverged": m["diverged_step"] >= 0,
        "diverged_step": _first_hits(m["diverged_step"]),
        "wall_s": out.wall_s,
        "final_x": final_x,
        "final_y": final_y,
        "dist_to_min": [  # in 2-D from the final point, as always; in N-D the engine's
            problems[c.problem].distance_to_nearest_minimum(x, y)
            if problems[c.problem].dimension == 2
            else dist
            for c, x, y, dist in zip(configs, final_x, final_y, final_dist, strict=True)
        ],
        "mean_log10_gap": m["mean_log10_gap"],
    }
    for target in GAP_TARGETS:
        columns[target_column(target)] = _first_hits(m[target_column(target)])
    return pd.DataFrame(columns)


def history_frame(configs: Sequence[RunConfig], out: EngineOutput) -> pd.DataFrame:
    """Long format: one row per recorded step per run (step 0 is the start point)."""
    _, fstar = _fstar(configs)
    kept = np.arange(out.history["loss"].shape[1])[None, :] < out.rows[:, None]
    loss = out.history["loss"][kept]
    return pd.DataFrame(
        {
            "run_id": np.repeat(np.array([c.run_id for c in configs]), out.rows),
            "step": out.history["step"][kept],
            "loss": loss,
            "gap": loss - np.repeat(fstar, out.rows),
            "x": out.history["x"][kept],
            "y": out.history["y"][kept],
            "dist_to_min": out.history["dist_to_min"][kept],
            "grad_norm": out.history["grad_norm"][kept],
        }
    )


def verdicts(runs: pd.DataFrame) -> list[str]:
    """The line printed under the table when runs diverged (none otherwise)."""
    diverged = runs[runs["diverged"].astype(bool)]
    if diverged.empty:
        return []
    names = ", ".join(f"{r.optimizer} (step {r.diverged_step})" for r in diverged.itertuples())
    return [f"diverged: {names}"]


def summary_table(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per surface run of ``runs.csv``, the columns a reader compares first (CLI and
    report). Problem and seed columns appear only when they vary.
    """
    columns = {
        "optimizer": "optimizer",
        "lr": "lr",
        "final_gap": "final gap",
        "dist_to_min": "dist to min",
        target_column(SUMMARY_TARGET): f"steps to {SUMMARY_TARGET:g}",
        "diverged": "diverged",
    }
    columns = {k: v for k, v in columns.items() if k in runs}  # an old or edited runs.csv
    table = runs[list(columns)].rename(columns=columns)
    if runs["seed"].nunique() > 1:
        table.insert(2, "seed", runs["seed"])
    if runs["problem"].nunique() > 1:
        table.insert(0, "problem", runs["problem"])
    return table
