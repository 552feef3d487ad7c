"""f of every 2-D surface on a grid, in plain numpy: the contour behind a figure needs no numba.

Values only, written like ``surface_kernels.py`` (which adds the gradients the engine needs), so
figures and reports stay free of the compiler; a test checks the two agree on every surface.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from optbench.problems.surfaces import SurfaceSpec

TWO_PI = 2.0 * np.pi


def _rosenbrock(x, y, a, b):
    r = y - x * x
    return (a - x) ** 2 + b * r * r


def _beale(x, y):
    y2 = y * y
    y3 = y2 * y
    t1 = 1.5 - x + x * y
    t2 = 2.25 - x + x * y2
    t3 = 2.625 - x + x * y3
    return t1 * t1 + t2 * t2 + t3 * t3


def _ackley(x, y):
    r = np.sqrt(0.5 * (x * x + y * y))
    e2 = np.exp(0.5 * (np.cos(TWO_PI * x) + np.cos(TWO_PI * y)))
    return -20.0 * np.exp(-0.2 * r) - e2 + np.e + 20.0


def _goldstein_price(x, y):
    s = x + y + 1.0
    a = 19.0 - 14.0 * x + 3.0 * x * x - 14.0 * y + 6.0 * x * y + 3.0 * y * y
    u = 2.0 * x - 3.0 * y
    b = 18.0 - 32.0 * x + 12.0 * x * x + 48.0 * y - 36.0 * x * y + 27.0 * y * y
    return (1.0 + s * s * a) * (30.0 + u * u * b)


FORMULAS: dict[str, Callable[..., np.ndarray]] = {
    "bowl": lambda x, y: x * x / 20.0 + y * y,
    "rosenbrock": _rosenbrock,
    "beale": _beale,
    "himmelblau": lambda x, y: (x * x + y - 11.0) ** 2 + (x + y * y - 7.0) ** 2,
    "rastrigin": lambda x, y: (
        20.0 + x * x - 10.0 * np.cos(TWO_PI * x) + y * y - 10.0 * np.cos(TWO_PI * y)
    ),
    "ackley": _ackley,
    "booth": lambda x, y: (x + 2.0 * y - 7.0) ** 2 + (2.0 * x + y - 5.0) ** 2,
    "goldstein_price": _goldstein_price,
    "styblinski_tang": lambda x, y: (
        0.5 * (x**4 - 16.0 * x * x + 5.0 * x + y**4 - 16.0 * y * y + 5.0 * y)
    ),
    "saddle": lambda x, y: x * x - y * y,
}
"""Each surface's f(x, y, **params) by name, on arrays."""


def grid_values(surface: SurfaceSpec, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """f on the grid ``xs × ys`` (rows follow ys), with the surface's parameters."""
    x, y = np.meshgrid(np.asarray(xs, dtype=float), np.asarray(ys, dtype=float))
    return FORMULAS[surface.name](x, y, **surface.params)
