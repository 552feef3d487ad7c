"""Figures drawn two at a time: half of a command's figures in a forked copy of this process.

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


def _draw(jobs: Sequence[FigureJob], svg: bool) -> list[list[Path]]:
    """Each job's files (its PNG, and SVG with ``svg``)."""
    from optbench.plots.style import save_figure

    return [save_figure(build(), target, svg) for target, build in jobs]


def save_figures(jobs: Sequence[FigureJob], svg: bool = False) -> list[Path]:
    """Build and write every job's figure; the files written, in job order (the jobs at odd
    positions drawn by a forked child when ``can_fork``)."""
    if len(jobs) < 2 or not can_fork():
        return [path for files in _draw(jobs, svg) for path in files]
    mine, theirs = list(jobs[0::2]), list(jobs[1::2])
    read_end, write_end = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: draw its half, report, leave without running the parent's exit code
        os.close(read_end)
        code = 0
        try:
            report = {"files": [[str(p) for p in files] for files in _draw(theirs, svg)]}
        except OptbenchError as exc:
            report, code = {"error": str(exc)}, 1
        except BaseException:  # a bug: the parent shows the child's traceback
            report, code = {"crash": traceback.format_exc()}, 1
        with os.fdopen(write_end, "w", encoding="utf-8") as pipe:
            pipe.write(json.dumps(report))
        os._exit(code)
    os.close(write_end)
    try:
        drawn = _draw(mine, svg)
    finally:  # also on an error or Ctrl-C here: never leave the child behind
        with os.fdopen(read_end, encoding="utf-8") as pipe:
            text = pipe.read()
        os.waitpid(pid, 0)
    report = json.loads(text) if text else {"crash": "the figure process died without a word"}
    if "error" in report:
        raise OptbenchError(report["error"])
    if "crash" in report:
        raise RuntimeError(f"drawing figures in a child process failed:\n{report['crash']}")
    files = [[Path(p) for p in job] for job in report["files"]]
    order = [*drawn, *files]  # back in job order: mine took the even positions, the child the odd
    positions = [*range(0, len(jobs), 2), *range(1, len(jobs), 2)]
    return [path for _, job in sorted(zip(positions, order, strict=True)) for path in job]
