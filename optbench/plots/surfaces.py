"""Figures of the 2-D surface family: paths over contours, the gap against step, and a sweep's
surface-only figures (trajectory grid, ECDF, performance profile).

Every function takes frames (what results wrote) and returns a Figure; the contour is evaluated
in plain numpy (``problems.surface_values``), so redrawing needs no compiler.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

from optbench.analysis import (
    RANK_TARGET,
    SCHEDULE_PREFIX,
    cell_columns,
    solved_steps,
    varying,
)
from optbench.columns import GAP_TARGETS, target_column
from optbench.plots.concurrent import FigureJob
from optbench.plots.panels import cell_panels
from optbench.plots.style import (
    GAP_FLOOR,
    NOTHING_FINITE,
    POINT_STYLE,
    color_for,
    curve_scale,
    fit_log_yaxis,
    for_log_axis,
    line_keys,
    line_style,
    median_band,
    panel_grid,
    say_in_axes,
    say_nothing_drawn,
    setting_label,
    symlog_yaxis,
    tight_layout,
)
from optbench.problems import ObjectiveSpec, get_problem
from optbench.problems.surface_values import grid_values

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    from optbench.problems import SurfaceSpec

RUNS_COLUMNS = ("steps", "start_x", "start_y", "diverged_step")
"""The runs.csv columns this module reads beyond ``plots.RUNS_COLUMNS``."""
HISTORY_COLUMNS = ("step", "loss", "gap", "x", "y")
"""The history.csv columns this module reads (``gap`` is blank where f* is unknown)."""
X = "step"
"""History's x axis: never blank."""
LINE_STYLES = ("-", "--", ":", "-.")
"""Settings other than the optimizer, where a figure pools problems into lines (ECDF)."""
NARROWEST = 1.4
"""The width of the path drawn last (on top); each one under it is WIDER_BY wider."""
WIDER_BY = 0.45
DASHED = (0, (5, 2.5))
"""Every other path from the top is dashed: the one beneath shows through its gaps."""
TARGET_LABEL = f"gap {RANK_TARGET:g} (the table's 'steps to {RANK_TARGET:g}')"
"""The legend entry of the dashed line the table's ``steps to 0.001`` counts to."""


def layers(optimizers: Sequence[str]) -> dict[str, dict[str, object]]:
    """Per optimizer (in the order first met), the width, z-order and line style of its path.

    Paths drawn later are narrower and on top, and every other one from the top is dashed, so
    where two paths coincide (RMSProp's under Adam's on Beale) the one beneath still shows,
    along both edges of the one above and through its gaps.
    """
    names = list(dict.fromkeys(optimizers))
    top = len(names) - 1
    return {
        name: {
            "lw": NARROWEST + WIDER_BY * (top - i),
            "zorder": 3.0 + 0.01 * i,
            "ls": DASHED if top and (top - i) % 2 == 0 else "-",
        }
        for i, name in enumerate(names)
    }


def run_label(run: pd.Series, vary_seed: bool, suffix: str = "") -> str:
    label = f"{run['optimizer']}  lr={run['lr']:g}{suffix}"
    if vary_seed:
        label += f"  seed {run['seed']}"
    if bool(run["diverged"]):
        label += f"  (diverged at step {int(run['diverged_step'])})"
    return label


def _surface_for(runs: pd.DataFrame) -> SurfaceSpec:
    problems = runs["problem"].unique()
    if len(problems) != 1:
        raise ValueError(f"one problem per figure, got {list(problems)}")
    return get_problem(str(problems[0]))


Window = tuple[tuple[float, float], tuple[float, float]]


def plot_window(surface: SurfaceSpec, runs: pd.DataFrame) -> Window:
    """The surface's plotting window, widened to include every start point."""
    (x0, x1), (y0, y1) = surface.window
    starts = runs[["start_x", "start_y"]].to_numpy()
    return (
        (min(x0, starts[:, 0].min()), max(x1, starts[:, 0].max())),
        (min(y0, starts[:, 1].min()), max(y1, starts[:, 1].max())),
    )


def has_contour(surface: SurfaceSpec | ObjectiveSpec) -> bool:
    """Whether a path over contours means something: a 2-D surface, or a 2-D problem of one's
    own with a plotting window. In more dimensions a path of two coordinates over a slice of
    f would mislead (the other coordinates move too), so those runs get no trajectory figure."""
    if isinstance(surface, ObjectiveSpec):
        return surface.dimension == 2 and surface.window is not None and callable(surface.kernel)
    return True


def _grid_values(surface: SurfaceSpec | ObjectiveSpec, xs: np.ndarray, ys: np.ndarray):
    """f on the grid: a surface's numpy formula, or a 2-D user problem's own kernel called as
    plain Python point by point (figures load no compiler)."""
    if not isinstance(surface, ObjectiveSpec):
        return grid_values(surface, xs, ys)
    kernel = getattr(surface.kernel, "py_func", surface.kernel)
    params = surface.kernel_params()
    point, grad = np.empty(2), np.empty(2)
    z = np.empty((ys.size, xs.size))
    for j, y in enumerate(ys):
        for i, x in enumerate(xs):
            point[0], point[1] = x, y
            z[j, i] = kernel(point, grad, params)
    return z


def draw_surface(ax: Axes, surface: SurfaceSpec, window: Window, colorbar: bool = True) -> None:
    """Log-spaced filled contours of f − f* (f − min f when f* is unknown) over ``window``."""
    (x0, x1), (y0, y1) = window
    points = 400 if not isinstance(surface, ObjectiveSpec) else 120  # a user's f, in Python
    xs = np.linspace(x0, x1, points)
    ys = np.linspace(y0, y1, points)
    with np.errstate(all="ignore"):  # a window widened to a far start overflows f
        z = _grid_values(surface, xs, ys)
    finite = np.isfinite(z)
    height = z - (surface.fstar if surface.fstar is not None else z[finite].min(initial=0.0))
    positive = height[finite & (height > 0)]
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("x (parameter 1)")
    ax.set_ylabel("y (parameter 2)")
    if not positive.size or positive.max() <= positive.min():
        say_in_axes(ax, "f is not finite over this window\n(a start far outside it):\nno contours")
        return
    top = positive.max()
    lo = max(positive.min(), top * 1e-9)
    levels = np.geomspace(lo, top, 18)
    clipped = np.clip(np.where(finite, height, top), lo, top)
    filled = ax.contourf(
        xs,
        ys,
        clipped,
        levels=levels,
        cmap="Greys_r",
        alpha=0.55,
        norm=matplotlib.colors.LogNorm(lo, top),
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


def contour_axes(runs: pd.DataFrame) -> tuple[Figure, Axes, SurfaceSpec]:
    """A new figure showing the runs' surface, with its colour bar, over the plotting window
    widened to every start: the background the static figure and the animation share."""
    surface = _surface_for(runs)
    fig, ax = plt.subplots(figsize=(7.2, 5.6))
    draw_surface(ax, surface, plot_window(surface, runs))
    return fig, ax, surface


def draw_path(ax: Axes, path: pd.DataFrame, color: str, diverged: bool, label: str | None = None,
              lw: float = 1.8, end: bool = True, zorder: float = 3.0,
              ls: object = "-") -> Line2D:  # fmt: skip
    """One run's path (sorted by step), a dot per step when they are few; with ``end`` its last
    point is marked: a dot, or an X where it diverged. Returns the path's line."""
    x, y = path["x"].to_numpy(), path["y"].to_numpy()
    thin = lw < 1.5
    (line,) = ax.plot(x, y, color=color, lw=lw, ls=ls, marker="o" if len(path) <= 80 else None,
                      ms=2 if thin else 3.5, label=label, zorder=zorder)  # fmt: skip
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
    """Every run's path over the contour plot of its surface (log-spaced levels of f − f*),
    each optimizer's narrower than the one drawn before it (``layers``)."""
    fig, ax, surface = contour_axes(runs)
    vary_seed = runs["seed"].nunique() > 1
    paths = history.sort_values("step").groupby("run_id")
    keys = line_keys(runs)
    styles = layers(runs["optimizer"])
    for _, run in runs.iterrows():
        suffix, ls = line_style(runs, run[keys].to_dict())
        style = styles[run["optimizer"]]
        if ls != "-":  # a preset's or schedule's own dash pattern says which line is which
            style = {**style, "ls": ls}
        draw_path(ax, paths.get_group(run["run_id"]), color_for(run["optimizer"]),
                  bool(run["diverged"]), run_label(run, vary_seed, suffix), **style)  # fmt: skip
    draw_landmarks(ax, surface, runs)
    steps = int(runs["steps"].max())
    ax.set_title(title or f"{surface.label}: {surface.formula}  ·  {steps} steps")
    ax.legend(loc="best", framealpha=0.9)
    return fig


def loss_figure(runs: pd.DataFrame, history: pd.DataFrame, title: str | None = None) -> Figure:
    """f − f* against step on a log scale, one line per optimizer (median and range over seeds)."""
    surface = _surface_for(runs)
    _, value, scale, _ = curve_scale(history)  # the gap where f* is known, else f on symlog
    fig, ax = plt.subplots(figsize=(7.2, 4.6))
    keys = line_keys(runs)
    merged = history.merge(runs[["run_id", *keys]], on="run_id")
    drawn = False
    for values, group in merged.groupby(keys, sort=False):
        named = dict(zip(keys, values, strict=True))
        optimizer, lr = named["optimizer"], named["lr"]
        table = group.pivot_table(index="step", columns="run_id", values=value, aggfunc="first",
                                  dropna=False)  # fmt: skip
        if scale == "log":
            table = for_log_axis(table, GAP_FLOOR)
        sub = runs[runs["run_id"].isin(group["run_id"])]
        suffix, ls = line_style(runs, named)
        label = setting_label(optimizer, lr, sub) + suffix
        drawn |= median_band(ax, table, color_for(optimizer), label, ls=ls)
    if scale == "log":
        fit_log_yaxis(ax)
        ax.set_ylabel("f − f*  (gap to the minimum, log scale)")
        ax.axhline(RANK_TARGET, color="0.45", lw=0.9, ls="--", label=TARGET_LABEL)
    else:
        symlog_yaxis(ax)
        ax.set_ylabel("f (unbounded below; symlog scale)")
    if not drawn:
        say_nothing_drawn(ax, NOTHING_FINITE)
    ax.set_xlabel("step (updates)")
    ax.set_title(title or f"{surface.label}: loss against step")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="best", framealpha=0.9)
    return fig


def run_figures(
    runs: pd.DataFrame,
    history: pd.DataFrame,
    folder: Path,
    suffix: str = "",
    smoothing: float = 0.0,
) -> list[FigureJob]:
    """The paths and the loss of one problem's runs (``smoothing`` is for networks only); no
    paths where they would mislead (``has_contour``)."""
    jobs: list[FigureJob] = []
    if has_contour(_surface_for(runs)):
        jobs.append(
            (folder / f"trajectories{suffix}.png", lambda: trajectories_figure(runs, history))
        )
    return [*jobs, (folder / f"loss{suffix}.png", lambda: loss_figure(runs, history))]


# ── a sweep's figures of surfaces ───────────────────────────────────────────────────────────


MAX_PATHS = 20
"""Paths drawn per panel of a trajectory grid: more only hide each other (and take seconds);
the title says how many of the seeds' paths are drawn."""


def trajectory_grid_figure(runs: pd.DataFrame, history: pd.DataFrame, problem: str) -> Figure:
    """One panel per optimizer (and per value of any other setting that varies): its picked
    runs (every seed) over the surface's contours."""
    surface = get_problem(problem)
    runs = runs[runs["problem"] == problem]
    window = plot_window(surface, runs)
    panels = cell_panels(runs, first="optimizer")
    fig, axes = panel_grid(len(panels), 4.2, 3.6, cols=2 if len(panels) == 4 else None)
    paths = history[history["run_id"].isin(runs["run_id"])].sort_values("step").groupby("run_id")
    for ax, (named, own) in zip(axes, panels, strict=True):
        optimizer = own["optimizer"].iloc[0]
        draw_surface(ax, surface, window, colorbar=False)
        drawn = own.iloc[np.unique(np.linspace(0, len(own) - 1, MAX_PATHS).round().astype(int))]
        for _, run in drawn.iterrows():
            draw_path(
                ax,
                paths.get_group(run["run_id"]),
                color_for(optimizer),
                bool(run["diverged"]),
                lw=1.0,
            )
        draw_landmarks(ax, surface, own)
        settings = "".join(
            f", {k.removeprefix(SCHEDULE_PREFIX)} {v}" for k, v in named.items() if k != "optimizer"
        )
        lost = int(own["diverged"].astype(bool).sum())
        seeds = f"{len(own)} seeds" + (f", {len(drawn)} drawn" if len(drawn) < len(own) else "")
        seeds += f", {lost} diverged" if lost else ""
        ax.set_title(f"{optimizer}  lr {own['lr'].iloc[0]:.3g}  ({seeds}){settings}")
    fig.suptitle(f"{surface.label}: paths at the tuned learning rates", y=1.0)
    tight_layout(fig)
    return fig


def _with_minimum(runs: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The runs of problems whose f* is known (gap targets exist only there), and a note
    naming the problems left out (empty when none is)."""
    has = {name: get_problem(str(name)).fstar is not None for name in runs["problem"].unique()}
    known = runs["problem"].map(has).astype(bool)
    left_out = ", ".join(dict.fromkeys(map(str, runs.loc[~known, "problem"])))
    return runs[known], f"  (f* unknown, left out: {left_out})" if left_out else ""


def _say_why_empty(ax: Axes, runs: pd.DataFrame, reached: bool, target: str) -> None:
    """Say in ``ax`` why no line rises: no problem with a known f*, or no target reached."""
    if runs.empty:
        say_in_axes(ax, "f* is unknown on every problem:\nno gap target to reach")
    elif not reached:
        lost = "diverged" in runs and runs["diverged"].astype(bool).all()
        what = "every run diverged" if lost else "no run got there"
        say_in_axes(ax, f"no gap target reached (not even {target}):\n{what}")


def ecdf_figure(runs: pd.DataFrame) -> Figure:
    """COCO-style ECDF: the fraction of (problem, target, seed) triples an optimizer has
    solved by each step, for gap targets 1e-1 … 1e-8. Higher and further left is better.

    Problems are pooled (those without a known f*, which have no gap, are left out and named
    in the title); any other cell setting that varies gets a line style of its own."""
    runs, left_out = _with_minimum(runs)
    settings = [c for c in varying(runs, cell_columns(runs)) if c not in ("problem", "optimizer")]
    fig, ax = plt.subplots(figsize=(7.2, 4.6))
    horizon = max(int(runs["steps"].max()), 1) if len(runs) else 1
    styles: dict[tuple, str] = {}
    solved = False
    for key, rows in runs.groupby(["optimizer", *settings], sort=False, dropna=False):
        optimizer, *values = key
        style = styles.setdefault(tuple(values), LINE_STYLES[len(styles) % len(LINE_STYLES)])
        steps = np.sort(solved_steps(rows, GAP_TARGETS)["steps"].to_numpy())
        reached = steps[np.isfinite(steps)]
        solved |= bool(reached.size)
        x = np.concatenate([[1], np.maximum(reached, 1), [horizon]])
        y = np.concatenate([[0], np.arange(1, reached.size + 1), [reached.size]]) / steps.size
        label = ", ".join([optimizer, *(f"{c}={v}" for c, v in zip(settings, values, strict=True))])
        ax.step(x, y, where="post", color=color_for(optimizer), lw=1.8, ls=style, label=label)
    _say_why_empty(ax, runs, solved, f"{max(GAP_TARGETS):g}")
    ax.set_xscale("log")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("steps (updates, log scale)")
    ax.set_ylabel("fraction of (problem, target, seed) solved")
    ax.set_title(f"ECDF of steps to reach gap targets 1e-1 … 1e-{len(GAP_TARGETS)}{left_out}")
    ax.grid(True, which="major", alpha=0.3)
    if len(runs):
        ax.legend(framealpha=0.9)
    return fig


def performance_profile_figure(runs: pd.DataFrame, conditions: Sequence[str]) -> Figure:
    """Dolan–Moré profile: the fraction of problems (each combination of ``conditions``) each
    optimizer solves (gap ≤ 1e-3) within τ times the steps of the fastest one on it. Problems
    without a known f* have no gap: they are left out and named in the title."""
    runs, left_out = _with_minimum(runs)
    column = target_column(RANK_TARGET)
    if column not in runs:
        runs = runs.assign(**{column: np.nan})
    cost = (
        runs.assign(_steps=runs[column].astype("Float64").fillna(np.inf).astype(float))
        .groupby([*conditions, "optimizer"], sort=False, dropna=False)["_steps"]
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
    _say_why_empty(ax, runs, bool(finite.size), f"{RANK_TARGET:g}")
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
    ax.xaxis.set_minor_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("τ  (steps relative to the fastest optimizer on each problem, log scale)")
    ax.set_ylabel(f"fraction of problems solved (gap ≤ {RANK_TARGET:g})")
    ax.set_title(f"Performance profile over {len(cost)} problem(s){left_out}")
    ax.grid(True, which="major", alpha=0.3)
    if len(cost.columns):
        ax.legend(framealpha=0.9)
    return fig


def sweep_figures(
    picked: pd.DataFrame,
    history: pd.DataFrame,
    folder: Path,
    many_problems: bool = False,
) -> list[FigureJob]:
    """A trajectory grid per surface, the ECDF and the performance profile of the picked runs
    (gap targets exist on surfaces only). ``many_problems``: name the grids by problem."""
    jobs: list[FigureJob] = []
    for problem in dict.fromkeys(picked["problem"]):
        if not has_contour(get_problem(problem)):
            continue
        suffix = f"-{problem.replace(':', '_')}" if many_problems else ""
        grid = functools.partial(trajectory_grid_figure, picked, history, problem)
        jobs.append((folder / f"trajectory_grid{suffix}.png", grid))
    conditions = [c for c in cell_columns(picked) if c != "optimizer"]
    return [
        *jobs,
        (folder / "ecdf.png", lambda: ecdf_figure(picked)),
        (
            folder / "performance_profile.png",
            lambda: performance_profile_figure(picked, conditions),
        ),
    ]
