"""Hostile data, sizes and names (issue 11): memory counted before anything is allocated, data
sets and IDX files checked where they are read, optimizer names and imported modules checked
where they are registered; each refusal one line, never a traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

import optbench
import optbench.chunks as chunks
from optbench.cli import cli


def one_line_error(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 2, (result.output, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


# ---------------------------------------------------------------- item 5: memory, from counts


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["run", "-p", "spirals", "--epochs", "1000000000000"], "histories"),
        (["run", "-p", "spirals:n=1000000000000"], "data sets"),
        (["sweep", "-p", "spirals:n=1000000000000", "-o", "sgd"], "data sets"),
        (["run", "-p", "xor", "--hidden", "100000,100000"], "--hidden"),
    ],
)
def test_memory_is_counted_before_anything_is_made(args, fragment, tmp_path):
    out = tmp_path / "out"
    line = one_line_error(*args, "--out", str(out))
    assert fragment in line and "GiB is free" in line
    assert not out.exists()  # refused before the folder was made


def test_tuned_reruns_count_in_the_memory_check(tmp_path, monkeypatch):
    settings = dict(
        optimizers=["sgd"], problems=["bowl"], lr=[0.1, 0.2], seeds=1, steps=1000,
        record_every=1, tune="lr",
    )  # fmt: skip
    # the grid (2 runs of 1,002 rows) fits in 1 MB; 1,000 reruns of the pick do not
    monkeypatch.setattr(chunks, "available_memory", lambda: 2 * 2**20)
    with pytest.raises(optbench.OptbenchError, match="--record-every"):
        optbench.sweep(out=tmp_path / "a", plots=False, final_seeds=1000, **settings)
    assert not (tmp_path / "a").exists()
    result = optbench.sweep(out=tmp_path / "b", plots=False, final_seeds=2, **settings)
    assert (result.runs["phase"] == "final").sum() == 2
