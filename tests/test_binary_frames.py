"""The chunks' binary format: a frame comes back exactly as its CSV would read."""

import io

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optbench.binary_frames import as_csv_reads, read_frames, write_frames
from optbench.results import read_table


def as_csv(frame: pd.DataFrame) -> pd.DataFrame:
    return read_table(io.StringIO(frame.to_csv(index=False)))


AWKWARD = pd.DataFrame(
    {
        "run_id": ["1331020789e1", "abc", "0x12"],  # an id that looks like a number
        "problem": ["a", "b", "c"],
        "n": pd.array([1, None, 3], "Int64"),
        "m": pd.array([1, 2, 3], "Int64"),
        "allmissing": pd.array([None, None, None], "Int64"),
        "f": [0.1, np.nan, 1e300],
        "b": [True, False, True],
        "i": [1, 2, 3],
        "hidden": ["64", "64,32", None],  # text that reads back as a number where it can
        "act": [None, None, None],
        "mixed": ["x", 1, 2.5],
        "phase": ["grid", "grid", ""],  # an empty name reads back as missing
    }
)


def test_awkward_columns_read_as_from_csv_and_round_trip(tmp_path):
    normal = as_csv_reads(AWKWARD)
    pd.testing.assert_frame_equal(normal, as_csv(AWKWARD))
    write_frames(tmp_path / "c.npz", {"runs": normal, "history": normal.iloc[:2]})
    back = read_frames(tmp_path / "c.npz")
    pd.testing.assert_frame_equal(back["runs"], normal)
    pd.testing.assert_frame_equal(back["history"], normal.iloc[:2])
    assert back["runs"].to_csv(index=False) == normal.to_csv(index=False)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(allow_nan=True, allow_infinity=True),
            st.one_of(st.none(), st.integers(-(2**40), 2**40)),
            st.text(alphabet="ab1e.,- ", max_size=6),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_any_float_int_and_text_column_round_trips(tmp_path_factory, rows):
    frame = pd.DataFrame(
        {
            "run_id": [f"id{k}" for k in range(len(rows))],
            "x": [r[0] for r in rows],
            "steps_to": pd.array([r[1] for r in rows], "Int64"),
            "note": [r[2] for r in rows],
        }
    )
    normal = as_csv_reads(frame)
    pd.testing.assert_frame_equal(normal, as_csv(frame))
    path = tmp_path_factory.mktemp("f") / "c.npz"
    write_frames(path, {"runs": normal})
    pd.testing.assert_frame_equal(read_frames(path)["runs"], normal)


@pytest.mark.parametrize("content", [b"", b"junk", b"PK\x03\x04 cut"])
def test_damaged_files_raise_value_errors(tmp_path, content):
    import zipfile

    path = tmp_path / "c.npz"
    path.write_bytes(content)
    with pytest.raises((ValueError, OSError, zipfile.BadZipFile, EOFError)):
        read_frames(path)
