"""The one place numba is configured: jit options, the kernel signature, the cache folder.

Every jitted function in optbench is built with ``jit`` so the options are set once:
``cache=True`` (a later process loads machine code instead of compiling), ``error_model="numpy"``
(2.4x faster on the optimizer kernels and bit-identical), and never ``fastmath`` (it makes
``np.isnan`` lie, which would break divergence detection).

Importing this module imports numba; only the engine and kernel modules import it, so the CLI's
``--help`` and ``list`` stay instant.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _ensure_writable_cache() -> None:
    """Point NUMBA_CACHE_DIR somewhere writable when neither the package nor ~/.cache is.

    numba fails at *import* of a ``cache=True`` function when it finds no writable locator.
    """
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    candidates = [Path(__file__).parent, Path.home() / ".cache"]
    for folder in candidates:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=folder):
                return
        except OSError:
            continue
    os.environ["NUMBA_CACHE_DIR"] = str(Path(tempfile.gettempdir()) / "optbench-numba-cache")


_ensure_writable_cache()

import numba  # noqa: E402
from numba import types  # noqa: E402

JIT_OPTIONS = {"cache": True, "error_model": "numpy"}


def jit(function=None, *, signature=None, **options):
    """``numba.njit`` with optbench's options; use bare (``@jit``) or with extra options
    (``@jit(parallel=True)``, ``@jit(inline="always")``, ``@jit(signature=...)``)."""
    options = {**JIT_OPTIONS, **options}

    def decorate(f):
        return (
            numba.njit(signature, **options)(f)
            if signature is not None
            else numba.njit(**options)(f)
        )

    return decorate(function) if function is not None else decorate


f8_1d = types.float64[::1]
f8_2d = types.float64[:, ::1]
f8_3d = types.float64[:, :, ::1]
i8_1d = types.int64[::1]

KERNEL_SIGNATURE = types.void(f8_1d, f8_1d, f8_1d, f8_1d, types.int64)
"""``update(theta, grad, state, hp, t)``: every optimizer kernel has exactly this signature."""

UPDATE_FUNCTION = types.FunctionType(KERNEL_SIGNATURE)
"""The engine takes the optimizer as a first-class function of this type, so one compiled
engine serves every optimizer (built-in or user-registered) and is reused from the disk cache."""
