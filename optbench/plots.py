"""Figures drawn from result frames (never from engine internals).

Each figure function takes frames and returns a matplotlib Figure; ``save_figure`` is the one
place figures are written (atomically, byte-reproducibly) and closed. Every optimizer has one
colour in every figure (``color_for``), so a reader learns the legend once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")  # headless: figures are files, never windows

import matplotlib.pyplot as plt
import numpy as np

from optbench.results import atomic_path

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    from optbench.problems import SurfaceSpec

# One colour per built-in optimizer, in teaching order; colour-blind-aware where it matters most
# (sgd, momentum, adagrad, rmsprop, adam are the classic five and get the most distinct hues).
OPTIMIZER_COLORS = {
    "sgd": "#0072B2",
    "momentum": "#E69F00",
    "nesterov": "#8C564B",
    "adagrad": "#009E73",
    "rmsprop": "#CC79A7",
    "adam": "#D62728",
    "amsgrad": "#7F3C8D",
    "adamw": "#F0C000",
    "nadam": "#56B4E9",
    "adamax": "#6B8E23",
    "adadelta": "#7F7F7F",
    "lion": "#17BECF",
}
_EXTRA_COLORS = ["#1B9E77", "#A6761D", "#E7298A", "#66A61E", "#7570B3", "#444444"]
GAP_FLOOR = 1e-16  # gaps below this (or rounding negatives) are drawn at the floor
POINT_STYLE = {"ms": 9, "mec": "black", "mew": 0.8, "zorder": 5}  # where a path ends (or is)

plt.rcParams.update(
    {
        "figure.dpi": 110,
        "font.size": 11,
        "axes.titlesize": 12,
        "axes.labelsize": 11,
        "legend.fontsize": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
)


def color_for(optimizer: str) -> str:
    """The optimizer's colour in every figure; unknown names get a stable colour from a hash."""
    if optimizer in OPTIMIZER_COLORS:
        return OPTIMIZER_COLORS[optimizer]
    return _EXTRA_COLORS[sum(map(ord, optimizer)) % len(_EXTRA_COLORS)]


def save_figure(fig: Figure, path: Path, svg: bool = False) -> list[Path]:
    """Write ``fig`` as PNG (and SVG) atomically, then close it. Returns the files written."""
    written = []
    try:
        for suffix in (".png", ".svg") if svg else (".png",):
            target = path.with_suffix(suffix)
            with atomic_path(target) as tmp:
                fig.savefig(
                    tmp,
                    metadata={"Software": None} if suffix == ".png" else {"Date": None},
                    bbox_inches="tight",
                )
            written.append(target)
    finally:
        plt.close(fig)  # also when saving failed: a long notebook session must not leak figures
    return written


def run_label(run: pd.Series, vary_seed: bool) -> str:
    label = f"{run['optimizer']}  lr={run['lr']:g}"
    if vary_seed:
        label += f"  seed {run['seed']}"
    if bool(run["diverged"]):
        label += f"  (diverged at step {int(run['diverged_step'])})"
    return label


def _surface_for(runs: pd.DataFrame):
    from optbench.problems import get_problem

    problems = runs["problem"].unique()
    if len(problems) != 1:
        raise ValueError(f"one problem per figure, got {list(problems)}")
    return get_problem(str(problems[0]))


def plot_window(surface, runs: pd.DataFrame) -> tuple[tuple[float, float], tuple[float, float]]:
    """The surface's plotting window, widened to include every start point."""
    (x0, x1), (y0, y1) = surface.window
    starts = runs[["start_x", "start_y"]].to_numpy()
    return (
        (min(x0, starts[:, 0].min()), max(x1, starts[:, 0].max())),
        (min(y0, starts[:, 1].min()), max(y1, starts[:, 1].max())),
    )


def draw_surface(ax, surface, window, colorbar: bool = True):
    """Log-spaced filled contours of f − f* (f − min f when f* is unknown) over ``window``."""
    from optbench.families.surfaces.kernels import grid_values

    (x0, x1), (y0, y1) = window
    xs = np.linspace(x0, x1, 400)
    ys = np.linspace(y0, y1, 400)
    z = grid_values(surface.index, np.asarray(surface.param_vector), xs, ys)
    height = z - (surface.fstar if surface.fstar is not None else z.min())
    positive = height[height > 0]
    lo = max(positive.min(), positive.max() * 1e-9) if positive.size else 1e-12
    levels = np.geomspace(lo, height.max(), 18)
    clipped = np.maximum(height, lo)
    filled = ax.contourf(
        xs,
        ys,
        clipped,
        levels=levels,
        cmap="Greys_r",
        alpha=0.55,
        norm=matplotlib.colors.LogNorm(lo, height.max()),
        extend="both",
    )
    ax.contour(xs, ys, clipped, levels=levels, colors="0.45", linewidths=0.5)
    if colorbar:
        bar = ax.figure.colorbar(
            filled,
            ax=ax,
            pad=0.02,
            ticks=matplotlib.ticker.LogLocator(),
            format=matplotlib.ticker.LogFormatterSciNotation(),
        )
        bar.set_label("f − f*" if surface.fstar is not None else "f − min f (window)")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("x (parameter 1)")
    ax.set_ylabel("y (parameter 2)")


def contour_axes(runs: pd.DataFrame) -> tuple[Figure, Axes, SurfaceSpec]:
    """A new figure showing the runs' surface, with its colour bar, over the plotting window
    widened to every start: the background the static figure and the animation share."""
    surface = _surface_for(runs)
    fig, ax = plt.subplots(figsize=(7.2, 5.6))
    draw_surface(ax, surface, plot_window(surface, runs))
    return fig, ax, surface


def draw_path(ax: Axes, path: pd.DataFrame, color: str, diverged: bool, label: str | None = None,
              lw: float = 1.8, end: bool = True) -> Line2D:  # fmt: skip
    """One run's path (sorted by step), a dot per step when they are few; with ``end`` its last
    point is marked: a dot, or an X where it diverged. Returns the path's line."""
    x, y = path["x"].to_numpy(), path["y"].to_numpy()
    thin = lw < 1.5
    (line,) = ax.plot(x, y, "-", color=color, lw=lw, marker="o" if len(path) <= 80 else None,
                      ms=2 if thin else 3.5, label=label, zorder=3)  # fmt: skip
    finite = np.isfinite(x) & np.isfinite(y)
    if end and finite.any():
        style = {**POINT_STYLE, "ms": 6} if thin else POINT_STYLE
        ax.plot(x[finite][-1], y[finite][-1], marker="X" if diverged else "o", mfc=color, **style)
    return line


def draw_landmarks(ax: Axes, surface: SurfaceSpec, runs: pd.DataFrame) -> list[Line2D]:
    """Start points (white circles) and known minima (gold stars), drawn above the paths."""
    starts = runs[["start_x", "start_y"]].drop_duplicates().to_numpy()
    marker = {"ms": 9, "mec": "black", "zorder": 6, "clip_on": False}
    marks = ax.plot(starts[:, 0], starts[:, 1], "o", mfc="white", mew=1.5, label="start", **marker)
    if surface.minima:
        mins = np.asarray(surface.minima)
        label = "minimum" if len(mins) == 1 else "minima"
        marks += ax.plot(mins[:, 0], mins[:, 1], "*", mfc="gold", mew=0.8, label=label,
                         **{**marker, "ms": 15})  # fmt: skip
    return marks


def trajectories_figure(
    runs: pd.DataFrame, history: pd.DataFrame, title: str | None = None
) -> Figure:
    """Every run's path over the contour plot of its surface (log-spaced levels of f − f*)."""
    fig, ax, surface = contour_axes(runs)
    vary_seed = runs["seed"].nunique() > 1
    paths = history.sort_values("step").groupby("run_id")
    for _, run in runs.iterrows():
        draw_path(ax, paths.get_group(run["run_id"]), color_for(run["optimizer"]),
                  bool(run["diverged"]), run_label(run, vary_seed))  # fmt: skip
    draw_landmarks(ax, surface, runs)
    steps = int(runs["steps"].max())
    ax.set_title(title or f"{surface.label}: {surface.formula}  ·  {steps} steps")
    ax.legend(loc="best", framealpha=0.9)
    return fig


def loss_figure(runs: pd.DataFrame, history: pd.DataFrame, title: str | None = None) -> Figure:
    """f − f* against step on a log scale, one line per optimizer (median and range over seeds)."""
    surface = _surface_for(runs)
    known = surface.fstar is not None
    fig, ax = plt.subplots(figsize=(7.2, 4.6))
    merged = history.merge(runs[["run_id", "optimizer", "lr"]], on="run_id")
    value = "gap" if known else "loss"
    for (optimizer, lr), group in merged.groupby(["optimizer", "lr"], sort=False):
        color = color_for(optimizer)
        table = group.pivot_table(index="step", columns="run_id", values=value, aggfunc="first")
        if known:
            table = table.clip(lower=GAP_FLOOR)
        steps = table.index.to_numpy()
        center = table.median(axis=1, skipna=True).to_numpy()
        sub = runs[(runs["optimizer"] == optimizer) & (runs["lr"] == lr)]
        label = f"{optimizer}  lr={lr:g}"
        if sub["diverged"].any():
            label += f"  ({int(sub['diverged'].sum())}/{len(sub)} diverged)"
        ax.plot(steps, center, color=color, lw=1.8, label=label)
        if table.shape[1] > 1:
            ax.fill_between(
                steps, table.min(axis=1), table.max(axis=1), color=color, alpha=0.2, lw=0
            )
    if known:
        ax.set_yscale("log")
        ax.set_ylabel("f − f*  (gap to the minimum, log scale)")
        for level in (1e-3,):
            ax.axhline(level, color="0.6", lw=0.8, ls="--")
    else:
        ax.set_yscale("symlog", linthresh=1e-3)
        ax.set_ylabel("f (unbounded below; symlog scale)")
    ax.set_xlabel("step (updates)")
    ax.set_title(title or f"{surface.label}: loss against step")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="best", framealpha=0.9)
    return fig


def per_problem(
    runs: pd.DataFrame, history: pd.DataFrame
) -> Iterator[tuple[str, pd.DataFrame, pd.DataFrame]]:
    """(file-name suffix, runs, history) per problem: every drawing writes one file per problem.

    The suffix is empty when the folder holds one problem, ``-<problem>`` otherwise.
    """
    problems: Sequence[str] = list(runs["problem"].unique())
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
    """The standard figures of a run folder; one file per figure per problem.

    ``smoothing`` (an EMA weight in [0, 1)) applies to the network curves."""
    from optbench.problems import get_problem

    written: list[Path] = []
    for suffix, sub, hist in per_problem(runs, history):
        if get_problem(str(sub["problem"].iloc[0])).family == "network":
            from optbench.plots_networks import draw_network_figures

            written += draw_network_figures(sub, hist, folder, suffix, svg, smoothing)
            continue
        written += save_figure(
            trajectories_figure(sub, hist), folder / f"trajectories{suffix}.png", svg
        )
        written += save_figure(loss_figure(sub, hist), folder / f"loss{suffix}.png", svg)
    return written
