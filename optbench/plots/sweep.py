"""Figures of a sweep that every family has: lr sensitivity and the tuned loss curves.

One panel per combination of the cell settings the sweep varies (``panels``), one colour per
optimizer within it; the figures only a family has (a surface's trajectory grid, ECDF and
profile) come from that family's module.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from optbench.analysis import SCHEDULE_PREFIX, cell_columns, score
from optbench.families import family_names
from optbench.plots import check_frames, family_module
from optbench.plots.concurrent import FigureJob, save_figures
from optbench.plots.panels import cell_panels
from optbench.plots.style import (
    CEILING,
    GAP_FLOOR,
    NOTHING_FINITE,
    color_for,
    curve_scale,
    fit_log_yaxis,
    for_log_axis,
    median_band,
    panel_grid,
    say_nothing_drawn,
    symlog_yaxis,
    tight_layout,
)

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

MARKED_POINTS = 60
"""A line over more grid points than this has no markers: they would merge into a band (and
cost a second per 10,000 to lay out)."""


def _title(named: dict[str, Any], rows: pd.DataFrame) -> str:
    """The panel's problem, then every other setting that varies in the sweep."""
    others = [f"{_name(c)} {_value(v)}" for c, v in named.items() if c != "problem"]
    return ", ".join([str(rows["problem"].iloc[0]), *others])


def _name(column: str) -> str:
    """A cell column as a title says it: a schedule's ``gamma``, not ``schedule_gamma``."""
    return column.removeprefix(SCHEDULE_PREFIX)


def _value(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _grid(n: int):
    return panel_grid(n, 4.6, 3.6, cols=2 if n == 4 else None)


def _legend_below(fig, axes) -> None:
    handles, labels = {}, []
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            if label not in handles:
                handles[label] = handle
                labels.append(label)
    fig.legend(
        [handles[k] for k in labels],
        labels,
        loc="lower center",
        ncol=min(6, len(labels)),
        frameon=False,
        bbox_to_anchor=(0.5, -0.02),
    )
    tight_layout(fig, rect=(0, 0.06, 1, 1))


def _diverged(runs: pd.DataFrame) -> str:
    """``, 2/3 diverged`` when any of ``runs`` diverged, else nothing."""
    count = int(runs["diverged"].astype(bool).sum())
    return f", {count}/{len(runs)} diverged" if count else ""


def lr_sensitivity_figure(grid_runs: pd.DataFrame) -> Figure:
    """Final gap (final f where f* is unknown) against lr: median over seeds (line) and the
    range over seeds (band).

    Where other hyperparameters also vary, each lr shows its best setting of them. An lr where
    most seeds diverged is an × in the optimizer's row along the top; a panel where that is
    every lr says so in words. A final f that can be negative is drawn on a symlog scale.
    """
    panels = cell_panels(grid_runs.assign(_score=score(grid_runs)))
    fig, axes = _grid(len(panels))
    for ax, (named, panel) in zip(axes, panels, strict=True):
        gaps = panel["final_gap"].notna().any()
        finite_scores = panel["_score"][np.isfinite(panel["_score"])]
        log = gaps or bool((finite_scores > 0).all())
        drawn = False
        for index, (optimizer, group) in enumerate(panel.groupby("optimizer", sort=False)):
            hp = [c for c in group.columns if c.startswith("hp_") and group[c].nunique() > 1]
            stats = group.groupby(["lr", *hp])["_score"].agg(median="median", low="min", high="max")
            stats = stats.sort_values("median").groupby(level="lr").head(1).sort_index()
            lrs = stats.index.get_level_values("lr").to_numpy()
            median, low, high = (stats[c].to_numpy() for c in ("median", "low", "high"))
            finite, band = np.isfinite(median), np.isfinite(high) & np.isfinite(median)
            if log:  # finite values into the axis' range; an infinite one stays an ×
                median, low, high = (np.clip(v, GAP_FLOOR, CEILING) for v in (median, low, high))
            drawn |= bool(finite.any())
            color = color_for(optimizer)
            marker = "o" if lrs.size <= MARKED_POINTS else None  # a dense grid is a curve
            ax.plot(lrs[finite], median[finite], "-", marker=marker, color=color, ms=3.5, lw=1.6,
                    label=optimizer)  # fmt: skip
            ax.fill_between(lrs[band], low[band], high[band], color=color, alpha=0.18, lw=0)
            if (~finite).any():  # one row of × per optimizer along the top, so none hides another
                row = np.full((~finite).sum(), 0.97 - 0.045 * index)
                ax.plot(
                    lrs[~finite],
                    row,
                    "x",
                    color=color,
                    ms=6,
                    mew=1.8,
                    transform=ax.get_xaxis_transform(),
                )
        ax.set_xscale("log")
        if not drawn:
            say_nothing_drawn(ax, "most seeds diverged at every learning rate:\nno final value")
        elif log:
            fit_log_yaxis(ax)
        else:
            symlog_yaxis(ax)
        network = "epochs" in panel and panel["epochs"].notna().any()
        what = "final training loss" if network else "final f"
        what = "final f − f*" if gaps else what if log else f"{what} (symlog: it goes negative)"
        ax.set_ylabel(what)
        ax.set_xlabel("learning rate (log scale)")
        ax.set_title(_title(named, panel))
        ax.grid(True, which="major", alpha=0.3)
    # one panel is narrower than the title on one line: two lines keep the figure its width
    gap = "\n" if len(panels) == 1 else "  "
    fig.suptitle(
        "Learning-rate sensitivity: median over seeds, band = their range"
        f"{gap}(× along the top: most seeds diverged)",
        y=1.0,
    )
    _legend_below(fig, axes)
    return fig


def tuned_loss_figure(runs: pd.DataFrame, history: pd.DataFrame) -> Figure:
    """Loss against step (epoch for networks) of each cell's picked point: median over seeds
    and their range."""
    merged = history.merge(runs[["run_id", "optimizer", "lr"]], on="run_id")
    panels = cell_panels(runs)
    fig, axes = _grid(len(panels))
    for ax, (named, rows) in zip(axes, panels, strict=True):
        panel = merged[merged["run_id"].isin(rows["run_id"])]
        x, y, scale, what = curve_scale(panel)
        drawn = False
        for (optimizer, lr), group in panel.groupby(["optimizer", "lr"], sort=False):
            value = group.pivot_table(index=x, columns="run_id", values=y, aggfunc="first",
                                      dropna=False)  # fmt: skip
            if scale == "log":
                value = for_log_axis(value, GAP_FLOOR)
            own = rows[(rows["optimizer"] == optimizer) & (rows["lr"] == lr)]
            label = f"{optimizer} (lr {lr:.3g}{_diverged(own)})"
            drawn |= median_band(ax, value, color_for(optimizer), label, lw=1.6, alpha=0.18)
        symlog_yaxis(ax) if scale == "symlog" else fit_log_yaxis(ax)
        if not drawn:
            say_nothing_drawn(ax, NOTHING_FINITE)
        ax.set_xlabel("epoch (passes over the training set)" if x == "epoch" else "step (updates)")
        ax.set_ylabel(what)
        ax.set_title(_title(named, rows))
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=8, framealpha=0.9)
    fig.suptitle("Loss curves at the tuned learning rates: median over seeds, band = their range",
                 y=1.0)  # fmt: skip
    tight_layout(fig)
    return fig


def draw_sweep_figures(
    grid_runs: pd.DataFrame,
    picked: pd.DataFrame,
    history: pd.DataFrame,
    folder: Path,
    svg: bool = False,
) -> list[Path]:
    """Every sweep figure that the sweep's shape supports; returns the files written."""
    check_frames(grid_runs, history, folder, needs=("final_gap", "final_loss", "steps"))
    jobs: list[FigureJob] = []
    cells = cell_columns(grid_runs)
    if grid_runs.groupby(cells, dropna=False)["lr"].nunique().max() > 1:
        jobs.append((folder / "lr_sensitivity.png", lambda: lr_sensitivity_figure(grid_runs)))
    picked_history = history[history["run_id"].isin(picked["run_id"])]
    jobs.append((folder / "tuned_loss.png", lambda: tuned_loss_figure(picked, picked_history)))
    many = picked["problem"].nunique() > 1
    for family, rows in picked.groupby(family_names(picked), sort=False):
        own_history = picked_history[picked_history["run_id"].isin(rows["run_id"])]
        module = family_module(str(family))
        jobs += module.sweep_figures(rows, own_history, folder, many_problems=many)
    return save_figures(jobs, svg)
