"""How a problem parameter is written in a label (``spirals:n=1234567``).

The label is the problem's identity: a ``RunConfig`` holds it, the engine parses it back, and
the run_id hashes it. So the text must read back as the very value: ``{v:g}`` keeps six digits
(``n=1234567`` would come back as 1234570, another data set), kept only where it is exact so
the labels and run_ids of earlier sweeps stay what they were.
"""

from __future__ import annotations


def param_text(value: float) -> str:
    """The shortest text of ``value`` that reads back as ``value`` exactly."""
    short = f"{value:g}"
    if float(short) == value:
        return short
    if value.is_integer() and abs(value) < 2**63:
        return str(int(value))
    return repr(value)
