"""``csv_text`` writes what ``DataFrame.to_csv(index=False)`` writes, byte for byte."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from optbench.csv_text import csv_text

HOSTILE_FLOATS = [0.0, -0.0, np.nan, np.inf, -np.inf, 1e16, 1e15, 9999999999999998.0, 1e-4, 1e-5,
                  5e-324, 1.7976931348623157e308, 0.1, 1 / 3, 2.0**53, 123456789012345678.0,
                  -2.5e-7, 1.0]  # fmt: skip
HOSTILE_TEXT = ["plain", "with,comma", 'a "quote"', "new\nline", "carriage\rreturn", "", " lead",
                "trail ", "ünïcødé ∞", None, np.nan, "1e-3", "#hash"]  # fmt: skip


def _same(frame: pd.DataFrame) -> None:
    assert csv_text(frame) == frame.to_csv(index=False)


def test_hostile_floats_and_random_ones_match_pandas():
    rng = np.random.default_rng(7)
    random = np.concatenate(
        [rng.standard_normal(3000), 10.0 ** rng.uniform(-320, 308, 3000),
         rng.integers(-(10**17), 10**17, 1000).astype(float)]
    )  # fmt: skip
    values = np.concatenate([HOSTILE_FLOATS, -np.array(HOSTILE_FLOATS), random])
    _same(pd.DataFrame({"x": values, "y": values[::-1]}))


def test_every_column_kind_optbench_writes_matches_pandas():
    n = len(HOSTILE_TEXT)
    frame = pd.DataFrame(
        {
            "text": HOSTILE_TEXT,
            "string": pd.array(HOSTILE_TEXT, dtype="string"),
            "ints": np.arange(n, dtype=np.int64) * -(10**15),
            "flags": np.arange(n) % 3 == 0,
            "whole": pd.array([None if i % 4 == 0 else i for i in range(n)], dtype="Int64"),
            "mixed": [1, 2.5, "x", None, np.nan, True, 1e-7, -0.0, "", "y,z", 3, 4, 5],
            "floats": HOSTILE_FLOATS[:n],
            'a, odd "name"': np.linspace(0, 1, n),
        }
    )
    _same(frame)


def test_plain_text_one_column_and_blank_fields_match_pandas():
    """Text with nothing to quote takes the joined path; one column, where a blank field is
    quoted, and quoted names take the writer's."""
    _same(pd.DataFrame({"name": ["adam", "", None, "sgd"], "x": [1.0, np.nan, 2.0, -0.0]}))
    _same(pd.DataFrame({"only": ["", "a", None]}))
    _same(pd.DataFrame({"only": [np.nan, 1.5]}))
    _same(pd.DataFrame({"a,b": [1.0], "c": [2.0]}))


def test_frames_it_does_not_handle_are_left_to_pandas():
    _same(pd.DataFrame({"t": pd.date_range("2026-01-01", periods=3), "x": [1.0, 2.0, 3.0]}))
    _same(pd.DataFrame({"f32": np.array([0.1, 1 / 3, np.nan], dtype=np.float32)}))
    _same(pd.DataFrame({"c": pd.Categorical(["a", "b", "a"])}))
    _same(pd.DataFrame({"x": [], "y": []}))
    _same(pd.DataFrame())


@pytest.mark.parametrize("folder", ["run", "sweep"])
def test_a_run_folder_and_a_sweep_folder_read_back_to_the_same_text(tmp_path, folder):
    """The real frames (runs and history of both families' commands) through both writers."""
    import optbench

    if folder == "run":
        result = optbench.run(["sgd", "adam"], "beale", steps=50, save=False)
    else:
        result = optbench.sweep(optimizers=["sgd"], problems=["xor"], lr="0.1..1:2", epochs=3,
                                out=tmp_path / "s", plots=False)  # fmt: skip
    for frame in (result.runs, result.history):
        _same(frame)
