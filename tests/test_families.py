"""The family seam: one object per problem family, reached from the problem's spec, owning what
differs; the run path (engine, results, chunks, executors, api) tells no family apart."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import optbench
from optbench.chunks import check_memory_fits
from optbench.config import build_run_configs
from optbench.engine import run_many
from optbench.errors import OptbenchError
from optbench.families import REGISTRY, Family, families, family_of, family_of_runs, get_family
from optbench.families.output import EngineOutput
from optbench.problems import PROBLEMS, get_problem
from optbench.results import frames

PACKAGE = Path(optbench.__file__).parent

# one small batch per family: two optimizers, two seeds
SMALL = {
    "surface": lambda: build_run_configs(
        optimizers=["sgd", "adam"], problems="rosenbrock", seeds=[0, 1], steps=40
    ),
    "network": lambda: build_run_configs(
        optimizers=["sgd", "adam"], problems="moons:n=60", seeds=[0, 1], epochs=2
    ),
    "objective": lambda: build_run_configs(
        optimizers=["sgd", "adam"], problems="quadratic:d=20", seeds=[0, 1], steps=40
    ),
}


def test_every_registered_family_has_a_small_batch_here():
    assert set(SMALL) == set(REGISTRY)


@pytest.mark.parametrize("name", list(REGISTRY))
def test_each_family_yields_the_same_engine_output_shape(name):
    family = get_family(name)
    configs = SMALL[name]()
    assert family_of(configs) is family
    out = run_many(configs)
    n = len(configs)
    assert isinstance(out, EngineOutput) and len(out) == n
    assert tuple(out.metrics) == family.metric_columns
    assert set(family.target_columns) <= set(family.metric_columns)
    assert all(v.shape == (n,) for v in out.metrics.values())
    assert {"step", "loss"} <= set(out.history)
    width = out.rows_capacity
    assert all(v.shape == (n, width) for v in out.history.values())
    assert out.rows.shape == (n,) and (out.rows >= 1).all() and out.rows.max() <= width
    assert out.wall_s.shape == (n,)
    assert all(len(values) == n for values in out.per_run.values())

    runs, history = frames(configs, out)
    assert list(runs["run_id"]) == [c.run_id for c in configs]
    assert runs.columns[-1] == "family"
    assert (runs["family"] == name).all()
    assert set(family.target_columns) <= set(runs.columns)
    assert len(history) == out.rows.sum()
    assert family_of_runs(runs) is family
    assert len(family.summary(runs)) == n
    assert isinstance(family.notes(runs), list)
    assert family.memory_bytes(configs) > 0
    assert family.figure_module.startswith("optbench.plots.")


def test_every_problem_reaches_its_family_and_every_family_lists_its_problems():
    for name, spec in PROBLEMS.items():
        family = get_family(spec.family)
        assert isinstance(family, Family) and family.name == spec.family
        assert name in family.problems()
    assert sum(len(f.problems()) for f in families()) == len(PROBLEMS)


def test_runs_csv_has_a_family_column(tmp_path):
    optbench.run("sgd", "bowl", steps=5, out=tmp_path / "s", plots=False)
    optbench.run("sgd", "xor", epochs=2, out=tmp_path / "n", plots=False)
    for folder, name in (("s", "surface"), ("n", "network")):
        runs = pd.read_csv(tmp_path / folder / "runs.csv")
        assert runs.columns[-1] == "family"
        assert (runs["family"] == name).all()


def test_folders_written_before_the_family_column_still_find_their_family():
    runs = pd.DataFrame({"problem": ["rosenbrock:b=1", "bowl"]})
    assert family_of_runs(runs) is get_family("surface")
    assert family_of_runs(pd.DataFrame({"problem": ["xor"]})) is get_family("network")


def test_one_batch_takes_one_family():
    mixed = SMALL["surface"]()[:1] + SMALL["network"]()[:1]
    with pytest.raises(OptbenchError, match="one problem family"):
        run_many(mixed)
    with pytest.raises(OptbenchError, match="mix problem families"):
        family_of_runs(pd.DataFrame({"family": ["surface", "network"]}))
    with pytest.raises(OptbenchError, match="problem family"):
        get_family("sphere")


def test_memory_check_asks_each_family(monkeypatch):
    import optbench.chunks as chunks

    configs = SMALL["surface"]() + SMALL["network"]()
    check_memory_fits(configs)
    monkeypatch.setattr(chunks, "available_memory", lambda: 1000)
    with pytest.raises(OptbenchError, match="--record-every"):
        check_memory_fits(configs)
    with pytest.raises(OptbenchError, match="--hidden"):
        check_memory_fits(SMALL["network"]())


def test_engine_output_merge_keeps_config_order_and_pads():
    def part(value, rows, width):
        return EngineOutput(
            metrics={"m": np.full(len(rows), value)},
            history={
                "loss": np.full((len(rows), width), value),
                "step": np.zeros((len(rows), width), dtype=np.int64),
            },
            rows=np.array(rows),
            wall_s=np.zeros(len(rows)),
            per_run={"theta": [value] * len(rows)},
        )

    out = EngineOutput.merge(3, [([0, 2], part(1.0, [2, 1], 2)), ([1], part(2.0, [3], 3))])
    assert list(out.metrics["m"]) == [1.0, 2.0, 1.0]
    assert out.per_run["theta"] == [1.0, 2.0, 1.0]
    assert list(out.rows) == [2, 3, 1]
    assert np.isnan(out.history["loss"][0, 2]) and out.history["step"][0, 2] == -1


def test_importing_the_registry_and_the_problems_loads_no_numba_or_pandas():
    code = (
        "import sys, optbench.families, optbench.problems, optbench.engine, optbench.results;"
        "print(sorted(m for m in ('numba', 'pandas') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


# modules of the run path: they reach families only through optbench.families (plots, the CLI
# and the report join this list once they draw and print through the seam too)
# (the problem catalogs, problems/surfaces.py and problems/networks.py, are their family's data)
FAMILY_BLIND = ["engine", "results", "chunks", "executors", "api", "problems/__init__"]


@pytest.mark.parametrize("module", FAMILY_BLIND)
def test_the_run_path_tells_no_family_apart(module):
    """No family's name, no import of a family's own modules, no sniffing of family columns."""
    path = PACKAGE / f"{module}.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set(REGISTRY)
    sniffed = {"test_accuracy", "dist_to_min", "network"}
    own = tuple(f"{m}." for m in REGISTRY.values())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            assert not f"{node.module}.".startswith(own), node.module
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            assert node.value not in names | sniffed, (path.name, node.lineno, node.value)
        if isinstance(node, ast.Attribute) and node.attr == "network":
            raise AssertionError(f"{path.name}:{node.lineno} reads config.network")


def test_a_spec_family_name_is_what_runs_csv_records():
    assert get_problem("rosenbrock:b=1").family == "surface"
    assert get_problem("mnist").family == "network"
