"""``optbench lesson``: every lesson runs on a small budget, says what its own numbers show,
prints commands that reproduce its runs, and refuses bad input in one line."""

from __future__ import annotations

import shlex
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import optbench
from optbench.cli import cli
from optbench.lessons import LESSONS

COURSE = [
    "perceptron", "xor", "gradient-descent", "learning-rate", "momentum", "adaptive",
    "conventions", "backprop", "activations", "softmax", "batch-size", "tuning", "overfitting",
    "digits",
]  # fmt: skip


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_lesson_alone_lists_the_course_in_order():
    done = invoke("lesson")
    assert done.exit_code == 0, done.output
    lines = [line for line in done.output.splitlines() if line[:3].strip().rstrip(".").isdigit()]
    assert [line.split()[1] for line in lines] == COURSE
    assert [spec.name for spec in LESSONS] == COURSE


@pytest.mark.parametrize("name", COURSE)
def test_every_lesson_runs_on_a_small_budget(name, tmp_path):
    out = tmp_path / name
    done = invoke("lesson", name, "--quick", "--out", str(out))
    assert done.exit_code == 0, done.output
    commands = [line for line in done.output.splitlines() if line.startswith("$ optbench ")]
    notes = [line for line in done.output.splitlines() if line.startswith("→ ")]
    assert commands, done.output
    assert 2 <= len(notes) <= 4, done.output
    figure = done.output.split("look at ")[1].split(";")[0]
    assert figure.endswith(".png") and (out / figure.split(f"{out}/")[1]).is_file()
    for line in commands:  # every printed command parses, and wrote where it says
        args = shlex.split(line[2:])[1:]
        command = cli.get_command(None, args[0])
        command.make_context(args[0], args[1:])  # a flag the CLI lacks raises here
        target = args[args.index("--out") + 1]
        assert (tmp_path / target.split(f"{tmp_path}/")[1] / "runs.csv").is_file()


def test_a_changed_setting_changes_the_sentence(tmp_path):
    """The notes are computed: a third lr of 0.6 instead of 1.05 converges instead of
    diverging, and the sentences say so."""
    diverging = optbench.lesson("learning-rate", out=tmp_path / "a", quick=True)
    converging = optbench.lesson(
        "learning-rate", out=tmp_path / "b", quick=True, knobs={"lrs": (0.03, 0.3, 0.6)}
    )
    assert "lr 1.05 diverges" in diverging.notes[0]
    assert "lr 0.6 converges" in converging.notes[0]
    assert "diverges" not in converging.notes[0]
    assert diverging.notes != converging.notes


def test_the_printed_command_reproduces_the_lesson_run(tmp_path):
    result = optbench.lesson("momentum", out=tmp_path / "lesson", quick=True)
    line = result.commands[1]  # the Rosenbrock valley
    args = shlex.split(line)[1:]
    args[args.index("--out") + 1] = str(tmp_path / "again")
    done = invoke(*args)
    assert done.exit_code == 0, done.output
    mine = pd.read_csv(tmp_path / "again" / "runs.csv")
    lessons = result.results["valley"].runs
    np.testing.assert_array_equal(mine["final_gap"], lessons["final_gap"])
    assert f"{lessons['final_gap'].iloc[1]:.3g}" in result.notes[1]


def test_rerunning_a_lesson_replaces_its_own_folder_only(tmp_path):
    out = tmp_path / "gd"
    for _ in range(2):
        assert invoke("lesson", "gradient-descent", "--quick", "--out", str(out)).exit_code == 0
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    done = invoke("lesson", "gradient-descent", "--quick", "--out", str(other))
    assert done.exit_code == 2
    assert "holds other files" in done.output
    assert (other / "notes.txt").read_text() == "keep me"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["lesson", "momentun"], "did you mean 'momentum'"),
        (["lesson", ""], "unknown lesson ''"),
        (["lesson", "backprop", "--out", "FILE"], "is a file"),
    ],
)
def test_bad_lesson_input_is_one_line_exit_2(args, message, tmp_path):
    (tmp_path / "FILE").write_text("x")
    args = [str(tmp_path / a) if a == "FILE" else a for a in args]
    done = invoke(*args)
    assert done.exit_code == 2, done.output
    assert message in done.output
    assert "Traceback" not in done.output


@pytest.mark.parametrize(
    ("lesson", "knobs", "message"),
    [
        ("learning-rate", {"lr": 0.1}, "did you mean 'lrs'"),
        ("learning-rate", {"lrs": ()}, "non-empty list"),
        ("learning-rate", {"lrs": (0.1, float("nan"))}, "finite numbers"),
        ("learning-rate", {"lrs": "0.1"}, "non-empty list"),
        ("learning-rate", {"steps": 0}, "whole number >= 1"),
        ("learning-rate", {"steps": float("inf")}, "whole number >= 1"),
        ("learning-rate", {"steps": 2.5}, "whole number >= 1"),
        ("gradient-descent", {"lr": "big"}, "finite numbers"),
        ("gradient-descent", {"lr": -0.1}, "lr"),
        ("overfitting", {"l2": float("-inf")}, "finite numbers"),
        ("tuning", {"lr": ""}, "non-empty text"),
    ],
)
def test_a_bad_lesson_setting_is_one_clear_error(lesson, knobs, message, tmp_path):
    with pytest.raises(optbench.OptbenchError, match=message):
        optbench.lesson(lesson, out=tmp_path / "x", quick=True, knobs=knobs)


def test_activation_slopes_match_central_differences():
    """The activations figure draws the kernels' own derivatives: check them numerically."""
    from optbench.families.networks.kernels import activate, activation_slopes
    from optbench.problems.networks import ACTIVATIONS

    z = np.array([-4.0, -1.3, -0.2, 0.3, 0.9, 2.5, 6.0])  # away from ReLU's kink at 0
    for code in ACTIVATIONS.values():
        a, up, down = z.copy(), z + 1e-6, z - 1e-6
        for values in (a, up, down):
            activate(code, values)
        slopes = np.empty_like(a)
        activation_slopes(code, a, slopes)
        np.testing.assert_allclose(slopes, (up - down) / 2e-6, rtol=1e-6, atol=1e-9)


def test_listing_the_lessons_imports_no_heavy_library():
    code = (
        "import sys; from optbench.cli import cli\n"
        "try: cli(['lesson'], standalone_mode=False)\n"
        "except SystemExit: pass\n"
        "print('HEAVY', [m for m in ('numba', 'pandas', 'matplotlib') if m in sys.modules])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in done.stdout
    assert "momentum" in done.stdout
