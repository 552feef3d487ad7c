"""Sweeps: grid expansion, TOML errors, worker-count independence, kill-and-resume, tuning."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import optbench
from optbench.analysis import GridEdgeWarning, pick_points
from optbench.cli import cli
from optbench.config import SweepConfig, parse_axis
from optbench.config_file import key_line, load_sweep_file
from optbench.errors import OptbenchError

SMALL = {
    "optimizers": ["sgd", "adam"],
    "problems": ["bowl", "beale"],
    "lr": "1e-3..1e-1:3",
    "seeds": 2,
    "steps": 40,
    "noise": 0.2,
}


def comparable(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=[c for c in ("wall_s",) if c in frame.columns])


# ---------------------------------------------------------------- grids


@pytest.mark.parametrize(
    "value, expected",
    [
        (0.1, (0.1,)),
        ([0.1, 0.3], (0.1, 0.3)),
        ({"log_space": [1e-4, 1], "num": 5}, (1e-4, 1e-3, 1e-2, 1e-1, 1.0)),
        ({"lin_space": [0, 1], "num": 3}, (0.0, 0.5, 1.0)),
        ("1e-4..1:5", (1e-4, 1e-3, 1e-2, 1e-1, 1.0)),
        ("0.1,0.3", (0.1, 0.3)),
        ("2", (2.0,)),
    ],
)
def test_axis_forms(value, expected):
    assert parse_axis(value, "lr") == pytest.approx(expected)


@pytest.mark.parametrize(
    "value, message",
    [
        ([], "empty grid"),
        ({"log_space": [0, 1], "num": 3}, "must be > 0"),
        ({"log_space": [1e-3, 1]}, "a grid table is"),
        ({"lin_space": [0, 1], "num": 0}, "num must be a whole number >= 1"),
        ("a,b", "'a' is not a number"),
        (True, "true/false is not a number"),
    ],
)
def test_bad_axes(value, message):
    with pytest.raises(OptbenchError, match=message):
        parse_axis(value, "lr")


def test_expansion_counts_order_and_stable_ids():
    sweep = SweepConfig.from_raw({**SMALL, "hp": {"adam.beta1": [0.8, 0.9]}})
    runs = sweep.expand()
    assert len(runs) == 2 * (
        3 * 2 + 3 * 2 * 2
    )  # problems × (sgd lrs × seeds + adam lrs × β1 × seeds)
    assert [r.problem for r in runs[:18]] == ["bowl"] * 18
    assert [r.optimizer for r in runs[:6]] == ["sgd"] * 6
    assert [r.seed for r in runs[:4]] == [0, 1, 0, 1]
    assert len({r.run_id for r in runs}) == len(runs)
    again = SweepConfig.from_raw({**SMALL, "hp": {"adam.beta1": [0.8, 0.9]}}).expand()
    assert [r.run_id for r in again] == [r.run_id for r in runs]
    other = SweepConfig.from_raw({**SMALL, "noise": 0.3}).expand()
    assert other[0].run_id != runs[0].run_id
    assert SweepConfig.from_raw(SMALL).sha256 == SweepConfig.from_raw(dict(SMALL)).sha256


def test_start_table_and_tuning_seeds():
    sweep = SweepConfig.from_raw({**SMALL, "start": {"beale": [1.5, 1.5]}, "tune": "lr"})
    starts = {r.problem: r.start for r in sweep.expand()}
    assert starts == {"bowl": (-7.0, 2.0), "beale": (1.5, 1.5)}
    assert sweep.final_seeds == (2, 3)


# ---------------------------------------------------------------- TOML files and their errors

GOOD = """\
problems = ["bowl"]
steps = 20
seeds = 2

[optimizers.sgd]
lr = [0.1, 0.5]

[optimizers.adam]
lr = {log_space = [1e-3, 1e-1], num = 3}
beta1 = 0.8
"""


def test_toml_file_loads(tmp_path):
    path = tmp_path / "good.toml"
    path.write_text(GOOD)
    sweep, execution = load_sweep_file(path)
    assert len(sweep.expand()) == (2 + 3) * 2
    assert sweep.steps == (20,) and execution == {}
    overridden, _ = load_sweep_file(path, {"steps": 7})
    assert overridden.steps == (7,)


def test_key_line_finds_tables_inline_tables_and_top_level_keys():
    assert key_line(GOOD, "steps") == 2
    assert key_line(GOOD, "optimizers.adam.beta1") == 10
    assert key_line(GOOD, "optimizers.adam.lr") == 9
    assert key_line(GOOD, "optimizers.sgd") == 5


@pytest.mark.parametrize(
    "text, fragments",
    [
        ("steps = 20\nseeds = \n", ["malformed TOML", "line 2"]),
        ("stepz = 20\n", [":1: unknown key 'stepz'", "did you mean 'steps'"]),
        (GOOD.replace("beta1 = 0.8", "beta1 = 1.5"), [":10:", "adam: beta1=1.5 must be in [0, 1)"]),
        (GOOD.replace("beta1 = 0.8", "betta1 = 0.8"), [":10:", "did you mean 'beta1'"]),
        (GOOD.replace("lr = [0.1, 0.5]", "lr = []"), [":6:", "empty grid"]),
        (GOOD.replace("[optimizers.sgd]", "[optimizers.sgdd]"), [":5:", "did you mean 'sgd'"]),
        (
            GOOD.replace("seeds = 2", "seeds = 2\ntune = 'beta2'"),
            [":4:", "no optimizer has a grid"],
        ),
        (GOOD.replace("steps = 20", "steps = -3"), [":2:", "steps=-3 must be >= 1"]),
    ],
)
def test_toml_errors_name_the_line_and_exit_2(tmp_path, text, fragments):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    result = CliRunner().invoke(cli, ["sweep", str(path), "--dry-run"])
    assert result.exit_code == 2, result.output
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1 and str(path) in line
    for fragment in fragments:
        assert fragment in line


def test_dry_run_prints_the_plan():
    result = CliRunner().invoke(cli, ["sweep", "experiments/fair.toml", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "960 to tune lr, then 60 reruns" in result.output


def test_shipped_experiments_are_valid():
    for path in Path("experiments").glob("*.toml"):
        load_sweep_file(path)[0].expand()


# ---------------------------------------------------------------- execution


def test_results_identical_for_one_and_two_workers(tmp_path):
    one = optbench.sweep(**SMALL, out=tmp_path / "one", workers=1, plots=False)
    two = optbench.sweep(**SMALL, out=tmp_path / "two", workers=2, plots=False, chunk_size=5)
    pd.testing.assert_frame_equal(comparable(one.runs), comparable(two.runs))
    pd.testing.assert_frame_equal(one.history, two.history)
    on_disk = [pd.read_csv(tmp_path / n / "runs.csv") for n in ("one", "two")]
    pd.testing.assert_frame_equal(comparable(on_disk[0]), comparable(on_disk[1]))


def test_sweep_cli_writes_everything(tmp_path):
    out = tmp_path / "s"
    result = CliRunner().invoke(
        cli,
        [
            "sweep",
            "-o",
            "sgd,adam",
            "-p",
            "bowl,rosenbrock",
            "--lr",
            "1e-3..1e-1:3",
            "--seeds",
            "2",
            "--steps",
            "60",
            "--tune",
            "lr",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "ranking" in result.output
    for name in (
        "runs.csv",
        "history.csv",
        "best.csv",
        "ranking.csv",
        "manifest.json",
        "lr_sensitivity.png",
        "tuned_loss.png",
        "trajectory_grid-bowl.png",
        "ecdf.png",
        "performance_profile.png",
    ):
        assert (out / name).is_file(), name
    best = pd.read_csv(out / "best.csv")
    assert set(best["evaluated_on"]) == {"fresh seeds"} and len(best) == 4
    runs = pd.read_csv(out / "runs.csv")
    assert (runs["phase"] == "final").sum() == 4 * 2
    assert set(runs.loc[runs["phase"] == "final", "seed"]) == {2, 3}


def test_a_finished_folder_is_not_overwritten_and_resume_checks_the_config(tmp_path):
    optbench.sweep(**SMALL, out=tmp_path / "s", plots=False)
    with pytest.raises(OptbenchError, match="already holds results"):
        optbench.sweep(**SMALL, out=tmp_path / "s", plots=False)
    with pytest.raises(OptbenchError, match="holds a different sweep"):
        optbench.sweep(**{**SMALL, "steps": 41}, out=tmp_path / "s", resume=True, plots=False)
    again = optbench.sweep(**SMALL, out=tmp_path / "s", resume=True, plots=False)
    assert len(again.runs) == 24


def test_plot_redraws_the_figures_of_a_sweep(tmp_path):
    out = tmp_path / "s"
    optbench.sweep(**SMALL, out=out, plots=False)
    written = {p.name for p in optbench.plot(out)}
    assert {"lr_sensitivity.png", "tuned_loss.png", "ecdf.png"} <= written
    assert not (out / "trajectories-bowl.png").exists()


def test_history_that_cannot_fit_is_refused_before_computing(tmp_path):
    with pytest.raises(OptbenchError, match="--record-every"):
        optbench.sweep(
            optimizers=["sgd"],
            problems=["bowl"],
            lr="1e-3..1:1000",
            seeds=1000,
            steps=10_000_000,
            record_every=1,
            out=tmp_path / "huge",
        )
    assert not (tmp_path / "huge").exists()


def test_killed_sweep_resumes_to_the_uninterrupted_result(tmp_path):
    args = [
        "sweep",
        "-o",
        "sgd,adam,rmsprop",
        "-p",
        "rosenbrock,beale",
        "--lr",
        "1e-4..1e-1:8",
        "--seeds",
        "4",
        "--steps",
        "60000",
        "--noise",
        "0.05",
        "--record-every",
        "5000",
        "--chunk-size",
        "8",
        "--no-plots",
    ]
    reference = optbench.sweep(
        optimizers=["sgd", "adam", "rmsprop"],
        problems=["rosenbrock", "beale"],
        lr="1e-4..1e-1:8",
        seeds=4,
        steps=60000,
        noise=0.05,
        record_every=5000,
        out=tmp_path / "whole",
        plots=False,
    )
    out = tmp_path / "killed"
    env = {**os.environ, "NUMBA_NUM_THREADS": "2"}
    process = subprocess.Popen(
        [sys.executable, "-m", "optbench", *args, "--out", str(out)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if len(list((out / "chunks").glob("*.frames.npz"))) >= 3 or process.poll() is not None:
            break
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    kept = list((out / "chunks").glob("*.frames.npz"))
    assert 3 <= len(kept) < 24, "the kill should land part way through the sweep"
    assert not (out / "runs.csv").exists()
    result = CliRunner().invoke(cli, [*args, "--out", str(out), "--resume"])
    assert result.exit_code == 0, result.output
    resumed = pd.read_csv(out / "runs.csv")
    whole = pd.read_csv(tmp_path / "whole" / "runs.csv")
    pd.testing.assert_frame_equal(comparable(resumed), comparable(whole))
    pd.testing.assert_frame_equal(
        pd.read_csv(out / "history.csv"), pd.read_csv(tmp_path / "whole" / "history.csv")
    )
    assert len(reference.runs) == len(resumed)


# ---------------------------------------------------------------- tuning protocol


def test_tuning_picks_the_known_best_lr_and_judges_it_on_fresh_seeds(tmp_path):
    # SGD on x²/20 + y² multiplies x by (1 − lr/10) and y by (1 − 2·lr): below lr = 1 larger is
    # better for the slow x direction; 1.2 diverges. So 0.95 must win.
    result = optbench.sweep(
        optimizers=["sgd"],
        problems=["bowl"],
        lr=[0.1, 0.5, 0.95, 1.2],
        seeds=3,
        steps=60,
        noise=0.01,
        tune="lr",
        out=tmp_path / "t",
        plots=False,
    )
    best = result.best.iloc[0]
    assert best["lr"] == 0.95
    assert best["evaluated_on"] == "fresh seeds" and best["seeds"] == 3
    final = result.runs[result.runs["phase"] == "final"]
    assert set(final["seed"]) == {3, 4, 5} and set(final["lr"]) == {0.95}
    assert best["final_gap_ci_low"] <= best["final_gap_mean"] <= best["final_gap_ci_high"]
    assert not result.warnings
    grid = result.runs[result.runs["phase"] == "grid"]
    assert grid.loc[grid["lr"] == 1.2, "diverged"].all()


def test_a_pick_on_the_edge_of_its_grid_warns(tmp_path):
    sweep = SweepConfig.from_raw(
        {
            "optimizers": ["sgd"],
            "problems": ["bowl"],
            "lr": [0.1, 0.5, 0.95],
            "seeds": 2,
            "steps": 60,
            "tune": "lr",
        }
    )
    result = optbench.sweep(sweep, out=tmp_path / "edge", plots=False)
    assert any("edge of its grid" in note for note in result.warnings)
    grid = result.runs[result.runs["phase"] == "grid"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pick_points(grid, sweep)
    assert any(issubclass(w.category, GridEdgeWarning) for w in caught)


def test_ctrl_c_keeps_finished_chunks_and_says_how_to_resume(tmp_path):
    out = tmp_path / "interrupted"
    args = [
        "sweep",
        "-o",
        "sgd,adam",
        "-p",
        "rosenbrock",
        "--lr",
        "1e-4..1e-2:8",
        "--seeds",
        "4",
        "--steps",
        "4000000",
        "--record-every",
        "1000000",
        "--chunk-size",
        "4",
        "--no-plots",
        "--out",
        str(out),
    ]
    inherited = signal.getsignal(signal.SIGINT)
    process = subprocess.Popen(
        [sys.executable, "-m", "optbench", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # Ctrl-C as a user's terminal delivers it: an ignored SIGINT (some earlier test or
        # library in this process may have set that) would be inherited across exec
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if len(list((out / "chunks").glob("*.frames.npz"))) >= 2:
            break
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, f"{stderr} (SIGINT here: {inherited})"
    assert "interrupted: finished runs are kept" in stderr and "--resume" in stderr
    assert "Traceback" not in stderr
    assert 2 <= len(list((out / "chunks").glob("*.frames.npz"))) < 16


# ---------------------------------------------------------------- networks in sweeps


def test_a_sweep_mixes_surfaces_and_networks(tmp_path):
    result = optbench.sweep(
        optimizers=["sgd", "adam"],
        problems=["xor", "bowl"],
        lr=[0.1, 1.0],
        seeds=2,
        steps=50,
        network={"hidden": [4], "epochs": 40},
        tune="lr",
        out=tmp_path / "mixed",
    )
    runs = result.runs
    assert set(runs["problem"]) == {"xor", "bowl"}
    xor = runs[runs["problem"] == "xor"]
    assert set(xor["epochs"].astype(int)) == {40} and set(xor["hidden"].astype(float)) == {4.0}
    assert (runs.loc[runs["problem"] == "bowl", "steps"] == 50).all()
    assert len(result.best) == 4 and set(result.best["evaluated_on"]) == {"fresh seeds"}
    names = {p.name for p in result.figures}
    assert {"tuned_loss.png", "lr_sensitivity.png", "trajectory_grid-bowl.png"} <= names


def test_network_settings_are_checked_in_sweeps(tmp_path):
    with pytest.raises(OptbenchError, match="unknown network setting 'hiden'"):
        SweepConfig.from_raw({"problems": ["xor"], "network": {"hiden": [2]}})
    with pytest.raises(OptbenchError, match="network options; 'bowl' is a 2-D surface"):
        SweepConfig.from_raw({"problems": ["bowl"], "network": {"epochs": 3}})
    with pytest.raises(OptbenchError, match="a network trains for --epochs"):
        SweepConfig.from_raw({"problems": ["spirals"], "steps": 10})
    perceptron = SweepConfig.from_raw(
        {"problems": ["and", "or"], "lr": [0.1, 1.0], "network": {"model": "perceptron"}}
    )
    assert perceptron.optimizers == ("perceptron",)
    assert len(perceptron.expand()) == 4
    with pytest.raises(OptbenchError, match="learns by its own rule"):
        SweepConfig.from_raw(
            {"problems": ["and"], "optimizers": ["adam"], "network": {"model": "perceptron"}}
        )
