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


@jit(inline="always")
def _diverged(theta, loss):
    """A non-finite loss, or a coordinate past the bound of 1e6 (or NaN)."""
    bad = not np.isfinite(loss)
    for i in range(theta.size):
        bad |= not abs(theta[i]) <= 1e6  # no short-circuit: a branch-free, vectorised loop
    return bad


@jit(inline="always")
def _adam_update(theta, grad, m, v, t, lr, b1, b2, eps):
    """Adam's update t (torch form) of an N-D θ, inlined into each N-D fused loop, so the loop
    stays one function as the reference must."""
    step = lr / (1.0 - b1**t)
    root_bc2 = np.sqrt(1.0 - b2**t)
    for i in range(theta.size):  # no branch in here: LLVM vectorises it
        g = grad[i]
        mi = b1 * m[i] + (1.0 - b1) * g
        vi = b2 * v[i] + (1.0 - b2) * g * g
        m[i] = mi
        v[i] = vi
        theta[i] -= step * mi / (np.sqrt(vi) / root_bc2 + eps)


@jit
def fused_adam_rosenbrock_nd(theta, lr, b1, b2, eps, steps):
    """Adam on the chained Rosenbrock (a = 1, b = 100) in d = θ.size dimensions, hand-fused:
    the gradient pass and the update pass of each step in one function, m and v in arrays of
    their own, no function pointer and no recording. Returns the final loss and steps done."""
    n = theta.size
    grad = np.empty(n)
    m = np.zeros(n)
    v = np.zeros(n)
    loss = 0.0
    for t in range(steps + 1):
        loss = 0.0
        carry = 0.0
        for i in range(n - 1):
            x = theta[i]
            r = theta[i + 1] - x * x
            g = -2.0 * (1.0 - x) - 4.0 * 100.0 * x * r
            if i > 0:
                g += carry
            grad[i] = g
            carry = 2.0 * 100.0 * r
            loss += (1.0 - x) ** 2 + 100.0 * r * r
        grad[n - 1] = carry
        if t == steps:
            return loss, steps
        _adam_update(theta, grad, m, v, t + 1, lr, b1, b2, eps)
        if _diverged(theta, loss):
            return loss, t
    return loss, steps


@jit
def fused_adam_quadratic(theta, data, lr, b1, b2, eps, steps):
    """Adam on ½θᵀQΛQᵀθ (the ``quadratic`` problem's eigenvalues and butterfly rotation in
    ``data``), hand-fused: rotate, scale and rotate back, then update, in one function."""
    n = theta.size
    layers = int(data[0])
    bits = int(data[1])
    grad = np.empty(n)
    m = np.zeros(n)
    v = np.zeros(n)
    loss = 0.0
    for t in range(steps + 1):
        for i in range(n):
            grad[i] = theta[i]
        for k in range(2 * layers):  # Qᵀ: the layers in order, transposed; then Q backwards
            transposed = k < layers
            layer = k if transposed else 2 * layers - 1 - k
            if k == layers:  # between the two: scale by the eigenvalues, the loss on the way
                total = 0.0
                for i in range(n):
                    z = grad[i]
                    w = data[2 + i] * z
                    total += z * w
                    grad[i] = w
                loss = 0.5 * total
            stride = 1 << (layer % bits)
            cosines = data[2 + n + layer * 2 * n : 2 + n + layer * 2 * n + n]
            sines = data[2 + 2 * n + layer * 2 * n : 2 + 2 * n + layer * 2 * n + n]
            sign = -1.0 if transposed else 1.0
            for block in range(0, n, 2 * stride):  # the pairs (i, i + stride), no test per i
                for i in range(block, min(block + stride, n - stride)):
                    c = cosines[i]
                    s = sign * sines[i]
                    u = grad[i]
                    w = grad[i + stride]
                    grad[i] = c * u - s * w
                    grad[i + stride] = s * u + c * w
        if t == steps:
            return loss, steps
        _adam_update(theta, grad, m, v, t + 1, lr, b1, b2, eps)
        if _diverged(theta, loss):
            return loss, t
    return loss, steps
