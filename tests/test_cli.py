"""Every command through click's CliRunner: outputs, the file contract, and every error case."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest
from click.testing import CliRunner

from optbench.cli import cli

CLASSIC = [
    "run",
    "-o",
    "sgd",
    "-o",
    "momentum",
    "-o",
    "adagrad",
    "-o",
    "adam",
    "--problem",
    "bowl",
    "--start",
    "-7,2",
    "--steps",
    "30",
    "--lr",
    "sgd=0.95",
    "--lr",
    "momentum=0.1",
    "--lr",
    "adagrad=1.5",
    "--lr",
    "adam=0.3",
]
RUNS_CONTRACT = [
    "run_id",
    "problem",
    "optimizer",
    "preset",
    "lr",
    "seed",
    "steps",
    "final_loss",
    "best_loss",
    "final_gap",
    "diverged",
    "diverged_step",
    "wall_s",
]


def invoke(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def assert_one_line_error(result, *fragments, code=2):
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    for fragment in fragments:
        assert fragment in lines[0]
    assert "Traceback" not in result.output + result.stderr


@pytest.mark.parametrize(
    "command",
    [[], ["run"], ["list"], ["list", "optimizers"], ["list", "problems"], ["plot"], ["sweep"],
     ["report"], ["bench"], ["bench", "compare"], ["data"], ["data", "fetch"], ["data", "path"],
     ["lesson"]],
)  # fmt: skip
def test_help(command):
    result = invoke(*command, "--help")
    assert result.exit_code == 0
    assert "Usage:" in result.output


def test_help_and_list_import_no_heavy_library():
    code = (
        "import sys; from optbench.cli import cli\n"
        "for args in (['--help'], ['list', 'optimizers'], ['list', 'problems']):\n"
        "    try: cli(args, standalone_mode=False)\n"
        "    except SystemExit: pass\n"
        "heavy = [m for m in ('numba', 'pandas', 'matplotlib') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in done.stdout


def test_classic_run_writes_the_contract(tmp_path):
    out = tmp_path / "classic"
    result = invoke(*CLASSIC, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "steps to 0.001" in result.output and "adagrad" in result.output
    for name in ("runs.csv", "history.csv", "manifest.json", "trajectories.png", "loss.png"):
        assert (out / name).is_file(), name
    runs = pd.read_csv(out / "runs.csv")
    assert list(runs.columns[:7]) == RUNS_CONTRACT[:7]
    assert set(RUNS_CONTRACT) <= set(runs.columns)
    assert list(runs["optimizer"]) == ["sgd", "momentum", "adagrad", "adam"]
    history = pd.read_csv(out / "history.csv")
    assert {"run_id", "step", "loss", "x", "y"} <= set(history.columns)
    assert history.groupby("run_id")["step"].max().eq(30).all()
    manifest = json.loads((out / "manifest.json").read_text())
    for key in (
        "schema_version",
        "config",
        "versions",
        "machine",
        "seeds",
        "started_utc",
        "finished_utc",
        "git_commit",
    ):
        assert key in manifest
    assert manifest["versions"]["numba"]
    assert not list(out.glob(".*tmp"))  # no temporary files left behind


def test_default_run_makes_a_new_folder_under_results(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("run", "--optimizer", "adam", "--steps", "200", "--no-plots")
    assert result.exit_code == 0, result.output
    folders = list((tmp_path / "results").iterdir())
    assert len(folders) == 1 and folders[0].name.endswith("-beale-adam")
    assert (folders[0] / "runs.csv").is_file()


def test_keras_preset_and_named_hyperparameters(tmp_path):
    result = invoke(
        "run",
        "-o",
        "adam",
        "--preset",
        "keras",
        "--hp",
        "beta1=0.95",
        "--problem",
        "rosenbrock",
        "--lr",
        "0.01",
        "--steps",
        "2000",
        "--out",
        str(tmp_path / "k"),
    )
    assert result.exit_code == 0, result.output
    runs = pd.read_csv(tmp_path / "k" / "runs.csv")
    row = runs.iloc[0]
    assert (row["preset"], row["lr"], row["hp_beta1"], row["hp_eps"]) == ("keras", 0.01, 0.95, 1e-7)
    assert row["hp_eps_hat"] == 1


def test_plot_redraws_from_csvs(tmp_path):
    out = tmp_path / "run"
    invoke(
        "run",
        "-o",
        "sgd,adam",
        "--problem",
        "himmelblau",
        "--steps",
        "100",
        "--out",
        str(out),
        "--no-plots",
    )
    assert not (out / "loss.png").exists()
    result = invoke("plot", str(out), "--svg")
    assert result.exit_code == 0, result.output
    for name in ("trajectories.png", "trajectories.svg", "loss.png", "loss.svg"):
        assert (out / name).is_file()


def test_list_commands():
    optimizers = invoke("list", "optimizers").output
    for name in ("sgd", "nesterov", "adagrad", "rmsprop", "adam", "amsgrad", "lion"):
        assert f"\n{name} " in "\n" + optimizers
    assert "keras: lr=0.001 initial_accumulator=0.1 eps=1e-07 eps_inside=1" in optimizers
    problems = invoke("list", "problems").output
    assert "goldstein_price" in problems and "f* 3" in problems


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["run", "-o", "adamm"], ["unknown optimizer 'adamm'", "did you mean 'adam'"]),
        (["run", "--problem", "rosenbrok"], ["unknown problem", "did you mean 'rosenbrock'"]),
        (["run", "--hp", "beta1=1.5"], ["adam: beta1=1.5 must be in [0, 1)"]),
        (["run", "--hp", "betta1=0.5"], ["no optimizer run here has a hyperparameter 'betta1'"]),
        (["run", "--hp", "beta1"], ["must look like name=value"]),
        (["run", "--hp", "beta1=abc"], ["'abc' is not a number"]),
        (["run", "--lr", "-1"], ["adam: lr=-1 must be > 0"]),
        (["run", "--lr", "sgd=0.1"], ["'sgd' is not among the optimizers run"]),
        (["run", "--start", "1"], ["start '1' must be two finite numbers"]),
        (["run", "--start", "a,b"], ["start 'a,b' must be two finite numbers"]),
        (["run", "--steps", "0"], ["steps=0 must be >= 1"]),
        (["run", "--steps", "many"], ["steps='many' must be a whole number"]),
        (["run", "--noise", "-1"], ["noise=-1.0 must be a finite number >= 0"]),
        (["run", "--preset", "jax"], ["unknown preset 'jax'"]),
        (["run", "-o", "nesterov", "--hp", "momentum=0"], ["nesterov=1 requires momentum > 0"]),
        (["plot", "."], ["is not an optbench run folder"]),
        (["lst"], ["No such command 'lst'"]),
        (["list"], ["say what to list"]),
        (["run", "-o", ""], ["an empty name was given"]),
        (["run", "-o", "sgd,,adam"], ["an empty name was given"]),
        (["run", "--steps", "100000000000000000000"], ["must be <= 1,000,000,000"]),
        (["run", "--seed", "100000000000000000000"], ["must be <="]),
        (["run", "--problem", "rosenbrock:b=-1"], ["rosenbrock: b=-1 must be > 0"]),
        (["run", "--problem", "rosenbrock:b=1:b=2"], ["given twice"]),
        (["run", "--problem", "spirals:n=1"], ["n=1 must be a whole number >= 10"]),
        (["run", "--problem", "spirals:test_fraction=0"], ["must be between 0 and 1"]),
        (["sweep", "-o", "sgd", "--resume", "--out", "nowhere"], ["needs the folder of an"]),
        (["sweep", "-o", "sgd", "--lr", "0.1,"], ["an empty entry between commas"]),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, monkeypatch, args, fragments):
    monkeypatch.chdir(tmp_path)
    result = invoke(*args)
    assert_one_line_error(result, *fragments)
    assert not (tmp_path / "results").exists()  # nothing half-written


def test_unwritable_output_folder_is_refused_before_computing(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = invoke("run", "--out", str(blocker / "run"))
    assert_one_line_error(result, "cannot write to output folder")


def test_run_never_writes_into_a_folder_that_holds_results(tmp_path):
    out = tmp_path / "once"
    assert invoke("run", "--steps", "5", "--no-plots", "--out", str(out)).exit_code == 0
    again = invoke("run", "--steps", "5", "--no-plots", "--out", str(out))
    assert_one_line_error(again, "already holds results")


def test_repeated_seeds_and_values_run_once():
    from optbench.config import SweepConfig, build_run_configs

    assert len(build_run_configs(optimizers=["adam"], problems="bowl", seeds=[0, 0, 1])) == 2
    assert len(SweepConfig.from_raw({"lr": [0.1, 0.1, 0.2], "seeds": [3, 3]}).expand()) == 2


def test_python_dash_m_works(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "optbench", "list", "problems"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and "rosenbrock" in done.stdout
