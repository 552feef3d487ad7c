"""Problems optimizers are compared on. One registry for every family (2-D surfaces, N-D
objectives, networks on data sets), so names resolve and suggest the same way everywhere. No
numba imported here. A spec's ``family`` names its problem family, which
``optbench.families.get_family`` (a layer above this catalog) turns into the object that runs
and reports it; a spec type's ``parameter_rules`` say which values its ``name:key=value``
parameters accept.

``rosenbrock`` is the 2-D surface; ``rosenbrock:d=N`` (any N, 2 included) its chained N-D form,
an objective. Users add objectives with ``register_problem`` or the ``optbench.problems``
entry-point group.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Mapping, Sequence

from optbench.errors import OptbenchError, unknown_name
from optbench.problems import objectives
from optbench.problems.networks import NETWORKS, NetworkSpec
from optbench.problems.objectives import MAX_DIM, OBJECTIVES, ObjectiveSpec
from optbench.problems.surfaces import SURFACES, SurfaceSpec

ProblemSpec = SurfaceSpec | ObjectiveSpec | NetworkSpec

PROBLEMS: dict[str, ProblemSpec] = {
    **SURFACES,
    **{k: v for k, v in OBJECTIVES.items() if k not in SURFACES},
    **NETWORKS,
}


def _refresh() -> None:
    """Entry-point problems discovered (once) and every registered objective listed."""
    objectives.discover()
    for name, spec in OBJECTIVES.items():
        if name not in SURFACES and name not in NETWORKS:
            PROBLEMS[name] = spec


def get_problem(text: str) -> ProblemSpec:
    """The problem named by ``text``: a name, optionally with parameters (``rosenbrock:b=1``,
    ``quadratic:d=1000:kappa=1e4``)."""
    name, *assignments = text.strip().split(":")
    if name not in PROBLEMS:
        _refresh()
    if name not in PROBLEMS:
        raise unknown_name("problem", name, PROBLEMS)
    given_d = [a for a in assignments if a.partition("=")[0] == "d"]
    spec = OBJECTIVES[name] if given_d and name in OBJECTIVES else PROBLEMS[name]
    if given_d and not isinstance(spec, ObjectiveSpec):
        raise OptbenchError(f"problem '{name}' is {_dims_text(spec)}: it takes no d")
    if not assignments:
        return spec
    params = dict(spec.params)
    changes: dict[str, object] = {}
    seen: set[str] = set()
    for item in assignments:
        key, sep, value = item.partition("=")
        if not sep:
            raise OptbenchError(f"problem parameter '{item}' in '{text}' must look like key=value")
        if key in seen:
            raise OptbenchError(f"problem parameter '{key}' is given twice in '{text}'")
        seen.add(key)
        if key == "d":
            changes["d"] = _dimension(spec, value)
            continue
        if key not in params:
            known = [*params, *(["d"] if getattr(spec, "dims", 0) is None else [])]
            raise (
                unknown_name(f"parameter of {name}", key, known)
                if known
                else OptbenchError(f"problem '{name}' takes no parameters (got '{item}')")
            )
        try:
            params[key] = float(value)
        except ValueError:
            raise OptbenchError(f"problem parameter {key}={value!r} is not a number") from None
        if not math.isfinite(params[key]):
            raise OptbenchError(f"problem parameter {key}={value} must be finite")
        rule = spec.parameter_rules.get(key)
        if rule is not None and not rule[0](params[key], name):
            raise OptbenchError(f"{name}: {key}={params[key]:g} {rule[1]}")
    return dataclasses.replace(spec, params=params, **changes)


def _dims_text(spec: ProblemSpec) -> str:
    if isinstance(spec, SurfaceSpec):
        return "a 2-D surface"
    if isinstance(spec, ObjectiveSpec):
        return f"{spec.dims}-dimensional"
    return "a network on a data set"


def _dimension(spec: ObjectiveSpec, value: str) -> int:
    """``d`` of ``name:d=N``: a whole number in [min_dim, MAX_DIM] on a problem of any d."""
    if spec.dims is not None:
        raise OptbenchError(f"problem '{spec.name}' is {spec.dims}-dimensional: it takes no d")
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not (number.is_integer() and spec.min_dim <= number <= MAX_DIM):
        raise OptbenchError(
            f"{spec.name}: d={value} must be a whole number from {spec.min_dim} to {MAX_DIM:,}"
        )
    return int(number)


def register_problem(
    name: str,
    *,
    dims: int | None = 2,
    params: Mapping[str, float] | None = None,
    start: Sequence[float] | Callable | None = None,
    f_star: float | Callable | None = None,
    minimum: Sequence[float] | Callable | None = None,
    window: tuple[tuple[float, float], tuple[float, float]] | None = None,
    default_dim: int = 10,
    checks: Mapping[str, str] | None = None,
    summary: str = "",
    formula: str = "",
    replace: bool = False,
) -> Callable[[Callable[..., float]], Callable[..., float]]:
    """Decorator: register ``value_and_grad(theta, grad, params) -> loss`` as a problem.

    The kernel writes the gradient at ``theta`` (a flat float64 vector) into ``grad`` and
    returns the loss; ``params`` is a float64 vector of the parameters' values in the order of
    ``params`` (their defaults; ``name:key=value`` sets one, ``checks`` names a validator per
    key: ``positive``, ``nonnegative``, ``unit``, ``closed_unit``, ``flag``, ``finite``).
    ``dims`` is a fixed dimension (2 by default) or None for any d (``name:d=N``, else
    ``default_dim``). ``start``, ``f_star`` and ``minimum`` are values or functions of
    (d, params dict); ``window`` ((x0, x1), (y0, y1)) lets a 2-D problem draw its paths.

    >>> import numpy as np, optbench
    >>> @optbench.register_problem("shifted_sphere", dims=None, params={"shift": 1.0},
    ...                            start=lambda n, p: np.full(n, 3.0), f_star=0.0,
    ...                            minimum=lambda n, p: np.full(n, p["shift"]))
    ... def shifted_sphere(theta, grad, params):
    ...     s = 0.0
    ...     for i in range(theta.size):
    ...         d = theta[i] - params[0]
    ...         grad[i] = 2.0 * d
    ...         s += d * d
    ...     return s
    """
    constant = lambda value: None if value is None else (lambda d, p: value)  # noqa: E731

    def per_dim(value):
        return value if callable(value) or value is None else constant(value)

    def decorate(function: Callable[..., float]) -> Callable[..., float]:
        spec = ObjectiveSpec(
            name=name,
            kernel=function,
            summary=summary
            or (function.__doc__ or "").strip().split("\n")[0]
            or f"registered by {function.__module__}",
            formula=formula,
            params={k: float(v) for k, v in (params or {}).items()},
            dims=dims,
            default_dim=default_dim,
            start_of=per_dim(start),
            minimum_of=per_dim(minimum),
            fstar_of=per_dim(f_star),
            window=window,
            checks=dict(checks or {}),
        )
        taken = [*SURFACES, *NETWORKS]
        objectives.register(spec, replace=replace, taken=taken)
        PROBLEMS[name] = spec
        return function

    return decorate


def unregister_problem(name: str) -> None:
    """Remove a registered (not built-in) problem: for tests and notebooks that re-register."""
    if any(spec.name == name for spec in objectives.BUILT_IN) or name in SURFACES:
        raise OptbenchError(f"'{name}' is a built-in problem")
    OBJECTIVES.pop(name, None)
    if name not in NETWORKS:
        PROBLEMS.pop(name, None)


def all_truth_tables(problems: Iterable[object]) -> bool:
    """Whether every one of ``problems`` (names, as in runs.csv) is a four-row truth table,
    whose test set is its training set. A name no longer known (an edited runs.csv) is not."""
    names = {str(p).split(":")[0] for p in problems}
    return bool(names) and all(getattr(PROBLEMS.get(n), "is_truth_table", False) for n in names)


__all__ = [
    "PROBLEMS",
    "NetworkSpec",
    "ObjectiveSpec",
    "SurfaceSpec",
    "all_truth_tables",
    "get_problem",
    "register_problem",
    "unregister_problem",
]
