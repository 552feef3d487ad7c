"""The one place numba is configured: jit options, the kernel signature, the cache folder.

Every jitted function in optbench is built with ``jit`` so the options are set once:
``cache=True`` (a later process loads machine code instead of compiling), ``error_model="numpy"``
(2.4x faster on the optimizer kernels and bit-identical), and never ``fastmath`` (it makes
``np.isnan`` lie, which would break divergence detection).

Importing this module imports numba; only the engine and kernel modules import it, so the CLI's
``--help`` and ``list`` stay instant.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from pathlib import Path


def source_fingerprint() -> str:
    """16 hex digits of the sha256 of every optbench source file.

    numba's cache checks only the file that *defines* a cached function; a change in a file it
    calls (an engine calls its family's ``kernels``, ``rng``) would go unnoticed and
    stale machine code would run. Caching under this fingerprint makes any source change, an
    upgrade included, start from a fresh cache.
    """
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.rglob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def cache_folder() -> Path:
    """Where numba keeps optbench's compiled code: ``<base>/optbench-<fingerprint>``.

    The base is ``$NUMBA_CACHE_DIR`` when set (CI caches keep working), else
    ``~/.cache/optbench/numba``, else the temporary folder: a read-only install still caches.
    """
    given = os.environ.get("NUMBA_CACHE_DIR")
    bases = [Path(given)] if given else [Path.home() / ".cache" / "optbench" / "numba"]
    bases.append(Path(tempfile.gettempdir()) / "optbench-numba-cache")
    fingerprint = source_fingerprint()
    for base in bases:
        if base.name.startswith("optbench-") and base.name.endswith(fingerprint):
            return base  # already ours (a child process inherits the environment)
        if _writable(base / f"optbench-{fingerprint}"):
            return base / f"optbench-{fingerprint}"
    return bases[-1] / f"optbench-{fingerprint}"


CACHE_FOLDER = cache_folder()
os.environ["NUMBA_CACHE_DIR"] = str(CACHE_FOLDER)  # before numba reads its configuration

import numba  # noqa: E402
from numba import types  # noqa: E402

numba.config.CACHE_DIR = str(CACHE_FOLDER)  # in case numba was imported before optbench

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
u8_1d = types.uint64[::1]

KERNEL_SIGNATURE = types.void(f8_1d, f8_1d, f8_1d, f8_1d, types.int64)
"""``update(theta, grad, state, hp, t)``: every optimizer kernel has exactly this signature."""

UPDATE_FUNCTION = types.FunctionType(KERNEL_SIGNATURE)
"""The engine takes the optimizer as a first-class function of this type, so one compiled
engine serves every optimizer (built-in or user-registered) and is reused from the disk cache."""


PROBLEM_SIGNATURE = types.float64(f8_1d, f8_1d, f8_1d)
"""``value_and_grad(theta, grad, params) -> loss``: every problem kernel has exactly this
signature (θ of any length, the gradient written into ``grad``, the problem's parameter vector)."""

PROBLEM_FUNCTION = types.FunctionType(PROBLEM_SIGNATURE)
"""The engine takes the problem as a first-class function of this type, as it takes the
optimizer: a new problem compiles only its own kernel and reuses the cached engine."""


SCHEDULE_SIGNATURE = types.void(f8_1d, f8_1d, types.int64)
"""``apply(row, hp, t)``: sets ``hp`` for update ``t`` from a run's schedule row."""

SCHEDULE_FUNCTION = types.FunctionType(SCHEDULE_SIGNATURE)
"""The engines take the schedule as a first-class function too, so the schedules compile only
when a run has one (``optbench.schedules.kernels.schedule_function``), never on a first run at a
constant learning rate."""


_ANNOUNCED: set[str] = set()


def is_cached(module: str, function: str) -> bool:
    """Whether numba's cache already holds ``module.function`` for this version of optbench
    (its index file is named after the module's folder, file and function)."""
    package, _, stem = module.rpartition(".")
    folder = package.rpartition(".")[2]
    return any(CACHE_FOLDER.glob(f"{folder}_*/{stem}.{function}-*.nbi"))


def announce_compile(module: str, function: str, what: str, seconds: float) -> None:
    """One line on stderr before ``what`` compiles, so a first run does not look hung; nothing
    when numba's cache holds it (a later process only loads it), and once per process."""
    if module in _ANNOUNCED or module in sys.modules or is_cached(module, function):
        return
    _ANNOUNCED.add(module)
    print(
        f"compiling {what} for this version of optbench — once, about {seconds:.0f} s…",
        file=sys.stderr,
        flush=True,
    )
