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

from optbench.errors import OptbenchError

if TYPE_CHECKING:
    import pandas as pd

    from optbench.config import RunConfig
    from optbench.engine import BatchOutput

SCHEMA_VERSION = 1
RUNS_CSV = "runs.csv"
HISTORY_CSV = "history.csv"
MANIFEST_JSON = "manifest.json"


def target_column(target: float) -> str:
    """``1e-3`` → ``steps_to_1e-03``: one spelling for every writer and reader."""
    return f"steps_to_{target:.0e}"


def utc_now() -> str:
    return _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def prepare_folder(
    path: str | os.PathLike | None, label: str, root: str | os.PathLike = "results"
) -> Path:
    """Create (or accept) the output folder and prove it writable *before* any computing.

    Without ``path`` a new ``<root>/<UTC time>-<label>/`` is made.
    """
    if path is None:
        stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        folder = Path(root) / f"{stamp}-{label}"
        suffix = 1
        while folder.exists():
            suffix += 1
            folder = Path(root) / f"{stamp}-{label}-{suffix}"
    else:
        folder = Path(path).expanduser()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-check-"):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise OptbenchError(f"cannot write to output folder '{folder}': {reason}") from None
    return folder


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
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same folder and a rename."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="")


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    atomic_write_text(path, frame.to_csv(index=False, float_format="%.17g"))


def runs_frame(
    configs: Sequence[RunConfig], out: BatchOutput, surfaces: Sequence[Any]
) -> pd.DataFrame:
    """One row per run: config columns, then metrics (DESIGN.md column contract)."""
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

    rows = []
    for r, (config, surface) in enumerate(zip(configs, surfaces, strict=True)):
        metrics = out.metrics[r]
        last = int(out.rec_rows[r]) - 1
        fx, fy = out.rec_theta[r, last]
        diverged_step = int(metrics[M_DIVERGED_STEP])
        row: dict[str, Any] = {
            "run_id": config.run_id,
            "problem": config.problem,
            "optimizer": config.optimizer,
            "preset": config.preset,
            "lr": config.lr,
            "seed": config.seed,
            "steps": config.steps,
        }
        row.update({f"hp_{k}": v for k, v in config.hp[1:]})
        row.update(
            {
                "start_x": config.start[0],
                "start_y": config.start[1],
                "noise": config.noise,
                "final_loss": metrics[M_FINAL],
                "best_loss": metrics[M_BEST],
                "final_gap": surface.gap(metrics[M_FINAL]),
                "diverged": diverged_step >= 0,
                "diverged_step": diverged_step if diverged_step >= 0 else None,
                "wall_s": out.wall_s[r],
                "final_x": fx,
                "final_y": fy,
                "dist_to_min": surface.distance_to_nearest_minimum(fx, fy),
                "mean_log10_gap": metrics[M_MEAN_LOG_GAP],
            }
        )
        for k, target in enumerate(GAP_TARGETS):
            hit = metrics[N_FIXED_METRICS + k]
            row[target_column(target)] = int(hit) if hit >= 0 else None
        rows.append(row)
    frame = pd.DataFrame(rows)
    integer_columns = ["diverged_step", *(target_column(t) for t in GAP_TARGETS)]
    for column in integer_columns:
        frame[column] = frame[column].astype("Int64")
    # hp_ columns after the fixed config columns, in first-seen order
    hp_columns = [c for c in frame.columns if c.startswith("hp_")]
    head = ["run_id", "problem", "optimizer", "preset", "lr", "seed", "steps", *hp_columns]
    frame = frame[head + [c for c in frame.columns if c not in head]]
    frame["final_gap"] = frame["final_gap"].astype(np.float64)
    return frame


def history_frame(
    configs: Sequence[RunConfig], out: BatchOutput, surfaces: Sequence[Any]
) -> pd.DataFrame:
    """Long format: one row per recorded step per run (step 0 is the start point)."""
    import numpy as np
    import pandas as pd

    parts = []
    for r, (config, surface) in enumerate(zip(configs, surfaces, strict=True)):
        n = int(out.rec_rows[r])
        loss = out.rec_loss[r, :n]
        parts.append(
            pd.DataFrame(
                {
                    "run_id": config.run_id,
                    "step": out.rec_steps[r, :n],
                    "loss": loss,
                    "gap": loss - surface.fstar
                    if surface.fstar is not None
                    else np.full(n, np.nan),
                    "x": out.rec_theta[r, :n, 0],
                    "y": out.rec_theta[r, :n, 1],
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


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


def manifest(config: dict, started: str, command: str) -> dict:
    """Schema version, the full config, versions, machine, seeds, git commit, UTC times."""
    import numba
    import numpy
    import pandas

    from optbench import __version__

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
        "seeds": sorted({run["seed"] for run in config.get("runs", [])}),
        "git_commit": _git_commit(),
        "started_utc": started,
        "finished_utc": utc_now(),
    }


def write_manifest(folder: Path, data: dict) -> None:
    atomic_write_text(folder / MANIFEST_JSON, json.dumps(data, indent=2, default=str) + "\n")


def read_results(folder: str | os.PathLike) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """(runs, history, manifest) of a finished run folder, for plots and users' own tools."""
    import pandas as pd

    folder = Path(folder)
    missing = [n for n in (RUNS_CSV, HISTORY_CSV) if not (folder / n).is_file()]
    if missing:
        raise OptbenchError(
            f"'{folder}' is not an optbench run folder (missing {', '.join(missing)})"
        )
    runs = pd.read_csv(folder / RUNS_CSV)
    history = pd.read_csv(folder / HISTORY_CSV)
    manifest_path = folder / MANIFEST_JSON
    data = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    return runs, history, data
