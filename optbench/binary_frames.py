"""Frames stored in binary and read back exactly as their CSV would read: the chunks' format.

A sweep writes a chunk every few hundred runs; as CSV that was a text round trip per chunk (100
chunks of a 10,000-run sweep: 3.5 s of ``to_csv`` and ``read_csv``). Here the number columns are
stored as raw float64/int64/bool arrays in one uncompressed ``.npz`` (no pickle: a folder from
elsewhere cannot run code when loaded) and the text columns as JSON. What a chunk holds is first
made exactly what ``read_table`` would return from that frame's CSV (``as_csv_reads``), so
``runs.csv`` written from chunks is byte for byte what the CSV chunks gave.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

_PLAIN = ("f", "i", "u", "b")  # numpy number and bool kinds: stored and read as raw arrays
_SCHEMA = "schema"


def _plain(series: pd.Series) -> bool:
    return isinstance(series.dtype, np.dtype) and series.dtype.kind in _PLAIN


def _all_text(series: pd.Series) -> bool:
    """Every value a non-empty string (an empty one or a missing one reads back as NaN)."""
    return all(type(v) is str and v for v in series.tolist())


def as_csv_reads(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every column as ``read_table`` reads it from the frame's own CSV.

    float64, int64 and bool columns come back unchanged from a CSV (floats are written as their
    shortest repr); a nullable integer column comes back as int64, or float64 where a value
    is missing; an id or name column (``TEXT_COLUMNS``) of non-empty strings as ``str``. Any
    other column goes through a CSV of those columns alone, so the reader decides as it would.
    """
    import pandas as pd

    from optbench.results import TEXT_COLUMNS, read_table

    if frame.empty:  # no values to decide a column's type from: the reader's own choice
        return read_table(io.StringIO(frame.to_csv(index=False)))  # type: ignore[arg-type]
    columns = dict(frame.items())
    others = []
    for name, series in columns.items():
        if _plain(series):
            continue
        if name in TEXT_COLUMNS and _all_text(series):  # read_table reads these as text
            columns[name] = series.astype("str")
        elif isinstance(series.dtype, pd.Int64Dtype):  # a whole number column, maybe missing
            missing = series.isna().to_numpy()
            numbers = series.to_numpy(dtype=np.float64, na_value=np.nan)
            columns[name] = pd.Series(
                numbers if missing.any() or not len(numbers) else numbers.astype(np.int64),
                index=frame.index,
            )
        else:
            others.append(name)
    frame = pd.DataFrame(columns, index=frame.index)
    if not others:
        return frame
    # a number column first: a row whose text is blank must not read as a blank line
    text = frame[others].assign(**{"\0row": 0})[["\0row", *others]]
    read = read_table(io.StringIO(text.to_csv(index=False)))  # type: ignore[arg-type]
    read.index = frame.index
    columns = {c: read[c] if c in others else frame[c] for c in frame.columns}
    return pd.DataFrame(columns, index=frame.index)


def write_frames(path: Path, frames: dict[str, pd.DataFrame]) -> None:
    """Write named frames (already ``as_csv_reads``) to ``path``, an open-able ``.npz``."""
    arrays: dict[str, np.ndarray] = {}
    schema: dict[str, list[list[str]]] = {}
    for name, frame in frames.items():
        columns = []
        for k, column in enumerate(frame.columns):
            series = frame[column]
            key = f"{name}.{k}"
            if _plain(series):
                arrays[key] = series.to_numpy()
                columns.append([str(column), "array", str(series.dtype)])
            else:
                values = [None if v is None or v != v else v for v in series.tolist()]
                arrays[key] = np.array(json.dumps(values, allow_nan=False))
                columns.append([str(column), "json", str(series.dtype)])
        schema[name] = columns
    arrays[_SCHEMA] = np.array(json.dumps(schema))
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)


def read_frames(path: Path) -> dict[str, pd.DataFrame]:
    """The frames ``write_frames`` wrote; raises ``ValueError`` (``OSError`` when unreadable)
    for anything else: a damaged archive, a missing or foreign schema, a column of another
    type or length."""
    import pandas as pd

    try:
        stored = np.load(path, allow_pickle=False)
    except (EOFError, zipfile.BadZipFile) as exc:  # empty, cut off
        raise ValueError(f"not a frames file: {exc}") from None
    if not isinstance(stored, Mapping):  # a bare .npy array, not an archive of columns
        raise ValueError("not a frames file: a single array")
    with stored:
        if _SCHEMA not in stored:
            raise ValueError("not a frames file: no schema")
        schema = json.loads(str(stored[_SCHEMA][()]))
        if not isinstance(schema, dict):
            raise ValueError("chunk schema is not a table")
        frames = {}
        for name, columns in schema.items():
            data = {}
            for k, (column, kind, dtype) in enumerate(columns):
                raw = stored[f"{name}.{k}"]
                if kind == "array":
                    if str(raw.dtype) != dtype or raw.ndim != 1:
                        raise ValueError(f"column {column} is not a 1-D {dtype} array")
                    data[column] = raw
                elif kind == "json":
                    values = json.loads(str(raw[()]))
                    if not isinstance(values, list):
                        raise ValueError(f"column {column} is not a list")
                    if dtype == "object":  # a missing value reads as NaN, as from a CSV
                        values = [np.nan if v is None else v for v in values]
                    data[column] = pd.array(values, dtype=dtype)
                else:
                    raise ValueError(f"column {column} has an unknown kind {kind!r}")
            lengths = {len(v) for v in data.values()}
            if len(lengths) > 1:
                raise ValueError(f"the columns of {name} differ in length")
            frames[name] = pd.DataFrame(data)
    return frames
