"""Optimizers: the registry (``registry.py``), built-in specs (``builtin.py``), jitted kernels
(``kernels.py``). Importing this package does not import numba."""

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
