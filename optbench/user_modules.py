"""The user's own modules (``--import``): imported once here, and again on every Dask worker.

``--import my_problems.py`` runs a module whose ``register_problem`` / ``register_optimizer``
calls make names exist before any is looked up. A Dask worker is another process, so the
names it registered are not there: ``IMPORTED`` keeps what this process imported (files by
absolute path) and ``run_chunk`` imports the same on the worker before its first run.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from optbench.errors import OptbenchError

IMPORTED: list[str] = []
"""What this process imported, in order: module names, or absolute paths of ``.py`` files."""


def import_modules(names: Sequence[str]) -> None:
    """Import each of ``names`` (a dotted module name, or a path to a ``.py`` file) so the
    optimizers and problems it registers (``@optbench.register_optimizer``,
    ``@optbench.register_problem``) exist before the suite or command runs.
    The current folder is importable, as with ``python -m``."""
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    for name in names:
        is_file = name.endswith(".py") or os.sep in name
        if is_file and not Path(name).is_file():
            raise OptbenchError(f"--import {name}: no such file")
        try:
            if is_file:
                path = Path(name).resolve()
                spec = importlib.util.spec_from_file_location(path.stem, path)
                module = importlib.util.module_from_spec(spec)
                sys.modules[path.stem] = module
                spec.loader.exec_module(module)
            else:
                importlib.import_module(name)
        except OptbenchError as exc:  # e.g. a name register_optimizer refused: say which module
            raise OptbenchError(f"--import {name}: {exc}") from None
        except SystemExit as exc:  # a module must not end the tool (silently, with its code)
            raise OptbenchError(
                f"--import {name}: the module called sys.exit({exc.code!r}) while being imported"
            ) from None
        except Exception as exc:  # the user's module failed: say which and why, in one line
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            raise OptbenchError(f"--import {name}: {type(exc).__name__}: {first}") from None
        done = str(Path(name).resolve()) if is_file else name
        if done not in IMPORTED:
            IMPORTED.append(done)


def import_missing(names: Sequence[str], folder: str | None = None) -> list[str]:
    """Import those of ``names`` (as ``IMPORTED`` records them) this process has not: a Dask
    worker before each chunk, so a module runs once per worker. ``folder`` (the importing
    process's working folder) is searched for module names, as it was there.

    Best effort: a module that fails here is reported back (its messages), not raised, because
    the chunk may not need it; a chunk that does fails on the unknown name, with these."""
    if folder and folder not in sys.path:
        sys.path.append(folder)
    failed = []
    for name in names:
        if name not in IMPORTED:
            try:
                import_modules([name])
            except OptbenchError as exc:
                failed.append(str(exc))
    return failed
