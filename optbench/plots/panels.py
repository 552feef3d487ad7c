"""Which panels a sweep's frame splits into: one per combination of the cell columns it holds.

Every setting that defines a cell (``analysis.CELL``: problem, conditions, and whatever else a
sweep can vary) is either a panel of its own or drawn by colour (the optimizer), so two
different settings are never drawn as one line. Titles name only what varies.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from optbench.analysis import SCHEDULE_PREFIX, cell_columns, varying


def cell_panels(
    frame: pd.DataFrame, first: str | None = None
) -> list[tuple[dict[str, Any], pd.DataFrame]]:
    """(the varying settings by name, the rows) per combination of cell columns, in order of
    first appearance. The optimizer is left to the lines unless ``first`` names it."""
    keys = [c for c in cell_columns(frame) if c != "optimizer"]
    if first is not None:
        keys = [first, *(k for k in keys if k != first)]
    params = [k for k in keys if k.startswith(SCHEDULE_PREFIX)]
    plain = [k for k in keys if k not in params]
    shown = set(varying(frame, plain)) | {first}
    for column in [k for k in plain if k in shown and k not in ("problem", first)]:
        others = [k for k in plain if k in shown and k != column]
        if others and frame.groupby(others, dropna=False)[column].nunique().max() <= 1:
            shown.discard(column)  # implied by the others (a network's steps by its batch size)
    named_by = [k for k in plain if k in shown] or ["schedule"]
    for column in params:  # a schedule's parameter is named only where it tells panels apart
        if frame.groupby(named_by, dropna=False)[column].nunique().max() > 1:
            shown.add(column)
    panels = []
    for key, rows in frame.groupby(keys, sort=False, dropna=False):
        named = {c: v for c, v in zip(keys, key, strict=True) if c in shown and pd.notna(v)}
        panels.append((named, rows))
    return panels
