"""Sweep files: TOML (Python's own tomllib) read into the same schema the flags produce.

tomllib reports syntax errors with their line but knows nothing of positions once parsed, so
``key_line`` finds where a key was written: every error about a key names the file and line.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from optbench.config import SweepConfig
from optbench.errors import OptbenchError

EXECUTION_KEYS = ("executor", "scheduler", "data_dir")
"""Where to run, not what: allowed in a file, kept out of the sweep's identity (its sha256)."""

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


def load_sweep_file(path: str | Path, overrides: dict | None = None) -> tuple[SweepConfig, dict]:
    """The sweep described by a TOML file, with flag ``overrides`` of top-level keys on top.

    Returns the validated config and the raw mapping (with any ``executor``, ``scheduler``,
    ``data_dir``).
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
    overrides = dict(overrides or {})
    if isinstance(raw.get("network"), dict) and "network" in overrides:  # merge, flags on top
        overrides["network"] = {**raw["network"], **overrides["network"]}
    raw.update(overrides)

    def where(key: str) -> str:
        top = key.split(".", 1)[0]
        if top in overrides:
            return f"--{top.replace('_', '-')}: "
        line = key_line(text, key)
        return f"{path}:{line}: " if line else f"{path}: "

    sweep_keys = {k: v for k, v in raw.items() if k not in EXECUTION_KEYS}
    for key in EXECUTION_KEYS:
        if key in raw and not isinstance(raw[key], str):
            raise OptbenchError(f"{where(key)}{key} = {raw[key]!r} must be a string")

    return SweepConfig.from_raw(sweep_keys, where), raw
