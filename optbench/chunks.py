"""Running a sweep so that nothing is lost: chunks, atomic writes, resume.

Runs execute in chunks (each chunk one ``engine.run_many`` call, of one problem family, parallel
over its runs). Every finished chunk is written at once to ``DIR/chunks/`` — its runs and history
frames in one binary file (``binary_frames``: no text round trip per chunk), then a seal with
that file's sha256, each by rename — so a chunk counts as done exactly when it is sealed,
matches its seal and holds planned runs. Ctrl-C or a kill loses at most the chunk in
flight; ``resume`` reads the chunks, runs only what is missing (or damaged) and, since every run
depends on its own config alone, ends with the same numbers as an uninterrupted sweep.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from optbench.binary_frames import as_csv_reads, read_frames, write_frames
from optbench.config import RunConfig, SweepConfig
from optbench.errors import OptbenchError
from optbench.executors import DaskExecutor, LocalExecutor
from optbench.families import family_of
from optbench.families.output import EngineOutput
from optbench.results import (
    MANIFEST_JSON,
    RUN_HEAD,
    RUNS_CSV,
    atomic_path,
    atomic_write_text,
    frames,
    order_columns,
    read_manifest,
)

CHUNKS = "chunks"
MEMORY_SHARE = 0.5  # refuse work that would need more than this share of free RAM

Progress = Callable[[int], None]


@dataclass
class Phase:
    """One list of runs executed together: the grid, or the reruns of the tuned picks."""

    name: str
    configs: list[RunConfig]


def default_chunk_size(total: int) -> int:
    """About 50 chunks per sweep, at least 64 runs each: overhead stays small, progress moves.
    The chunks handed to a cluster at once; in this process they are sized by time instead
    (``timed_chunks``)."""
    return max(64, math.ceil(total / 50))


FIRST_CHUNK = 64
"""Runs in the first chunk a process runs, before it knows how long a run takes."""
CHUNK_SECONDS = 1.0
"""What a chunk run in this process aims to take: a kill loses about this much work, and the
progress line moves this often. Fixed counts cost more: the 50 chunks of a 10,000-run sweep
whose runs take 0.2 ms each spent 2.3 s writing chunks around 2 s of runs (measured)."""
GROWTH = 4
"""A chunk is at most this many times its predecessor: a first chunk slowed by loading the
engine, or a run of short runs, must not set one huge chunk."""


def timed_chunks(runs: list, first: int = FIRST_CHUNK, seconds: float = CHUNK_SECONDS):
    """``runs`` in consecutive chunks, each sized from how long the previous one took (from
    handing it out to being asked for the next: running and writing it) to take about
    ``seconds``. Which run lands in which chunk never changes a result."""
    start, size = 0, max(1, first)
    while start < len(runs):
        began = time.perf_counter()
        yield runs[start : start + size]
        start += size
        per_run = max(time.perf_counter() - began, 1e-9) / size
        size = max(first, min(GROWTH * size, int(seconds / per_run)))


def available_memory() -> int:
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 8 * 2**30


def check_memory_fits(configs: Sequence[RunConfig], plan: SweepConfig | None = None) -> None:
    """Refuse, before computing, work whose memory would not fit; each family estimates its own
    runs from counts (and says what to shrink). With the sweep's ``plan``, the tuned reruns
    count too: one config per cell of ``configs`` stands for its ``len(plan.final_seeds)``
    reruns (they differ from it only in the seed), so they are counted without being made."""
    have = available_memory() * MEMORY_SHARE
    reruns = len(plan.final_seeds) if plan is not None else 0
    for group in by_family(configs):
        counts = [1] * len(group)
        if reruns:
            cells = {_cell_of(c): c for c in reversed(group)}  # the first run of each cell
            group = [*group, *cells.values()]
            counts += [reruns] * len(cells)
        family = family_of(group)
        need = family.memory_bytes(group, counts)
        if need > have:
            raise OptbenchError(family.too_big(group, need, have, counts))


def _cell_of(config: RunConfig) -> tuple:
    """What a tuned rerun keeps of its grid run: everything but the hyperparameters and seed."""
    return tuple(
        getattr(config, name) for name in config.__dataclass_fields__ if name not in ("hp", "seed")
    )


def by_family(configs: Sequence[RunConfig]) -> list[list[RunConfig]]:
    """``configs`` split by problem family, each group in config order (one engine call runs
    one family)."""
    names = _family_names(configs)
    groups: dict[str, list[RunConfig]] = {}
    for c in configs:
        groups.setdefault(names[c.problem], []).append(c)
    return list(groups.values())


def _family_names(configs: Sequence[RunConfig]) -> dict[str, str]:
    """Problem label → family name, for every label in ``configs`` (each resolved once)."""
    from optbench.problems import get_problem

    return {label: get_problem(label).family for label in dict.fromkeys(c.problem for c in configs)}


CHUNK_FILE = re.compile(r"^(grid|final)-(\d{5,})\.(frames\.npz|seal\.json)$")
"""The files a chunk is made of; anything else in ``chunks/`` is not ours and is left alone."""

CHECKED_FIELDS = ("problem", "optimizer", "seed", "steps")
"""Fields of a chunk's rows compared with the planned run of the same id."""


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class ChunkStore:
    """The chunk files of a sweep folder: which runs are done, writing new chunks, merging.

    A chunk is its frames file (runs and history) and, written last, its seal (row counts and
    the file's sha256). Only a sealed chunk whose file matches the seal and whose rows are
    planned runs counts; anything else (a truncated or empty file, a chunk cut off by a kill)
    is removed and its runs are run again, so a damaged file can never leak into runs.csv.
    """

    def __init__(self, folder: Path):
        self.folder = folder / CHUNKS
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise OptbenchError(f"cannot keep chunks in '{self.folder}': {reason}") from None
        self._frames: dict[str, tuple[pd.DataFrame, pd.DataFrame]] = {}  # stem → checked frames

    def _stems(self) -> list[str]:
        """Names of the chunks on disk (sealed or not), in the order they were written."""
        names = (p.name for p in self.folder.iterdir() if not p.is_dir())
        stems = {m[0].split(".")[0]: int(m[2]) for m in map(CHUNK_FILE.match, names) if m}
        return sorted(stems, key=lambda stem: (stems[stem], stem))

    def _next_index(self) -> int:
        return max((int(stem.rsplit("-", 1)[1]) for stem in self._stems()), default=-1) + 1

    def write(self, phase: str, configs: list[RunConfig], out: EngineOutput) -> None:
        """Write the engine output of ``configs`` as one chunk (its frames, then the seal)."""
        stem = self.folder / f"{phase}-{self._next_index():05d}"
        runs, history = frames(configs, out)
        runs.insert(runs.columns.get_loc("steps") + 1, "phase", phase)
        runs, history = as_csv_reads(runs), as_csv_reads(history)
        path = stem.with_suffix(".frames.npz")
        with atomic_path(path) as tmp:
            write_frames(tmp, {"runs": runs, "history": history})
        seal = {"runs": len(runs), "history": len(history), "sha256": _digest(path)}
        atomic_write_text(stem.with_suffix(".seal.json"), json.dumps(seal) + "\n")
        self._frames[stem.name] = (runs, history)

    def _load(self, stem: str) -> tuple[pd.DataFrame, pd.DataFrame] | None:
        """The frames of chunk ``stem`` if it is sealed, matches its seal and is well formed."""
        phase = stem.split("-")[0]
        path = self.folder / f"{stem}.frames.npz"
        try:
            seal = json.loads((self.folder / f"{stem}.seal.json").read_text(encoding="utf-8"))
            if seal["sha256"] != _digest(path):
                return None
            stored = read_frames(path)
            runs, history = stored["runs"], stored["history"]
            rows = seal["runs"], seal["history"]
        except (OSError, ValueError, KeyError, TypeError):
            return None  # no seal, a damaged one, a file missing or unreadable
        ids = runs["run_id"] if "run_id" in runs.columns else None
        sound = (
            ids is not None
            and {*RUN_HEAD, "family"} <= set(runs.columns)
            and (len(runs), len(history)) == rows
            and ids.notna().all()
            and ids.is_unique
            and (runs["phase"] == phase).all()
            and "run_id" in history.columns
            and history["run_id"].isin(ids).all()
        )
        return (runs, history) if sound else None

    def _discard(self, stem: str) -> None:
        self._frames.pop(stem, None)
        for path in self.folder.glob(f"{stem}.*"):
            if CHUNK_FILE.match(path.name) and not path.is_dir():
                path.unlink(missing_ok=True)

    def _chunks(self) -> list[tuple[str, pd.DataFrame, pd.DataFrame]]:
        """Every valid chunk's (name, runs, history); invalid chunks are removed."""
        chunks = []
        for stem in self._stems():
            if stem not in self._frames:
                loaded = self._load(stem)
                if loaded is None:
                    self._discard(stem)
                    continue
                self._frames[stem] = loaded
            chunks.append((stem, *self._frames[stem]))
        return chunks

    def _kept(self, phases: Sequence[Phase]) -> list[tuple[pd.DataFrame, pd.DataFrame]]:
        """Per valid chunk, its rows that are planned runs of ``phases`` not seen in an earlier
        chunk, and their history; a chunk whose rows disagree with the plan is removed."""
        planned = {(phase.name, c.run_id): c for phase in phases for c in phase.configs}
        seen: set[tuple[str, str]] = set()
        kept = []
        for stem, runs, history in self._chunks():
            keys = list(zip(runs["phase"], runs["run_id"], strict=True))
            mine = [key in planned and key not in seen for key in keys]
            if not any(mine):
                continue
            chosen = [key for key, m in zip(keys, mine, strict=True) if m]
            runs = runs[mine]
            if not _agrees(runs, [planned[key] for key in chosen]):
                self._discard(stem)
                continue
            seen.update(chosen)
            kept.append((runs, history))
        return kept

    def read(self, phases: Sequence[Phase]) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The finished runs of ``phases`` and their history, each planned run once, in plan
        order (rows of other sweeps or phases left out, a run found in two chunks counted once;
        the columns in the same order whichever chunks a resume had to rerun)."""
        kept = self._kept(phases)
        if not kept:
            return pd.DataFrame(), pd.DataFrame()
        plan = [c for phase in phases for c in phase.configs]
        runs = pd.concat([r for r, _ in kept], ignore_index=True)
        history = pd.concat([h[h["run_id"].isin(r["run_id"])] for r, h in kept], ignore_index=True)
        return order_columns(order_by_plan(runs, plan), plan), order_by_plan(history, plan)

    def done_ids(self, phase: Phase) -> set[str]:
        return {run_id for runs, _ in self._kept([phase]) for run_id in runs["run_id"]}


def _agrees(runs: pd.DataFrame, configs: Sequence[RunConfig]) -> bool:
    """Whether each row records the planned run of its id (problem, optimizer, seed, steps)."""
    for name in CHECKED_FIELDS:
        planned = [getattr(c, name) for c in configs]
        try:
            if [type(v)(x) for v, x in zip(planned, runs[name], strict=True)] != planned:
                return False
        except (ValueError, TypeError):
            return False
    return True


def check_folder(folder: Path, sweep: SweepConfig, resume: bool) -> None:
    """A fresh sweep needs a folder without results; a resumed one provably the same sweep: a
    sweep manifest recording this sweep's config sha256 (chunks alone prove nothing)."""
    path = folder / MANIFEST_JSON
    chunks = folder / CHUNKS
    has_chunks = chunks.is_dir() and any(CHUNK_FILE.match(p.name) for p in chunks.iterdir())
    if not resume:
        if has_chunks or path.exists() or (folder / RUNS_CSV).exists():
            raise OptbenchError(
                f"'{folder}' already holds results; pass --resume to finish that sweep, "
                "or choose another --out"
            )
        return
    if not path.exists():
        what = "only chunks" if has_chunks else "no sweep"
        raise OptbenchError(
            f"'{folder}' holds {what} and no manifest.json: nothing proves it is this sweep, "
            "so --resume will not write into it"
        )
    config = read_manifest(folder).get("config")
    kind = config.get("kind") if isinstance(config, dict) else None
    if not isinstance(kind, str):
        raise OptbenchError(f"'{path}' records no sweep config; --resume cannot check it")
    if kind != "sweep":
        raise OptbenchError(
            f"'{folder}' holds the results of 'optbench {kind}', not a sweep; "
            "--resume only finishes sweeps"
        )
    recorded = config.get("sha256")
    if not isinstance(recorded, str) or not recorded:
        raise OptbenchError(
            f"'{path}' records no config sha256, so nothing proves it is this sweep; "
            "--resume will not write into it"
        )
    if recorded != sweep.sha256:
        raise OptbenchError(
            f"'{folder}' holds a different sweep (config sha256 {recorded[:12]}…, this one "
            f"{sweep.sha256[:12]}…); --resume needs the same sweep file and flags"
        )


def execute(
    store: ChunkStore,
    phase: Phase,
    executor: LocalExecutor | DaskExecutor | None = None,
    chunk_size: int | None = None,
    progress: Progress | None = None,
) -> int:
    """Run the runs of ``phase`` not yet in ``store``, chunk by chunk, on ``executor`` (this
    process by default), writing each chunk as it finishes. Returns how many ran."""
    done = store.done_ids(phase)
    missing = [c for c in phase.configs if c.run_id not in done]
    if progress:
        progress(len(phase.configs) - len(missing))
    executor = executor or LocalExecutor()
    family = _family_names(missing)
    groups = [  # a chunk holds runs of one problem family
        list(group) for _, group in itertools.groupby(missing, key=lambda c: family[c.problem])
    ]
    if chunk_size or executor.name != "local":  # a cluster takes its chunks all at once
        size = chunk_size or default_chunk_size(len(phase.configs))
        chunks = (runs[start : start + size] for runs in groups
                  for start in range(0, len(runs), size))  # fmt: skip
    else:
        chunks = (chunk for runs in groups for chunk in timed_chunks(runs))
    for chunk, out in executor.map(chunks):
        store.write(phase.name, chunk, out)
        if progress:
            progress(len(chunk))
    return len(missing)


def order_by_plan(
    frame: pd.DataFrame, plan: Sequence[RunConfig], key: str = "run_id"
) -> pd.DataFrame:
    """Rows in plan order (chunks finish in any order after a resume)."""
    position = {c.run_id: i for i, c in enumerate(plan)}
    order = frame[key].map(position).to_numpy()
    if frame is not None and len(frame) and "step" in frame.columns:
        return frame.iloc[np.lexsort((frame["step"].to_numpy(), order))].reset_index(drop=True)
    return frame.iloc[np.argsort(order, kind="stable")].reset_index(drop=True)
