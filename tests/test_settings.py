"""Settings declared once: flags, TOML keys and API keywords from one table; network settings
are sweep axes like ``lr``."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

import optbench
from optbench.cli import cli
from optbench.config import SweepConfig, build_run_configs
from optbench.config_file import load_sweep_file
from optbench.settings import SETTINGS, for_command

AXES = ["-p", "xor", "--activation", "sigmoid,tanh", "--batch-size", "1,4", "-o", "sgd,adam"]


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_every_setting_of_a_command_is_one_of_its_flags(command):
    options = {p.name for p in cli.commands[command].params}
    assert {s.name for s in for_command(command)} <= options
    assert not {s.name for s in SETTINGS} - {s.name for s in for_command(command)} & options


def test_network_settings_are_axes_of_a_sweep(tmp_path):
    out = tmp_path / "axes"
    result = invoke(
        "sweep", *AXES, "--epochs", "3", "--seeds", "2", "--no-plots", "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    runs = pd.read_csv(out / "runs.csv")
    assert len(runs) == 2 * 2 * 2 * 2  # activations × batch sizes × optimizers × seeds
    assert runs.groupby(["activation", "batch_size", "optimizer"]).size().eq(2).all()
    best = pd.read_csv(out / "best.csv")
    assert len(best) == 8 and {"activation", "batch_size"} <= set(best.columns)
    ranking = pd.read_csv(out / "ranking.csv")
    assert set(ranking["cells"]) == {4}
    assert "activation" in result.output and "batch_size" in result.output


def test_a_sweep_file_makes_the_same_runs_as_the_flags(tmp_path):
    path = tmp_path / "axes.toml"
    path.write_text(
        'problems = ["xor"]\noptimizers = ["sgd", "adam"]\nbatch_size = [1, 4]\n'
        '[network]\nactivation = ["sigmoid", "tanh"]\nepochs = 3\n'
    )
    from_file, _ = load_sweep_file(path)
    from_flags = SweepConfig.from_raw(
        {
            "problems": "xor",
            "optimizers": "sgd,adam",
            "batch_size": "1,4",
            "activation": "sigmoid,tanh",
            "epochs": "3",
        }
    )
    assert [c.run_id for c in from_file.expand()] == [c.run_id for c in from_flags.expand()]
    assert len(from_file.cells()) == 8


def test_hidden_takes_one_architecture_or_an_axis_of_them():
    one = SweepConfig.from_raw({"problems": "xor", "hidden": [4, 4], "epochs": 2})
    assert [o.hidden for o in one.network_options("xor")] == [(4, 4)]
    several = SweepConfig.from_raw({"problems": "xor", "hidden": ["2", "4x4"], "epochs": 2})
    assert [o.hidden for o in several.network_options("xor")] == [(2,), (4, 4)]
    result = invoke("sweep", "-p", "xor", "--hidden", "2", "--hidden", "4,4", "--dry-run")
    assert result.exit_code == 0 and "hidden 2 " in result.output and "hidden 4-4" in result.output


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["run", "-p", "xor", "--activation", "sigmoid,tanh"], "one value per setting"),
        (["sweep", "-p", "xor", "--activation", "sigmoid,tahn", "--dry-run"], "'tanh'"),
        (["sweep", "-p", "xor", "--model", "mlp,perceptron", "--dry-run"], "sweep of its own"),
        (["sweep", "-p", "bowl", "--batch-size", "1,2", "--dry-run"], "2-D surface"),
        (["sweep", "-p", "xor", "--batch-size", "0,4", "--dry-run"], "batch_size"),
    ],
)
def test_bad_axes_are_one_line_errors(args, fragment):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], result.stderr


def test_the_api_takes_the_same_names_and_suggests_the_closest():
    with pytest.raises(optbench.OptbenchError, match="batch_size"):
        optbench.run("adam", "xor", batch_sise=4, save=False)
    configs = build_run_configs(optimizers="adam", problems="xor", activation="relu", epochs=2)
    assert configs[0].network.activation == "relu"


def test_a_sweep_file_error_names_the_line_under_a_network_heading(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('problems = ["xor"]\n\n[network]\nactivation = ["sigmoid", "softplus"]\n')
    with pytest.raises(optbench.OptbenchError, match=r"bad.toml:4: .*softplus"):
        load_sweep_file(path)


def test_tuning_reruns_each_network_cell_on_fresh_seeds(tmp_path):
    result = optbench.sweep(
        problems="xor", optimizers=["sgd", "adam"], activation="sigmoid,tanh", epochs=3,
        lr=[0.1, 1.0], tune="lr", seeds=2, plots=False, out=tmp_path / "tuned",
    )  # fmt: skip
    finals = result.runs[result.runs["phase"] == "final"]
    assert len(finals) == 2 * 2 * 2  # cells × fresh seeds
    assert finals.groupby(["activation", "optimizer"])["seed"].apply(set).eq({2, 3}).all()
    picked = result.best.set_index(["activation", "optimizer"])["lr"]
    for (activation, optimizer), group in finals.groupby(["activation", "optimizer"]):
        assert (group["lr"] == picked[(activation, optimizer)]).all()
