"""User-facing errors: one exception type the CLI turns into a one-line message and exit 2.

Library code raises ``OptbenchError`` for anything the *user* got wrong (a name, a value, a file);
a genuine bug still raises whatever it raises, so it is never disguised as bad input.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class OptbenchError(ValueError):
    """Bad input: an unknown name, an impossible value, a malformed file, an unwritable folder."""


def unknown_name(kind: str, name: str, known: Iterable[str]) -> OptbenchError:
    """An error for an unknown ``name`` that suggests the closest known one."""
    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
    hint = f"; did you mean '{close[0]}'?" if close else f"; known: {', '.join(known)}"
    return OptbenchError(f"unknown {kind} '{name}'{hint}")
