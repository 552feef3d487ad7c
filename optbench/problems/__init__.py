"""Problems optimizers are compared on. One registry for every family (surfaces now; networks
join it), so names resolve and suggest the same way everywhere. No numba imported here."""

from __future__ import annotations

import dataclasses

from optbench.errors import OptbenchError, unknown_name
from optbench.problems.surfaces import SURFACES, SurfaceSpec

PROBLEMS: dict[str, SurfaceSpec] = dict(SURFACES)


def get_problem(text: str) -> SurfaceSpec:
    """The problem named by ``text``: a name, optionally with parameters (``rosenbrock:b=1``)."""
    name, *assignments = text.strip().split(":")
    if name not in PROBLEMS:
        raise unknown_name("problem", name, PROBLEMS)
    spec = PROBLEMS[name]
    if not assignments:
        return spec
    params = dict(spec.params)
    for item in assignments:
        key, sep, value = item.partition("=")
        if not sep:
            raise OptbenchError(f"problem parameter '{item}' in '{text}' must look like key=value")
        if key not in params:
            raise (
                unknown_name(f"parameter of {name}", key, params)
                if params
                else OptbenchError(f"problem '{name}' takes no parameters (got '{item}')")
            )
        try:
            params[key] = float(value)
        except ValueError:
            raise OptbenchError(f"problem parameter {key}={value!r} is not a number") from None
    return dataclasses.replace(spec, params=params)


__all__ = ["PROBLEMS", "SurfaceSpec", "get_problem"]
