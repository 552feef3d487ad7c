"""Running a sweep so that nothing is lost: chunks, atomic writes, resume.

Runs execute in chunks (each chunk one ``engine.run_many`` call, of one problem family, parallel
over its runs). Every finished chunk is written at once to ``DIR/chunks/`` — history first, then
runs, each by rename — so a chunk counts as done exactly when its runs file exists. Ctrl-C or a kill
loses at most the chunk in flight; ``resume`` reads the chunks, runs only what is missing and, since
every run depends on its own config alone, ends with the same numbers as an uninterrupted sweep.
"""

from __future__ import annotations

import itertools
import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from optbench.config import RunConfig, SweepConfig
from optbench.errors import OptbenchError
from optbench.executors import DaskExecutor, LocalExecutor
from optbench.families import family_of
from optbench.families.output import EngineOutput
from optbench.results import MANIFEST_JSON, frames, write_csv

CHUNKS = "chunks"
MEMORY_SHARE = 0.5  # refuse work that would need more than this share of free RAM

Progress = Callable[[int], None]


@dataclass
class Phase:
    """One list of runs executed together: the grid, or the reruns of the tuned picks."""

    name: str
    configs: list[RunConfig]


def default_chunk_size(total: int) -> int:
    """About 50 chunks per sweep, at least 64 runs each: overhead stays small, progress moves."""
    return max(64, math.ceil(total / 50))


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


class ChunkStore:
    """The chunk files of a sweep folder: which runs are done, writing new chunks, merging."""

    def __init__(self, folder: Path):
        self.folder = folder / CHUNKS
        self.folder.mkdir(parents=True, exist_ok=True)

    def _runs_files(self) -> list[Path]:
        return sorted(self.folder.glob("*.runs.csv"))

    def done_ids(self) -> set[str]:
        return {
            run_id
            for path in self._runs_files()
            for run_id in pd.read_csv(path, usecols=["run_id"])["run_id"]
        }

    def _next_index(self) -> int:
        numbers = [int(p.name.split(".")[0].rsplit("-", 1)[1]) for p in self._runs_files()]
        return max(numbers, default=-1) + 1

    def write(self, phase: str, configs: list[RunConfig], out: EngineOutput) -> None:
        """Write the engine output of ``configs`` as one chunk (history first, runs last)."""
        stem = self.folder / f"{phase}-{self._next_index():05d}"
        runs, history = frames(configs, out)
        runs.insert(runs.columns.get_loc("steps") + 1, "phase", phase)
        write_csv(history, stem.with_suffix(".history.csv"))
        write_csv(runs, stem.with_suffix(".runs.csv"))

    def read(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """All finished runs and their history (orphan history files are ignored)."""
        runs_files = self._runs_files()
        if not runs_files:
            return pd.DataFrame(), pd.DataFrame()
        runs = pd.concat([pd.read_csv(p) for p in runs_files], ignore_index=True)
        history = pd.concat(
            [pd.read_csv(p.with_name(p.name.replace(".runs.", ".history."))) for p in runs_files],
            ignore_index=True,
        )
        return runs, history


def check_folder(folder: Path, sweep: SweepConfig, resume: bool) -> None:
    """A fresh sweep needs an empty folder; a resumed one the same sweep config."""
    manifest = folder / MANIFEST_JSON
    has_chunks = any((folder / CHUNKS).glob("*.runs.csv")) if (folder / CHUNKS).is_dir() else False
    if not resume:
        if has_chunks or manifest.exists():
            raise OptbenchError(
                f"'{folder}' already holds results; pass --resume to finish that sweep, "
                "or choose another --out"
            )
        return
    if not manifest.exists() and not has_chunks:
        raise OptbenchError(f"'{folder}' holds no sweep to resume (no manifest.json, no chunks)")
    if manifest.exists():
        recorded = json.loads(manifest.read_text()).get("config", {}).get("sha256")
        if recorded and recorded != sweep.sha256:
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
    done = store.done_ids()
    missing = [c for c in phase.configs if c.run_id not in done]
    if progress:
        progress(len(phase.configs) - len(missing))
    size = chunk_size or default_chunk_size(len(phase.configs))
    family = _family_names(missing)
    chunks = [
        runs[start : start + size]
        for _, group in itertools.groupby(missing, key=lambda c: family[c.problem])
        for runs in [list(group)]  # a chunk holds runs of one problem family
        for start in range(0, len(runs), size)
    ]
    for chunk, out in (executor or LocalExecutor()).map(chunks):
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
