"""The results folder under hostile conditions: numeric-looking ids, damaged or stray chunks,
folders that are not the same sweep, corrupt manifests, two writers, errors after the folder."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from click.testing import CliRunner

import optbench
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
    runs_file = sorted((out / "chunks").glob("grid-*.runs.csv"))[1]
    text = runs_file.read_text()
    runs_file.write_text(text[: text.index("phase") + 4])  # cut in the header: a column 'phas'
    history_file = sorted((out / "chunks").glob("grid-*.history.csv"))[0]
    history_file.write_text(history_file.read_text()[:-40])  # cut in the last row
    sweep_cli(out, "--resume")
    assert "phas" not in pd.read_csv(out / "runs.csv").columns.drop("phase")
    assert_same_results(out, tmp_path / "whole")


def test_stray_empty_and_foreign_chunk_files_are_ignored_or_rerun(tmp_path):
    sweep_cli(tmp_path / "whole")
    out = tmp_path / "s"
    sweep_cli(out)
    chunks = out / "chunks"
    (chunks / "grid-00001.runs.csv").write_text("")  # empty
    (chunks / "grid-00099.runs.csv").write_text("run_id\n123\n")  # unsealed stray
    (chunks / "grid-x.runs.csv").write_text("junk")
    (chunks / "notes.runs.csv").write_bytes(b"\xff\xfe")
    (chunks / "README").write_text("mine")
    sweep_cli(out, "--resume")
    assert_same_results(out, tmp_path / "whole")
    assert (chunks / "README").is_file() and (chunks / "notes.runs.csv").is_file()
    runs = pd.read_csv(out / "runs.csv")
    assert runs["run_id"].is_unique and len(runs) == 8
