"""Property: a sweep interrupted at any point (and its chunks damaged) and then resumed, once or
twice, ends with every planned run exactly once and the numbers of an uninterrupted sweep."""

from __future__ import annotations

import itertools
import math
import re
import tempfile
from pathlib import Path
from unittest import mock

import pandas as pd
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import optbench
from optbench.config import SweepConfig
from optbench.executors import LocalExecutor

NUMERIC_SEEDS = [26, 45, 51, 65, 137, 199]
"""Seeds whose run ids look like numbers (``1331020789e1``, ``018052246157``, ...) for some
problem and optimizer below, at 10 steps and the default learning rates."""

LOOKS_NUMERIC = re.compile(r"^\d+(e\d+)?$")


class Interrupted(Exception):
    """Stands for Ctrl-C or a kill between two chunks."""


def interrupting_map(after: int):
    """``LocalExecutor.map`` that stops the sweep once ``after`` chunks were handed back,
    counted over the grid and the tuned reruns."""
    real = LocalExecutor.map
    handed = itertools.count()

    def map(self, chunks):
        for item in real(self, chunks):
            if next(handed) == after:
                raise Interrupted
            yield item

    return map


OPTIMIZERS = ["sgd", "adam", "momentum"]
LRS = [0.01, 0.3, 1.5, 50.0]  # 1.5 and 50 diverge on these problems

sweeps = st.fixed_dictionaries(
    {
        "optimizers": st.lists(
            st.sampled_from(["sgd", "adam", "momentum"]), min_size=1, max_size=3
        ),
        "problems": st.lists(st.sampled_from(["bowl", "rosenbrock"]), min_size=1, max_size=3),
        "lr": st.one_of(
            st.none(),  # each optimizer's default: where the numeric-looking ids are
            st.lists(st.sampled_from(LRS), min_size=1, max_size=3),  # repeats, diverging
            st.lists(st.sampled_from(LRS), min_size=2, max_size=3, unique=True),  # can tune
        ),
        "seeds": st.lists(st.sampled_from([*NUMERIC_SEEDS, 3]), min_size=1, max_size=3),
        "steps": st.sampled_from([10, 10, 14]),
        "tune": st.booleans(),
    }
)

damages = st.one_of(
    st.none(),
    st.tuples(st.sampled_from(["frames.npz", "seal.json"]), st.floats(0, 0.99)),
)


def run_sweep(raw: dict, out: Path, resume: bool, chunk_size: int) -> None:
    optbench.sweep(SweepConfig.from_raw(raw), out=out, resume=resume, plots=False,
                   chunk_size=chunk_size)  # fmt: skip


def damage(folder: Path, how: tuple[str, float] | None, pick: int) -> None:
    """Cut one chunk file at a fraction of its length (as a full disk or a copy might)."""
    files = sorted((folder / "chunks").glob(f"*.{how[0]}")) if how else []
    if files:
        path = files[pick % len(files)]
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * how[1])])


def tables(folder: Path) -> dict[str, pd.DataFrame]:
    read = {n: pd.read_csv(folder / n, dtype={"run_id": str}) for n in ("runs.csv", "history.csv")}
    read["best.csv"] = pd.read_csv(folder / "best.csv")
    read["runs.csv"] = read["runs.csv"].drop(columns="wall_s")
    return read


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    raw=sweeps,
    chunk_size=st.integers(1, 3),
    stops=st.lists(st.floats(0, 1.2), min_size=1, max_size=2),
    harm=damages,
    pick=st.integers(0, 50),
)
def test_interrupted_and_resumed_sweeps_match_the_uninterrupted_one(
    raw, chunk_size, stops, harm, pick
):
    if raw["lr"] is None or len(set(raw["lr"])) < 2:
        raw = {**raw, "tune": False}
    raw = {k: v for k, v in raw.items() if v is not None and v is not False}
    if "tune" in raw:
        raw["tune"] = "lr"
    plan = SweepConfig.from_raw(raw)
    event(f"numeric-looking ids: {any(LOOKS_NUMERIC.match(c.run_id) for c in plan.expand())}")
    event(f"tuned: {bool(plan.tune)}; damaged: {harm is not None}")
    with tempfile.TemporaryDirectory() as tmp:
        whole, broken = Path(tmp) / "whole", Path(tmp) / "broken"
        run_sweep(raw, whole, False, chunk_size)
        chunks = math.ceil(plan.run_count() / chunk_size)  # about: chunks split per family
        for attempt, stop in enumerate(stops):
            with mock.patch.object(LocalExecutor, "map", interrupting_map(int(stop * chunks))):
                try:
                    run_sweep(raw, broken, attempt > 0, chunk_size)
                except Interrupted:
                    event("interrupted")
                    damage(broken, harm, pick)
        run_sweep(raw, broken, True, chunk_size)
        expected, got = tables(whole), tables(broken)
    runs = got["runs.csv"]
    assert runs[["phase", "run_id"]].value_counts().max() == 1, "a run appears twice"
    planned = {c.run_id for c in plan.expand()}
    assert set(runs.loc[runs["phase"] == "grid", "run_id"]) == planned
    assert all(isinstance(i, str) for i in runs["run_id"])
    for name, frame in expected.items():
        pd.testing.assert_frame_equal(got[name], frame, obj=name)


def test_the_property_meets_numeric_looking_ids():
    plan = SweepConfig.from_raw(
        {
            "optimizers": ["sgd", "adam", "momentum"],
            "problems": ["bowl", "rosenbrock"],
            "steps": 10,
            "seeds": NUMERIC_SEEDS,
        }
    )
    numeric = [c.run_id for c in plan.expand() if LOOKS_NUMERIC.match(c.run_id)]
    assert len(numeric) >= len(NUMERIC_SEEDS)
