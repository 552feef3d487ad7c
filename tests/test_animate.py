"""The trajectory animation: frame choice, the GIF's frames and size, and the CLI flags."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, ImageSequence

import optbench
from optbench.cli import cli
from optbench.errors import OptbenchError
from optbench.plots import animate
from optbench.plots.animate import MAX_FRAMES, frame_steps, trajectories_animation, write_animations
from optbench.results import read_results


@given(st.integers(1, 5000), st.integers(2, 80), st.integers(1, 7))
def test_frame_steps_are_distinct_recorded_steps_with_first_and_last(n, max_frames, every):
    steps = np.arange(n) * every
    picked = frame_steps(steps, max_frames)
    assert len(picked) == min(n, max_frames)
    assert np.all(np.diff(picked) > 0)
    assert set(picked) <= set(steps)
    assert picked[0] == steps[0] and picked[-1] == steps[-1]


def test_frame_steps_show_every_early_step_and_spread_the_late_ones():
    picked = frame_steps(np.arange(1001), 60)
    assert list(picked[:8]) == list(range(8))  # the fast start, one frame per step
    gaps = np.diff(picked)
    assert gaps[-1] > 50 * gaps[0]  # …and long strides at the end
    assert np.all(np.diff(gaps) >= -1)  # gaps grow (up to rounding)


def test_frame_steps_takes_the_union_of_the_runs_steps():
    assert list(frame_steps(np.array([0, 1, 2, 0, 1, 2, 3]))) == [0, 1, 2, 3]


def _frames(path):
    with Image.open(path) as gif:
        return [
            (frame.info["duration"], frame.convert("RGB").tobytes())
            for frame in ImageSequence.Iterator(gif)
        ]


@pytest.fixture(scope="module")
def animated(tmp_path_factory):
    """A run with --animate through the CLI: sgd converges, momentum diverges at step 7."""
    folder = tmp_path_factory.mktemp("anim") / "run"
    args = ["run", "-o", "sgd,momentum", "-p", "beale", "--steps", "200", "--lr", "0.01"]
    done = CliRunner().invoke(cli, [*args, "--animate", "--out", str(folder)])
    assert done.exit_code == 0, done.output
    assert "trajectories.gif" in done.output
    return folder


def test_gif_has_the_promised_frames_size_and_final_hold(animated):
    runs = pd.read_csv(animated / "runs.csv")
    assert runs["diverged"].tolist() == [False, True]  # a diverging run animates too
    frames = _frames(animated / "trajectories.gif")
    history = pd.read_csv(animated / "history.csv")
    assert len(frames) == len(frame_steps(history["step"].to_numpy())) == MAX_FRAMES
    delays_ms = [d for d, _ in frames]  # display time of each frame, from the GIF
    assert len(set(delays_ms[:-1])) == 1
    assert delays_ms[-1] >= 1000  # the last picture stays before the loop restarts
    with Image.open(animated / "trajectories.gif") as gif:
        assert gif.size == (576, 448)
    assert (animated / "trajectories.gif").stat().st_size < 3_000_000


def test_painting_the_background_once_draws_the_same_frames(animated, tmp_path, monkeypatch):
    runs, history, _ = read_results(animated)
    fast = trajectories_animation(runs, history, tmp_path / "fast.gif", max_frames=5)
    monkeypatch.setattr(animate, "_paint_background_once", lambda fig, moving: None)
    full = trajectories_animation(runs, history, tmp_path / "full.gif", max_frames=5)
    assert len(_frames(fast)) == 5
    assert _frames(fast) == _frames(full)


def test_plot_animate_redraws_the_gif(tmp_path):
    folder = tmp_path / "run"
    optbench.run(["adam"], "bowl", lr=0.3, steps=12, out=folder)
    assert not (folder / "trajectories.gif").exists()
    done = CliRunner().invoke(cli, ["plot", str(folder), "--animate"])
    assert done.exit_code == 0, done.output
    assert len(_frames(folder / "trajectories.gif")) == 13  # steps 0…12, fewer than the cap


def test_animate_needs_a_saved_run():
    with pytest.raises(OptbenchError, match="keep save"):
        optbench.run("adam", "bowl", save=False, animate=True)


def test_animate_needs_paths_on_a_surface(animated, tmp_path):
    runs, history, _ = read_results(animated)
    with pytest.raises(OptbenchError, match="2-D surfaces"):
        write_animations(runs, history.drop(columns=["x", "y"]), tmp_path)
