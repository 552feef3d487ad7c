"""The figure process started ahead (``plots.ahead``): same files, same errors, no orphans."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from optbench.errors import OptbenchError
from optbench.plots import ahead
from optbench.plots.ahead import drawing, figures_ahead

needs_fork = pytest.mark.skipif(
    sys.platform != "linux" or (os.cpu_count() or 1) < 2, reason="draws in one process here"
)


@pytest.fixture(autouse=True)
def _forking_allowed(monkeypatch):
    """Fork even when an earlier test left threads behind (Dask keeps its IO loop and offload
    threads for the life of the process): this test's own code starts none."""
    monkeypatch.setattr(
        ahead, "can_fork", lambda: os.environ.get("OPTBENCH_SERIAL_FIGURES", "") in ("", "0")
    )


HERE = __name__  # the child is a fork of this process: it resolves these functions by name


def write_pid(folder: Path, name: str) -> list[Path]:
    """A drawing call that says which process ran it."""
    path = folder / name
    path.write_text(str(os.getpid()), encoding="utf-8")
    return [path]


def refuse(message: str) -> list[Path]:
    raise OptbenchError(message)


def crash() -> list[Path]:
    return [Path(str(1 / 0))]


def _gone(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True  # reaped
    return False


@needs_fork
def test_the_call_runs_in_the_child_started_ahead_and_returns_its_files(tmp_path):
    with figures_ahead():
        child = ahead._started.pid
        files = drawing(f"{HERE}:write_pid", tmp_path, name="a.txt")()
        assert drawing(f"{HERE}:write_pid", tmp_path, name="b.txt")() == [tmp_path / "b.txt"]
    assert files == [tmp_path / "a.txt"]
    assert int(files[0].read_text()) == child  # drawn there
    assert int((tmp_path / "b.txt").read_text()) == os.getpid()  # a second call: here
    assert _gone(child)


def test_without_a_process_ahead_the_call_waits_until_asked(tmp_path):
    pending = drawing(f"{HERE}:write_pid", tmp_path, name="a.txt")
    assert not (tmp_path / "a.txt").exists()
    assert pending() == [tmp_path / "a.txt"]
    assert int((tmp_path / "a.txt").read_text()) == os.getpid()


def test_no_plots_or_no_fork_starts_nothing(monkeypatch):
    monkeypatch.setattr(os, "fork", lambda: pytest.fail("forked without figures to draw"))
    with figures_ahead(enabled=False):
        assert ahead._started is None
    monkeypatch.setenv("OPTBENCH_SERIAL_FIGURES", "1")
    with figures_ahead():
        assert ahead._started is None


@needs_fork
def test_an_error_there_is_the_same_one_line_error_here():
    with (
        figures_ahead(),
        pytest.raises(OptbenchError, match=r"^cannot write 'x\.png': Read-only file system$"),
    ):
        drawing(f"{HERE}:refuse", "cannot write 'x.png': Read-only file system")()


@needs_fork
def test_a_crash_there_arrives_with_its_traceback():
    with figures_ahead(), pytest.raises(RuntimeError, match="ZeroDivisionError"):
        drawing(f"{HERE}:crash")()


@needs_fork
def test_a_block_that_draws_nothing_or_fails_leaves_no_child():
    with figures_ahead():
        idle = ahead._started.pid
    assert _gone(idle)
    with pytest.raises(KeyError), figures_ahead():
        sent = ahead._started.pid
        drawing(f"{HERE}:write_pid", Path("/nonexistent"), name="x")  # never waited for
        raise KeyError("the command failed before it needed its figures")
    assert _gone(sent)


@needs_fork
def test_the_child_leaves_ctrl_c_to_this_process(tmp_path):
    with figures_ahead():
        child = ahead._started.pid
        time.sleep(0.5)  # past the fork: the child's handlers are in place
        os.kill(child, signal.SIGINT)
        assert drawing(f"{HERE}:write_pid", tmp_path, name="a.txt")() == [tmp_path / "a.txt"]


@needs_fork
def test_the_child_ends_with_its_parent(tmp_path):
    """A parent killed mid-command closes the pipe; the child sees its end and exits."""
    script = textwrap.dedent(
        """
        import os, sys
        from optbench.plots.ahead import figures_ahead
        import optbench.plots.ahead as ahead
        with figures_ahead():
            print(ahead._started.pid, flush=True)
            os.kill(os.getpid(), 9)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == -signal.SIGKILL
    child = int(done.stdout)
    for _ in range(200):  # it finishes its imports first
        if not Path(f"/proc/{child}").exists() or "Z" in _state(child):
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"the figure process {child} outlived its parent")


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


@needs_fork
def test_the_commands_draw_the_same_bytes_ahead_as_in_one_process(tmp_path, monkeypatch):
    """``optbench run`` and ``optbench sweep`` as typed: figures ahead, then one by one."""
    from click.testing import CliRunner

    from optbench.cli import cli

    commands = {
        "run": ["run", "-o", "sgd,adam", "-p", "beale", "--steps", "300"],
        "sweep": ["sweep", "-o", "sgd,adam", "-p", "beale", "--lr", "1e-3..1e-1:4", "--steps",
                  "200", "--seeds", "2", "--tune", "lr"],
    }  # fmt: skip
    started = []
    real = ahead.FigureProcess.__init__
    monkeypatch.setattr(
        ahead.FigureProcess, "__init__", lambda self: (started.append(1), real(self))[1]
    )
    for name, command in commands.items():
        folders = {}
        for mode, serial in (("ahead", "0"), ("serial", "1")):
            monkeypatch.setenv("OPTBENCH_SERIAL_FIGURES", serial)
            folders[mode] = tmp_path / f"{name}-{mode}"
            done = CliRunner().invoke(cli, [*command, "--out", str(folders[mode])])
            assert done.exit_code == 0, done.output
        pngs = sorted(p.name for p in folders["ahead"].glob("*.png"))
        assert pngs == sorted(p.name for p in folders["serial"].glob("*.png"))
        assert len(pngs) >= 2
        for png in pngs:
            assert (folders["ahead"] / png).read_bytes() == (folders["serial"] / png).read_bytes()
    assert len(started) == 2  # once per command, and not when drawing one by one


def test_no_process_to_spare_draws_here(tmp_path, monkeypatch):
    """A fork that fails (EAGAIN: the user's process limit) costs nothing but the speed-up."""

    def refuse_fork():
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", refuse_fork)
    before = len(os.listdir("/proc/self/fd"))
    with figures_ahead():
        assert ahead._started is None
        files = drawing(f"{HERE}:write_pid", tmp_path, name="a.txt")()
    assert int(files[0].read_text()) == os.getpid()
    assert len(os.listdir("/proc/self/fd")) == before  # every pipe closed


@needs_fork
def test_a_child_killed_before_it_reports_leaves_the_drawing_to_this_process(tmp_path):
    with figures_ahead():
        child = ahead._started.pid
        os.kill(child, signal.SIGKILL)
        files = drawing(f"{HERE}:write_pid", tmp_path, name="a.txt")()
    assert int(files[0].read_text()) == os.getpid()
    assert _gone(child)


def write_slowly(folder: Path) -> list[Path]:
    """A drawing call caught mid-file: its temporary file exists until it is stopped."""
    from optbench.results import atomic_path

    with atomic_path(folder / "slow.png") as tmp:
        tmp.write_text("half a figure", encoding="utf-8")
        time.sleep(30)
    return [folder / "slow.png"]


@needs_fork
def test_stopping_a_child_mid_file_leaves_nothing_half_written(tmp_path):
    """Ctrl-C here while the child writes a figure: it is told to stop (SIGTERM), removes its
    temporary file and exits, long before the 30 s it would have taken."""
    began = time.monotonic()
    with pytest.raises(KeyboardInterrupt), figures_ahead():
        child = ahead._started.pid
        drawing(f"{HERE}:write_slowly", tmp_path)
        for _ in range(200):  # until the child is inside its write
            if any(tmp_path.iterdir()):
                break
            time.sleep(0.05)
        assert next(p.name for p in tmp_path.iterdir()).startswith(".slow.")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []
    assert _gone(child)
    assert time.monotonic() - began < 20
