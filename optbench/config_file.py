"""Sweep files: TOML (Python's own tomllib) read into the settings the flags also give.

tomllib reports syntax errors with their line but knows nothing of positions once parsed, so
``key_line`` finds where a key was written: every error about a key names the file and line.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path

from optbench import settings
from optbench.config import SweepConfig, execution_settings
from optbench.errors import OptbenchError

_HEADER = re.compile(r"^\[\[?\s*([^\]]+?)\s*\]\]?\s*$")
_ASSIGNMENT = re.compile(r"^([A-Za-z0-9_\-.\"' ]+?)\s*=")


def _normal(dotted: str) -> str:
    return ".".join(part.strip().strip("\"'") for part in dotted.split("."))


def key_line(text: str, key: str) -> int | None:
    """The 1-based line where dotted ``key`` (or the table holding it) is written, if found."""
    table = ""
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        header = _HEADER.match(line)
        if header:
            table = _normal(header.group(1))
            if table == key or table.startswith(key + "."):
                return number
            continue
        assignment = _ASSIGNMENT.match(line)
        if assignment:
            name = _normal(assignment.group(1))
            full = f"{table}.{name}" if table else name
            if full == key or full.startswith(key + ".") or key.startswith(full + "."):
                return number
    return None


def load_sweep_file(
    path: str | Path, overrides: Mapping[str, object] | None = None
) -> tuple[SweepConfig, dict[str, object]]:
    """The sweep described by a TOML file, with ``overrides`` (flags or keywords, by setting
    name) on top of its top-level keys: the one place a file and flags are merged.

    Returns the validated sweep and its execution settings (executor, scheduler, workers,
    data_dir), the overrides' winning over the file's.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise OptbenchError(f"cannot read sweep file '{path}': {exc.strerror}") from None
    except UnicodeDecodeError:
        raise OptbenchError(f"{path}: not a text file in UTF-8 (TOML files are)") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise OptbenchError(f"{path}: malformed TOML: {exc}") from None
    overrides = {settings.canonical(k): v for k, v in (overrides or {}).items() if v is not None}
    raw = {settings.canonical(k): v for k, v in raw.items()}
    raw.update(overrides)

    def where(key: str) -> str:
        top = key.split(".", 1)[0]
        if top in overrides:
            return f"{settings.BY_NAME[top].flag}: " if top in settings.BY_NAME else f"{top}: "
        line = key_line(text, key)
        if line is None and top in settings.NETWORK:  # written under a [network] heading
            line = key_line(text, f"network.{key}")
        return f"{path}:{line}: " if line else f"{path}: "

    execution = execution_settings(raw, where)
    plan = {k: v for k, v in raw.items() if k not in settings.EXECUTION}
    return SweepConfig.from_raw(plan, where), execution
