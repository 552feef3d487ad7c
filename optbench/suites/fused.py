"""The hand-fused references of the perf suite: optbench's arithmetic written as one numba loop.

``fused_adam_rosenbrock`` computes the same gradient, loss, Adam update (torch form) and
divergence check as the engine with everything in registers, so ``engine ÷ fused`` is the price
of the general engine (first-class optimizer function, flat state array, history and target
tracking); ``fused_adam_rosenbrock_batch`` is the same loop over many runs in a ``prange``,
the reference of a whole sweep. Both end at the engine's losses bit for bit, which perf.csv's
``same`` column checks: a ratio means something only if both did the same arithmetic.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from optbench._jit import jit


@jit(inline="always")
def fused_adam_rosenbrock(x, y, lr, b1, b2, eps, steps, cosine=False):
    """Adam on (1−x)² + 100(y−x²)², hand-fused; returns the final loss and steps done. With
    ``cosine`` the lr follows the cosine schedule to 0 over ``steps`` (as the engine's)."""
    m0 = m1 = v0 = v1 = 0.0
    rate = lr
    loss = (1.0 - x) ** 2 + 100.0 * (y - x * x) * (y - x * x)
    for t in range(1, steps + 1):
        if cosine:
            rate = 0.0 + (lr - 0.0) * (1.0 + np.cos(np.pi * (t - 1.0) / steps)) / 2.0
        r = y - x * x
        g0 = -2.0 * (1.0 - x) - 400.0 * x * r
        g1 = 200.0 * r
        bc1 = 1.0 - b1**t
        root_bc2 = np.sqrt(1.0 - b2**t)
        m0 = b1 * m0 + (1.0 - b1) * g0
        m1 = b1 * m1 + (1.0 - b1) * g1
        v0 = b2 * v0 + (1.0 - b2) * g0 * g0
        v1 = b2 * v1 + (1.0 - b2) * g1 * g1
        x -= (rate / bc1) * m0 / (np.sqrt(v0) / root_bc2 + eps)
        y -= (rate / bc1) * m1 / (np.sqrt(v1) / root_bc2 + eps)
        loss = (1.0 - x) ** 2 + 100.0 * (y - x * x) * (y - x * x)
        if not np.isfinite(loss) or not (abs(x) <= 1e6 and abs(y) <= 1e6):
            return loss, t
    return loss, steps


@jit(parallel=True)
def fused_adam_rosenbrock_batch(lrs, steps, out):
    """The hand-fused Adam loop (inlined), one run per prange iteration, from (−2, 2)."""
    for r in prange(lrs.size):
        out[r] = fused_adam_rosenbrock(-2.0, 2.0, lrs[r], 0.9, 0.999, 1e-8, steps)[0]
