"""The network commands through click's CliRunner: what a student types, and typos."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from optbench.cli import cli
from tests.test_datasets import fake_mnist, server  # noqa: F401  (fixture)


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_xor_perceptron_says_it_cannot(tmp_path):
    done = invoke("run", "--problem", "xor", "--model", "perceptron", "--out", str(tmp_path / "r"))
    assert done.exit_code == 0, done.output
    assert "cannot learn XOR" in done.output
    runs = pd.read_csv(tmp_path / "r" / "runs.csv")
    assert runs["test_accuracy"].max() <= 0.75
    assert (tmp_path / "r" / "boundaries.png").is_file()


def test_and_perceptron_learns(tmp_path):
    done = invoke(
        "run", "--problem", "and", "--model", "perceptron", "--out", str(tmp_path), "--no-plots"
    )
    assert done.exit_code == 0, done.output
    assert "perceptron learned and" in done.output


def test_xor_mlp_two_optimizers(tmp_path):
    done = invoke(
        "run", "--problem", "xor", "--model", "mlp", "--hidden", "2", "--activation", "sigmoid",
        "-o", "sgd", "-o", "adam", "--out", str(tmp_path), "--no-plots",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    history = pd.read_csv(tmp_path / "history.csv")
    assert list(history.columns[:7]) == [
        "run_id", "step", "loss", "epoch", "train_loss", "test_loss", "test_accuracy"
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--problem", "spirals", "--activation", "relu6"], "did you mean 'relu'"),
        (["--problem", "spirals", "--hidden", "16,abc"], "--hidden '16,abc'"),
        (["--problem", "spirals", "--hidden", "16,0"], "at least one unit"),
        (["--problem", "spirals", "--loss", "hinge"], "unknown loss 'hinge'"),
        (["--problem", "spirals", "--epochs", "0"], "epochs=0"),
        (["--problem", "spirls"], "did you mean 'spirals'"),
        (["--problem", "xor", "--model", "perceptron", "-o", "adam"], "own rule"),
        (["--problem", "digits", "--model", "perceptron"], "two classes"),
        (["--problem", "spirals", "--steps", "10"], "--epochs"),
        (["--problem", "spirals", "--noise", "0.1"], "spirals:noise="),
        (["--problem", "bowl", "--hidden", "4"], "--hidden: network options"),
        (["--problem", "spirals:noize=1"], "did you mean 'noise'"),
        (["--problem", "spirals", "--l2", "abc"], "'abc' is not a number"),
        (["--problem", "bowl", "--grad-norms"], "'bowl' has none"),
    ],
)
def test_bad_network_input_is_one_line_exit_2(args, message, tmp_path):
    done = invoke("run", *args, "--out", str(tmp_path), "--no-plots")
    assert done.exit_code == 2, done.output
    assert message in done.output
    assert "Traceback" not in done.output


def test_l2_flag_and_grad_norms_reach_the_files(tmp_path):
    done = invoke(
        "run", "--problem", "moons:n=60", "--hidden", "4,4", "--epochs", "2", "--l2", "0.01",
        "--grad-norms", "--out", str(tmp_path), "--no-plots",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert pd.read_csv(tmp_path / "runs.csv")["l2"].tolist() == [0.01]
    history = pd.read_csv(tmp_path / "history.csv")
    norms = [c for c in history.columns if c.startswith("grad_norm_layer")]
    assert norms == ["grad_norm_layer1", "grad_norm_layer2", "grad_norm_layer3"]
    assert (history[norms] > 0).all().all()


def test_missing_data_dir_is_one_line(tmp_path):
    done = invoke("run", "--problem", "fashion-mnist", "--data-dir", str(tmp_path))
    assert done.exit_code == 2
    assert "optbench data fetch fashion-mnist" in done.output


def test_data_dir_mnist_run(tmp_path):
    fake_mnist(tmp_path / "idx")
    done = invoke(
        "run", "--problem", "mnist", "--data-dir", str(tmp_path / "idx"), "--epochs", "2",
        "--out", str(tmp_path / "r"), "--no-plots",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert pd.read_csv(tmp_path / "r" / "runs.csv")["test_accuracy"].iloc[0] > 0.9


def test_data_fetch_command(server, tmp_path, monkeypatch):  # noqa: F811
    url, sums, _ = server
    monkeypatch.setenv("OPTBENCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr("optbench.fetch.SOURCES", _sources_with(sums))
    done = invoke("data", "fetch", "fashion-mnist", "--url", url)
    assert done.exit_code == 0, done.output
    assert "verified" in done.output
    run = invoke(
        "run",
        "--problem",
        "fashion-mnist",
        "--epochs",
        "1",
        "--out",
        str(tmp_path / "r"),
        "--no-plots",
    )
    assert run.exit_code == 0, run.output
    assert invoke("data", "fetch", "cifar").exit_code == 2


def _sources_with(sums):
    from dataclasses import replace

    from optbench.fetch import SOURCES

    return {name: replace(source, sha256=sums) for name, source in SOURCES.items()}


def test_list_problems_shows_networks():
    done = invoke("list", "problems")
    assert done.exit_code == 0
    for name in ["xor", "spirals", "digits", "fashion-mnist", "rosenbrock"]:
        assert name in done.output


def test_help_of_network_commands():
    for args in (["run", "--help"], ["data", "--help"], ["data", "fetch", "--help"]):
        done = invoke(*args)
        assert done.exit_code == 0 and "Usage" in done.output
