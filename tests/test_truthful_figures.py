"""Figures and tables that misled a student, each checked on what it draws or prints.

A path hidden under another, an unlabelled line, epoch 2.5, a landscape of a 0/1 error, regions
without edges, picks that look duplicated, and a "test accuracy" measured on the training rows.
"""

from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from matplotlib.contour import ContourSet

import optbench
from optbench.cli import cli
from optbench.columns import BOUNDARY_CSV, DATA_CSV
from optbench.plots import networks, surfaces

SIX = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _path_lines(ax):
    return [line for line in ax.lines if line.get_label().split()[0] in SIX]


def test_every_path_stays_visible_where_paths_coincide():
    result = optbench.run(SIX, "beale", start=(1.5, 1.5), steps=40, save=False)
    fig = surfaces.trajectories_figure(result.runs, result.history)
    lines = _path_lines(fig.axes[0])
    assert [line.get_label().split()[0] for line in lines] == SIX
    widths = [line.get_linewidth() for line in lines]
    zorders = [line.get_zorder() for line in lines]
    assert widths == sorted(widths, reverse=True) and len(set(widths)) == len(SIX)
    assert zorders == sorted(zorders) and len(set(zorders)) == len(SIX)
    # each path over another is dashed or solid in turn: the one beneath shows in its gaps
    dashed = [line.get_linestyle() != "-" for line in lines]
    assert dashed[-1] and all(a != b for a, b in itertools.pairwise(dashed))


def test_a_single_path_is_solid():
    result = optbench.run(["adam"], "beale", steps=20, save=False)
    (line,) = _path_lines(surfaces.trajectories_figure(result.runs, result.history).axes[0])
    assert line.get_linestyle() == "-"


def test_the_dashed_line_of_the_loss_figure_says_what_it_is():
    result = optbench.run(["sgd", "adam"], "bowl", steps=30, save=False)
    ax = surfaces.loss_figure(result.runs, result.history).axes[0]
    dashed = [line for line in ax.lines if line.get_linestyle() == "--"]
    assert len(dashed) == 1 and dashed[0].get_ydata()[0] == pytest.approx(1e-3)
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert dashed[0].get_label() in legend and "steps to 0.001" in dashed[0].get_label()


def test_epoch_ticks_are_whole_numbers(tmp_path):
    result = optbench.run(["sgd"], "xor", model="mlp", hidden="2", epochs=20, save=False)
    fig = networks.curves_figure(result.runs, result.history)
    fig.canvas.draw()
    for ax in fig.axes:
        ticks = ax.get_xticks()
        assert len(ticks) >= 3 and np.all(ticks == np.round(ticks)), ticks


def test_the_perceptron_gets_no_weight_path_and_the_mlp_does(tmp_path):
    perceptron = optbench.run(model="perceptron", problem="and", out=tmp_path / "p")
    names = {p.name for p in perceptron.figures}
    assert "weight_path.png" not in names and "curves.png" in names
    assert not (tmp_path / "p" / "weight_path.csv").exists()
    mlp = optbench.run(["adam"], "xor", model="mlp", hidden="2", epochs=5, out=tmp_path / "m")
    assert "weight_path.png" in {p.name for p in mlp.figures}


def _contour_sets(ax) -> int:
    return sum(isinstance(c, ContourSet) for c in ax.collections)


def _boundary_lines(folder):
    runs = optbench.load(folder).runs
    boundary = pd.read_csv(folder / BOUNDARY_CSV, dtype={"run_id": str})
    data = pd.read_csv(folder / DATA_CSV)
    ax = networks.boundaries_figure(runs, boundary, data).axes[0]
    sets = [c for c in ax.collections if isinstance(c, ContourSet)]
    return sum(len(path.vertices) for s in sets for path in s.get_paths())


@pytest.mark.parametrize("problem", ["blobs:n=150", "moons:n=150"])
def test_decision_regions_have_boundary_lines_for_any_number_of_classes(tmp_path, problem):
    folder = tmp_path / "run"
    optbench.run(["adam"], problem, epochs=3, lr=0.05, out=folder)
    assert _boundary_lines(folder) > 10


def test_a_truth_table_says_its_accuracy_is_on_the_training_rows(tmp_path):
    folder = tmp_path / "and"
    result = optbench.run(model="perceptron", problem="and", out=folder)
    fig = networks.curves_figure(result.runs, result.history)
    assert fig.axes[1].get_title() == "accuracy on the 4 training rows"
    assert "test" not in fig.axes[1].get_ylabel()
    boundary = pd.read_csv(folder / BOUNDARY_CSV, dtype={"run_id": str})
    data = pd.read_csv(folder / DATA_CSV)
    figure = networks.boundaries_figure(result.runs, boundary, data)
    title = figure.axes[0].get_title()
    assert "accuracy on the 4 training rows" in title and "test" not in title
    legend = [text.get_text() for text in figure.legends[0].get_texts()]
    assert "the 4 rows (trained and tested on)" in legend and "test points" not in legend
    assert len(figure.axes[0].collections) - _contour_sets(figure.axes[0]) == 1  # one scatter
    table = result.summary()
    assert "acc (4 training rows)" in table.columns
    assert not any("test" in column for column in table.columns)


def test_a_data_set_with_a_test_split_still_says_test_accuracy():
    result = optbench.run(["sgd"], "moons:n=100", epochs=2, save=False)
    fig = networks.curves_figure(result.runs, result.history)
    assert fig.axes[1].get_title() == "test accuracy"
    assert "test acc" in result.summary().columns


def test_the_printed_picks_show_every_setting_that_varies(tmp_path):
    args = ["sweep", "-o", "sgd,adam", "-p", "bowl", "--preset", "torch,keras", "--lr",
            "1e-2,1e-1", "--hp", "adam.beta1=0.8,0.9", "--seeds", "2", "--steps", "30",
            "--no-plots", "--out", str(tmp_path / "s")]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("best settings"))
    header, *rows = lines[at + 1 : at + 6]
    assert header.split()[:5] == ["problem", "preset", "optimizer", "lr", "beta1"]
    assert len({tuple(row.split()[:3]) for row in rows}) == 4  # no row looks like another
    html = optbench.report(tmp_path / "s").read_text()
    best = html[html.index("<h3>best.csv</h3>") :]
    assert "<th>beta1</th>" in best[: best.index("</table>")]


@pytest.mark.parametrize(
    ("problems", "expected"),
    [
        (["and", "xor", "or:"], True),
        (["and", "moons"], False),
        (["gone_from_the_catalog"], False),  # an edited runs.csv: no claim about its rows
        ([], False),
    ],
)
def test_which_runs_are_truth_tables(problems, expected):
    from optbench.problems import all_truth_tables

    assert all_truth_tables(problems) is expected
