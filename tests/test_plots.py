"""Figures and the report without numba; the numpy contour; sweep panels per varying setting."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import optbench
from optbench import analysis
from optbench.families import REGISTRY, family_names
from optbench.plots import family_module
from optbench.plots.panels import cell_panels
from optbench.plots.sweep import lr_sensitivity_figure, tuned_loss_figure
from optbench.problems import PROBLEMS
from optbench.problems.surface_values import FORMULAS
from optbench.problems.surface_values import grid_values as numpy_values

ROOT = Path(__file__).resolve().parent.parent
ENGINES = ("numba", "optbench.engine", "optbench._jit")
ENGINES += ("optbench.families.surfaces.engine", "optbench.families.networks.engine")
ENGINES += ("optbench.families.surfaces.kernels", "optbench.families.networks.kernels")


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """A surface run, a network run (with its boundary frames) and a small sweep, no figures."""
    root = tmp_path_factory.mktemp("numba_free")
    optbench.run(["sgd", "adam"], "beale", steps=40, seed=[0, 1], out=root / "run", plots=False)
    optbench.run(["sgd", "adam"], "moons", hidden=[4], epochs=5, out=root / "net")
    for png in (root / "net").glob("*.png"):
        png.unlink()
    optbench.sweep(optimizers=["sgd", "adam"], problems=["bowl", "xor"], lr=[0.01, 0.1],
                   seeds=2, steps=30, network={"hidden": [4], "epochs": 5},
                   out=root / "sweep", plots=False)  # fmt: skip
    return root


def test_figures_animation_and_report_never_load_numba(folders):
    """In a fresh process: import every figure and report module, then draw every figure of a
    run, a network run and a sweep, the GIF and the reports; numba and the engines stay out."""
    script = f"""
import json, sys
import optbench.plots.surfaces, optbench.plots.networks, optbench.plots.sweep
import optbench.plots.animate, optbench.reporting
import optbench
root = {str(folders)!r}
written = optbench.plot(root + "/run", animate=True) + optbench.plot(root + "/net")
written += optbench.plot(root + "/sweep")
for name in ("run", "net", "sweep"):
    written.append(optbench.report(root + "/" + name))
engines = {ENGINES!r}
loaded = sorted(m for m in sys.modules if m.startswith(engines) or m.endswith("_kernels"))
assert not loaded, loaded
print(json.dumps(sorted(p.name for p in written)))
"""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    names = set(json.loads(done.stdout.strip().splitlines()[-1]))
    expected = {"trajectories.png", "loss.png", "trajectories.gif", "curves.png"}
    expected |= {"boundaries.png", "tuned_loss.png", "trajectory_grid-bowl.png", "ecdf.png"}
    assert expected | {"report.html"} <= names


def test_figure_and_report_sources_import_no_engine_and_not_the_api():
    """Not even lazily inside a function: the modules' every import statement is checked."""
    import ast

    forbidden = (*ENGINES, "optbench.api")
    sources = [*(ROOT / "optbench" / "plots").glob("*.py")]
    sources += [*(ROOT / "optbench" / "reporting").glob("*.py")]
    for source in sources:
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [f"{node.module}.{alias.name}" for alias in node.names]
            else:
                continue
            bad = [n for n in names if n.startswith(forbidden)]
            assert not bad, f"{source.name} imports {bad}"


def test_numpy_contour_matches_the_jitted_kernels():
    from optbench.families.surfaces.kernels import grid_values

    surfaces = {n: s for n, s in PROBLEMS.items() if s.family == "surface"}
    assert set(FORMULAS) == set(surfaces)
    for surface in [*surfaces.values(), optbench.get_problem("rosenbrock:a=2:b=5")]:
        (x0, x1), (y0, y1) = surface.window
        xs, ys = np.linspace(x0, x1, 57), np.linspace(y0, y1, 43)
        jitted = grid_values(surface.index, np.asarray(surface.param_vector), xs, ys)
        np.testing.assert_allclose(numpy_values(surface, xs, ys), jitted, rtol=1e-12, atol=1e-12)


def test_family_comes_from_the_family_column_else_the_problem():
    runs = pd.DataFrame({"problem": ["bowl", "xor", "rosenbrock:b=1"]})
    assert family_names(runs).tolist() == ["surface", "network", "surface"]
    assert family_names(runs.assign(family=["network"] * 3)).tolist() == ["network"] * 3
    for family in REGISTRY:
        module = family_module(family)
        for entry in ("run_figures", "sweep_figures"):
            assert callable(getattr(module, entry)), (family, entry)


def _network_sweep(activations: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Synthetic grid runs and history of xor: sgd and adam, two lrs, two seeds per activation;
    tanh's losses are ten times relu's, so a line mixing them would show it."""
    rows, history = [], []
    for activation in activations:
        scale = 10.0 if activation == "tanh" else 1.0
        for optimizer in ("sgd", "adam"):
            for lr in (0.1, 1.0):
                for seed in (0, 1):
                    run_id = f"{activation}-{optimizer}-{lr}-{seed}"
                    loss = scale * lr * (2.0 if optimizer == "sgd" else 1.0) * (1 + seed)
                    cell = {"problem": "xor", "preset": "torch", "noise": 0.0, "steps": 40}
                    rows.append({"run_id": run_id, **cell, "optimizer": optimizer, "lr": lr,
                                 "seed": seed, "activation": activation, "epochs": 4,
                                 "final_gap": np.nan, "final_loss": loss,
                                 "diverged": False})  # fmt: skip
                    history += [{"run_id": run_id, "step": e * 10, "epoch": e,
                                 "loss": loss * (4 - e + 1)} for e in range(5)]  # fmt: skip
    return pd.DataFrame(rows), pd.DataFrame(history)


@pytest.fixture
def activation_is_an_axis(monkeypatch):
    """The cell as it will be once network settings are sweep axes."""
    monkeypatch.setattr(analysis, "CELL", [*analysis.CELL, "activation"])


def test_sweep_figures_draw_each_activation_apart(activation_is_an_axis):
    runs, history = _network_sweep(["relu", "tanh"])
    figure = lr_sensitivity_figure(runs)
    axes = [ax for ax in figure.axes if ax.get_visible()]
    assert [ax.get_title() for ax in axes] == ["xor, activation relu", "xor, activation tanh"]
    for ax, scale in zip(axes, (1.0, 10.0), strict=True):
        lines = {line.get_label(): line.get_ydata() for line in ax.get_lines()}
        assert set(lines) == {"sgd", "adam"}
        # the median over the two seeds (factors 1 and 2) of scale · lr · (2 for sgd)
        np.testing.assert_allclose(lines["adam"], scale * np.array([0.1, 1.0]) * 1.5)
        np.testing.assert_allclose(lines["sgd"], scale * np.array([0.1, 1.0]) * 3.0)
    picked = runs[runs["lr"] == 0.1]
    tuned = tuned_loss_figure(picked, history[history["run_id"].isin(picked["run_id"])])
    axes = [ax for ax in tuned.axes if ax.get_visible()]
    assert [ax.get_title() for ax in axes] == ["xor, activation relu", "xor, activation tanh"]
    first = {line.get_label(): line.get_ydata()[0] for line in axes[1].get_lines()}
    assert first == pytest.approx({"sgd (lr 0.1)": 10 * 0.1 * 2 * 1.5 * 5,
                                   "adam (lr 0.1)": 10 * 0.1 * 1.5 * 5})  # fmt: skip


def test_when_only_the_optimizer_varies_there_is_one_panel(activation_is_an_axis):
    runs, _ = _network_sweep(["relu"])
    axes = [ax for ax in lr_sensitivity_figure(runs).axes if ax.get_visible()]
    assert [ax.get_title() for ax in axes] == ["xor"]
    mixed = pd.concat([runs, runs.assign(problem="bowl", activation=np.nan)])
    named = [named for named, _ in cell_panels(mixed)]
    # the blank activation of a surface is no second value: only the problem is named
    assert named == [{"problem": "xor"}, {"problem": "bowl"}]


def test_ecdf_gives_each_varying_setting_a_line_style():
    from optbench.columns import GAP_TARGETS, target_column
    from optbench.plots.surfaces import ecdf_figure

    rows = [
        {"problem": problem, "preset": preset, "noise": 0.0, "steps": 100, "optimizer": name,
         "seed": 0, **{target_column(t): 10 * (i + 1) for i, t in enumerate(GAP_TARGETS)}}
        for problem in ("bowl", "beale")
        for preset in ("torch", "paper")
        for name in ("sgd", "adam")
    ]  # fmt: skip
    runs = pd.DataFrame(rows)
    lines = ecdf_figure(runs).axes[0].get_lines()
    styles = {line.get_label(): line.get_linestyle() for line in lines}
    assert styles == {"sgd, preset=torch": "-", "adam, preset=torch": "-",
                      "sgd, preset=paper": "--", "adam, preset=paper": "--"}  # fmt: skip
    one = ecdf_figure(runs[runs["preset"] == "torch"]).axes[0].get_lines()
    assert [line.get_label() for line in one] == ["sgd", "adam"]  # as before: problems pooled


def test_a_dense_trajectory_grid_draws_a_sample_of_paths_and_says_so(tmp_path):
    import matplotlib.pyplot as plt

    from optbench.plots.surfaces import MAX_PATHS, trajectory_grid_figure

    result = optbench.sweep(optimizers=["sgd"], problems=["bowl"], lr=[0.1], seeds=MAX_PATHS + 7,
                            steps=20, noise=0.5, out=tmp_path / "s", plots=False)  # fmt: skip
    fig = trajectory_grid_figure(result.runs, result.history, "bowl")
    (ax,) = fig.axes[:1]
    assert f"{MAX_PATHS + 7} seeds, {MAX_PATHS} drawn" in ax.get_title()
    paths = [line for line in ax.get_lines() if len(line.get_xdata()) > 2]
    assert len(paths) == MAX_PATHS
    plt.close(fig)
