"""``lr.png``: the learning rate each run's updates used, one line per distinct schedule.

Drawn from history.csv's ``scheduled_lr`` column (the engines' own values at the recorded
steps), so it shows what ran, not a formula redrawn beside it. Runs sharing a curve (several
optimizers at one lr under one schedule) share its line; its label names them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np

from optbench.plots.style import LINESTYLES, symlog_yaxis

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

LR_COLUMN = "scheduled_lr"


def has_schedule(runs: pd.DataFrame, history: pd.DataFrame) -> bool:
    """Whether a folder's runs changed their lr at all (a constant lr needs no figure)."""
    return (
        "schedule" in runs
        and LR_COLUMN in history
        and bool((runs["schedule"].fillna("constant") != "constant").any())
    )


def _curve_label(runs: pd.DataFrame, varies_preset: bool) -> str:
    """``cosine  lr=0.01  (sgd, adam)``: the schedule, its base lr and the runs sharing it."""
    first = runs.iloc[0]
    who = runs["optimizer"] + (" " + runs["preset"] if varies_preset else "")
    return f"{first['schedule']}  lr={first['lr']:g}  ({', '.join(dict.fromkeys(who))})"


def distinct_curves(
    runs: pd.DataFrame, history: pd.DataFrame
) -> list[tuple[pd.DataFrame, pd.DataFrame]]:
    """(the runs sharing it, its recorded steps) per distinct lr curve: runs whose recorded
    (step, lr) values are equal share one (torch and Keras agree on most schedules)."""
    curves: dict[tuple, tuple[list[str], pd.DataFrame]] = {}
    by_run = dict(tuple(history.groupby("run_id", sort=False)))
    for run_id in runs["run_id"]:
        steps = by_run[run_id].sort_values("step")[["step", LR_COLUMN]]
        key = (tuple(steps["step"]), tuple(steps[LR_COLUMN]))
        curves.setdefault(key, ([], steps))[0].append(run_id)
    return [(runs[runs["run_id"].isin(ids)], steps) for ids, steps in curves.values()]


def lr_figure(runs: pd.DataFrame, history: pd.DataFrame) -> Figure:
    """The lr against step, one line per distinct curve (schedule, parameters, base lr and,
    where the two differ, preset)."""
    varies_preset = runs["preset"].nunique() > 1
    fig, ax = plt.subplots(figsize=(7.2, 4.2))
    cmap = plt.get_cmap("tab10")
    values = history.loc[history["run_id"].isin(runs["run_id"]), LR_COLUMN].to_numpy(float)
    for i, (group, steps) in enumerate(distinct_curves(runs, history)):
        ax.plot(steps["step"], steps[LR_COLUMN], color=cmap(i % 10), lw=1.8,
                ls=LINESTYLES[(i // 10) % len(LINESTYLES)],
                label=_curve_label(group, varies_preset))  # fmt: skip
    positive = values[np.isfinite(values) & (values > 0)]
    if positive.size and positive.max() / positive.min() > 100:
        if (values[np.isfinite(values)] <= 0).any():  # a warm-up from 0, a decay to 0
            symlog_yaxis(ax, linthresh=float(positive.min()))
            ax.set_ylabel("learning rate (symlog scale: 0 is drawn)")
        else:
            ax.set_yscale("log")
            ax.set_ylabel("learning rate (log scale)")
    else:
        ax.set_ylabel("learning rate")
    ax.set_xlabel("step (updates)")
    ax.set_title("learning rate of each update")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="best", framealpha=0.9, fontsize=8)
    return fig
