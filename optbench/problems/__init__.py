"""Problems optimizers are compared on. One registry for every family (2-D surfaces, networks
on data sets), so names resolve and suggest the same way everywhere. No numba imported here.
A spec's ``family`` names its problem family, which ``optbench.families.get_family`` (a layer
above this catalog) turns into the object that runs and reports it; a spec type's
``parameter_rules`` say which values its ``name:key=value`` parameters accept."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable

from optbench.errors import OptbenchError, unknown_name
from optbench.problems.networks import NETWORKS, NetworkSpec
from optbench.problems.surfaces import SURFACES, SurfaceSpec

PROBLEMS: dict[str, SurfaceSpec | NetworkSpec] = {**SURFACES, **NETWORKS}


def get_problem(text: str) -> SurfaceSpec | NetworkSpec:
    """The problem named by ``text``: a name, optionally with parameters (``rosenbrock:b=1``)."""
    name, *assignments = text.strip().split(":")
    if name not in PROBLEMS:
        raise unknown_name("problem", name, PROBLEMS)
    spec = PROBLEMS[name]
    if not assignments:
        return spec
    params = dict(spec.params)
    seen: set[str] = set()
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
        if key in seen:
            raise OptbenchError(f"problem parameter '{key}' is given twice in '{text}'")
        seen.add(key)
        try:
            params[key] = float(value)
        except ValueError:
            raise OptbenchError(f"problem parameter {key}={value!r} is not a number") from None
        if not math.isfinite(params[key]):
            raise OptbenchError(f"problem parameter {key}={value} must be finite")
        rule = spec.parameter_rules.get(key)
        if rule is not None and not rule[0](params[key], name):
            raise OptbenchError(f"{name}: {key}={params[key]:g} {rule[1]}")
    return dataclasses.replace(spec, params=params)


def all_truth_tables(problems: Iterable[object]) -> bool:
    """Whether every one of ``problems`` (names, as in runs.csv) is a four-row truth table,
    whose test set is its training set. A name no longer known (an edited runs.csv) is not."""
    names = {str(p).split(":")[0] for p in problems}
    return bool(names) and all(getattr(PROBLEMS.get(n), "is_truth_table", False) for n in names)


__all__ = ["PROBLEMS", "NetworkSpec", "SurfaceSpec", "all_truth_tables", "get_problem"]
