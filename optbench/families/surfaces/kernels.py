"""Jitted 2-D test functions with analytic gradients, dispatched by index.

One ``value_and_grad(sid, params, theta, grad)`` serves every surface, so the engine compiles
once for the whole surface family instead of once per surface. The index order is fixed by
``SURFACE_IDS`` in ``surfaces.py``, whose specs hold the minima; the formulas are the code below.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from optbench._jit import jit

TWO_PI = 2.0 * np.pi


@jit(inline="always")
def _bowl(x, y, grad):
    grad[0] = x / 10.0
    grad[1] = 2.0 * y
    return x * x / 20.0 + y * y


@jit(inline="always")
def _rosenbrock(x, y, a, b, grad):
    r = y - x * x
    grad[0] = -2.0 * (a - x) - 4.0 * b * x * r
    grad[1] = 2.0 * b * r
    return (a - x) ** 2 + b * r * r


@jit(inline="always")
def _beale(x, y, grad):
    y2 = y * y
    y3 = y2 * y
    t1 = 1.5 - x + x * y
    t2 = 2.25 - x + x * y2
    t3 = 2.625 - x + x * y3
    grad[0] = 2.0 * (t1 * (y - 1.0) + t2 * (y2 - 1.0) + t3 * (y3 - 1.0))
    grad[1] = 2.0 * x * (t1 + 2.0 * t2 * y + 3.0 * t3 * y2)
    return t1 * t1 + t2 * t2 + t3 * t3


@jit(inline="always")
def _himmelblau(x, y, grad):
    a = x * x + y - 11.0
    b = x + y * y - 7.0
    grad[0] = 4.0 * x * a + 2.0 * b
    grad[1] = 2.0 * a + 4.0 * y * b
    return a * a + b * b


@jit(inline="always")
def _rastrigin(x, y, grad):
    grad[0] = 2.0 * x + 10.0 * TWO_PI * np.sin(TWO_PI * x)
    grad[1] = 2.0 * y + 10.0 * TWO_PI * np.sin(TWO_PI * y)
    return 20.0 + x * x - 10.0 * np.cos(TWO_PI * x) + y * y - 10.0 * np.cos(TWO_PI * y)


@jit(inline="always")
def _ackley(x, y, grad):
    r = np.sqrt(0.5 * (x * x + y * y))
    e1 = np.exp(-0.2 * r)
    e2 = np.exp(0.5 * (np.cos(TWO_PI * x) + np.cos(TWO_PI * y)))
    if r > 0.0:
        grad[0] = 2.0 * e1 * x / r + np.pi * e2 * np.sin(TWO_PI * x)
        grad[1] = 2.0 * e1 * y / r + np.pi * e2 * np.sin(TWO_PI * y)
    else:  # the cone's tip: no gradient exists, the minimum is here
        grad[0] = 0.0
        grad[1] = 0.0
    return -20.0 * e1 - e2 + np.e + 20.0


@jit(inline="always")
def _booth(x, y, grad):
    a = x + 2.0 * y - 7.0
    b = 2.0 * x + y - 5.0
    grad[0] = 2.0 * a + 4.0 * b
    grad[1] = 4.0 * a + 2.0 * b
    return a * a + b * b


@jit(inline="always")
def _goldstein_price(x, y, grad):
    s = x + y + 1.0
    a = 19.0 - 14.0 * x + 3.0 * x * x - 14.0 * y + 6.0 * x * y + 3.0 * y * y
    p = 1.0 + s * s * a
    da = -14.0 + 6.0 * x + 6.0 * y  # ∂a/∂x = ∂a/∂y
    dp = 2.0 * s * a + s * s * da  # ∂p/∂x = ∂p/∂y
    u = 2.0 * x - 3.0 * y
    b = 18.0 - 32.0 * x + 12.0 * x * x + 48.0 * y - 36.0 * x * y + 27.0 * y * y
    q = 30.0 + u * u * b
    dqx = 4.0 * u * b + u * u * (-32.0 + 24.0 * x - 36.0 * y)
    dqy = -6.0 * u * b + u * u * (48.0 - 36.0 * x + 54.0 * y)
    grad[0] = dp * q + p * dqx
    grad[1] = dp * q + p * dqy
    return p * q


@jit(inline="always")
def _styblinski_tang(x, y, grad):
    grad[0] = 2.0 * x**3 - 16.0 * x + 2.5
    grad[1] = 2.0 * y**3 - 16.0 * y + 2.5
    return 0.5 * (x**4 - 16.0 * x * x + 5.0 * x + y**4 - 16.0 * y * y + 5.0 * y)


@jit(inline="always")
def _saddle(x, y, grad):
    grad[0] = 2.0 * x
    grad[1] = -2.0 * y
    return x * x - y * y


@jit
def value_and_grad(sid, params, theta, grad):
    """Loss at ``theta`` of surface ``sid``; writes the gradient into ``grad``."""
    x = theta[0]
    y = theta[1]
    if sid == 0:
        return _bowl(x, y, grad)
    if sid == 1:
        return _rosenbrock(x, y, params[0], params[1], grad)
    if sid == 2:
        return _beale(x, y, grad)
    if sid == 3:
        return _himmelblau(x, y, grad)
    if sid == 4:
        return _rastrigin(x, y, grad)
    if sid == 5:
        return _ackley(x, y, grad)
    if sid == 6:
        return _booth(x, y, grad)
    if sid == 7:
        return _goldstein_price(x, y, grad)
    if sid == 8:
        return _styblinski_tang(x, y, grad)
    return _saddle(x, y, grad)


@jit(parallel=True)
def grid_values(sid, params, xs, ys):
    """f on the grid ``xs × ys`` (rows follow ys), for contour plots; rows run in parallel."""
    out = np.empty((ys.size, xs.size))
    for j in prange(ys.size):
        theta = np.empty(2)
        grad = np.empty(2)
        theta[1] = ys[j]
        for i in range(xs.size):
            theta[0] = xs[i]
            out[j, i] = value_and_grad(sid, params, theta, grad)
    return out


# Each surface alone as a problem kernel, ``value_and_grad(theta, grad, params) -> loss`` with
# ``params`` its parameters: what ``problem_batch`` calls through a pointer, compiled when a run
# first needs it, so a first command compiles one surface and not the ten (1.5 s together).
@jit
def bowl(theta, grad, params):
    return _bowl(theta[0], theta[1], grad)


@jit
def rosenbrock(theta, grad, params):
    return _rosenbrock(theta[0], theta[1], params[0], params[1], grad)


@jit
def beale(theta, grad, params):
    return _beale(theta[0], theta[1], grad)


@jit
def himmelblau(theta, grad, params):
    return _himmelblau(theta[0], theta[1], grad)


@jit
def rastrigin(theta, grad, params):
    return _rastrigin(theta[0], theta[1], grad)


@jit
def ackley(theta, grad, params):
    return _ackley(theta[0], theta[1], grad)


@jit
def booth(theta, grad, params):
    return _booth(theta[0], theta[1], grad)


@jit
def goldstein_price(theta, grad, params):
    return _goldstein_price(theta[0], theta[1], grad)


@jit
def styblinski_tang(theta, grad, params):
    return _styblinski_tang(theta[0], theta[1], grad)


@jit
def saddle(theta, grad, params):
    return _saddle(theta[0], theta[1], grad)
