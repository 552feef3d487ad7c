"""Hostile results for figures, tables and the report: whatever diverged is drawn (or the figure
says why not), each problem is summarised by the quantity it has, damaged folders are one line."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import optbench
from optbench.cli import cli


def ok(*args: str) -> str:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def one_line_error(*args: str) -> str:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 2, result.output + repr(result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


def texts(figure) -> str:
    """Every piece of visible text in a figure's panels."""
    return " ".join(t.get_text() for ax in figure.axes for t in ax.texts)


# ── item 1: a diverging grid ────────────────────────────────────────────────────────────────


@pytest.fixture(scope="module")
def diverging_sweep(tmp_path_factory):
    """The issue's command: every rosenbrock run diverges, bowl's lr 100 too."""
    out = tmp_path_factory.mktemp("diverging") / "D"
    ok("sweep", "-o", "sgd", "-p", "rosenbrock,bowl", "--lr", "0.5,100", "--seeds", "2",
       "--steps", "100", "--out", out)  # fmt: skip
    return out


def test_a_diverging_grid_finishes_the_sweep_with_its_figures(diverging_sweep):
    manifest = json.loads((diverging_sweep / "manifest.json").read_text())
    assert manifest["finished_utc"] is not None
    for name in ("lr_sensitivity", "tuned_loss", "trajectory_grid-rosenbrock", "ecdf"):
        assert (diverging_sweep / f"{name}.png").is_file(), name
    assert "lr_sensitivity.png" in ok("plot", diverging_sweep)


def test_a_panel_where_every_lr_diverged_says_so(diverging_sweep):
    from optbench.plots.sweep import lr_sensitivity_figure

    runs = pd.read_csv(diverging_sweep / "runs.csv")
    figure = lr_sensitivity_figure(runs[runs["phase"] == "grid"])
    rosenbrock, bowl = figure.axes[:2]
    assert "diverged at every learning rate" in " ".join(t.get_text() for t in rosenbrock.texts)
    assert not bowl.texts  # bowl's lr 0.5 finished: drawn as usual


@pytest.mark.parametrize("family", ["surface", "network"])
def test_a_sweep_where_every_run_diverges_draws_and_says_so(tmp_path, family):
    problem = ["-p", "rosenbrock", "--steps", "50"] if family == "surface" else ["-p", "xor"]
    if family == "network":
        problem += ["--epochs", "3"]
    out = tmp_path / "all"
    ok("sweep", "-o", "sgd", *problem, "--lr", "1e300,1e301", "--seeds", "2", "--out", out)
    runs = pd.read_csv(out / "runs.csv")
    assert runs["diverged"].all()
    assert (out / "lr_sensitivity.png").is_file() and (out / "tuned_loss.png").is_file()
    from optbench.plots.sweep import lr_sensitivity_figure

    assert "diverged at every learning rate" in texts(lr_sensitivity_figure(runs))


def test_a_run_that_diverges_at_its_start_draws_every_figure_and_the_gif(tmp_path):
    """f overflows at the start: no finite value, no contour over a window reaching 1e200."""
    from optbench.plots.surfaces import loss_figure, trajectories_figure

    out = tmp_path / "far"
    ok("run", "-o", "sgd", "-p", "rosenbrock", "--start", "1e200,1e200", "--steps", "5",
       "--animate", "--out", out)  # fmt: skip
    assert {"trajectories.png", "loss.png", "trajectories.gif"} <= {p.name for p in out.iterdir()}
    runs, history = pd.read_csv(out / "runs.csv"), pd.read_csv(out / "history.csv")
    assert "nothing to draw" in texts(loss_figure(runs, history))
    assert "no contours" in texts(trajectories_figure(runs, history))
    assert "trajectories.gif" in ok("plot", out, "--animate")


def test_a_network_run_whose_loss_explodes_is_drawn_on_a_readable_axis(tmp_path):
    """A loss of 1e299 overflowed matplotlib's log margins: the axis showed 1 … 10 only."""
    from optbench.plots.networks import curves_figure

    out = tmp_path / "net"
    ok("run", "-o", "sgd,adam", "-p", "xor", "--lr", "1e300", "--epochs", "3", "--out", out)
    runs, history = pd.read_csv(out / "runs.csv"), pd.read_csv(out / "history.csv")
    assert runs["diverged"].all() and (out / "curves.png").is_file()
    low, high = curves_figure(runs, history).axes[0].get_ylim()
    assert low < 1 and 1e100 < high < 1e300
    assert "curves.png" in ok("plot", out)


def test_nothing_reaching_a_target_or_no_known_minimum_is_said_in_the_figure():
    from optbench.plots.surfaces import ecdf_figure, performance_profile_figure

    runs = pd.DataFrame({"problem": ["rosenbrock", "saddle"], "preset": "torch", "noise": 0.0,
                         "steps": 10, "optimizer": "sgd", "seed": 0, "diverged": [True, False],
                         "final_gap": [float("inf"), None]})  # fmt: skip
    ecdf = ecdf_figure(runs)
    assert "no gap target reached" in texts(ecdf) and "every run diverged" in texts(ecdf)
    assert "left out: saddle" in ecdf.axes[0].get_title()
    saddle = runs[runs["problem"] == "saddle"]
    assert "f* is unknown" in texts(performance_profile_figure(saddle, ["problem"]))


# ── item 10: problems without a known minimum ───────────────────────────────────────────────


@pytest.fixture(scope="module")
def saddle_sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("saddle") / "S"
    printed = ok("sweep", "-o", "sgd,adam", "-p", "saddle,bowl", "--lr", "0.01,0.1",
                 "--seeds", "2", "--steps", "100", "--out", out, "--no-plots")  # fmt: skip
    return out, printed


def test_a_problem_without_f_star_is_summarised_by_its_final_loss(saddle_sweep):
    out, _ = saddle_sweep
    best = pd.read_csv(out / "best.csv").set_index(["problem", "optimizer"])
    saddle, bowl = best.loc["saddle"], best.loc["bowl"]
    assert (saddle["compared_by"] == "final_loss").all()
    assert (bowl["compared_by"] == "final_gap").all()
    assert (saddle["final_loss_median"] < -1).all()  # f goes to −∞: the raw loss, not 1e-30
    assert saddle["final_gap_median"].isna().all() and saddle["final_gap_geomean"].isna().all()
    assert bowl["final_loss_median"].isna().all() and (bowl["final_gap_geomean"] > 0).all()


def test_the_ranking_keeps_gaps_and_losses_apart(saddle_sweep):
    out, _ = saddle_sweep
    ranking = pd.read_csv(out / "ranking.csv")
    best = pd.read_csv(out / "best.csv")
    bowl = best[best["problem"] == "bowl"]
    assert list(ranking.columns) == ["optimizer", "mean_rank", "wins", "cells", "median_gap",
                                     "median_final_loss"]  # fmt: skip
    sgd = ranking.set_index("optimizer").loc["sgd"]
    assert sgd["median_gap"] == bowl.set_index("optimizer").loc["sgd", "final_gap_median"]
    assert sgd["median_final_loss"] < 0


def test_printed_headers_say_what_they_hold(saddle_sweep):
    _, printed = saddle_sweep
    assert "1e-30" not in printed and "(networks)" not in printed
    assert "the final loss where f* is unknown: saddle" in printed
    assert "median final loss" in printed and "median_final_loss" in printed


def test_only_gaps_get_geometric_statistics():
    from optbench.analysis import best_table

    runs = pd.DataFrame({"problem": "saddle", "preset": "torch", "noise": 0.0, "steps": 10,
                         "optimizer": "sgd", "lr": 0.1, "seed": [0, 1], "diverged": False,
                         "final_gap": None, "final_loss": [-5.0, -7.0]})  # fmt: skip
    best = best_table(runs, picks_from_fresh_seeds=False)
    assert best.loc[0, "final_loss_median"] == -6.0
    assert not [c for c in best.columns if "geo" in c or "log10" in c or "final_gap" in c]


# ── item 7: damaged folders and folders that cannot be written ──────────────────────────────


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "R"
    optbench.run(["sgd", "adam"], "bowl", steps=20, out=out, plots=False)
    return out


def copy_of(folder: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(folder, target)
    return target


@pytest.mark.parametrize("command", ["plot", "report"])
def test_a_read_only_folder_is_one_line(run_folder, tmp_path, monkeypatch, command):
    folder = copy_of(run_folder, tmp_path)
    folder.chmod(0o555)
    real = tempfile.mkstemp

    def refused(*args, dir=None, **kwargs):  # root ignores the mode: refuse as the OS would
        if dir is not None and Path(dir) == folder:
            raise PermissionError(13, "Permission denied", str(folder))
        return real(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", refused)
    try:
        line = one_line_error(command, folder)
    finally:
        folder.chmod(0o755)
    assert f"cannot write '{folder}" in line and "Permission denied" in line


def cut(path: Path, keep: float) -> None:
    text = path.read_text()
    path.write_text(text[: int(len(text) * keep)].rstrip("\n") + ",0.")


@pytest.mark.parametrize(
    ("damage", "fragment"),
    [
        (lambda f: cut(f / "runs.csv", 0.7), "runs.csv' ends in the middle of a line"),
        (lambda f: cut(f / "history.csv", 0.5), "history.csv' ends in the middle of a line"),
        (
            lambda f: (
                pd.read_csv(f / "history.csv")
                .drop(columns="gap")
                .to_csv(f / "history.csv", index=False)
            ),
            "history.csv' lacks the column(s) gap",
        ),
        (
            lambda f: pd.read_csv(f / "runs.csv").head(1).to_csv(f / "history.csv", index=False),
            "history.csv' lacks the column(s) step",
        ),
    ],
    ids=["truncated runs", "truncated history", "history without gap", "history of runs"],
)
def test_plot_on_a_damaged_folder_is_one_line(run_folder, tmp_path, damage, fragment):
    folder = copy_of(run_folder, tmp_path)
    damage(folder)
    assert fragment in one_line_error("plot", folder)


def test_plot_on_another_tools_folder_is_one_line(tmp_path):
    (tmp_path / "runs.csv").write_text("epoch,accuracy\n1,0.5\n")
    (tmp_path / "history.csv").write_text("epoch,loss\n1,0.7\n")
    line = one_line_error("plot", tmp_path)
    assert "runs.csv' lacks the column(s) run_id, problem, optimizer" in line


def test_plot_on_a_sweep_with_a_truncated_runs_csv_is_one_line(diverging_sweep, tmp_path):
    folder = copy_of(diverging_sweep, tmp_path)
    cut(folder / "runs.csv", 0.6)
    assert "runs.csv' ends in the middle of a line" in one_line_error("plot", folder)


def test_report_on_runs_without_final_gap_shows_what_there_is(run_folder, tmp_path):
    folder = copy_of(run_folder, tmp_path)
    runs = pd.read_csv(folder / "runs.csv")
    runs.drop(columns="final_gap").to_csv(folder / "runs.csv", index=False)
    assert "report.html" in ok("report", folder)
    page = (folder / "report.html").read_text()
    assert "dist to min" in page and "final gap" not in page


def test_report_on_a_truncated_runs_csv_is_one_line(run_folder, tmp_path):
    folder = copy_of(run_folder, tmp_path)
    cut(folder / "runs.csv", 0.7)
    assert "ends in the middle of a line" in one_line_error("report", folder)


def test_a_full_disk_while_drawing_is_one_line(run_folder, tmp_path, monkeypatch):
    import errno

    from optbench.plots import style

    folder = copy_of(run_folder, tmp_path)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(style.plt.Figure, "savefig", full)
    assert "No space left on device" in one_line_error("plot", folder)
