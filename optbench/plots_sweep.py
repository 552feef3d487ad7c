"""Figures of a sweep: lr sensitivity, tuned loss curves, trajectory grids, ECDF, profiles.

Like plots.py, every function takes frames (what results wrote) and returns a Figure; the
colours, contour background and path drawing come from plots.py so a sweep's figures read like
a run's.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib.ticker
import numpy as np
import pandas as pd

from optbench.analysis import RANK_TARGET, score, solved_steps
from optbench.columns import GAP_TARGETS
from optbench.plots import (
    GAP_FLOOR,
    color_for,
    draw_landmarks,
    draw_path,
    draw_surface,
    plot_window,
    plt,
    save_figure,
)
from optbench.results import target_column

if TYPE_CHECKING:
    from matplotlib.figure import Figure

CONDITIONS = ["problem", "preset", "noise", "steps"]


def _panel_titles(frame: pd.DataFrame) -> list[tuple[tuple, str]]:
    """One panel per comparison condition; the title names only what varies in the sweep."""
    varying = [c for c in CONDITIONS if frame[c].nunique() > 1] or ["problem"]
    keys = list(frame.groupby(CONDITIONS, sort=False).groups)
    titles = []
    for key in keys:
        named = dict(zip(CONDITIONS, key, strict=True))
        parts = [str(named["problem"])] + [f"{c} {named[c]}" for c in varying if c != "problem"]
        titles.append((key, ", ".join(parts)))
    return titles


def _grid(n: int, width: float = 4.6, height: float = 3.6):
    cols = 2 if n == 4 else min(3, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


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
    fig.tight_layout(rect=(0, 0.06, 1, 1))


def lr_sensitivity_figure(grid_runs: pd.DataFrame) -> Figure:
    """Final gap against lr: median over seeds (line) and the range over seeds (band).

    Where other hyperparameters also vary, each lr shows its best setting of them. An lr where
    most seeds diverged is an × in the optimizer's row along the top.
    """
    runs = grid_runs.assign(_score=score(grid_runs))
    titles = _panel_titles(runs)
    fig, axes = _grid(len(titles))
    for ax, (key, title) in zip(axes, titles, strict=True):
        panel = runs[(runs[CONDITIONS] == pd.Series(key, index=CONDITIONS)).all(axis=1)]
        for index, (optimizer, group) in enumerate(panel.groupby("optimizer", sort=False)):
            hp = [c for c in group.columns if c.startswith("hp_") and group[c].nunique() > 1]
            stats = group.groupby(["lr", *hp])["_score"].agg(median="median", low="min", high="max")
            stats = stats.sort_values("median").groupby(level="lr").head(1).sort_index()
            lrs = stats.index.get_level_values("lr").to_numpy()
            median = stats["median"].to_numpy()
            finite = np.isfinite(median)
            color = color_for(optimizer)
            ax.plot(
                lrs[finite],
                np.maximum(median[finite], GAP_FLOOR),
                "-o",
                color=color,
                ms=3.5,
                lw=1.6,
                label=optimizer,
            )
            band = np.isfinite(stats["high"].to_numpy()) & finite
            ax.fill_between(
                lrs[band],
                np.maximum(stats["low"].to_numpy()[band], GAP_FLOOR),
                stats["high"].to_numpy()[band],
                color=color,
                alpha=0.18,
                lw=0,
            )
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
        ax.set_yscale("log")
        ax.set_xlabel("learning rate")
        network = "epochs" in panel and panel["epochs"].notna().any()
        what = "final training loss" if network else "final f"
        what = "final f − f*" if panel["final_gap"].notna().any() else what
        ax.set_ylabel(f"{what} (median, range over seeds)")
        ax.set_title(title)
        ax.grid(True, which="major", alpha=0.3)
    fig.suptitle("Learning-rate sensitivity  (× along the top: most seeds diverged)", y=1.0)
    _legend_below(fig, axes)
    return fig


def _curve_axes(panel: pd.DataFrame) -> tuple[str, str, str, str]:
    """(x column, y column, y scale, y label) for a panel: the gap to f* on a surface with a
    known minimum, the training loss per epoch on a network, the raw loss otherwise."""
    if "epoch" in panel and panel["epoch"].notna().any():
        return "epoch", "loss", "log", "training loss (median, range over seeds)"
    if "gap" in panel and panel["gap"].notna().any():
        return "step", "gap", "log", "f − f* (median, range over seeds)"
    return "step", "loss", "symlog", "f (median, range over seeds)"


def tuned_loss_figure(runs: pd.DataFrame, history: pd.DataFrame) -> Figure:
    """Loss against step (epoch for networks) of each cell's picked point: median over seeds
    and their range."""
    merged = history.merge(runs[["run_id", "optimizer", *CONDITIONS, "lr"]], on="run_id")
    titles = _panel_titles(runs)
    fig, axes = _grid(len(titles))
    for ax, (key, title) in zip(axes, titles, strict=True):
        panel = merged[(merged[CONDITIONS] == pd.Series(key, index=CONDITIONS)).all(axis=1)]
        x, y, scale, label = _curve_axes(panel)
        for (optimizer, lr), group in panel.groupby(["optimizer", "lr"], sort=False):
            value = group.pivot_table(index=x, columns="run_id", values=y, aggfunc="first")
            if scale == "log":
                value = value.clip(lower=GAP_FLOOR)
            color = color_for(optimizer)
            ax.plot(value.index, value.median(axis=1), color=color, lw=1.6,
                    label=f"{optimizer} (lr {lr:.3g})")  # fmt: skip
            if value.shape[1] > 1:
                ax.fill_between(value.index, value.min(axis=1), value.max(axis=1), color=color,
                                alpha=0.18, lw=0)  # fmt: skip
        ax.set_yscale(scale)
        ax.set_xlabel("epoch (passes over the training set)" if x == "epoch" else "step (updates)")
        ax.set_ylabel(label)
        ax.set_title(title)
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=8, framealpha=0.9)
    fig.suptitle("Loss curves at the tuned learning rates", y=1.0)
    fig.tight_layout()
    return fig


def trajectory_grid_figure(runs: pd.DataFrame, history: pd.DataFrame, problem: str) -> Figure:
    """One panel per optimizer: its picked runs (every seed) over the surface's contours."""
    from optbench.problems import get_problem

    surface = get_problem(problem)
    runs = runs[runs["problem"] == problem]
    window = plot_window(surface, runs)
    optimizers = list(dict.fromkeys(runs["optimizer"]))
    fig, axes = _grid(len(optimizers), width=4.2, height=3.6)
    paths = history[history["run_id"].isin(runs["run_id"])].sort_values("step").groupby("run_id")
    for ax, optimizer in zip(axes, optimizers, strict=True):
        draw_surface(ax, surface, window, colorbar=False)
        own = runs[runs["optimizer"] == optimizer]
        for _, run in own.iterrows():
            draw_path(
                ax,
                paths.get_group(run["run_id"]),
                color_for(optimizer),
                bool(run["diverged"]),
                lw=1.0,
            )
        draw_landmarks(ax, surface, own)
        ax.set_title(f"{optimizer}  lr {own['lr'].iloc[0]:.3g}  ({len(own)} seeds)")
    fig.suptitle(f"{surface.label}: paths at the tuned learning rates", y=1.0)
    fig.tight_layout()
    return fig


def ecdf_figure(runs: pd.DataFrame) -> Figure:
    """COCO-style ECDF: the fraction of (problem, target, seed) triples an optimizer has
    solved by each step, for gap targets 1e-1 … 1e-8. Higher and further left is better."""
    solved = solved_steps(runs, GAP_TARGETS)
    fig, ax = plt.subplots(figsize=(7.2, 4.6))
    horizon = max(int(runs["steps"].max()), 1)
    for optimizer, group in solved.groupby("optimizer", sort=False):
        steps = np.sort(group["steps"].to_numpy())
        reached = steps[np.isfinite(steps)]
        x = np.concatenate([[1], np.maximum(reached, 1), [horizon]])
        y = np.concatenate([[0], np.arange(1, reached.size + 1), [reached.size]]) / steps.size
        ax.step(x, y, where="post", color=color_for(optimizer), lw=1.8, label=optimizer)
    ax.set_xscale("log")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("steps (updates, log scale)")
    ax.set_ylabel("fraction of (problem, target, seed) solved")
    ax.set_title(f"ECDF of steps to reach gap targets 1e-1 … 1e-{len(GAP_TARGETS)}")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(framealpha=0.9)
    return fig


def performance_profile_figure(runs: pd.DataFrame) -> Figure:
    """Dolan–Moré profile: the fraction of problems each optimizer solves (gap ≤ 1e-3) within
    τ times the steps of the fastest optimizer on that problem."""
    column = target_column(RANK_TARGET)
    cost = (
        runs.assign(_steps=runs[column].astype("Float64").fillna(np.inf).astype(float))
        .groupby([*CONDITIONS, "optimizer"], sort=False)["_steps"]
        .median()
        .unstack("optimizer")
    )
    best = cost.min(axis=1).replace(0, 1)
    ratio = cost.div(best, axis=0).where(np.isfinite(cost))
    finite = ratio.to_numpy()[np.isfinite(ratio.to_numpy())]
    top = max(2.0, float(finite.max()) * 1.2) if finite.size else 2.0
    taus = np.geomspace(1, top, 200)
    fig, ax = plt.subplots(figsize=(7.2, 4.6))
    for optimizer in cost.columns:
        values = ratio[optimizer].to_numpy()
        share = [(values <= tau).sum() / len(values) for tau in taus]
        ax.step(taus, share, where="post", color=color_for(optimizer), lw=1.8, label=optimizer)
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
    ax.xaxis.set_minor_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("τ  (steps relative to the fastest optimizer on each problem, log scale)")
    ax.set_ylabel(f"fraction of problems solved (gap ≤ {RANK_TARGET:g})")
    ax.set_title(f"Performance profile over {len(cost)} problem(s)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(framealpha=0.9)
    return fig


def draw_sweep_figures(
    grid_runs: pd.DataFrame,
    picked: pd.DataFrame,
    history: pd.DataFrame,
    folder: Path,
    svg: bool = False,
) -> list[Path]:
    """Every sweep figure that the sweep's shape supports; returns the files written."""
    from optbench.problems import get_problem

    written = []
    if grid_runs.groupby(["optimizer", *CONDITIONS])["lr"].nunique().max() > 1:
        written += save_figure(lr_sensitivity_figure(grid_runs), folder / "lr_sensitivity.png", svg)
    picked_history = history[history["run_id"].isin(picked["run_id"])]
    written += save_figure(
        tuned_loss_figure(picked, picked_history), folder / "tuned_loss.png", svg
    )
    problems = list(dict.fromkeys(picked["problem"]))
    for problem in problems:
        if get_problem(problem).family == "surface":
            suffix = "" if len(problems) == 1 else f"-{problem.replace(':', '_')}"
            figure = trajectory_grid_figure(picked, picked_history, problem)
            written += save_figure(figure, folder / f"trajectory_grid{suffix}.png", svg)
    on_surfaces = picked[[get_problem(p).family == "surface" for p in picked["problem"]]]
    if len(on_surfaces):  # gap targets exist on surfaces only (a network's f* is unknown)
        written += save_figure(ecdf_figure(on_surfaces), folder / "ecdf.png", svg)
        profile = performance_profile_figure(on_surfaces)
        written += save_figure(profile, folder / "performance_profile.png", svg)
    return written
