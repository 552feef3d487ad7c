"""Figures of network runs, drawn from the run folder's frames (never from engine internals).

- ``curves``: training loss (log scale) and test accuracy against epoch, one colour per
  optimizer (median over seeds, with the min–max band), optional exponential smoothing;
- ``boundaries``: for 2-D data sets, one panel per optimizer with the trained model's decision
  regions under the training and test points;
- ``weight_path``: one panel per optimizer with its parameter path projected on the two
  principal directions of that path, over the training loss on that plane.

Each function takes frames and returns a Figure; ``run_figures`` lists them as jobs, which
``concurrent.save_figures`` draws and writes.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

from optbench.columns import BOUNDARY_CSV, DATA_CSV, LANDSCAPE_CSV, WEIGHT_PATH_CSV
from optbench.plots.concurrent import FigureJob
from optbench.plots.style import (
    NOTHING_FINITE,
    color_for,
    fit_log_yaxis,
    for_log_axis,
    line_keys,
    line_style,
    median_band,
    panel_grid,
    say_nothing_drawn,
    setting_label,
    tight_layout,
)

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# Classes take viridis tones, which no optimizer uses, so regions are never read as optimizers.
CLASS_COLORS = ["#3B528B", "#FDE725", "#21918C", "#5EC962", "#440154", "#B5DE2B"]
"""Class colours of data points and decision regions (classes are not optimizers)."""
LOSS_FLOOR = 1e-6
RUNS_COLUMNS = ("model", "hidden", "activation", "loss_fn", "batch_size", "test_accuracy")
"""The runs.csv columns this module (and a sweep's figures) read beyond ``plots.RUNS_COLUMNS``."""
HISTORY_COLUMNS = ("epoch", "loss", "test_accuracy")
"""The history.csv columns this module reads."""
X = "epoch"
"""History's x axis: never blank."""
TRUTH_TABLE_ACCURACY = "accuracy on the 4 training rows"
"""What a truth table's "test accuracy" is: it has no other rows to test on."""


def accuracy_name(runs: pd.DataFrame) -> str:
    """What the test accuracy is called: on a truth table it is measured on the training rows."""
    from optbench.problems import all_truth_tables

    return TRUTH_TABLE_ACCURACY if all_truth_tables(runs["problem"]) else "test accuracy"


def integer_epochs(ax: Axes) -> None:
    """Whole epochs on the x axis: there is no epoch 2.5."""
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True, steps=[1, 2, 5, 10]))


def smooth(values: np.ndarray, factor: float) -> np.ndarray:
    """Exponential moving average with weight ``factor`` on the past (0 = no smoothing),
    debiased like TensorBoard's so the first points are not pulled toward zero."""
    if factor <= 0:
        return values
    out = np.empty_like(values, dtype=np.float64)
    acc, weight = 0.0, 0.0
    for i, v in enumerate(values):
        if not np.isfinite(v):
            out[i] = v
            continue
        acc = factor * acc + (1 - factor) * v
        weight = factor * weight + (1 - factor)
        out[i] = acc / weight
    return out


def _title(runs: pd.DataFrame) -> str:
    first = runs.iloc[0]
    if first["model"] == "perceptron":
        return f"{first['problem']}: perceptron (step unit, Rosenblatt's rule)"
    hidden = first["hidden"]
    shape = "no hidden layer" if hidden == "none" else f"hidden {hidden} {first['activation']}"
    return f"{first['problem']}: MLP, {shape}, {first['loss_fn']}, batch {first['batch_size']}"


def curves_figure(runs: pd.DataFrame, history: pd.DataFrame, smoothing: float = 0.0) -> Figure:
    """Training loss (log) and test accuracy against epoch, one colour per optimizer."""
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11.5, 4.4))
    keys = line_keys(runs)
    merged = history.merge(runs[["run_id", *keys]], on="run_id")
    drawn = {"loss": False, "test_accuracy": False}
    for values, group in merged.groupby(keys, sort=False):
        named = dict(zip(keys, values, strict=True))
        optimizer, lr = named["optimizer"], named["lr"]
        color = color_for(optimizer)
        sub = runs[runs["run_id"].isin(group["run_id"])]
        suffix, ls = line_style(runs, named)
        label = setting_label(optimizer, lr, sub) + suffix
        perceptron = (sub["model"] == "perceptron").all()
        loss_floor = None if perceptron else LOSS_FLOOR
        for ax, column, floor in ((ax_loss, "loss", loss_floor), (ax_acc, "test_accuracy", None)):
            table = group.pivot_table(
                index="epoch", columns="run_id", values=column, aggfunc="first"
            )
            table = table.apply(lambda c: smooth(c.to_numpy(), smoothing), raw=False)
            if floor is not None:
                table = for_log_axis(table, floor)
            drawn[column] |= median_band(ax, table, color, label, ls=ls)
    if (runs["model"] == "perceptron").all():  # its loss is the 0/1 error: a fraction
        ax_loss.set_ylim(-0.02, 1.02)
        ax_loss.set_ylabel("training error (fraction of rows wrong)")
        name = "training error"
    else:
        fit_log_yaxis(ax_loss)
        ax_loss.set_ylabel("training loss (log scale)")
        name = "training loss"
    for ax, column in ((ax_loss, "loss"), (ax_acc, "test_accuracy")):
        if not drawn[column]:
            say_nothing_drawn(ax, NOTHING_FINITE)
    accuracy = accuracy_name(runs)
    ax_loss.set_xlabel("epoch (passes over the training set)")
    ax_loss.set_title(name + (f"  (smoothed, {smoothing:g})" if smoothing else ""))
    ax_acc.set_xlabel("epoch (passes over the training set)")
    ax_acc.set_ylabel(f"{accuracy} (fraction correct)")
    ax_acc.set_ylim(-0.02, 1.02)
    ax_acc.set_title(accuracy)
    for ax in (ax_loss, ax_acc):
        ax.grid(True, which="major", alpha=0.3)
        integer_epochs(ax)
    ax_acc.legend(loc="lower right", framealpha=0.9)
    fig.suptitle(_title(runs), fontsize=12)
    tight_layout(fig)
    return fig


def boundaries_figure(runs: pd.DataFrame, boundary: pd.DataFrame, data: pd.DataFrame) -> Figure:
    """Decision regions of each optimizer's trained model over the data (2-D data sets)."""
    shown = [rid for rid in runs["run_id"] if rid in set(boundary["run_id"])]
    fig, axes = panel_grid(len(shown), 4.0, 3.8, constrained=True)
    classes = int(max(data["label"].max(), boundary["pred"].max())) + 1
    palette = CLASS_COLORS[:classes]
    cmap = matplotlib.colors.ListedColormap(palette)
    accuracy = accuracy_name(runs)
    # a truth table is tested on its training rows: one set of points, not two on top
    splits = [("train", "o", 14), ("test", "^", 22)][: 1 if accuracy == TRUTH_TABLE_ACCURACY else 2]
    for ax, run_id in zip(axes, shown, strict=True):
        run = runs[runs["run_id"] == run_id].iloc[0]
        grid = boundary[boundary["run_id"] == run_id]
        x1 = np.sort(grid["x1"].unique())
        x2 = np.sort(grid["x2"].unique())
        pivot = grid.pivot_table(index="x2", columns="x1", values="pred", aggfunc="first")
        conf = grid.pivot_table(index="x2", columns="x1", values="p_pred", aggfunc="first")
        rgba = cmap(pivot.to_numpy().astype(int))
        # fade toward white where the model is unsure (p near 1/classes)
        certainty = (conf.to_numpy() - 1.0 / classes) / (1.0 - 1.0 / classes)
        rgba[..., 3] = 0.15 + 0.45 * np.clip(certainty, 0, 1)
        ax.imshow(
            rgba,
            origin="lower",
            extent=(x1[0], x1[-1], x2[0], x2[-1]),
            aspect="auto",
            interpolation="bilinear",
        )
        if classes == 2:
            p1 = np.where(pivot.to_numpy() == 1, conf.to_numpy(), 1 - conf.to_numpy())
            ax.contour(x1, x2, p1, levels=[0.5], colors="black", linewidths=1.2)
        else:  # the edge of each class's region: where the predicted class changes
            for k in np.unique(pivot.to_numpy()):
                inside = (pivot.to_numpy() == k).astype(float)
                ax.contour(x1, x2, inside, levels=[0.5], colors="black", linewidths=1.2)
        for split, marker, size in splits:
            pts = data[data["split"] == split]
            ax.scatter(
                pts["x1"],
                pts["x2"],
                c=[palette[int(k)] for k in pts["label"]],
                s=size if len(data) > 20 else 90,
                marker=marker,
                edgecolors="black",
                linewidths=0.3 if len(data) > 20 else 1.0,
                label=f"{split} points",
                zorder=3,
            )
        ax.set_title(
            f"{run['optimizer']}  lr={run['lr']:g}\n{accuracy} {run['test_accuracy']:.3f}",
            color=color_for(run["optimizer"]),
        )
        ax.set_xlim(x1[0], x1[-1])
        ax.set_ylim(x2[0], x2[-1])
        ax.set_xlabel("x₁ (input 1)")
        ax.set_ylabel("x₂ (input 2)")
    handles = [
        matplotlib.lines.Line2D(
            [], [], marker="s", ls="", color=c, markersize=9, label=f"class {k}"
        )
        for k, c in enumerate(palette)
    ]
    points = {"train": "the 4 rows (trained and tested on)"} if len(splits) == 1 else {}
    handles += [
        matplotlib.lines.Line2D(
            [], [], marker=m, ls="", mfc="white", mec="black", label=points.get(s, f"{s} points")
        )
        for s, m, _ in splits
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), frameon=False)
    fig.suptitle(_title(runs) + ": decision regions", fontsize=12)
    return fig


def weight_path_figure(runs: pd.DataFrame, walk: pd.DataFrame, plane: pd.DataFrame) -> Figure:
    """Each optimizer's parameter path on the plane of its two principal directions, over the
    training loss on that plane (log-spaced contour levels)."""
    shown = [rid for rid in runs["run_id"] if rid in set(walk["run_id"])]
    fig, axes = panel_grid(len(shown), 4.3, 3.9, constrained=True)
    for ax, run_id in zip(axes, shown, strict=True):
        run = runs[runs["run_id"] == run_id].iloc[0]
        color = color_for(run["optimizer"])
        grid = plane[plane["run_id"] == run_id]
        table = grid.pivot_table(index="pc2", columns="pc1", values="loss", aggfunc="first")
        a, b = table.columns.to_numpy(), table.index.to_numpy()
        z = table.to_numpy()
        finite = z[np.isfinite(z)]
        if finite.size:
            lo = max(finite.min(), finite.max() * 1e-6, 1e-12)
            levels = np.geomspace(lo, max(finite.max(), lo * 1.01), 16)
            z = np.clip(np.nan_to_num(z, nan=finite.max(), posinf=finite.max()), lo, None)
            filled = ax.contourf(
                a,
                b,
                z,
                levels=levels,
                cmap="Greys_r",
                norm=matplotlib.colors.LogNorm(levels[0], levels[-1]),
                alpha=0.6,
                extend="both",
            )
            ax.contour(a, b, z, levels=levels, colors="0.45", linewidths=0.4)
            bar = fig.colorbar(filled, ax=ax, pad=0.02, format="%.2g")
            bar.set_label("training loss on this plane")
        path = walk[walk["run_id"] == run_id].sort_values("epoch")
        ax.plot(path["pc1"], path["pc2"], "-", color=color, lw=1.8, zorder=3)
        ax.plot(path["pc1"], path["pc2"], "o", color=color, ms=2.5, zorder=3)
        ax.plot(
            path["pc1"].iloc[0], path["pc2"].iloc[0], "o", ms=9, mfc="white", mec="black", zorder=5
        )
        ax.plot(
            path["pc1"].iloc[-1], path["pc2"].iloc[-1], "*", ms=14, mfc=color, mec="black", zorder=5
        )
        e1, e2 = path["explained1"].iloc[0], path["explained2"].iloc[0]
        ax.set_xlabel(f"PC1 of the path ({100 * e1:.0f}% of its variance)")
        ax.set_ylabel(f"PC2 ({100 * e2:.0f}%)")
        ax.set_title(f"{run['optimizer']}  lr={run['lr']:g}", color=color)
    handles = [
        matplotlib.lines.Line2D([], [], marker="o", ls="", mfc="white", mec="black", ms=8,
                                label="initial weights (epoch 0)"),
        matplotlib.lines.Line2D([], [], marker="*", ls="", mfc="0.5", mec="black", ms=12,
                                label="final weights"),
        matplotlib.lines.Line2D([], [], marker="o", ls="-", color="0.3", ms=3,
                                label="one point per recorded epoch"),
    ]  # fmt: skip
    fig.legend(handles=handles, loc="outside lower center", ncols=3, frameon=False)
    fig.suptitle(_title(runs) + ": weight-space path on its two principal directions", fontsize=12)
    return fig


def run_figures(
    runs: pd.DataFrame,
    history: pd.DataFrame,
    folder: Path,
    suffix: str = "",
    smoothing: float = 0.0,
) -> list[FigureJob]:
    """The standard figures of a network run folder (those whose frames exist)."""
    import pandas as pd

    jobs: list[FigureJob] = [
        (folder / f"curves{suffix}.png", lambda: curves_figure(runs, history, smoothing))
    ]

    def frame(name: str) -> pd.DataFrame | None:
        path = folder / name
        if not path.is_file():
            return None
        table = pd.read_csv(path, dtype={"run_id": str})  # ids that look numeric stay text
        return table[table["run_id"].isin(runs["run_id"])] if "run_id" in table else table

    boundary, data = frame(BOUNDARY_CSV), frame(DATA_CSV)
    if boundary is not None and data is not None and len(boundary):
        jobs.append((folder / f"boundaries{suffix}.png",
                     lambda: boundaries_figure(runs, boundary, data)))  # fmt: skip
    walk, plane = frame(WEIGHT_PATH_CSV), frame(LANDSCAPE_CSV)
    # A perceptron's loss is the 0/1 error: a few levels, no landscape for a path to descend.
    by_gradient = runs[runs["model"] != "perceptron"]
    if walk is not None and plane is not None and walk["run_id"].isin(by_gradient["run_id"]).any():
        jobs.append((folder / f"weight_path{suffix}.png",
                     lambda: weight_path_figure(by_gradient, walk, plane)))  # fmt: skip
    return jobs


def sweep_figures(
    picked: pd.DataFrame,
    history: pd.DataFrame,
    folder: Path,
    many_problems: bool = False,
) -> list[FigureJob]:
    """None yet: a sweep's network runs appear in its shared figures (``plots.sweep``) only."""
    return []
