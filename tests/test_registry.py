"""User optimizers: the decorator, entry-point plug-ins, and clear errors for broken kernels."""

from __future__ import annotations

import importlib.metadata
import sys
import textwrap

import numpy as np
import pytest
from click.testing import CliRunner

import optbench
from optbench.cli import cli
from optbench.errors import OptbenchError
from optbench.optimizers import registry


@pytest.fixture
def clean_registry():
    """Registrations made by a test are removed afterwards."""
    before = dict(registry.all_optimizers())
    yield
    registry._REGISTRY.clear()
    registry._REGISTRY.update(before)


def test_decorated_optimizer_works_in_every_command(clean_registry, tmp_path):
    @optbench.register_optimizer("signsgd", {"lr": 0.01}, summary="step along sign(g)")
    def signsgd(theta, grad, state, hp, t):
        for i in range(theta.size):
            theta[i] -= hp[0] * np.sign(grad[i])

    result = optbench.run(["signsgd", "sgd"], "bowl", steps=5, start=(-7, 2), save=False)
    first = result.history[result.history["run_id"] == result.runs["run_id"][0]]
    np.testing.assert_allclose(first["x"], -7 + 0.01 * np.arange(6))
    runner = CliRunner()
    listed = runner.invoke(cli, ["list", "optimizers"]).output
    assert "signsgd" in listed and "step along sign(g)" in listed
    out = tmp_path / "run"
    done = runner.invoke(cli, ["run", "-o", "signsgd", "--steps", "50", "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert (out / "trajectories.png").is_file()
    bad = runner.invoke(cli, ["run", "-o", "signsgd", "--lr", "-1"])
    assert bad.exit_code == 2 and "signsgd: lr=-1 must be > 0" in bad.stderr


def test_user_state_slots_and_checks(clean_registry):
    @optbench.register_optimizer(
        "heavyball", {"lr": 0.1, "mu": 0.5}, checks={"mu": "unit"}, slots=1
    )
    def heavyball(theta, grad, state, hp, t):
        for i in range(theta.size):
            state[i] = hp[1] * state[i] + grad[i]
            theta[i] -= hp[0] * state[i]

    spec = optbench.get_optimizer("heavyball")
    assert spec.state_size(2) == 2
    with pytest.raises(OptbenchError, match="heavyball: mu=1 must be in"):
        spec.resolve("torch", {"mu": 1.0})
    result = optbench.run("heavyball", "bowl", steps=1000, save=False)
    assert result.runs["final_gap"].iloc[0] < 1e-6


def test_a_kernel_that_does_not_compile_is_a_clear_error(clean_registry):
    @optbench.register_optimizer("broken", {"lr": 0.1})
    def broken(theta, grad, state, hp, t):
        theta[0] = "not a number"

    with pytest.raises(OptbenchError, match="optimizer 'broken': kernel does not compile"):
        optbench.run("broken", "bowl", steps=3, save=False)


def test_names_cannot_be_shadowed_by_accident(clean_registry):
    with pytest.raises(OptbenchError, match="already registered"):
        optbench.register_optimizer("adam", {"lr": 0.1})(lambda *a: None)
    with pytest.raises(OptbenchError, match="unknown check"):
        optbench.register_optimizer("x", {"lr": 0.1}, checks={"lr": "postive"})


def test_entry_point_plugins_are_discovered(clean_registry, tmp_path, monkeypatch):
    package = tmp_path / "optbench_plugin_demo.py"
    package.write_text(
        textwrap.dedent("""
        from optbench.optimizers import Hyper, OptimizerSpec

        def halfstep(theta, grad, state, hp, t):
            for i in range(theta.size):
                theta[i] -= 0.5 * hp[0] * grad[i]

        SPECS = [OptimizerSpec(name="halfstep", kernel=halfstep, hypers=(Hyper("lr", "positive"),),
                               defaults={"torch": {"lr": 0.1}, "keras": {"lr": 0.1}},
                               summary="half an sgd step")]
    """)
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    point = importlib.metadata.EntryPoint(
        name="demo", value="optbench_plugin_demo:SPECS", group=registry.ENTRY_POINT_GROUP
    )
    monkeypatch.setattr(
        importlib.metadata,
        "entry_points",
        lambda group=None: [point] if group == registry.ENTRY_POINT_GROUP else [],
    )
    broken = importlib.metadata.EntryPoint(
        name="bad", value="no_such_module:X", group=registry.ENTRY_POINT_GROUP
    )
    monkeypatch.setattr(registry, "_discovered", False)
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group=None: [point, broken])
    with pytest.warns(UserWarning, match="could not load optimizer plug-in 'bad'"):
        specs = registry.all_optimizers()
    assert "halfstep" in specs
    result = optbench.run("halfstep", "bowl", steps=1, start=(-7, 2), save=False)
    assert result.runs["final_x"].iloc[0] == pytest.approx(-7 + 0.5 * 0.1 * 0.7)
    sys.modules.pop("optbench_plugin_demo", None)


def test_a_spec_carries_its_colour_and_learning_rates(clean_registry):
    from optbench.plots import color_for
    from optbench.problems import get_problem

    for name, spec in optbench.all_optimizers().items():
        assert spec.color == color_for(name)  # the colour the figures draw it in
    assert optbench.get_optimizer("adadelta").smoke_lr_for("bowl", "keras") == 1.5
    assert optbench.get_optimizer("adadelta").smoke_lr_for("bowl", "torch") == 1.0
    assert optbench.get_optimizer("sgd").suggested_lr(get_problem("xor")) == 1.0
    assert optbench.get_optimizer("sgd").suggested_lr(get_problem("bowl")) is None

    @optbench.register_optimizer("plainsgd", {"lr": 0.01})
    def plainsgd(theta, grad, state, hp, t):
        for i in range(theta.size):
            theta[i] -= hp[0] * grad[i]

    spec = optbench.get_optimizer("plainsgd")
    assert spec.color in registry.FALLBACK_COLORS and spec.color == color_for("plainsgd")
    assert spec.smoke_lr_for("bowl", "torch") is None  # --lr, the baseline or a search decide
    assert spec.suggested_lr(get_problem("xor")) is None  # the preset's default lr
    other = registry.variant(spec, "plainsgd2", "a variant")
    assert other.color == color_for("plainsgd2") and other.kernel is spec.kernel


def test_the_registry_does_not_import_the_built_ins():
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(registry))
    imported = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    imported += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert not [m for m in imported if m and "builtin" in m]
    assert "optimizers.builtin" not in inspect.getsource(registry)
