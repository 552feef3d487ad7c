"""N-dimensional problems: the built-ins (``rosenbrock:d=100``, ``quadratic:d=1000:kappa=1e4``,
the noisy quadratic model, a logistic regression) and every problem a user registers.

A problem is a kernel ``value_and_grad(theta, grad, params) -> loss`` over a flat float64 θ of
any length, with what the tool around it needs: its parameters (validated, with defaults), its
dimension rule (a fixed d, or any d set as ``name:d=N``), its start, f* and minimum where known,
and a plotting window when it is 2-D. The surface engine takes the kernel as a first-class
function, so a new problem compiles only its own kernel (``compiled``) and reuses the engine.

No numba here: built-in kernels are named by ``"module:function"`` and loaded by the engine;
a user's kernel is compiled the first time a run needs it.
"""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from optbench.errors import OptbenchError, unknown_name
from optbench.optimizers.registry import CHECKS, NAME
from optbench.problems.labels import param_text

if TYPE_CHECKING:
    import numpy as np

ENTRY_POINT_GROUP = "optbench.problems"
MAX_DIM = 100_000_000
"""The largest ``d``: a larger one is a typo (θ alone would take 800 MB per run)."""
KERNELS = "optbench.families.objectives.kernels"


def _np():
    """numpy, imported when a problem is first built (``optbench --help`` never needs it)."""
    import numpy

    return numpy


Vector = Sequence[float]
PerDim = Callable[[int, Mapping[str, float]], Any]
"""A function of (d, parameters): how a start, a minimum or f* depends on them."""


@dataclass(frozen=True)
class ObjectiveSpec:
    """A problem over a flat θ of ``d`` coordinates (see the module docstring).

    ``kernel`` is the user's function (or ``"module:function"`` of a built-in); ``params`` the
    kernel's parameters in the order of its ``params`` vector; ``dims`` a fixed dimension or
    None (any d ≥ ``min_dim``, given as ``name:d=N``, ``default_dim`` otherwise); ``start``,
    ``minimum`` and ``fstar`` numbers or functions of (d, parameters); ``data`` builds the
    kernel's ``params`` vector when it needs more than the values (eigenvalues, a data set);
    ``noise_scale`` scales ``--noise`` per coordinate (the noisy quadratic model's √hᵢ).
    """

    name: str
    kernel: Callable[..., float] | str
    summary: str = ""
    formula: str = ""
    params: Mapping[str, float] = field(default_factory=dict)
    dims: int | None = None
    default_dim: int = 10
    min_dim: int = 1
    start_of: PerDim | None = None
    minimum_of: PerDim | None = None
    fstar_of: PerDim | float | None = None
    window: tuple[tuple[float, float], tuple[float, float]] | None = None
    checks: Mapping[str, str] = field(default_factory=dict)
    data: PerDim | None = None
    noise_scale_of: PerDim | None = None
    data_floats: PerDim | None = None
    """How many float64 building ``data`` holds at its peak, for the memory check (none: the
    parameter values only)."""
    d: int = 0
    """The dimension of this instance (set from ``dims``, ``default_dim`` or ``name:d=N``)."""
    d_in_label: bool = False
    """Whether the label always names d (an N-D variant of a 2-D surface of the same name)."""
    _compiled: list[Any] = field(default_factory=list, repr=False, compare=False)

    family = "objective"
    index = -1
    """Not one of the ten 2-D surfaces the engine evaluates by index: its own kernel runs."""

    def __post_init__(self) -> None:
        if not self.d:
            object.__setattr__(self, "d", self.dims or self.default_dim)

    @property
    def parameter_rules(self) -> Mapping[str, tuple[Callable[[float, str], bool], str]]:
        """Parameter → (accepts(value, problem name), what it must be), like the surfaces'."""
        rules = {}
        for key, check in self.checks.items():
            predicate, must = CHECKS[check]
            rules[key] = (lambda v, name, p=predicate: p(v), must)
        return rules

    @property
    def dimension(self) -> int:
        return self.d

    @property
    def label(self) -> str:
        """The name with d and any non-default parameters, as typed: ``quadratic:d=1000``."""
        base = _REGISTRY[self.name]
        parts = [self.name]
        if self.dims is None and (self.d_in_label or self.d != base.d):
            parts.append(f"d={self.d}")
        parts += [f"{k}={param_text(v)}" for k, v in self.params.items() if base.params[k] != v]
        return ":".join(parts)

    def _at(self, value: PerDim | float | Vector | None) -> Any:
        return value(self.d, dict(self.params)) if callable(value) else value

    @property
    def fstar(self) -> float | None:
        value = self._at(self.fstar_of)
        return None if value is None else float(value)

    @property
    def minima(self) -> tuple[tuple[float, ...], ...]:
        """The known minimum (one point), or none."""
        import numpy as np

        point = self._at(self.minimum_of)
        if point is None:
            return ()
        return (tuple(float(v) for v in np.broadcast_to(np.asarray(point, float), (self.d,))),)

    @property
    def start(self) -> tuple[float, ...]:
        return tuple(self.start_vector(()))

    def start_vector(self, given: Vector = ()) -> np.ndarray:
        """The start as d values: ``given`` (d values, or one for every coordinate) or the
        problem's own (zeros when it names none)."""
        import numpy as np

        chosen = given if len(given) else self._at(self.start_of)
        if chosen is None:
            return np.zeros(self.d)
        vector = np.asarray(chosen, dtype=np.float64).ravel()
        return np.full(self.d, vector[0]) if vector.size == 1 else vector.copy()

    def minima_matrix(self) -> np.ndarray:
        """(0 or 1, d): the known minimum as the engine takes it (no tuple of d floats)."""
        import numpy as np

        point = self._at(self.minimum_of)
        if point is None:
            return np.empty((0, self.d))
        return np.broadcast_to(np.asarray(point, dtype=np.float64), (self.d,))[None, :].copy()

    def noise_scale(self) -> np.ndarray:
        import numpy as np

        scale = self._at(self.noise_scale_of)
        return np.ones(self.d) if scale is None else np.asarray(scale, dtype=np.float64)

    def data_bytes(self) -> int:
        """The memory building the kernel's ``params`` takes at its peak, counted, not built."""
        return 8 * int(self._at(self.data_floats) or 0)

    def kernel_params(self) -> np.ndarray:
        """The kernel's ``params`` vector: the data it needs, else the parameter values."""
        import numpy as np

        if self.data is not None:
            return np.ascontiguousarray(self._at(self.data), dtype=np.float64)
        return np.array([float(v) for v in self.params.values()] or [0.0])

    def compiled(self) -> Any:
        """The user's kernel compiled for the problem signature (once per process; numba's
        disk cache keeps it for the next). Built-in kernels are compiled where they live."""
        if isinstance(self.kernel, str):
            raise TypeError(f"'{self.name}' is a built-in: its kernel is {self.kernel}")
        if not self._compiled:
            self._compiled.append(compile_kernel(self.name, self.kernel))
        return self._compiled[0]

    def distance_to_nearest_minimum(self, *point: float) -> float:
        """From a point of d coordinates (math.hypot, as the 2-D surfaces measure it)."""
        if not self.minima:
            return math.nan
        return min(math.hypot(*(p - m for p, m in zip(point, low, strict=True)))
                   for low in self.minima)  # fmt: skip


def compile_kernel(name: str, function: Callable[..., float]) -> Any:
    """``function`` compiled as ``value_and_grad(theta, grad, params) -> float``, or a
    one-line error naming the problem and what is wrong."""
    from optbench import _jit

    kernel = getattr(function, "py_func", function)
    try:
        arity = len(inspect.signature(kernel).parameters)
    except (TypeError, ValueError):
        arity = 3
    if arity != 3:
        raise OptbenchError(
            f"problem '{name}': its kernel takes {arity} argument(s); it must be "
            "value_and_grad(theta, grad, params) -> loss"
        )
    if hasattr(function, "compile"):
        dispatcher = function
    else:
        try:
            dispatcher = _jit.jit(function)
        except Exception:  # defined where numba cannot cache (a notebook cell, exec'd code)
            dispatcher = _jit.jit(function, cache=False)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dispatcher.compile(_jit.PROBLEM_SIGNATURE.args)
            result = dispatcher.overloads[_jit.PROBLEM_SIGNATURE.args].signature.return_type
    except Exception as exc:  # numba's typing errors are long; keep the first line
        text = str(exc).strip()
        first = next((line for line in text.splitlines() if line.strip()), type(exc).__name__)
        raise OptbenchError(
            f"problem '{name}': kernel does not compile as value_and_grad(theta, grad, params) "
            f"-> float: {first.strip()}"
        ) from None
    if str(result) != "float64":
        raise OptbenchError(f"problem '{name}': kernel returns {result}, not a float loss")
    return dispatcher


# ── the built-ins ────────────────────────────────────────────────────────────────────────────

_ST = -2.903534027771178  # Styblinski–Tang minimiser, per coordinate


def _alternating(first: float, second: float) -> PerDim:
    """A start (first, second, first, …): the 2-D surface's classic start, continued."""
    return lambda d, p: _np().where(_np().arange(d) % 2 == 0, first, second)


def _rosenbrock_minimum(d: int, p: Mapping[str, float]) -> Vector | None:
    import numpy as np

    if d == 2:
        return (p["a"], p["a"] ** 2)
    return np.full(d, p["a"]) if p["a"] in (0.0, 1.0) else None  # else: no closed form


def _quadratic_data(d: int, p: Mapping[str, float]) -> np.ndarray:
    """[layers, bits, eigenvalues (d), then per layer d cosines and d sines]: a rotation of
    2·⌈log₂ d⌉ butterfly layers of Givens rotations with angles drawn from ``seed``, which mixes
    every coordinate with every other in O(d log d) per product."""
    import numpy as np

    bits = max(1, math.ceil(math.log2(d))) if d > 1 else 1
    layers = 2 * bits if d > 1 else 0
    angles = np.random.default_rng(int(p["seed"])).uniform(0.0, 2.0 * math.pi, (layers, d))
    eigenvalues = np.geomspace(1.0, p["kappa"], d) if d > 1 else np.ones(1)
    rotation = np.concatenate([np.concatenate([np.cos(a), np.sin(a)]) for a in angles] or [[]])
    return np.concatenate([[layers, bits], eigenvalues, rotation])


def _quadratic_floats(d: int, p: Mapping[str, float]) -> int:
    """The angles, their cosines and sines and the concatenated vector: ~3 copies of the data."""
    bits = max(1, math.ceil(math.log2(d))) if d > 1 else 1
    return 3 * d * (1 + 4 * bits)


def _nqm_curvatures(d: int, p: Mapping[str, float]) -> np.ndarray:
    import numpy as np

    return 1.0 / np.arange(1, d + 1, dtype=np.float64)


_LOGISTIC: dict[float, tuple[np.ndarray, np.ndarray, float]] = {}


def logistic_data(l2: float) -> tuple[np.ndarray, np.ndarray, float]:
    """The shipped digits as odd (1) against even (0), pixels scaled to [0, 1], and the exact
    minimum and f* of the L2-regularised logistic loss, by Newton's method (the loss is
    strictly convex for l2 > 0: one minimum, found to machine precision in a few steps)."""
    import numpy as np

    if l2 not in _LOGISTIC:
        from optbench.datasets import load_digits

        images, labels = load_digits()
        x = images / 16.0
        y = (labels % 2).astype(np.float64)
        design = np.hstack([x, np.ones((x.shape[0], 1))])
        decay = np.full(design.shape[1], l2)
        decay[-1] = 0.0
        theta = np.zeros(design.shape[1])
        for _ in range(100):
            p = 1.0 / (1.0 + np.exp(-(design @ theta)))
            grad = design.T @ (p - y) / len(y) + decay * theta
            hessian = (design * (p * (1 - p))[:, None]).T @ design / len(y) + np.diag(decay)
            step = np.linalg.solve(hessian + 1e-12 * np.eye(len(theta)), grad)
            theta -= step
            if np.abs(step).max() < 1e-15:
                break
        z = design @ theta
        loss = np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * l2 * (theta[:-1] @ theta[:-1])
        _LOGISTIC[l2] = (x, y, float(loss), theta)  # type: ignore[assignment]
    return _LOGISTIC[l2]


def _logistic_params(d: int, p: Mapping[str, float]) -> np.ndarray:
    import numpy as np

    x, y, _, _ = logistic_data(p["l2"])
    return np.concatenate([[x.shape[0], x.shape[1], p["l2"]], x.ravel(), y])


BUILT_IN = [
    ObjectiveSpec(
        "rosenbrock",
        f"{KERNELS}:rosenbrock",
        "Rosenbrock's valley chained over d coordinates (d ≥ 2)",
        "Σᵢ (a−xᵢ)² + b(xᵢ₊₁−xᵢ²)²",
        params={"a": 1.0, "b": 100.0},
        min_dim=2,
        start_of=_alternating(-2.0, 2.0),
        minimum_of=_rosenbrock_minimum,
        fstar_of=lambda d, p: 0.0 if _rosenbrock_minimum(d, p) is not None else None,
        checks={"b": "positive"},
        d_in_label=True,
    ),
    ObjectiveSpec(
        "rastrigin",
        f"{KERNELS}:rastrigin",
        "a bowl covered in local minima, in d dimensions",
        "10d + Σᵢ (xᵢ² − 10 cos 2πxᵢ)",
        start_of=_alternating(-2.0, 3.5),
        minimum_of=lambda d, p: _np().zeros(d),
        fstar_of=0.0,
        d_in_label=True,
    ),
    ObjectiveSpec(
        "ackley",
        f"{KERNELS}:ackley",
        "a nearly flat outer region around a deep central funnel, in d dimensions",
        "−20e^(−0.2√(Σxᵢ²/d)) − e^(Σ cos 2πxᵢ/d) + e + 20",
        start_of=lambda d, p: _np().full(d, 3.0),
        minimum_of=lambda d, p: _np().zeros(d),
        fstar_of=0.0,
        d_in_label=True,
    ),
    ObjectiveSpec(
        "styblinski_tang",
        f"{KERNELS}:styblinski_tang",
        "2^d basins of different depths",
        "½ Σᵢ (xᵢ⁴ − 16xᵢ² + 5xᵢ)",
        start_of=lambda d, p: _np().zeros(d),
        minimum_of=lambda d, p: _np().full(d, _ST),
        fstar_of=lambda d, p: d / 2 * (5.0 * _ST + _ST**4 - 16.0 * _ST**2),
        d_in_label=True,
    ),
    ObjectiveSpec(
        "quadratic",
        f"{KERNELS}:rotated_quadratic",
        "eigenvalues log-spaced from 1 to kappa in a random rotation (from seed): the "
        "condition-number lesson in any dimension",
        "½ θᵀ Q diag(1 … κ) Qᵀ θ",
        params={"kappa": 100.0, "seed": 0.0},
        start_of=lambda d, p: _np().ones(d),
        minimum_of=lambda d, p: _np().zeros(d),
        fstar_of=0.0,
        checks={"kappa": "positive", "seed": "nonnegative"},
        data=_quadratic_data,
        data_floats=_quadratic_floats,
    ),
    ObjectiveSpec(
        "noisy_quadratic",
        f"{KERNELS}:diagonal_quadratic",
        "the noisy quadratic model (Zhang et al. 2019): curvatures hᵢ = 1/i, gradient noise "
        "of covariance σ²H with --noise σ (σ² = 1/batch size)",
        "½ Σᵢ θᵢ²/i",
        start_of=lambda d, p: _np().ones(d),
        minimum_of=lambda d, p: _np().zeros(d),
        fstar_of=0.0,
        data=_nqm_curvatures,
        data_floats=lambda d, p: 2 * d,
        noise_scale_of=lambda d, p: _np().sqrt(_nqm_curvatures(d, p)),
    ),
    ObjectiveSpec(
        "logistic",
        f"{KERNELS}:logistic",
        "logistic regression on the shipped 8×8 digits, odd against even (1,797 images, "
        "64 pixels + bias): convex, with a real minimum",
        "mean(log(1 + eᶻ) − y·z) + (l2/2)‖w‖², z = w·x + bias",
        params={"l2": 1e-3},
        dims=65,
        minimum_of=lambda d, p: logistic_data(p["l2"])[3],
        fstar_of=lambda d, p: logistic_data(p["l2"])[2],
        checks={"l2": "positive"},
        data=_logistic_params,
    ),
]

_REGISTRY: dict[str, ObjectiveSpec] = {spec.name: spec for spec in BUILT_IN}
OBJECTIVES = _REGISTRY
"""Name → spec of every N-D problem, the built-ins first, then the registered ones."""
_discovered = False


def register(spec: ObjectiveSpec, *, replace: bool = False, taken: Sequence[str] = ()) -> None:
    """Add ``spec`` (refusing a name already used by a problem unless ``replace``)."""
    if not isinstance(spec.name, str) or not NAME.fullmatch(spec.name):
        raise OptbenchError(
            f"problem name {spec.name!r}: use letters, digits, _ and - (not first), e.g. 'my_loss'"
        )
    again = spec.name in _REGISTRY and _same_function(_REGISTRY[spec.name].kernel, spec.kernel)
    if (spec.name in _REGISTRY or spec.name in taken) and not (replace or again):
        raise OptbenchError(f"a problem named '{spec.name}' is already registered")
    for key, check in spec.checks.items():
        if check not in CHECKS:
            raise unknown_name(f"check for '{key}'", check, CHECKS)
        if key not in spec.params:
            raise OptbenchError(f"problem '{spec.name}': check for '{key}', not a parameter")
    if spec.dims is not None and (not isinstance(spec.dims, int) or spec.dims < 1):
        raise OptbenchError(f"problem '{spec.name}': dims={spec.dims!r} must be None or >= 1")
    _REGISTRY[spec.name] = spec


def _same_function(a: object, b: object) -> bool:
    """Whether two kernels are one function defined again (a module imported a second time,
    a notebook cell rerun): registering it again replaces it instead of failing."""
    names = ("__module__", "__qualname__")
    return not isinstance(a, str) and all(getattr(a, n, 1) == getattr(b, n, 2) for n in names)


def discover() -> None:
    """Every ``optbench.problems`` entry point (an ``ObjectiveSpec`` or a list of them), once;
    a broken plug-in is a warning, not a broken tool."""
    global _discovered
    if _discovered:
        return
    _discovered = True
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded = ep.load()
            for item in loaded if isinstance(loaded, list | tuple) else [loaded]:
                if isinstance(item, ObjectiveSpec) and item.name not in _REGISTRY:
                    register(item)
        except Exception as exc:
            warnings.warn(
                f"optbench: could not load problem plug-in '{ep.name}': {exc}", stacklevel=2
            )
