"""The optimizer registry: specs, validation, user registration and plug-in discovery.

This module never imports numba: ``optbench list optimizers`` and ``--help`` read specs only.
A spec holds its kernel (a plain Python function with the uniform signature
``update(theta, grad, state, hp, t)``); numba compiles it the first time a run needs it.

The registry is one dict. Built-ins, decorator registrations and ``optbench.optimizers`` entry
points all land in it, so every command sees the same optimizers and tests iterate over it.
This module knows nothing of the built-ins: ``optimizers/__init__.py`` hands it their loader
(``on_first_lookup``), so ``builtin.py`` imports the registry and never the other way round.
"""

from __future__ import annotations

import dataclasses
import math
import re
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from optbench.errors import OptbenchError, unknown_name

PRESETS = ("torch", "keras")
"""Conventions: torch.optim 2.x (the default) and Keras 3 (``--preset keras``)."""

ENTRY_POINT_GROUP = "optbench.optimizers"

FALLBACK_COLORS = ("#1B9E77", "#A6761D", "#E7298A", "#66A61E", "#7570B3", "#444444")
"""Plot colours of optimizers that name none: picked by a hash of the name, so stable."""

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
    ``defaults`` maps a preset name to a full {name: value} dict. The rest is what the tool
    around the optimizer needs, kept here so adding an optimizer is one place: ``color`` in
    every figure (empty: one of ``FALLBACK_COLORS``), ``smoke_lr`` the torch-preset learning
    rate per smoke case (``optbench bench --suite smoke``) and ``smoke_lr_keras`` the cases
    where Keras' defaults need another, ``truth_table_lr`` the lr for the four-row tables.
    """

    name: str
    kernel: Callable[..., None]
    hypers: tuple[Hyper, ...]
    defaults: Mapping[str, Mapping[str, float]]
    slots: int = 0
    scalars: int = 0
    summary: str = ""
    paper: str = ""
    constraint: Callable[[dict[str, float]], str | None] | None = None
    color: str = ""
    smoke_lr: Mapping[str, float] = field(default_factory=dict)
    smoke_lr_keras: Mapping[str, float] = field(default_factory=dict)
    truth_table_lr: float | None = None
    _compiled: list[Any] = field(default_factory=list, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.color:
            index = sum(map(ord, self.name)) % len(FALLBACK_COLORS)
            object.__setattr__(self, "color", FALLBACK_COLORS[index])
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

    def smoke_lr_for(self, case: str, preset: str) -> float | None:
        """The smoke suite's lr for ``case`` (a smoke case name) and ``preset``; None leaves it
        to ``--lr``, the baseline or a search."""
        if preset == "keras" and case in self.smoke_lr_keras:
            return self.smoke_lr_keras[case]
        return self.smoke_lr.get(case)

    def suggested_lr(self, problem: object, preset: str = "torch") -> float | None:
        """The lr a run takes on ``problem`` (a problem spec) when none is given, if it is not
        the preset's default: full-batch steps on a four-row truth table need far larger ones
        (sgd at 1e-2 learns nothing of XOR in 2000 epochs). None: the preset's default."""
        if getattr(problem, "is_truth_table", False):
            return self.truth_table_lr
        return None

    def compiled(self) -> Any:
        """The kernel compiled for the uniform signature (loaded from numba's cache if there)."""
        if not self._compiled:
            from optbench import _jit

            kernel = self.kernel
            if not hasattr(kernel, "compile"):  # a plain Python function: jit it once
                kernel = _jitted(kernel)
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


_JITTED: dict[Callable[..., None], Any] = {}
"""One numba dispatcher per kernel function: variants (``momentum`` of ``sgd``) share it."""


def _jitted(function: Callable[..., None]) -> Any:
    from optbench import _jit

    if function not in _JITTED:
        try:
            _JITTED[function] = _jit.jit(function)
        except Exception:  # defined where numba cannot cache (a notebook cell, exec'd code)
            _JITTED[function] = _jit.jit(function, cache=False)
    return _JITTED[function]


_REGISTRY: dict[str, OptimizerSpec] = {}
_LOADERS: list[Callable[[], None]] = []
_discovered = False


def on_first_lookup(loader: Callable[[], None]) -> None:
    """Call ``loader`` (which registers optimizers) before the first lookup, ahead of plug-ins."""
    _LOADERS.append(loader)


NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")
"""An optimizer name: letters, digits, ``_`` and ``-`` (not first). A comma would split it in
``-o a,b``, a dot would read as ``--hp name.beta1``, a leading dash as a flag."""


def check_name(name: object) -> str:
    """``name`` if it can be typed as an optimizer name everywhere, else a one-line error."""
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise OptbenchError(
            f"optimizer name {name!r}: use letters, digits, _ and - (not first), e.g. 'my_adam'"
        )
    return name


def register(spec: OptimizerSpec, *, replace: bool = False) -> OptimizerSpec:
    """Add ``spec`` to the registry (refusing to shadow an existing name unless ``replace``)."""
    check_name(spec.name)
    if spec.name in _REGISTRY and not replace:
        raise OptbenchError(f"an optimizer named '{spec.name}' is already registered")
    _REGISTRY[spec.name] = spec
    return spec


def variant(
    base: OptimizerSpec,
    name: str,
    summary: str,
    paper: str | None = None,
    *,
    color: str = "",
    smoke_lr: Mapping[str, float] | None = None,
    smoke_lr_keras: Mapping[str, float] | None = None,
    truth_table_lr: float | None = None,
    **changes: Mapping[str, float],
) -> OptimizerSpec:
    """A named variant of ``base``: same kernel, other defaults (``torch={...}, keras={...}``).

    Variants are how ``momentum``/``nesterov`` come from ``sgd`` and ``amsgrad``/``adamw`` from
    ``adam``: the update rule lives once, the names users know are one line each. A variant is
    an optimizer of its own, so it does not inherit the colour or the learning rates tuned for
    ``base``.
    """
    defaults = {p: {**base.defaults[p], **changes.get(p, {})} for p in base.defaults}
    return dataclasses.replace(
        base,
        name=name,
        summary=summary,
        paper=paper or base.paper,
        defaults=defaults,
        color=color,
        smoke_lr=dict(smoke_lr or {}),
        smoke_lr_keras=dict(smoke_lr_keras or {}),
        truth_table_lr=truth_table_lr,
        _compiled=[],
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
    check_name(name)  # at the call, before any function is decorated
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
    """Run the loaders (the built-ins), then every ``optbench.optimizers`` entry point, once."""
    global _discovered
    if _discovered:
        return
    _discovered = True
    for loader in _LOADERS:
        loader()
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
