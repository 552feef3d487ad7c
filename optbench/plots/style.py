"""The look every figure shares: backend, fonts, one colour per optimizer, scales, saving.

Kept in one module so that a run's, a network's and a sweep's figures read alike and a reader
learns the legend once.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")  # headless: figures are files, never windows

import matplotlib.pyplot as plt
import matplotlib.ticker

from optbench.errors import OptbenchError
from optbench.results import atomic_path

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# One colour per built-in optimizer, in teaching order; colour-blind-aware where it matters most
# (sgd, momentum, adagrad, rmsprop, adam are the classic five and get the most distinct hues).
GAP_FLOOR = 1e-16  # gaps below this (or rounding negatives) are drawn at the floor
CEILING = (
    1e200  # larger finite values (a diverging run) are drawn here: log axes overflow near 1e308
)
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
    """The optimizer's colour in every figure: its spec's ``color`` (set where it is
    registered); a name no longer registered (an old folder) gets the spec's own fallback.

    The only place a figure asks for a colour, so one change recolours all."""
    from optbench.optimizers import all_optimizers
    from optbench.optimizers.registry import FALLBACK_COLORS

    spec = all_optimizers().get(optimizer)
    if spec is not None:
        return spec.color
    return FALLBACK_COLORS[sum(map(ord, optimizer)) % len(FALLBACK_COLORS)]


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
_POWER = re.compile(r"\^\{(-?\d+)\}")


class PlainLogFormatter(matplotlib.ticker.LogFormatterSciNotation):
    """matplotlib's log-axis labels (10⁻³, 2×10⁻¹) in plain text rather than mathtext: the
    same glyphs, but no mathtext parser, which took a third of a second to build in every
    process that saved a figure with a log axis (measured with ``optbench run``)."""

    def __call__(self, x: float, pos: int | None = None) -> str:
        label = super().__call__(x, pos)
        if not label.startswith("$"):
            return label
        text = label.removeprefix("$\\mathdefault{").removesuffix("}$").replace("\\times", "×")
        text = _POWER.sub(lambda power: power[1].translate(_SUPERSCRIPT), text)
        return text.replace("-", "−")


def plain_log_labels(fig: Figure) -> None:
    """Every log-axis formatter of ``fig`` (colour bars' too) made a ``PlainLogFormatter``."""
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            for formatter in (axis.get_major_formatter(), axis.get_minor_formatter()):
                if type(formatter) is matplotlib.ticker.LogFormatterSciNotation:
                    formatter.__class__ = PlainLogFormatter


MINOR_TICK_DECADES = 4
"""A log axis spanning more decades than this has no minor ticks: at eight a decade they are a
comb that says nothing the gridded decades do not, and each is a tick object matplotlib builds
and lays out (the loss figure's 80 took a third of a second to save)."""


def thin_log_ticks(fig: Figure) -> None:
    """No minor ticks on the log axes of ``fig`` that span more than ``MINOR_TICK_DECADES``."""
    for ax in fig.axes:
        for axis, limits in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
            low, high = sorted(abs(v) for v in limits)
            if (
                axis.get_scale() == "log"
                and low > 0
                and math.log10(high / low) > MINOR_TICK_DECADES
            ):
                axis.set_minor_locator(matplotlib.ticker.NullLocator())


def tight_layout(fig: Figure, **options: Any) -> None:
    """``fig.tight_layout`` with the log axes made plain and thin first: laying out measures
    every tick label, so a mathtext label or a comb of minor ticks costs there as in saving."""
    plain_log_labels(fig)
    thin_log_ticks(fig)
    fig.tight_layout(**options)


def save_figure(fig: Figure, path: Path, svg: bool = False) -> list[Path]:
    """Write ``fig`` as PNG (and SVG) atomically, then close it. Returns the files written."""
    written = []
    plain_log_labels(fig)
    thin_log_ticks(fig)
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
    except OSError as exc:  # a read-only folder, a full disk: the user's to fix, in one line
        raise cannot_write(path, exc) from None
    finally:
        plt.close(fig)  # also when saving failed: a long notebook session must not leak figures
    return written


def symlog_yaxis(ax: Axes, linthresh: float = 1e-3, most: int = 4) -> None:
    """A symlog y axis (values of either sign over many decades) with at most ``most`` ticks
    on each side of 0: matplotlib's own would label every decade, one on top of another."""
    import numpy as np

    ax.set_yscale("symlog", linthresh=linthresh)
    low, high = ax.dataLim.intervaly
    if np.isfinite([low, high]).all():  # a 5% margin in symlog units, not the linear one
        scale = ax.yaxis.get_transform()
        a, b = scale.transform([low, high])
        pad = 0.05 * (b - a) or 0.5
        low, high = scale.inverted().transform([a - pad, b + pad])
    else:
        low, high = ax.get_ylim()
    top = max(abs(low), abs(high), linthresh * 10)
    decades = np.arange(math.floor(math.log10(linthresh)) + 1, math.ceil(math.log10(top)) + 1)

    def ticks(step: int) -> list[float]:
        kept = 10.0 ** decades[::step]
        return sorted(t for t in (0.0, *kept, *(-kept)) if low <= t <= high)

    if len(ticks(1)) > 2 * most + 1:  # else matplotlib's own ticks are few enough
        ax.set_yticks(ticks(math.ceil(len(decades) / most)))
    ax.set_ylim(low, high)


def for_log_axis(table: pd.DataFrame, floor: float) -> pd.DataFrame:
    """``table``'s finite values clipped into [``floor``, ``CEILING``]; an infinite value (a
    diverged step) stays infinite, so it is left out of the line rather than drawn at the top."""
    return table.clip(lower=floor, upper=CEILING).where(~table.isin([math.inf]), math.inf)


def fit_log_yaxis(ax: Axes) -> None:
    """A log y axis spanning the finite data with a small margin, computed here: matplotlib's
    own margin overflows for a diverged run's 1e299 and leaves the axis at 1 … 10."""
    low, high = ax.dataLim.intervaly
    ax.set_yscale("log")
    if 0 < low <= high < math.inf:
        ax.set_ylim(low / 2, high * 2 if high < 1e300 else high)


def say_in_axes(ax: Axes, text: str) -> None:
    """``text`` in the middle of ``ax``, boxed: why a panel shows less than it should (every
    run diverged, nothing reached a target), so an empty panel is never mistaken for a bug."""
    box = {"boxstyle": "round", "fc": "white", "ec": "0.6"}
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=10,
            color="0.2", bbox=box, zorder=10)  # fmt: skip


def say_nothing_drawn(ax: Axes, text: str) -> None:
    """An empty panel's y axis (linear, unlabelled: a log axis without data has no range) and
    ``text`` saying why it is empty. Call it last, after the panel's scales are set."""
    ax.set_yscale("linear")
    ax.set_ylim(0, 1)
    ax.set_yticks([])
    say_in_axes(ax, text)


def cannot_write(path: Path, exc: OSError) -> OptbenchError:
    """The one-line error for a figure, GIF or page that could not be written to ``path``."""
    return OptbenchError(f"cannot write '{path}': {exc.strerror or exc}")


CONVENTIONS = ("preset", "schedule")
"""Settings that make two lines of one optimizer and lr differ in a run folder (``run --preset
torch,keras``, runs of several schedules): keyed and labelled when they vary."""
LINESTYLES = ("-", "--", ":", "-.")


def line_keys(runs: pd.DataFrame) -> list[str]:
    """The columns that tell one line of a run's figures from another: optimizer and lr, then
    the preset and the schedule where they vary."""
    return ["optimizer", "lr", *(c for c in CONVENTIONS if c in runs and runs[c].nunique() > 1)]


def line_style(runs: pd.DataFrame, values: dict[str, Any]) -> tuple[str, str]:
    """(label suffix, linestyle) of the line with ``values`` of ``line_keys``: each preset or
    schedule (in order of appearance) its own dash pattern, named in the label."""
    extras = [c for c in CONVENTIONS if c in values]
    if not extras:
        return "", "-"
    order = list(dict.fromkeys(zip(*(runs[c] for c in extras), strict=True)))
    key = tuple(values[c] for c in extras)
    return "  " + " ".join(map(str, key)), LINESTYLES[order.index(key) % len(LINESTYLES)]


def setting_label(optimizer: str, lr: float, runs: pd.DataFrame) -> str:
    """``adam  lr=0.1``, with how many of ``runs`` (its seeds) diverged when any did."""
    label = f"{optimizer}  lr={lr:g}"
    if runs["diverged"].any():
        label += f"  ({int(runs['diverged'].sum())}/{len(runs)} diverged)"
    return label


def median_band(ax: Axes, table: pd.DataFrame, color: str, label: str | None, lw: float = 1.8,
                alpha: float = 0.2, ls: str = "-") -> bool:  # fmt: skip
    """One setting's curve from a (x × seed) table: the median line, the min–max band over
    seeds when there are several. Returns whether it had any finite value to draw."""
    import numpy as np

    x = table.index.to_numpy()
    median = table.median(axis=1, skipna=True).to_numpy()
    ax.plot(x, median, color=color, lw=lw, label=label, ls=ls)
    if table.shape[1] > 1:
        ax.fill_between(x, table.min(axis=1), table.max(axis=1), color=color, alpha=alpha, lw=0)
    return bool(np.isfinite(table.to_numpy(dtype=float)).any())


NOTHING_FINITE = "every run diverged before a finite value\nwas recorded: nothing to draw"
"""What a curve panel says when it has no finite value (a start where f overflows)."""


def curve_scale(panel: pd.DataFrame) -> tuple[str, str, str, str]:
    """(x column, y column, y scale, what y is) for loss curves: the gap to f* on a log scale
    on a surface with a known minimum, the training loss per epoch (log) on a network, the raw
    loss on a symlog scale otherwise (a surface unbounded below goes negative)."""
    if "epoch" in panel and panel["epoch"].notna().any():
        return "epoch", "loss", "log", "training loss"
    if "gap" in panel and panel["gap"].notna().any():
        return "step", "gap", "log", "f − f*"
    return "step", "loss", "symlog", "f"


def panel_grid(n: int, width: float, height: float, cols: int | None = None,
               constrained: bool = False) -> tuple[Figure, list[Axes]]:  # fmt: skip
    """``n`` panels in rows of ``cols`` (at most 3 by default); unused cells hidden."""
    cols = cols or min(n, 3)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False,
                             constrained_layout=constrained)  # fmt: skip
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])
