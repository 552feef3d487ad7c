"""Optimizers: the registry (``registry.py``) and the built-ins, each kernel beside its spec
(``builtin.py``). Importing this package imports neither numba nor the built-ins: they are
registered on the first lookup, by the loader handed to the registry here."""

from optbench.optimizers import registry
from optbench.optimizers.registry import (
    PRESETS,
    Hyper,
    OptimizerSpec,
    all_optimizers,
    get_optimizer,
    register,
    register_optimizer,
    variant,
)


def _register_builtins() -> None:
    import optbench.optimizers.builtin  # noqa: F401  (registers its specs on import)


registry.on_first_lookup(_register_builtins)

__all__ = [
    "PRESETS",
    "Hyper",
    "OptimizerSpec",
    "all_optimizers",
    "get_optimizer",
    "register",
    "register_optimizer",
    "variant",
]
