"""The least a process can do: hand-written programs for two commands, the whole-process references.

``make bench`` times ``optbench sweep`` and ``optbench run`` as a user types them, each in a new
process, beside one of these programs doing the same arithmetic with nothing else around it:
no configuration, no checks, no chunks, no manifest, one output file of each kind.

- ``sweep``: 10,000 Adam paths on Rosenbrock from (−1.5, 2), lr log-spaced 1e-4 … 1e-1, 1000
  steps each, in a cached ``prange`` kernel; their final points and losses as one CSV.
- ``run``: Adam on Beale from (1.5, 1.5), lr 1e-3, 10,000 steps, every step recorded; the path
  over a log-spaced 300 × 300 contour saved as PNG, and the path as CSV.

Run one as ``python -m optbench.suites.least sweep|run OUT_FOLDER``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from numba import prange

from optbench._jit import jit
from optbench.suites.fused import fused_adam_rosenbrock

SWEEP_COMMAND = (
    "sweep", "--optimizer", "adam", "--problem", "rosenbrock", "--start", "-1.5,2",
    "--lr", "1e-4..1e-1:10000", "--steps", "1000", "--record-every", "1000",
)  # fmt: skip
RUN_COMMAND = ("run", "--optimizer", "adam")
"""The two commands of the issue, as a user types them; each reference below does their work."""


@jit(parallel=True)
def adam_rosenbrock_paths(x0, y0, lrs, steps, out):
    """The fused Adam loop from (x0, y0), one run per ``prange`` iteration: final loss."""
    for r in prange(lrs.size):
        out[r] = fused_adam_rosenbrock(x0, y0, lrs[r], 0.9, 0.999, 1e-8, steps)[0]


@jit
def adam_beale_path(x, y, lr, steps, path):
    """Adam (torch form) on Beale, every point recorded in ``path`` (steps + 1, 3): x, y, f."""
    b1, b2, eps = 0.9, 0.999, 1e-8
    m0 = m1 = v0 = v1 = 0.0
    for t in range(steps + 1):
        y2, y3 = y * y, y * y * y
        t1, t2, t3 = 1.5 - x + x * y, 2.25 - x + x * y2, 2.625 - x + x * y3
        path[t, 0], path[t, 1], path[t, 2] = x, y, t1 * t1 + t2 * t2 + t3 * t3
        if t == steps:
            break
        g0 = 2.0 * (t1 * (y - 1.0) + t2 * (y2 - 1.0) + t3 * (y3 - 1.0))
        g1 = 2.0 * x * (t1 + 2.0 * t2 * y + 3.0 * t3 * y2)
        k = t + 1
        m0 = b1 * m0 + (1.0 - b1) * g0
        m1 = b1 * m1 + (1.0 - b1) * g1
        v0 = b2 * v0 + (1.0 - b2) * g0 * g0
        v1 = b2 * v1 + (1.0 - b2) * g1 * g1
        bc1, root_bc2 = 1.0 - b1**k, np.sqrt(1.0 - b2**k)
        x -= (lr / bc1) * m0 / (np.sqrt(v0) / root_bc2 + eps)
        y -= (lr / bc1) * m1 / (np.sqrt(v1) / root_bc2 + eps)


def least_sweep(folder: Path) -> None:
    ratio = np.log(1e-1 / 1e-4) / 9_999  # the grid 1e-4..1e-1:10000 makes (12 digits each)
    lrs = np.array([float(f"{1e-4 * np.exp(ratio * i):.12g}") for i in range(10_000)])
    out = np.empty(lrs.size)
    adam_rosenbrock_paths(-1.5, 2.0, lrs, 1000, out)
    np.savetxt(folder / "finals.csv", np.column_stack([lrs, out]), delimiter=",",
               header="lr,final_loss", comments="", fmt="%.17g")  # fmt: skip


def least_run(folder: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = np.empty((10_001, 3))
    adam_beale_path(1.5, 1.5, 1e-3, 10_000, path)
    np.savetxt(folder / "path.csv", path, delimiter=",", header="x,y,loss", comments="",
               fmt="%.17g")  # fmt: skip
    grid = np.linspace(-4.5, 4.5, 300)
    x, y = np.meshgrid(grid, grid)
    f = (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2
    fig, ax = plt.subplots(figsize=(6, 5))
    ax.contour(x, y, f, levels=np.logspace(-1, 5, 25), cmap="viridis", linewidths=0.8)
    ax.plot(path[:, 0], path[:, 1], color="C1", lw=1.6)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    fig.savefig(folder / "path.png", dpi=100)


def main(argv: list[str]) -> None:
    what, folder = argv
    Path(folder).mkdir(parents=True, exist_ok=True)
    {"sweep": least_sweep, "run": least_run}[what](Path(folder))


if __name__ == "__main__":
    main(sys.argv[1:])
