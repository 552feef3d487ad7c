"""Figures drawn two at a time: a command's figures shared with a forked copy of this process.

matplotlib draws on one core, and a figure takes a quarter to half a second to lay out and
rasterise; a sweep's five figures were the largest part of its whole process (measured with
``cProfile``). Once the runs are done both cores are idle, so the figures are split between this
process and a child forked from it, which already holds matplotlib, the frames and the fonts:
nothing is imported, pickled or read again, and each file is still written atomically by
``save_figure``. Results do not depend on it: each figure is built from the same frames by the
same code, only elsewhere (tested byte for byte against drawing them one by one).

Only where forking is safe and worth it: on Linux, with more than one core, more than one figure,
and no other Python thread running (a Dask client's threads would be copied mid-flight). The
child exits with ``os._exit`` (no atexit handlers, no flushing the parent's buffers twice) and
reports its files, or its error, through a pipe; an ``OptbenchError`` there (an unwritable
folder) is raised here as the same one-line error.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from optbench.errors import OptbenchError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FigureJob = tuple[Path, Callable[[], "Figure"]]
"""Where a figure goes (its ``.png`` path) and how to build it."""


def can_fork() -> bool:
    """Whether a child process can draw beside this one (see the module docstring)."""
    return (
        sys.platform == "linux"
        and (os.cpu_count() or 1) > 1
        and threading.active_count() == 1
        and os.environ.get("OPTBENCH_SERIAL_FIGURES", "") in ("", "0")
    )


def stop_on_sigterm() -> None:
    """In a figure process: SIGTERM (its parent stopping it) ends the drawing as an exception,
    so the file being written is removed (``atomic_path``) and its own helper stopped in turn:
    nothing half-written is left behind."""

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)


def _draw(jobs: Sequence[FigureJob], svg: bool) -> list[list[Path]]:
    """Each job's files (its PNG, and SVG with ``svg``)."""
    from optbench.plots.style import save_figure

    return [save_figure(build(), target, svg) for target, build in jobs]


def _draw_taken(jobs: Sequence[FigureJob], svg: bool, queue: int) -> dict[int, list[Path]]:
    """Draw jobs by the index read from ``queue`` (one byte each) until it runs dry: the two
    processes take the next figure as each becomes free, so a slow figure does not hold up
    the ones behind it. Returns {job index: its files}."""
    drawn = {}
    while index := os.read(queue, 1):
        drawn[index[0]] = _draw([jobs[index[0]]], svg)[0]
    return drawn


def save_figures(jobs: Sequence[FigureJob], svg: bool = False) -> list[Path]:
    """Build and write every job's figure; the files written, in job order (shared with a
    forked child, each process taking the next job when it is free, when ``can_fork``)."""
    if len(jobs) < 2 or not can_fork() or len(jobs) > 255:
        return [path for files in _draw(jobs, svg) for path in files]
    queue, fill = os.pipe()
    os.write(fill, bytes(range(len(jobs))))  # a pipe holds 64 KiB: far more than 255 bytes
    os.close(fill)
    read_end, write_end = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        pid = os.fork()
    except OSError:  # no process to spare (EAGAIN, ENOMEM): draw them all here
        for end in (queue, read_end, write_end):
            os.close(end)
        return [path for files in _draw(jobs, svg) for path in files]
    if pid == 0:  # the child: draw what it takes, report, leave without the parent's exit code
        stop_on_sigterm()
        os.close(read_end)
        code = 0
        try:
            taken = _draw_taken(jobs, svg, queue)
            report = {"files": {str(k): [str(p) for p in v] for k, v in taken.items()}}
        except OptbenchError as exc:
            report, code = {"error": str(exc)}, 1
        except BaseException:  # a bug: the parent shows the child's traceback
            report, code = {"crash": traceback.format_exc()}, 1
        with os.fdopen(write_end, "w", encoding="utf-8") as pipe:
            pipe.write(json.dumps(report))
        os._exit(code)
    os.close(write_end)
    try:
        drawn = _draw_taken(jobs, svg, queue)
    except BaseException:  # an error or Ctrl-C here: the child stops too, removing its file
        os.kill(pid, signal.SIGTERM)
        raise
    finally:  # never leave the child behind
        os.close(queue)
        with os.fdopen(read_end, encoding="utf-8") as pipe:
            text = pipe.read()
        os.waitpid(pid, 0)
    report = json.loads(text) if text else {"crash": "the figure process died without a word"}
    if "error" in report:
        raise OptbenchError(report["error"])
    if "crash" in report:
        raise RuntimeError(f"drawing figures in a child process failed:\n{report['crash']}")
    drawn |= {int(k): [Path(p) for p in v] for k, v in report["files"].items()}
    return [path for k in range(len(jobs)) for path in drawn[k]]
