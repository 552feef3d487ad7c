"""From settings (or a finished folder) to the written page, with the size budget checked
before anything is computed."""

from __future__ import annotations

import math
import os
from pathlib import Path

from optbench.errors import OptbenchError
from optbench.explorer.grid import ExplorePlan, SurfacePaths
from optbench.explorer.networks import BOUNDARY_SIZE, CHECKPOINTS, NetworkPaths, NetworkPlan

PAGE_BUDGET_MB = 3.0
"""The default page must stay under this; ``max_mb`` raises or lowers it."""
BYTES_PER_POINT = 5.0
"""Page bytes a recorded point is estimated to cost before computing: measured at 0.7 (bowl)
to 3.9 (rosenbrock, whose diverging paths make long jumps) on the default grid."""
BYTES_PER_REGION_CELL = 0.25
"""A decision-region cell (one byte before compression; measured 0.11 on spirals)."""
PAGE_OVERHEAD = 300_000
"""The template, the settings and the contour image, generously."""


def estimate_bytes(plan: ExplorePlan | NetworkPlan) -> int:
    """An upper estimate of the page's size: every path at full length (and, for networks,
    every decision-region image)."""
    return int(PAGE_OVERHEAD + plan.n_paths * _path_bytes(plan))


def _path_bytes(plan: ExplorePlan | NetworkPlan) -> float:
    if isinstance(plan, NetworkPlan):
        return (plan.epochs + 1) * BYTES_PER_POINT + _region_bytes(plan)
    return (plan.steps + 1) * BYTES_PER_POINT


def _region_bytes(plan: NetworkPlan) -> float:
    return CHECKPOINTS * BOUNDARY_SIZE**2 * BYTES_PER_REGION_CELL if plan.two_d else 0.0


def check_budget(plan: ExplorePlan | NetworkPlan, max_mb: float) -> None:
    """Refuse a grid whose page would exceed ``max_mb``, naming settings that would fit."""
    budget = max_mb * 1e6
    need = estimate_bytes(plan)
    if need <= budget:
        return
    room = max(0.0, budget - PAGE_OVERHEAD)
    paths_fit = room / _path_bytes(plan)  # paths of the current length that fit
    n_lr = len(plan.sweep.axes[0][1][0][1])
    fits = []
    if isinstance(plan, NetworkPlan):
        epochs = int((room / plan.n_paths - _region_bytes(plan)) / BYTES_PER_POINT) - 1
        if epochs >= 1:
            fits.append(f"--epochs {epochs}")
        length = f"{plan.epochs + 1} epochs"
    else:
        steps = int(room / plan.n_paths / BYTES_PER_POINT) - 1
        if steps >= 1:
            fits.append(f"--steps {steps}")
        per_start = plan.runs_per_start
        side = math.isqrt(max(0, int(paths_fit / per_start) - 1))  # side² starts + the classic
        if side >= 1:
            fits.append(f"--starts {side}x{side}")
        length = f"{plan.steps + 1} points"
    lr_fit = int(n_lr * paths_fit / plan.n_paths)
    if 1 <= lr_fit < n_lr:
        fits.append(f"an lr grid of {lr_fit} values")
    fits.append(f"--max-mb {math.ceil(need / 1e6)}")
    raise OptbenchError(
        f"the page would be about {need / 1e6:.1f} MB ({plan.n_paths:,} paths × {length}) "
        f"but the budget is {max_mb:g} MB; would fit: " + ", or ".join(fits)
    )


def page_path(out: str | os.PathLike | None, default: Path) -> Path:
    path = default if out is None else Path(out).expanduser()
    if path.is_dir():
        raise OptbenchError(f"--out '{path}' is a folder; name the page, e.g. {path}/explore.html")
    if path.suffix.lower() not in (".html", ".htm"):
        raise OptbenchError(f"--out '{path}' must end in .html")
    return path


def write_explorer(paths: SurfacePaths | NetworkPaths, path: Path, max_mb: float) -> Path:
    """Render and write the page, refusing one that came out above the budget after all."""
    from optbench.explorer.page import render_page, write_page

    text = render_page(paths)
    size = len(text.encode("utf-8"))
    if size > max_mb * 1e6:
        raise OptbenchError(
            f"the page came out at {size / 1e6:.1f} MB, above the {max_mb:g} MB budget: "
            "use fewer --steps, --starts or lr values (nothing was written)"
        )
    return write_page(text, path)
