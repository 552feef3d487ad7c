"""Animated trajectories: every optimizer moving together over the contour, as a GIF.

Drawn from the frames results.py wrote (like every figure, so ``optbench plot DIR --animate``
redraws it without recomputing), over the very background of the static trajectory figure
(``surfaces.contour_axes``), with matplotlib's PillowWriter: Pillow comes with matplotlib, so no
ffmpeg or ImageMagick is needed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import PillowWriter

from optbench.errors import OptbenchError
from optbench.plots import per_problem
from optbench.plots.style import POINT_STYLE, cannot_write, color_for, tight_layout
from optbench.plots.surfaces import (
    contour_axes,
    draw_landmarks,
    draw_path,
    has_contour,
    layers,
    run_label,
)
from optbench.problems import get_problem
from optbench.results import atomic_path

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.artist import Artist
    from matplotlib.figure import Figure

MAX_FRAMES = 60
FPS = 12  # 60 frames ≈ 5 s: slow enough to follow one path, short enough to watch twice
HOLD_S = 1.5  # the last picture stays this long before the loop restarts
DPI = 80  # 576 × 448 pixels: legible in a README or a report, a GIF of about a megabyte


def frame_steps(steps: np.ndarray, max_frames: int = MAX_FRAMES) -> np.ndarray:
    """At most ``max_frames`` of the recorded ``steps``, geometrically spaced, first and last kept.

    Optimizers cover most of their way in the first steps (on a smooth surface the gap falls
    roughly geometrically), so evenly spaced frames would spend most of the animation on a still
    picture and show the first, fastest moves as one jump. Geometric spacing over the recorded
    steps gives equal time to each decade of steps: every early step gets its own frame, later
    frames are further apart. Where geometric spacing is denser than one recorded step,
    consecutive steps are taken instead, so exactly ``max_frames`` distinct steps come out
    whenever more than that many were recorded.
    """
    steps = np.unique(np.asarray(steps))
    n = len(steps)
    if n <= max_frames:
        return steps
    wanted = np.geomspace(1, n, max_frames) - 1  # positions 0 … n − 1, dense at the start
    picks = np.empty(max_frames, dtype=np.int64)
    previous = -1
    for i, position in enumerate(wanted):
        room_after = max_frames - 1 - i  # picks still to come, each needing a later position
        previous = picks[i] = min(max(round(position), previous + 1), n - 1 - room_after)
    return steps[picks]


def trajectories_animation(
    runs: pd.DataFrame, history: pd.DataFrame, path: Path, max_frames: int = MAX_FRAMES
) -> Path:
    """Write ``path`` (a GIF): the runs' paths growing over the contour, a step counter on top.

    All runs advance together: frame k shows every path up to the k-th of ``frame_steps``, with a
    marker on its current point (an X once the run has diverged). The legend is placed once,
    against the complete paths, so it never jumps from frame to frame.
    """
    fig, ax, surface = contour_axes(runs)
    vary_seed = runs["seed"].nunique() > 1
    tracks = []
    styles = layers(runs["optimizer"])
    for _, run in runs.iterrows():
        rows = history[history["run_id"] == run["run_id"]].sort_values("step")
        steps, x, y = (rows[c].to_numpy() for c in ("step", "x", "y"))
        color = color_for(run["optimizer"])
        line = draw_path(ax, rows, color, bool(run["diverged"]), run_label(run, vary_seed),
                         end=False, **styles[run["optimizer"]])  # fmt: skip
        (head,) = ax.plot([], [], ls="", mfc=line.get_color(), **POINT_STYLE)
        diverged_at = int(run["diverged_step"]) if bool(run["diverged"]) else None
        tracks.append((steps, x, y, np.isfinite(x) & np.isfinite(y), line, head, diverged_at))
    marks = draw_landmarks(ax, surface, runs)

    shown = frame_steps(history["step"].to_numpy(), max_frames)
    last = int(shown[-1])

    def heading(step: int) -> str:
        return f"{surface.label}: {surface.formula}\nstep {step:,} of {last:,}"

    # y fixed: automatic title placement would rise past the hidden tick labels (see below)
    title = ax.set_title(heading(last), y=1.0)
    legend = ax.legend(loc="best", framealpha=0.9)
    fig.set_dpi(DPI)
    tight_layout(fig)
    fig.set_layout_engine(None)  # laid out once: no layout pass (a whole extra draw) per frame
    fig.canvas.draw()  # resolve loc="best" against the full paths, then pin it there
    legend.set_loc(tuple(legend.get_window_extent().transformed(ax.transAxes.inverted()).p0))
    moving = [title, legend, *marks, *(a for track in tracks for a in track[4:6])]
    _paint_background_once(fig, moving)

    def show(step: int) -> None:
        title.set_text(heading(step))
        for steps, x, y, finite, line, head, diverged_at in tracks:
            upto = np.searchsorted(steps, step, side="right")
            line.set_data(x[:upto], y[:upto])
            seen = np.flatnonzero(finite[:upto])
            head.set_data(x[seen[-1:]], y[seen[-1:]])
            head.set_marker("X" if diverged_at is not None and step >= diverged_at else "o")

    writer = PillowWriter(fps=FPS)
    try:
        with atomic_path(path) as tmp, writer.saving(fig, tmp, dpi=DPI):
            for step in shown:
                show(int(step))
                writer.grab_frame()
            # Pillow stores a repeated identical frame as a longer display of the last one.
            for _ in range(round(HOLD_S * FPS)):
                writer.grab_frame()
    except OSError as exc:
        raise cannot_write(path, exc) from None
    finally:
        plt.close(fig)
    return path


def _paint_background_once(fig: Figure, moving: list[Artist]) -> None:
    """Render all but ``moving`` once, and show that picture behind them in every frame.

    Each frame then draws one image and the moving artists instead of every contour, tick and
    label again. The start and minimum markers and the legend count as moving: drawn on top in
    every frame, they keep the layering of the static figure (paths pass under them).
    """
    for artist in moving:
        artist.set_visible(False)
    fig.canvas.draw()
    background = np.asarray(fig.canvas.buffer_rgba()).copy()
    for artist in moving:
        artist.set_visible(True)
    fig.patch.set_visible(False)
    for axes in fig.axes:
        for child in axes.get_children():
            if child not in moving:
                child.set_visible(False)
    fig.figimage(background, zorder=-1)


def write_animations(runs: pd.DataFrame, history: pd.DataFrame, folder: Path) -> list[Path]:
    """``trajectories.gif`` (one per problem, named like the PNGs) in a run folder."""
    drawable = [
        (suffix, sub, hist)
        for suffix, sub, hist in per_problem(runs, history)
        if {"x", "y"} <= set(history.columns)
        and has_contour(get_problem(str(sub["problem"].iloc[0])))
    ]
    if not drawable:
        raise OptbenchError("--animate draws paths on 2-D surfaces; this folder has none")
    return [
        trajectories_animation(sub, hist, Path(folder) / f"trajectories{suffix}.gif")
        for suffix, sub, hist in drawable
    ]
