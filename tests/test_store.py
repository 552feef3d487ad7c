"""The results folder under hostile conditions: numeric-looking ids, damaged or stray chunks,
folders that are not the same sweep, corrupt manifests, two writers, errors after the folder."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import optbench
import optbench.executors
from optbench.cli import cli

NUMERIC_ID_SWEEP = 'problems = ["bowl"]\noptimizers = ["adam"]\nsteps = 10\nseeds = [137]\n'
NUMERIC_ID = "1331020789e1"  # the run id of that sweep's one run: it reads as a float

SMALL = ["-o", "sgd,adam", "-p", "bowl", "--lr", "0.01,0.1", "--seeds", "2", "--steps", "12"]


def invoke(*args: str | Path):
    return CliRunner().invoke(cli, [str(a) for a in args])


def one_line_error(*args: str | Path) -> str:
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


def sweep_cli(out: Path, *extra: str | Path) -> None:
    result = invoke("sweep", *SMALL, "--chunk-size", "2", "--no-plots", "--out", out, *extra)
    assert result.exit_code == 0, result.output


def comparable(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=[c for c in ("wall_s",) if c in frame.columns])


def assert_same_results(folder: Path, reference: Path) -> None:
    for name in ("runs.csv", "history.csv", "best.csv"):
        got, want = (pd.read_csv(f / name, dtype={"run_id": str}) for f in (folder, reference))
        pd.testing.assert_frame_equal(comparable(got), comparable(want))


# ---------------------------------------------------------------- item 2: ids are text


def test_run_ids_that_look_like_numbers_stay_text_and_resume_reruns_nothing(tmp_path):
    file = tmp_path / "numeric.toml"
    file.write_text(NUMERIC_ID_SWEEP)
    out = tmp_path / "s"
    assert invoke("sweep", file, "--no-plots", "--out", out).exit_code == 0
    chunks = sorted(p.name for p in (out / "chunks").iterdir())
    for _ in range(2):
        result = invoke("sweep", file, "--no-plots", "--out", out, "--resume")
        assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (out / "chunks").iterdir()) == chunks
    loaded = optbench.load(out)
    assert list(loaded.runs["run_id"]) == [NUMERIC_ID]
    assert set(loaded.history["run_id"]) == {NUMERIC_ID}
    assert "1331020789e1" in (out / "runs.csv").read_text()


# ---------------------------------------------------------------- item 9 and 7: damaged chunks


def test_a_truncated_chunk_is_rerun_not_merged(tmp_path):
    sweep_cli(tmp_path / "whole")
    out = tmp_path / "s"
    sweep_cli(out)
    chunk_files = sorted((out / "chunks").glob("grid-*.frames.npz"))
    data = chunk_files[1].read_bytes()
    chunk_files[1].write_bytes(data[: len(data) // 2])  # cut in the middle
    chunk_files[0].write_bytes(chunk_files[0].read_bytes()[:-40])  # cut in the zip directory
    sweep_cli(out, "--resume")
    assert_same_results(out, tmp_path / "whole")


def test_a_chunk_that_matches_its_seal_but_is_not_a_chunk_is_rerun(tmp_path):
    """A sealed file of the right name and digest that holds junk, a frame of the wrong
    shape or a column of the wrong type (an edit, a file from elsewhere) is rerun."""
    import hashlib
    import json

    import numpy as np

    sweep_cli(tmp_path / "whole")
    out = tmp_path / "s"
    sweep_cli(out)
    chunk_files = sorted((out / "chunks").glob("grid-*.frames.npz"))
    contents = [
        b"not a zip at all",
        b"",
        None,  # a valid npz without a schema
        "schema",  # a schema naming a column kind that does not exist
    ]
    for path, content in zip(chunk_files, contents, strict=False):
        if content is None:
            with open(path, "wb") as handle:
                np.savez(handle, x=np.arange(3))
        elif content == "schema":
            schema = {"runs": [["run_id", "pickle", "object"]], "history": []}
            with open(path, "wb") as handle:
                np.savez(handle, schema=np.array(json.dumps(schema)), **{"runs.0": np.arange(2)})
        else:
            path.write_bytes(content)
        seal = path.with_name(path.name.replace(".frames.npz", ".seal.json"))
        record = json.loads(seal.read_text())
        record["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
        seal.write_text(json.dumps(record))
    sweep_cli(out, "--resume")
    assert_same_results(out, tmp_path / "whole")


def test_stray_empty_and_foreign_chunk_files_are_ignored_or_rerun(tmp_path):
    sweep_cli(tmp_path / "whole")
    out = tmp_path / "s"
    sweep_cli(out)
    chunks = out / "chunks"
    (chunks / "grid-00001.frames.npz").write_text("")  # empty
    (chunks / "grid-00099.frames.npz").write_text("run_id\n123\n")  # unsealed stray
    (chunks / "grid-x.frames.npz").write_text("junk")
    (chunks / "notes.runs.csv").write_bytes(b"\xff\xfe")
    (chunks / "README").write_text("mine")
    (chunks / "grid-00050.frames.npz").mkdir()
    sweep_cli(out, "--resume")
    assert_same_results(out, tmp_path / "whole")
    assert (chunks / "README").is_file() and (chunks / "notes.runs.csv").is_file()
    runs = pd.read_csv(out / "runs.csv")
    assert runs["run_id"].is_unique and len(runs) == 8


# ---------------------------------------------------------------- item 3 and 7: which folder


def test_resume_refuses_a_run_folder(tmp_path):
    out = tmp_path / "r"
    assert invoke("run", "-o", "sgd", "-p", "bowl", "--steps", "5", "--out", out).exit_code == 0
    before = (out / "runs.csv").read_bytes()
    line = one_line_error("sweep", *SMALL, "--no-plots", "--out", out, "--resume")
    assert "optbench run" in line and "not a sweep" in line
    assert (out / "runs.csv").read_bytes() == before and not (out / "chunks").exists()


def test_resume_refuses_chunks_copied_from_another_sweep(tmp_path):
    sweep_cli(tmp_path / "other")
    out = tmp_path / "copy"
    out.mkdir()
    (out / "chunks").mkdir()
    for path in (tmp_path / "other" / "chunks").iterdir():
        (out / "chunks" / path.name).write_bytes(path.read_bytes())
    other = ["-o", "sgd", "-p", "bowl", "--lr", "0.01", "--seeds", "1", "--steps", "12"]
    line = one_line_error("sweep", *other, "--no-plots", "--out", out, "--resume")
    assert "only chunks and no manifest.json" in line
    assert sorted(p.name for p in out.iterdir()) == ["chunks"]


def edit_manifest(folder: Path, change) -> None:
    path = folder / "manifest.json"
    data = json.loads(path.read_text())
    path.write_text(change(data) if callable(change) else change)


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (
            lambda d: json.dumps({**d, "config": {**d["config"], "sha256": None}}),
            "no config sha256",
        ),
        (lambda d: json.dumps({**d, "config": "sweep"}), "records no sweep config"),
        ("[1, 2, 3]", "not a JSON object"),
        ('{"config": {"kind": "sweep", "sha', "is not valid JSON"),
        (b"\xff\xfe{}", "is not valid JSON"),
    ],
)
def test_resume_refuses_a_manifest_that_cannot_prove_the_sweep(tmp_path, change, fragment):
    out = tmp_path / "s"
    sweep_cli(out)
    if isinstance(change, bytes):
        (out / "manifest.json").write_bytes(change)
    else:
        edit_manifest(out, change)
    runs = (out / "runs.csv").read_bytes()
    assert fragment in one_line_error("sweep", *SMALL, "--no-plots", "--out", out, "--resume")
    assert (out / "runs.csv").read_bytes() == runs


# ---------------------------------------------------------------- item 4: one writer per folder

SLOW = [
    *["sweep", "-o", "sgd,adam", "-p", "rosenbrock", "--lr", "1e-4..1e-2:8", "--seeds", "4"],
    *["--steps", "400000", "--record-every", "100000", "--chunk-size", "4", "--no-plots"],
]


def test_a_second_writer_is_refused_and_a_dead_writers_lock_is_taken_over(tmp_path):
    out = tmp_path / "s"
    env = {**os.environ, "NUMBA_NUM_THREADS": "2"}
    first = subprocess.Popen(
        [sys.executable, "-m", "optbench", *SLOW, "--out", str(out)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not (out / "manifest.json").exists() and time.monotonic() < deadline:
            assert first.poll() is None, "the first sweep ended before it could be raced"
            time.sleep(0.01)
        fragment = f"being written by another optbench process (pid {first.pid})"
        assert fragment in one_line_error(*SLOW, "--out", out, "--resume")
        assert fragment in one_line_error(*SLOW, "--out", out)
        assert first.poll() is None, "the first sweep must still be running"
    finally:
        first.kill()
        first.wait()
    assert (out / ".optbench.lock").is_file()  # left by the killed writer
    result = invoke(*SLOW, "--out", out, "--resume")
    assert result.exit_code == 0, result.output
    runs = pd.read_csv(out / "runs.csv")
    assert len(runs) == 64 and runs["run_id"].is_unique
    assert not (out / ".optbench.lock").exists()


# ---------------------------------------------------------------- item 7: errors after the folder


@pytest.mark.parametrize("exists", [False, True])
def test_a_full_disk_during_run_is_one_line_and_leaves_nothing_that_blocks_a_rerun(
    tmp_path, monkeypatch, exists
):
    import optbench.api

    out = tmp_path / "r"
    if exists:
        out.mkdir()
    real = optbench.api.write_csv

    def full(frame, path):
        if path.name == "history.csv":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        real(frame, path)

    monkeypatch.setattr(optbench.api, "write_csv", full)
    args = ["run", "-o", "sgd", "-p", "bowl", "--steps", "5", "--no-plots", "--out", out]
    assert "No space left on device" in one_line_error(*args)
    assert out.exists() == exists and (not exists or not any(out.iterdir()))
    monkeypatch.setattr(optbench.api, "write_csv", real)
    assert invoke(*args).exit_code == 0
    assert {"runs.csv", "history.csv", "manifest.json"} <= {p.name for p in out.iterdir()}


def test_a_sweep_that_fails_before_its_manifest_leaves_no_folder(tmp_path, monkeypatch):
    import optbench.api

    def broken(*args, **kwargs):
        raise optbench.OptbenchError("cannot reach the scheduler")

    monkeypatch.setattr(optbench.executors, "make_executor", broken)
    out = tmp_path / "s"
    assert "cannot reach" in one_line_error("sweep", *SMALL, "--no-plots", "--out", out)
    assert not out.exists()
    monkeypatch.undo()
    sweep_cli(out)


def test_a_second_run_into_the_same_folder_is_refused(tmp_path):
    out = tmp_path / "r"
    slow = ["run", "-o", "sgd", "-p", "rosenbrock", "--steps", "300000000", "--no-plots"]
    first = subprocess.Popen(
        [sys.executable, "-m", "optbench", *slow, "--record-every", "100000000", "--out", out],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        lock = out / ".optbench.lock"
        while not (lock.is_file() and lock.read_text()) and time.monotonic() < deadline:
            assert first.poll() is None, "the first run ended before it could be raced"
            time.sleep(0.01)
        line = one_line_error("run", "-o", "adam", "--steps", "5", "--out", out)
        assert f"being written by another optbench process (pid {first.pid})" in line
        assert first.poll() is None, "the first run must still be running"
    finally:
        first.kill()
        first.wait()


def test_a_chunks_file_in_place_of_the_folder_is_one_line(tmp_path):
    out = tmp_path / "s"
    sweep_cli(out)
    for path in (out / "chunks").iterdir():
        path.unlink()
    (out / "chunks").rmdir()
    (out / "chunks").write_text("not a folder")
    assert "cannot keep chunks" in one_line_error("sweep", *SMALL, "--out", out, "--resume")


@pytest.mark.parametrize("out", ["x" * 300, "~nouser_optbench/x"])
@pytest.mark.parametrize(
    "command",
    [
        ["run", "-o", "sgd", "--steps", "5", "--no-plots"],
        ["sweep", *SMALL, "--no-plots"],
        ["sweep", *SMALL, "--no-plots", "--resume"],
    ],
)
def test_an_out_that_names_no_folder_is_one_line(tmp_path, monkeypatch, out, command):
    monkeypatch.chdir(tmp_path)
    one_line_error(*command, "--out", out)
    assert not any(tmp_path.iterdir())
