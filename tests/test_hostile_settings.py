"""Hostile settings through the CLI and the API: one clear line, or the right result."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

import optbench
from optbench.cli import cli
from optbench.config import SweepConfig


def one_line_error(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


@pytest.mark.parametrize(
    "raw",
    [
        {"problems": "bowl,bowl", "optimizers": "sgd", "steps": 5},
        {"problems": "rosenbrock,rosenbrock:b=100", "optimizers": "sgd", "steps": 5},
        {"problems": "bowl", "optimizers": "sgd", "steps": "5,5"},
        {"problems": "bowl", "optimizers": "sgd", "steps": 5, "preset": "torch,torch"},
        {"problems": "bowl", "optimizers": "sgd,sgd", "steps": 5, "seeds": [1, 1]},
    ],
)
def test_repeated_values_make_each_run_once(raw):
    runs = SweepConfig.from_raw(raw).expand()
    assert len(runs) == len({r.run_id for r in runs}) == 1


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["sweep", "--workers", "-2", "--dry-run"], "workers=-2 must be >= 1"),
        (["sweep", "--workers", "0", "--dry-run"], "workers=0 must be >= 1"),
        (["sweep", "--lr", "1e-4...1", "--dry-run"], "1e-4...1"),
        (["run", "--lr", "0.2", "--hp", "lr=0.1"], "lr is given twice"),
        (["run", "-p", "xor", "--hidden", ""], "--hidden"),
        (["run", "-p", "xor", "--hidden", "2,,2"], "--hidden"),
        (["run", "--out", ""], "--out"),
    ],
)
def test_hostile_flags_are_one_line_errors(args, fragment):
    assert fragment in one_line_error(*args)


def test_the_api_takes_numpy_integers_and_refuses_odd_types():
    result = optbench.run("sgd", "bowl", seed=np.int64(3), steps=3, save=False)
    assert list(result.runs["seed"]) == [3]
    result = optbench.run("sgd", "bowl", seed="12", steps=3, save=False)
    assert list(result.runs["seed"]) == [12]
    with pytest.raises(optbench.OptbenchError, match="unknown problem '3'"):
        optbench.run("sgd", problem=3, save=False)


def test_a_grid_too_large_to_list_is_refused_before_it_is_made():
    with pytest.raises(optbench.OptbenchError, match="num=1000000000"):
        SweepConfig.from_raw({"lr": {"log_space": [1e-3, 1], "num": 1e9}})
    with pytest.raises(optbench.OptbenchError, match="runs"):
        SweepConfig.from_raw({"lr": "1e-3..1:100", "seeds": 1_000_000, "steps": 10})


@pytest.mark.parametrize("drop", ["lr", "optimizer"])
def test_plot_on_a_sweep_whose_best_csv_lost_a_column_is_one_line(tmp_path, drop):
    import pandas as pd

    folder = tmp_path / "sweep"
    optbench.sweep(optimizers=["sgd"], problems="bowl", lr="0.1,0.2", steps=5, out=folder,
                   plots=False)  # fmt: skip
    best = pd.read_csv(folder / "best.csv")
    best.drop(columns=drop).to_csv(folder / "best.csv", index=False)
    assert drop in one_line_error("plot", str(folder))
