"""The optimizer registry: specs, validation, user registration and plug-in discovery.

This module never imports numba: ``optbench list optimizers`` and ``--help`` read specs only.
A spec points at its kernel (a jitted function with the uniform signature
``update(theta, grad, state, hp, t)``); the kernel is compiled the first time a run needs it.

The registry is one dict. Built-ins, decorator registrations and ``optbench.optimizers`` entry
points all land in it, so every command sees the same optimizers and tests iterate over it.
"""

from __future__ import annotations

import dataclasses
import importlib
import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from optbench.errors import OptbenchError, unknown_name

PRESETS = ("torch", "keras")
"""Conventions: torch.optim 2.x (the default) and Keras 3 (``--preset keras``)."""

ENTRY_POINT_GROUP = "optbench.optimizers"

# name -> (predicate, what the value must be); the message always names the value given.
CHECKS: dict[str, tuple[Callable[[float], bool], str]] = {
    "positive": (lambda v: v > 0, "must be > 0"),
    "nonnegative": (lambda v: v >= 0, "must be >= 0"),
    "unit": (lambda v: 0 <= v < 1, "must be in [0, 1)"),
    "closed_unit": (lambda v: 0 <= v <= 1, "must be in [0, 1]"),
    "flag": (lambda v: v in (0.0, 1.0), "must be 0 or 1"),
    "finite": (lambda v: True, "must be finite"),
}


@dataclass(frozen=True)
class Hyper:
    """One hyperparameter: its name (as in torch/Keras), the check its value must pass, a doc."""

    name: str
    check: str = "finite"
    doc: str = ""

    def validate(self, value: float, optimizer: str) -> float:
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise OptbenchError(f"{optimizer}: {self.name}={value!r} is not a number") from None
        predicate, must = CHECKS[self.check]
        if not math.isfinite(value) or not predicate(value):
            raise OptbenchError(f"{optimizer}: {self.name}={value:g} {must}")
        return value

    @property
    def is_flag(self) -> bool:
        return self.check == "flag"


@dataclass(frozen=True)
class OptimizerSpec:
    """Everything optbench knows about an optimizer, independent of any problem.

    ``hypers`` fixes the order of the ``hp`` vector the kernel receives; ``lr`` is always first.
    ``defaults`` maps a preset name to a full {name: value} dict.
    """

    name: str
    kernel: Callable[..., None] | str
    hypers: tuple[Hyper, ...]
    defaults: Mapping[str, Mapping[str, float]]
    slots: int = 0
    scalars: int = 0
    summary: str = ""
    paper: str = ""
    constraint: Callable[[dict[str, float]], str | None] | None = None
    _compiled: list[Any] = field(default_factory=list, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = [h.name for h in self.hypers]
        if not names or names[0] != "lr":
            raise ValueError(f"optimizer '{self.name}': the first hyperparameter must be 'lr'")
        for preset, values in self.defaults.items():
            missing = set(names) - set(values)
            extra = set(values) - set(names)
            if missing or extra:
                raise ValueError(
                    f"optimizer '{self.name}' preset '{preset}': "
                    f"missing {sorted(missing)}, unknown {sorted(extra)}"
                )

    @property
    def hyper_names(self) -> tuple[str, ...]:
        return tuple(h.name for h in self.hypers)

    def state_size(self, n_params: int) -> int:
        """Length of the flat state array: ``slots`` arrays of n, then scalar slots."""
        return self.slots * n_params + self.scalars

    def resolve(self, preset: str = "torch", overrides: Mapping[str, float] | None = None) -> dict:
        """Defaults of ``preset`` updated with ``overrides``, every value validated."""
        if preset not in self.defaults:
            raise unknown_name(f"preset for {self.name}", preset, self.defaults)
        values = dict(self.defaults[preset])
        for key, value in (overrides or {}).items():
            if key not in values:
                raise unknown_name(f"hyperparameter of {self.name}", key, values)
            values[key] = value
        for hyper in self.hypers:
            values[hyper.name] = hyper.validate(values[hyper.name], self.name)
        if self.constraint is not None:
            problem = self.constraint(values)
            if problem:
                raise OptbenchError(f"{self.name}: {problem}")
        return values

    def hp_vector(self, values: Mapping[str, float]) -> list[float]:
        return [float(values[name]) for name in self.hyper_names]

    def compiled(self) -> Any:
        """The kernel compiled for the uniform signature (loaded from numba's cache if there)."""
        if not self._compiled:
            from optbench import _jit

            kernel = self.kernel
            if isinstance(kernel, str):
                module = importlib.import_module("optbench.optimizers.kernels")
                kernel = getattr(module, kernel)
            if not hasattr(kernel, "compile"):  # a plain Python function from a user
                kernel = _jit_user_kernel(kernel)
            try:
                kernel.compile(_jit.KERNEL_SIGNATURE.args)
            except Exception as exc:  # numba's typing errors are long; keep the first line
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise OptbenchError(
                    f"optimizer '{self.name}': kernel does not compile as "
                    f"update(theta, grad, state, hp, t): {first}"
                ) from None
            self._compiled.append(kernel)
        return self._compiled[0]


def _jit_user_kernel(function: Callable[..., None]) -> Any:
    import numba

    try:
        return numba.njit(cache=True, error_model="numpy")(function)
    except Exception:  # defined where numba cannot cache (a notebook cell, exec'd code)
        return numba.njit(error_model="numpy")(function)


_REGISTRY: dict[str, OptimizerSpec] = {}
_discovered = False


def register(spec: OptimizerSpec, *, replace: bool = False) -> OptimizerSpec:
    """Add ``spec`` to the registry (refusing to shadow an existing name unless ``replace``)."""
    if spec.name in _REGISTRY and not replace:
        raise OptbenchError(f"an optimizer named '{spec.name}' is already registered")
    _REGISTRY[spec.name] = spec
    return spec


def variant(
    base: OptimizerSpec,
    name: str,
    summary: str,
    paper: str | None = None,
    **changes: Mapping[str, float],
) -> OptimizerSpec:
    """A named variant of ``base``: same kernel, other defaults (``torch={...}, keras={...}``).

    Variants are how ``momentum``/``nesterov`` come from ``sgd`` and ``amsgrad``/``adamw`` from
    ``adam``: the update rule lives once, the names users know are one line each.
    """
    defaults = {p: {**base.defaults[p], **changes.get(p, {})} for p in base.defaults}
    return dataclasses.replace(
        base, name=name, summary=summary, paper=paper or base.paper, defaults=defaults, _compiled=[]
    )


def register_optimizer(
    name: str,
    defaults: Mapping[str, float],
    *,
    keras: Mapping[str, float] | None = None,
    checks: Mapping[str, str] | None = None,
    slots: int = 0,
    scalars: int = 0,
    summary: str = "",
    paper: str = "",
    replace: bool = False,
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Decorator: register a user kernel ``update(theta, grad, state, hp, t)`` as an optimizer.

    ``defaults`` lists every hyperparameter in ``hp`` order, ``lr`` first. ``checks`` names a
    validator per hyperparameter (``positive``, ``nonnegative``, ``unit``, ``closed_unit``,
    ``flag``, ``finite``); ``lr`` is checked positive unless you say otherwise. ``slots`` is the
    number of per-parameter state arrays, ``scalars`` extra scalar state entries.

    >>> import numpy as np, optbench
    >>> @optbench.register_optimizer("signsgd", {"lr": 1e-2}, summary="step along sign(g)")
    ... def signsgd(theta, grad, state, hp, t):
    ...     for i in range(theta.size):
    ...         theta[i] -= hp[0] * np.sign(grad[i])
    """
    checks = {"lr": "positive", **(checks or {})}
    for key, check in checks.items():
        if check not in CHECKS:
            raise unknown_name(f"check for '{key}'", check, CHECKS)

    def decorate(function: Callable[..., None]) -> Callable[..., None]:
        spec = OptimizerSpec(
            name=name,
            kernel=function,
            hypers=tuple(Hyper(k, checks.get(k, "finite")) for k in defaults),
            defaults={"torch": dict(defaults), "keras": {**defaults, **(keras or {})}},
            slots=slots,
            scalars=scalars,
            summary=summary or (function.__doc__ or "").strip().split("\n")[0],
            paper=paper,
        )
        register(spec, replace=replace)
        return function

    return decorate


def _discover() -> None:
    """Load built-ins, then every installed ``optbench.optimizers`` entry point, once."""
    global _discovered
    if _discovered:
        return
    _discovered = True
    importlib.import_module("optbench.optimizers.builtin")
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded = ep.load()
            items = loaded if isinstance(loaded, list | tuple) else [loaded]
            for item in items:
                if isinstance(item, OptimizerSpec) and item.name not in _REGISTRY:
                    register(item)
        except Exception as exc:  # a broken plug-in must not take the tool down
            warnings.warn(
                f"optbench: could not load optimizer plug-in '{ep.name}': {exc}", stacklevel=2
            )


def all_optimizers() -> dict[str, OptimizerSpec]:
    """Every registered optimizer, built-ins first in their teaching order."""
    _discover()
    return dict(_REGISTRY)


def get_optimizer(name: str) -> OptimizerSpec:
    """The spec called ``name``, or a one-line error suggesting the closest name."""
    _discover()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise unknown_name("optimizer", name, _REGISTRY) from None
