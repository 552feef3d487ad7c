"""Results on disk: tidy frames → runs.csv, history.csv, manifest.json, written atomically.

Everything downstream (plots, reports, ``optbench plot DIR``, users' notebooks) reads only what
this module wrote, so any past run can be redrawn without recomputing. Files are written to a
temporary name in the same folder and renamed, so a crash never leaves half a file.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import platform
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
    from optbench.engine import BatchOutput

SCHEMA_VERSION = 1
SUMMARY_TARGET = 1e-3


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
    folder = new_folder_path(label, root) if path is None else Path(path).expanduser()
    if must_be_new and any((folder / name).exists() for name in (RUNS_CSV, MANIFEST_JSON)):
        raise OptbenchError(
            f"'{folder}' already holds results; choose another --out (or delete that folder)"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-check-"):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise OptbenchError(f"cannot write to output folder '{folder}': {reason}") from None
    return folder


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
    atomic_write_text(path, frame.to_csv(index=False))  # floats as repr: exact round trip


def _fstar(configs: Sequence[RunConfig]) -> tuple[dict[str, Any], Any]:
    """The problem spec of each distinct problem label, and f* per run (nan when unknown)."""
    import numpy as np

    from optbench.problems import get_problem

    problems = {label: get_problem(label) for label in dict.fromkeys(c.problem for c in configs)}
    known = {label: np.nan if p.fstar is None else p.fstar for label, p in problems.items()}
    fstar = np.array([known[c.problem] for c in configs])
    return problems, fstar


def runs_frame(configs: Sequence[RunConfig], out: BatchOutput) -> pd.DataFrame:
    """One row per run: config columns, then metrics (the column contract of README.md, Outputs).

    Built column by column from the engine's arrays, so 10,000 runs take milliseconds.
    """
    import numpy as np
    import pandas as pd

    from optbench.engine import (
        GAP_TARGETS,
        M_BEST,
        M_DIVERGED_STEP,
        M_FINAL,
        M_MEAN_LOG_GAP,
        N_FIXED_METRICS,
    )

    problems, fstar = _fstar(configs)
    n_runs = len(configs)
    last = out.rec_theta[np.arange(n_runs), out.rec_rows - 1]
    hp_names = list(dict.fromkeys(name for c in configs for name, _ in c.hp[1:]))
    hp_values = [c.hp_dict for c in configs]
    diverged_step = out.metrics[:, M_DIVERGED_STEP]
    columns: dict[str, Any] = {
        "run_id": [c.run_id for c in configs],
        "problem": [c.problem for c in configs],
        "optimizer": [c.optimizer for c in configs],
        "preset": [c.preset for c in configs],
        "lr": [c.lr for c in configs],
        "seed": [c.seed for c in configs],
        "steps": [c.steps for c in configs],
        **{f"hp_{name}": [hp.get(name, np.nan) for hp in hp_values] for name in hp_names},
        "start_x": [c.start[0] for c in configs],
        "start_y": [c.start[1] for c in configs],
        "noise": [c.noise for c in configs],
        "final_loss": out.metrics[:, M_FINAL],
        "best_loss": out.metrics[:, M_BEST],
        "final_gap": out.metrics[:, M_FINAL] - fstar,
        "diverged": diverged_step >= 0,
        "diverged_step": pd.array(np.where(diverged_step >= 0, diverged_step, np.nan), "Int64"),
        "wall_s": out.wall_s,
        "final_x": last[:, 0],
        "final_y": last[:, 1],
        "dist_to_min": [
            problems[c.problem].distance_to_nearest_minimum(x, y)
            for c, (x, y) in zip(configs, last, strict=True)
        ],
        "mean_log10_gap": out.metrics[:, M_MEAN_LOG_GAP],
    }
    for k, target in enumerate(GAP_TARGETS):
        hits = out.metrics[:, N_FIXED_METRICS + k]
        columns[target_column(target)] = pd.array(np.where(hits >= 0, hits, np.nan), "Int64")
    return pd.DataFrame(columns)


RUN_HEAD = ["run_id", "problem", "optimizer", "preset", "lr", "seed", "steps", "phase"]


def order_columns(runs: pd.DataFrame) -> pd.DataFrame:
    """The contract's column order: the run head, then ``hp_*`` columns in the order their first
    value appears in the rows, then the rest; chunks read back in any order come out the same."""
    head = [c for c in RUN_HEAD if c in runs.columns]
    hp = [c for c in runs.columns if c.startswith("hp_")]
    hp.sort(key=lambda c: runs.index.get_loc(runs[c].first_valid_index()))
    rest = [c for c in runs.columns if c not in head and c not in hp]
    return runs[head + hp + rest]


def summary_table(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per surface run of ``runs.csv``, the columns a reader compares first (CLI and
    report). Problem and seed columns appear only when they vary.
    """
    columns = {
        "optimizer": "optimizer",
        "lr": "lr",
        "final_gap": "final gap",
        "dist_to_min": "dist to min",
        target_column(SUMMARY_TARGET): f"steps to {SUMMARY_TARGET:g}",
        "diverged": "diverged",
    }
    table = runs[list(columns)].rename(columns=columns)
    if runs["seed"].nunique() > 1:
        table.insert(2, "seed", runs["seed"])
    if runs["problem"].nunique() > 1:
        table.insert(0, "problem", runs["problem"])
    return table


def history_frame(configs: Sequence[RunConfig], out: BatchOutput) -> pd.DataFrame:
    """Long format: one row per recorded step per run (step 0 is the start point)."""
    import numpy as np
    import pandas as pd

    _, fstar = _fstar(configs)
    kept = np.arange(out.rec_loss.shape[1])[None, :] < out.rec_rows[:, None]
    loss = out.rec_loss[kept]
    return pd.DataFrame(
        {
            "run_id": np.repeat(np.array([c.run_id for c in configs]), out.rec_rows),
            "step": out.rec_steps[kept],
            "loss": loss,
            "gap": loss - np.repeat(fstar, out.rec_rows),
            "x": out.rec_theta[..., 0][kept],
            "y": out.rec_theta[..., 1][kept],
        }
    )


def frames(configs: Sequence[RunConfig], out: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(runs, history) frames of engine output, whichever problem family produced it."""
    from optbench.engine import BatchOutput

    if isinstance(out, BatchOutput):
        return runs_frame(configs, out), history_frame(configs, out)
    from optbench import network_results

    return network_results.runs_frame(configs, out), network_results.history_frame(configs, out)


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


def read_csv_or_error(path: Path) -> pd.DataFrame:
    """``path`` as a frame; a missing or malformed file is a one-line error."""
    import pandas as pd

    try:
        return pd.read_csv(path)
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
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise OptbenchError(f"'{path}' is not valid JSON ({exc})") from None
