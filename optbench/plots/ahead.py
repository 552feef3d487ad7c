"""A figure process started ahead: matplotlib gets ready while the runs compute, then draws.

Importing ``matplotlib.pyplot`` and its fonts takes about 0.7 s of one core, and it used to
start only once the runs were done, on the command's critical path; after it, a sweep wrote
its CSVs (about a second) and only then drew its figures. A command that will draw forks this
process first, before it imports numba or starts a thread, so the child copies little more
than the interpreter. The child imports the figure code while this process plans and computes
(a single run's engine leaves the second core idle), then waits. When the frames are ready the
command sends the drawing call down a pipe (pickled: this program's own frames, to its own
child) and writes its CSVs while the child draws, two figures at a time (``concurrent``).

The figures are the same files either way (tested byte for byte): the same function draws them
from the same frames, only elsewhere. Where forking is not safe (``concurrent.can_fork``) or a
command draws in-process (the Python API), ``drawing`` calls the function here, when its
result is asked for, and also when no process can be forked or the child dies before it
reports (the figures are then drawn here). The child ignores Ctrl-C (this process stops it),
never outlives this process (it exits at the end of its pipe), and reports an
``OptbenchError`` as the same one-line error.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import pickle
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

from optbench.errors import OptbenchError
from optbench.plots.concurrent import can_fork, stop_on_sigterm

READY = ("matplotlib.pyplot", "pandas", "optbench.plots.style", "optbench.plots.sweep")
"""What the child imports while it waits: everything a command's figures need."""

STOP_SECONDS = 5.0
"""How long a figure process told to stop may take to remove its file before it is killed."""
Drawing = Callable[[], list[Path]]
"""The files of a drawing call, waiting for it to finish (or drawing them, in-process)."""


def _resolve(name: str) -> Callable[..., list[Path]]:
    """``"module:function"`` → the function (imported in whichever process draws)."""
    module, _, attribute = name.partition(":")
    return getattr(importlib.import_module(module), attribute)


class FigureProcess:
    """A forked child that imports the figure code now and runs one drawing call later."""

    def __init__(self) -> None:
        self._requests_read, self._requests = os.pipe()
        self._reports, reports_write = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            self.pid = os.fork()
        except OSError:  # no process to spare (EAGAIN, ENOMEM): the caller draws in-process
            for end in (self._requests_read, self._requests, self._reports, reports_write):
                os.close(end)
            raise
        if self.pid == 0:
            os.close(self._requests)
            os.close(self._reports)
            _child(self._requests_read, reports_write)  # never returns
        os.close(self._requests_read)
        os.close(reports_write)
        self.used = False  # one drawing call each: a second one draws in-process
        self._waited = False
        self._sender: threading.Thread | None = None

    def submit(self, name: str, args: tuple, kwargs: dict) -> Drawing:
        """Send one drawing call; the returned function waits for its files."""
        payload = pickle.dumps((name, args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
        self.used = True
        self._call = (name, args, kwargs)  # drawn here if the child dies without a word
        # a pipe holds 64 KiB: a thread writes the rest as the child reads, so this process
        # goes on writing its CSVs meanwhile (the thread owns the pipe's end from here)
        self._sender = threading.Thread(target=self._send, args=(payload,), daemon=True)
        self._sender.start()
        return self._wait

    def _send(self, payload: bytes) -> None:
        with contextlib.suppress(OSError), os.fdopen(self._requests, "wb") as pipe:
            pipe.write(payload)  # an OSError: the child died, and _wait says so

    def _wait(self) -> list[Path]:
        self._waited = True
        with os.fdopen(self._reports, encoding="utf-8") as pipe:
            text = pipe.read()
        self._reap()
        if not text:  # killed (the OOM killer, a stray kill): the figures are drawn here
            name, args, kwargs = self._call
            return _resolve(name)(*args, **kwargs)
        report = json.loads(text)
        if "error" in report:
            raise OptbenchError(report["error"])
        if "crash" in report:
            raise RuntimeError(f"drawing figures in a child process failed:\n{report['crash']}")
        return [Path(p) for p in report["files"]]

    def _reap(self, patience: float | None = None) -> None:
        """Wait for the child to exit; after ``patience`` seconds, kill it."""
        deadline = None if patience is None else time.monotonic() + patience
        while deadline is not None and time.monotonic() < deadline:
            if os.waitpid(self.pid, os.WNOHANG)[0]:
                break
            time.sleep(0.01)
        else:
            if deadline is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        if self._sender is not None:
            self._sender.join()
        self.pid = 0

    def stop(self) -> None:
        """End the child if it still runs (nothing was drawn, or this process was interrupted
        before it had the files): SIGTERM, so the file it is writing is removed first."""
        if not self.pid:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGTERM)
        if not self.used:
            os.close(self._requests)
        if not self._waited:
            os.close(self._reports)
        self._reap(patience=STOP_SECONDS)


def _child(requests: int, reports: int) -> None:
    """Import the figure code, run the one call that arrives, report its files, exit."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    stop_on_sigterm()
    code = 0
    try:
        for module in READY:
            importlib.import_module(module)
        with os.fdopen(requests, "rb") as pipe:
            payload = pipe.read()
        if not payload:  # the command ended without drawing
            os._exit(0)
        name, args, kwargs = pickle.loads(payload)
        report = {"files": [str(p) for p in _resolve(name)(*args, **kwargs)]}
    except OptbenchError as exc:
        report, code = {"error": str(exc)}, 1
    except BaseException:  # a bug: the parent shows the child's traceback
        report, code = {"crash": traceback.format_exc()}, 1
    with contextlib.suppress(OSError), os.fdopen(reports, "w", encoding="utf-8") as pipe:
        pipe.write(json.dumps(report))
    os._exit(code)


_started: FigureProcess | None = None


@contextlib.contextmanager
def figures_ahead(enabled: bool = True) -> Iterator[None]:
    """Within the block, the first ``drawing`` call runs in a figure process started now
    (when ``enabled`` and forking is safe); the process never outlives the block."""
    global _started
    if not enabled or _started is not None or not can_fork():
        yield
        return
    try:
        _started = FigureProcess()
    except OSError:
        yield  # the figures are drawn in this process, as without a fork
        return
    try:
        yield
    finally:
        process, _started = _started, None
        process.stop()


def drawing(function: str, /, *args: object, **kwargs: object) -> Drawing:
    """Start the drawing call ``function`` (``"module:function"``, returning the files written):
    in the figure process started ahead when there is one, else in this process when the
    returned function is called."""
    if _started is not None and not _started.used:
        return _started.submit(function, args, kwargs)
    return lambda: _resolve(function)(*args, **kwargs)
