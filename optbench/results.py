"""Results on disk: tidy frames → runs.csv, history.csv, manifest.json, written atomically.

Everything downstream (plots, reports, ``optbench plot DIR``, users' notebooks) reads only what
this module wrote, so any past run can be redrawn without recomputing. Files are written to a
temporary name in the same folder and renamed, so a crash never leaves half a file.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import json
import os
import platform
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from optbench.columns import (  # noqa: F401 (re-exported)
    BEST_CSV,
    HISTORY_CSV,
    MANIFEST_JSON,
    RANKING_CSV,
    RUNS_CSV,
    target_column,
)
from optbench.errors import OptbenchError

if TYPE_CHECKING:
    import pandas as pd

    from optbench.config import RunConfig
    from optbench.families.output import EngineOutput

SCHEMA_VERSION = 1


def utc_now() -> str:
    return _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_folder_path(label: str, root: str | os.PathLike = "results") -> Path:
    """``<root>/<UTC time>-<label>``, made unique with a suffix if that exists already."""
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = Path(root) / f"{stamp}-{label}"
    suffix = 1
    while folder.exists():
        suffix += 1
        folder = Path(root) / f"{stamp}-{label}-{suffix}"
    return folder


def prepare_folder(
    path: str | os.PathLike | None,
    label: str,
    root: str | os.PathLike = "results",
    must_be_new: bool = False,
) -> Path:
    """Create (or accept) the output folder and prove it writable *before* any computing.

    Without ``path`` a new ``<root>/<UTC time>-<label>/`` is made. ``must_be_new`` refuses a
    folder that already holds results: they are never overwritten or mixed with new ones.
    """
    return _prepare(path, label, root, must_be_new)[0]


def _prepare(
    path: str | os.PathLike | None, label: str, root: str | os.PathLike, must_be_new: bool
) -> tuple[Path, bool]:
    """``prepare_folder``, and whether this call made the folder (only then may it remove it)."""
    if path is not None and not str(path).strip():
        raise OptbenchError("--out '' names no folder (give a folder, or leave --out out)")
    try:
        folder = new_folder_path(label, root) if path is None else Path(path).expanduser()
    except RuntimeError as exc:  # '~nouser/x': no such user's home
        raise OptbenchError(f"--out '{path}' names no folder ({exc})") from None
    made = False
    try:
        if must_be_new:
            _refuse_results(folder)
        folder.parent.mkdir(parents=True, exist_ok=True)
        try:
            folder.mkdir()
            made = True
        except FileExistsError:
            pass
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-check-"):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise OptbenchError(f"cannot write to output folder '{folder}': {reason}") from None
    return folder, made


LOCK_FILE = ".optbench.lock"
UNWRITABLE = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM}
"""Errors of the disk, not of optbench: reported in one line, like any unwritable folder."""


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold ``folder`` for this process while it writes, so a second writer (a run, a sweep,
    fresh or resumed) stops with one line instead of mixing or losing runs.

    The lock is an ``flock`` on ``.optbench.lock`` (holding the pid, for the message): the
    kernel drops it when its process dies, so a file left by a killed writer is taken over.
    """
    import fcntl

    path = folder / LOCK_FILE
    while True:
        try:
            handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise OptbenchError(f"cannot lock output folder '{folder}': {reason}") from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                os.close(handle)
                reason = exc.strerror or type(exc).__name__
                raise OptbenchError(f"cannot lock output folder '{folder}': {reason}") from None
            holder = os.read(handle, 32).decode(errors="replace").strip() or "?"
            os.close(handle)
            raise OptbenchError(
                f"'{folder}' is being written by another optbench process (pid {holder}); "
                "wait for it to finish, or choose another --out"
            ) from None
        try:
            same = os.fstat(handle).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(handle)  # its holder removed the file while we opened it: take the new one
    try:
        os.ftruncate(handle, 0)
        os.write(handle, f"{os.getpid()}\n".encode())
        yield
    finally:
        path.unlink(missing_ok=True)  # before unlocking, so no one locks a removed file
        os.close(handle)


@contextlib.contextmanager
def writing_folder(
    path: str | os.PathLike | None,
    label: str,
    root: str | os.PathLike = "results",
    must_be_new: bool = False,
) -> Iterator[Path]:
    """``prepare_folder``, locked while the block writes into it.

    If the block fails before the folder holds a manifest (the mark of a sweep that can be
    resumed, or of a finished run), what it wrote is removed: the folder it made, or the
    run's CSVs in a folder that was there before, so a rerun with the same ``--out`` is never
    refused by a half-written folder. A full or read-only disk is a one-line error.
    """
    folder, made = _prepare(path, label, root, must_be_new)
    try:
        with folder_lock(folder):
            if must_be_new:
                _refuse_results(folder)
            try:
                yield folder
            except BaseException:
                if not (folder / MANIFEST_JSON).exists():
                    _remove_unfinished(folder, made, must_be_new)
                raise
    except OSError as exc:
        if exc.errno not in UNWRITABLE:
            raise
        reason = exc.strerror or type(exc).__name__
        raise OptbenchError(f"cannot write to output folder '{folder}': {reason}") from None
    finally:
        if made and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()  # e.g. refused by the lock or the checks before anything was written


def _refuse_results(folder: Path) -> None:
    if any((folder / name).exists() for name in (RUNS_CSV, MANIFEST_JSON)):
        raise OptbenchError(
            f"'{folder}' already holds results; choose another --out (or delete that folder)"
        )


def _remove_unfinished(folder: Path, made: bool, run_files: bool) -> None:
    """Undo a failed write: the whole folder if this call made it, else the run's CSVs."""
    import shutil

    if made:
        shutil.rmtree(folder, ignore_errors=True)
    elif run_files:
        for name in (RUNS_CSV, HISTORY_CSV):
            (folder / name).unlink(missing_ok=True)


def _default_file_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


_FILE_MODE = _default_file_mode()


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary file beside ``path`` that replaces ``path`` only if the block succeeds.

    The temporary name keeps ``path``'s suffix, so writers that choose a format by suffix
    (matplotlib, Pillow) write the right one; a failure leaves no half-written file behind.
    """
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)
    os.close(handle)
    try:
        yield Path(tmp)
        os.chmod(tmp, _FILE_MODE)  # mkstemp makes 0600; results are for sharing, like any file
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same folder and a rename."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="")


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """``frame`` as ``to_csv`` writes it (floats as repr: an exact round trip), atomically."""
    from optbench.csv_text import csv_text

    atomic_write_text(path, csv_text(frame))


RUN_HEAD = ["run_id", "problem", "optimizer", "preset", "lr", "seed", "steps", "phase"]


def order_columns(runs: pd.DataFrame, plan: Sequence[RunConfig] = ()) -> pd.DataFrame:
    """The contract's column order: the run head, then ``hp_*`` columns in the order their first
    value appears in the rows (within a row, in the order of its config's ``plan`` entry), then
    the rest; chunks read back in any order (a resume reruns some late) come out the same."""
    rank = {f"hp_{n}": i for i, n in enumerate(dict.fromkeys(n for c in plan for n, _ in c.hp))}
    head = [c for c in RUN_HEAD if c in runs.columns]
    hp = [c for c in runs.columns if c.startswith("hp_")]
    hp.sort(key=lambda c: (runs.index.get_loc(runs[c].first_valid_index()), rank.get(c, 0)))
    rest = [c for c in runs.columns if c not in head and c not in hp]
    return runs[head + hp + rest]


def frames(configs: Sequence[RunConfig], out: EngineOutput) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(runs, history) frames of engine output, built by the configs' problem family; runs end
    with a ``family`` column (readers pick the family from it; last, so no column moves)."""
    from optbench.families import family_of

    family = family_of(configs)
    runs, history = family.frames(configs, out)
    runs["family"] = family.name
    _add_schedule_columns(configs, out, runs, history)
    return runs, history


def _add_schedule_columns(
    configs: Sequence[RunConfig], out: EngineOutput, runs: pd.DataFrame, history: pd.DataFrame
) -> None:
    """``schedule`` and a ``schedule_<parameter>`` column per parameter to runs.csv (before
    ``family``, which stays last), and to history.csv the ``scheduled_lr`` each recorded
    step's update used (a network records the lr of its epoch's last update)."""
    import numpy as np
    import pandas as pd

    from optbench.schedules.specs import UPDATE_COUNTS

    at = runs.columns.get_loc("family")  # stays last: readers find it there
    runs.insert(at, "schedule", [c.schedule for c in configs])
    names = list(dict.fromkeys(name for c in configs for name, _ in c.schedule_params))
    for k, name in enumerate(names, start=1):
        values = [dict(c.schedule_params).get(name) for c in configs]
        shown = [",".join(map(str, v)) if isinstance(v, tuple) else v for v in values]
        if name in UPDATE_COUNTS:  # a number of updates reads as one: 1125, not 1.12e+03
            shown = pd.array([None if v is None else int(v) for v in shown], dtype="Int64")
        runs.insert(at + k, f"schedule_{name}", shown)  # milestones as "500,800"
    lr = np.empty(len(history))
    steps = history["step"].to_numpy(dtype=np.int64)
    begin = 0
    for config, rows in zip(configs, out.rows, strict=True):
        end = begin + int(rows)
        if config.schedule == "constant":
            lr[begin:end] = config.lr
        else:
            from optbench.schedules.kernels import lr_at, schedule_matrix

            lr[begin:end] = lr_at(schedule_matrix([config])[0], steps[begin:end])
        begin = end
    history["scheduled_lr"] = lr


def _git_commit() -> str | None:
    source = Path(__file__).resolve().parent.parent
    if not (source / ".git").exists():
        return None
    try:
        done = subprocess.run(
            ["git", "-C", str(source), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def manifest(config: dict, started: str, command: str, seeds: Sequence[int]) -> dict:
    """Schema version, the full config, versions, machine, seeds, git commit, UTC times."""
    import numba
    import numpy
    import pandas

    from optbench._version import __version__

    return {
        "schema_version": SCHEMA_VERSION,
        "command": command,
        "config": config,
        "versions": {
            "optbench": __version__,
            "python": platform.python_version(),
            "numpy": numpy.__version__,
            "numba": numba.__version__,
            "pandas": pandas.__version__,
        },
        "machine": {
            "cpu": _cpu_name(),
            "cores": os.cpu_count(),
            "threads": numba.get_num_threads(),
            "platform": platform.platform(),
        },
        "seeds": sorted(set(seeds)),
        "git_commit": _git_commit(),
        "started_utc": started,
        "finished_utc": utc_now(),
    }


def write_manifest(folder: Path, data: dict) -> None:
    atomic_write_text(folder / MANIFEST_JSON, json.dumps(data, indent=2, default=str) + "\n")


TEXT_COLUMNS = ("run_id", "problem", "optimizer", "preset", "phase", "family", "evaluated_on")
"""Columns that hold names, read as text: about 0.7 % of run ids look like numbers
(``1331020789e1``) and must not come back as floats."""


def read_table(path: Path, **options: object) -> pd.DataFrame:
    """A CSV this module wrote, with every id and name column as text (never a number)."""
    import pandas as pd

    return pd.read_csv(path, dtype=dict.fromkeys(TEXT_COLUMNS, str), **options)


def read_csv_or_error(path: Path) -> pd.DataFrame:
    """``path`` as a frame; a missing or malformed file is a one-line error."""
    import pandas as pd

    try:
        return read_table(path)
    except FileNotFoundError:
        raise OptbenchError(f"'{path}' is missing") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise OptbenchError(f"'{path}' is not a readable CSV table ({exc})") from None


def read_results(folder: str | os.PathLike) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """(runs, history, manifest) of a finished run folder, for plots and users' own tools."""
    folder = Path(folder)
    missing = [n for n in (RUNS_CSV, HISTORY_CSV) if not (folder / n).is_file()]
    if missing:
        raise OptbenchError(
            f"'{folder}' is not an optbench run folder (missing {', '.join(missing)})"
        )
    runs = read_csv_or_error(folder / RUNS_CSV)
    history = read_csv_or_error(folder / HISTORY_CSV)
    return runs, history, read_manifest(folder)


def read_manifest(folder: str | os.PathLike) -> dict:
    """The folder's manifest.json ({} when there is none); unreadable JSON is a one-line error."""
    path = Path(folder) / MANIFEST_JSON
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise OptbenchError(f"'{path}' is not valid JSON ({exc})") from None
    except OSError as exc:
        raise OptbenchError(f"cannot read '{path}': {exc.strerror or exc}") from None
    if not isinstance(data, dict):
        raise OptbenchError(f"'{path}' is not an optbench manifest (not a JSON object)")
    return data
