"""The 2-D test surfaces: what a plot and a report need to know about each (no numba here).

The formulas live in ``families/surfaces/kernels.py``; a spec carries the kernel index, the plotting
window, the classic start, the known minima and f*, and any parameters (Rosenbrock's a and b,
set as ``rosenbrock:b=1``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

from optbench.problems.labels import param_text

if TYPE_CHECKING:
    import numpy as np

Point = tuple[float, float]

_ST = -2.903534027771178  # Styblinski–Tang minimiser, per coordinate


@dataclass(frozen=True)
class SurfaceSpec:
    """A 2-D test function. ``fstar`` is None when the function is unbounded below."""

    name: str
    index: int
    formula: str
    window: tuple[Point, Point]
    start: Point
    minima_of: Callable[[Mapping[str, float]], tuple[Point, ...]]
    fstar: float | None
    summary: str
    params: Mapping[str, float] = field(default_factory=dict)

    family = "surface"
    dim = 2
    parameter_rules = MappingProxyType(
        {
            # Rosenbrock's minimum (a, a²) with f* = 0 holds only for b > 0; below it is unbounded
            "b": (lambda v, name: v > 0, "must be > 0"),
        }
    )
    """Parameter → (accepts(value, problem name), what it must be), for ``name:key=value``."""

    @property
    def minima(self) -> tuple[Point, ...]:
        return self.minima_of(self.params)

    @property
    def param_vector(self) -> list[float]:
        return [float(v) for v in self.params.values()] or [0.0]

    @property
    def label(self) -> str:
        """The name with any non-default parameters, as typed: ``rosenbrock:b=1``."""
        base = SURFACES[self.name].params
        changed = [f"{k}={param_text(v)}" for k, v in self.params.items() if base.get(k) != v]
        return ":".join([self.name, *changed])

    # what the engine asks of any problem (``ObjectiveSpec`` answers the same)
    @property
    def kernel(self) -> str:
        """Its own problem kernel (the engine of large jobs inlines the ten by ``index``)."""
        return f"optbench.families.surfaces.kernels:{self.name}"

    @property
    def dimension(self) -> int:
        return 2

    def kernel_params(self) -> np.ndarray:
        import numpy as np

        return np.array(self.param_vector)

    def start_vector(self, given: Sequence[float] = ()) -> np.ndarray:
        import numpy as np

        chosen = given if len(given) else self.start
        values = [*chosen] * 2 if len(chosen) == 1 else [*chosen]
        return np.array(values, dtype=np.float64).reshape(2)  # any other length: ValueError

    def minima_matrix(self) -> np.ndarray:
        import numpy as np

        return np.asarray(self.minima, dtype=np.float64).reshape(-1, 2)

    def noise_scale(self) -> np.ndarray:
        import numpy as np

        return np.ones(2)

    def distance_to_nearest_minimum(self, x: float, y: float) -> float:
        if not self.minima:
            return math.nan
        return min(math.hypot(x - mx, y - my) for mx, my in self.minima)


def _fixed(*points: Point) -> Callable[[Mapping[str, float]], tuple[Point, ...]]:
    return lambda params: tuple(points)


_list = [
    SurfaceSpec(
        "bowl",
        0,
        "x²/20 + y²",
        ((-10, 10), (-5, 5)),
        (-7, 2),
        _fixed((0, 0)),
        0.0,
        "an ill-conditioned quadratic (condition number 20): the momentum lesson",
    ),
    SurfaceSpec(
        "rosenbrock",
        1,
        "(a−x)² + b(y−x²)²",
        ((-2, 2), (-1, 3)),
        (-2, 2),
        lambda p: ((p["a"], p["a"] ** 2),),
        0.0,
        "a curved, flat-bottomed valley",
        params={"a": 1.0, "b": 100.0},
    ),
    SurfaceSpec(
        "beale",
        2,
        "(1.5−x+xy)² + (2.25−x+xy²)² + (2.625−x+xy³)²",
        ((-4.5, 4.5), (-4.5, 4.5)),
        (1.5, 1.5),
        _fixed((3, 0.5)),
        0.0,
        "flat plateaus and sharp ridges",
    ),
    SurfaceSpec(
        "himmelblau",
        3,
        "(x²+y−11)² + (x+y²−7)²",
        ((-5, 5), (-5, 5)),
        (0, 0),
        _fixed((3, 2), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)),
        0.0,
        "four equal minima: which one a method finds depends on its path",
    ),
    SurfaceSpec(
        "rastrigin",
        4,
        "20 + Σ(xᵢ² − 10 cos 2πxᵢ)",
        ((-4.5, 4.5), (-4.5, 4.5)),
        (-2, 3.5),
        _fixed((0, 0)),
        0.0,
        "a bowl covered in local minima",
    ),
    SurfaceSpec(
        "ackley",
        5,
        "−20e^(−0.2√(½(x²+y²))) − e^(½(cos 2πx + cos 2πy)) + e + 20",
        ((-5, 5), (-5, 5)),
        (3, 3),
        _fixed((0, 0)),
        0.0,
        "a nearly flat outer region around a deep central funnel",
    ),
    SurfaceSpec(
        "booth",
        6,
        "(x+2y−7)² + (2x+y−5)²",
        ((-10, 10), (-10, 10)),
        (-5, -5),
        _fixed((1, 3)),
        0.0,
        "a tilted quadratic valley",
    ),
    SurfaceSpec(
        "goldstein_price",
        7,
        "Goldstein–Price (standard form)",
        ((-2, 2), (-2, 2)),
        (1, 1),
        _fixed((0, -1)),
        3.0,
        "several local minima over many decades of f",
    ),
    SurfaceSpec(
        "styblinski_tang",
        8,
        "½Σ(xᵢ⁴ − 16xᵢ² + 5xᵢ)",
        ((-5, 5), (-5, 5)),
        (0, 0),
        _fixed((_ST, _ST)),
        5.0 * _ST + _ST**4 - 16.0 * _ST**2,
        "four basins of different depths",
    ),
    SurfaceSpec(
        "saddle",
        9,
        "x² − y²",
        ((-2, 2), (-2, 2)),
        (-1.5, 1e-3),
        _fixed(),
        None,
        "a saddle point: how fast does a method escape?",
    ),
]

SURFACES: dict[str, SurfaceSpec] = {spec.name: spec for spec in _list}
