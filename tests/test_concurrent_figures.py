"""Figures drawn two at a time (``plots.concurrent``): same files, same order, same errors."""

from __future__ import annotations

import os

import matplotlib
import pytest

import optbench
from optbench.errors import OptbenchError
from optbench.plots import concurrent
from optbench.plots.concurrent import save_figures

matplotlib.use("Agg")

needs_fork = pytest.mark.skipif(not concurrent.can_fork(), reason="draws in one process here")


def _figure(label: str):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([1, 2, 3], [1e-3, 1e-1, 10.0], label=label)
    ax.set_yscale("log")
    ax.set_title(label)
    return fig


@needs_fork
def test_a_sweep_draws_the_same_bytes_in_two_processes_as_in_one(tmp_path, monkeypatch):
    settings = dict(optimizers=["sgd", "adam"], problems=["beale"], lr="1e-3..1e-1:4", seeds=2,
                    steps=200, tune="lr")  # fmt: skip
    two = optbench.sweep(**settings, out=tmp_path / "two")
    monkeypatch.setenv("OPTBENCH_SERIAL_FIGURES", "1")
    assert not concurrent.can_fork()
    one = optbench.sweep(**settings, out=tmp_path / "one")
    assert [p.name for p in two.figures] == [p.name for p in one.figures]
    assert len(one.figures) >= 4
    for a, b in zip(two.figures, one.figures, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


@needs_fork
def test_files_come_back_in_job_order_with_their_svgs(tmp_path):
    jobs = [(tmp_path / f"f{k}.png", lambda k=k: _figure(f"figure {k}")) for k in range(5)]
    written = save_figures(jobs, svg=True)
    assert written == [tmp_path / f"f{k}{ext}" for k in range(5) for ext in (".png", ".svg")]
    assert all(p.stat().st_size > 0 for p in written)


@needs_fork
def test_an_error_in_the_child_is_the_same_one_line_error_here(tmp_path):
    def unwritable():
        raise OptbenchError("cannot write 'x.png': Read-only file system")

    jobs = [(tmp_path / "a.png", lambda: _figure("a")), (tmp_path / "b.png", unwritable)]
    with pytest.raises(OptbenchError, match=r"^cannot write 'x\.png': Read-only file system$"):
        save_figures(jobs)
    assert (tmp_path / "a.png").is_file()  # the parent's half was still drawn


@needs_fork
def test_a_crash_in_the_child_is_reported_with_its_traceback(tmp_path):
    jobs = [(tmp_path / "a.png", lambda: _figure("a")), (tmp_path / "b.png", lambda: 1 / 0)]
    # in the child it arrives as a RuntimeError carrying the traceback; here, as itself
    with pytest.raises((RuntimeError, ZeroDivisionError), match=r"ZeroDivisionError|by zero"):
        save_figures(jobs)


@needs_fork
def test_no_child_is_left_behind(tmp_path):
    jobs = [(tmp_path / f"f{k}.png", lambda k=k: _figure(str(k))) for k in range(3)]
    save_figures(jobs)
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # every child was reaped


def test_one_figure_or_one_core_draws_here(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "fork", lambda: pytest.fail("forked for a single figure"))
    assert save_figures([(tmp_path / "a.png", lambda: _figure("a"))]) == [tmp_path / "a.png"]
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    jobs = [(tmp_path / f"f{k}.png", lambda k=k: _figure(str(k))) for k in range(2)]
    assert save_figures(jobs) == [tmp_path / "f0.png", tmp_path / "f1.png"]


@needs_fork
def test_a_slow_figure_does_not_hold_up_the_ones_behind_it(tmp_path):
    """Each process takes the next figure when it is free: the one drawing the slow figure
    draws nothing else, the other draws the rest."""
    import time

    def build(k: int):
        (tmp_path / f"pid{k}").write_text(str(os.getpid()))
        if k == 0:
            time.sleep(1.5)
        return _figure(str(k))

    jobs = [(tmp_path / f"f{k}.png", lambda k=k: build(k)) for k in range(5)]
    assert save_figures(jobs) == [tmp_path / f"f{k}.png" for k in range(5)]
    pids = [(tmp_path / f"pid{k}").read_text() for k in range(5)]
    assert len(set(pids)) == 2
    assert pids.count(pids[0]) == 1  # the slow one's process drew only it


def test_no_process_to_spare_draws_them_all_here(tmp_path, monkeypatch):
    def refuse_fork():
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", refuse_fork)
    monkeypatch.setattr(concurrent, "can_fork", lambda: True)
    before = len(os.listdir("/proc/self/fd"))
    jobs = [(tmp_path / f"f{k}.png", lambda k=k: _figure(str(k))) for k in range(3)]
    assert save_figures(jobs) == [tmp_path / f"f{k}.png" for k in range(3)]
    assert len(os.listdir("/proc/self/fd")) == before


@needs_fork
def test_an_error_here_stops_the_child_mid_file(tmp_path):
    """The parent's figure fails while the child is writing one: the child is told to stop,
    removes its temporary file, and the parent's error is the one raised."""
    import time

    from optbench.results import atomic_path

    parent = os.getpid()

    def job():  # whichever process takes it: the child writes slowly, the parent then fails
        if os.getpid() != parent:
            with atomic_path(tmp_path / "slow.png") as tmp:
                tmp.write_text("half a figure", encoding="utf-8")
                time.sleep(30)
        for _ in range(200):
            if any(p.name.startswith(".slow.") for p in tmp_path.iterdir()):
                break
            time.sleep(0.05)
        raise OptbenchError("cannot write 'b.png': No space left on device")

    began = time.monotonic()
    with pytest.raises(OptbenchError, match="No space left"):
        save_figures([(tmp_path / "a.png", job), (tmp_path / "b.png", job)])
    assert list(tmp_path.iterdir()) == []
    assert time.monotonic() - began < 20
