"""Figures of the course's lessons (``optbench lesson``): what a run's or a sweep's figures do
not show on their own — gradient descent stepping down a cost curve along its tangents, the
activations beside their slopes, and curves of several runs side by side (momentum against SGD,
batch sizes, train against test loss, per-layer gradient norms).

Each function takes plain numbers (computed by the lesson from its runs, or from the network
kernels) and returns a Figure; the lesson saves it with ``style.save_figure``. No numba here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np

from optbench.plots.style import CEILING, fit_log_yaxis

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@dataclass(frozen=True)
class Curve:
    """One line of a panel: its legend label, points, colour and line style."""

    label: str
    x: Sequence[float]
    y: Sequence[float]
    color: str
    style: str = "-"


@dataclass(frozen=True)
class Panel:
    """One axes of ``curve_panels``: a title, axis labels with units, its curves, its scales."""

    title: str
    xlabel: str
    ylabel: str
    curves: tuple[Curve, ...]
    log_y: bool = True
    log_x: bool = False
    whole_x: bool = True
    """Integer ticks on x (epochs, steps): never a tick at epoch 2.5."""
    whole_y: bool = False
    """Integer ticks on y (a count, such as rows classified wrong)."""


def curve_panels(panels: Sequence[Panel], title: str | None = None, share_y: bool = False,
                 width: float = 5.2, height: float = 3.8) -> Figure:  # fmt: skip
    """Panels side by side, each with its own legend; ``share_y`` when the panels are to be
    compared by height (the gradient norms of two nets)."""
    from matplotlib.ticker import MaxNLocator

    fig, axes = plt.subplots(1, len(panels), figsize=(width * len(panels), height),
                             squeeze=False, sharey=share_y, constrained_layout=True)  # fmt: skip
    for ax, panel in zip(axes[0], panels, strict=True):
        for curve in panel.curves:
            y = np.asarray(curve.y, dtype=float)
            if panel.log_y:
                y = np.where(np.isfinite(y), np.clip(y, 1e-300, CEILING), np.nan)
            ax.plot(curve.x, y, curve.style, color=curve.color, lw=1.8, label=curve.label)
        if panel.log_y:
            fit_log_yaxis(ax)
        elif panel.whole_y:
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        if panel.log_x:
            ax.set_xscale("log")
        elif panel.whole_x:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set(title=panel.title, xlabel=panel.xlabel, ylabel=panel.ylabel)
        ax.grid(alpha=0.3, which="major")
        ax.legend(loc="best", frameon=False)
    if share_y and all(p.log_y for p in panels):  # the range of every panel, not the last's
        low = min(ax.dataLim.y0 for ax in axes[0])
        high = max(ax.dataLim.y1 for ax in axes[0])
        if 0 < low <= high < np.inf:
            axes[0][0].set_ylim(low / 2, high * 2)
    if title:
        fig.suptitle(title)
    return fig


@dataclass(frozen=True)
class Descent:
    """Gradient descent on a 1-D cost curve: the curve, and the run's points and slopes."""

    title: str
    curve_x: np.ndarray
    curve_f: np.ndarray
    points: np.ndarray
    """(steps + 1,) coordinate after each step, the start first."""
    values: np.ndarray
    """f at each point."""
    slopes: np.ndarray
    """f′ at each point but the last: the gradient the step from it used."""
    color: str


def descent_panels(panels: Sequence[Descent], xlabel: str, ylabel: str) -> Figure:
    """Each panel: the cost curve, an arrow per step from point k to point k+1, and at each
    point that stands apart from the last one drawn its step number and tangent (the gradient
    the step used); points crowding the minimum keep only their arrow. The view holds every
    point visited, so a diverging run's climb shows."""
    fig, axes = plt.subplots(1, len(panels), figsize=(5.0 * len(panels), 4.2), squeeze=False,
                             constrained_layout=True)  # fmt: skip
    for ax, d in zip(axes[0], panels, strict=True):
        finite = np.isfinite(d.points) & np.isfinite(d.values)
        points, values = d.points[finite], d.values[finite]
        reach = max(np.abs(points).max(), np.abs(d.curve_x).max() / 2)
        low, high = -1.1 * reach, 1.1 * reach
        inside = (d.curve_x >= low) & (d.curve_x <= high)
        ax.plot(d.curve_x[inside], d.curve_f[inside], color="0.35", lw=1.5, label="cost f")
        top = max(values.max(), d.curve_f[inside].min()) * 1.15
        aspect = 0.8 * (high - low) / top  # x units per y unit on screen (axes ~ 5 × 4 in)
        apart = [0]  # the points far enough from the last kept one to label and draw clearly
        for k in range(1, points.size):
            if abs(points[k] - points[apart[-1]]) > 0.06 * (high - low):
                apart.append(k)
        for k in apart:
            ax.annotate(str(k), (points[k], values[k]), textcoords="offset points",
                        xytext=(6, 6), fontsize=9)  # fmt: skip
            if k < d.slopes.size:
                half = 0.15 * (high - low) / np.hypot(1.0, d.slopes[k] * aspect)
                t = np.array([points[k] - half, points[k] + half])
                label = "tangent (slope = gradient)" if k == 0 else None
                ax.plot(t, values[k] + d.slopes[k] * (t - points[k]), color="black", lw=1.1,
                        alpha=0.8, label=label)  # fmt: skip
        for k in range(points.size - 1):
            ax.annotate("", xy=(points[k + 1], values[k + 1]), xytext=(points[k], values[k]),
                        arrowprops={"arrowstyle": "->", "color": d.color, "lw": 1.3,
                                    "connectionstyle": "arc3,rad=0.25"})  # fmt: skip
        ax.plot(points, values, "o", color=d.color, mec="black", mew=0.6, ms=6, zorder=5,
                label="after each step")  # fmt: skip
        ax.set(xlim=(low, high), ylim=(-0.05 * top, top), title=d.title, xlabel=xlabel,
               ylabel=ylabel)  # fmt: skip
        ax.grid(alpha=0.3)
        ax.legend(loc="upper center", frameon=False, fontsize=8)
    return fig


ACTIVATION_COLORS = {"sigmoid": "#1f77b4", "tanh": "#ff7f0e", "relu": "#2ca02c",
                     "leaky_relu": "#d62728"}  # fmt: skip
ACTIVATION_LABELS = {"sigmoid": "sigmoid σ", "tanh": "tanh", "relu": "ReLU",
                     "leaky_relu": "leaky ReLU"}  # fmt: skip


def activation_panels(z: np.ndarray, values: dict[str, np.ndarray],
                      slopes: dict[str, np.ndarray], slope_note: str) -> Figure:  # fmt: skip
    """Left each activation, right its derivative (as backprop multiplies by it), the largest
    sigmoid slope marked: why a deep sigmoid net's first layers learn slowly."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10.5, 4.0), constrained_layout=True)
    for name, v in values.items():
        style = "--" if name == "leaky_relu" else "-"
        width = 3.5 if name == "relu" else 1.8  # wide, so leaky ReLU's dashes on it show both
        color, label = ACTIVATION_COLORS[name], ACTIVATION_LABELS[name]
        left.plot(z, v, style, color=color, lw=width, label=label)
        right.plot(z, slopes[name], style, color=color, lw=width, label=label + "′")
    peak = float(np.max(slopes["sigmoid"]))
    right.axhline(peak, color=ACTIVATION_COLORS["sigmoid"], lw=0.8, ls=":")
    right.annotate(slope_note, (z[0], peak), textcoords="offset points", xytext=(4, 6),
                   color=ACTIVATION_COLORS["sigmoid"], fontsize=9)  # fmt: skip
    left.set(title="activation a = g(z)", xlabel="pre-activation z", ylabel="a", ylim=(-1.5, 3))
    right.set(title="its derivative g′(z), the factor backprop multiplies by",
              xlabel="pre-activation z", ylabel="g′(z)", ylim=(-0.1, 1.2))  # fmt: skip
    for ax in (left, right):
        ax.axhline(0, color="0.6", lw=0.6)
        ax.axvline(0, color="0.6", lw=0.6)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", frameon=False)
    return fig


def shades(n: int, name: str = "viridis") -> list[str]:
    """``n`` colours along a sequential colour map, first layers dark: for ordered things
    (layers, batch sizes) that are not optimizers."""
    from matplotlib.colors import to_hex

    cmap = plt.get_cmap(name)
    return [to_hex(cmap(0.85 * k / max(n - 1, 1))) for k in range(n)]
