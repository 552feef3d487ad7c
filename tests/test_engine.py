"""The engine: recording, divergence as a result, noise, thread-count independence, convergence."""

from __future__ import annotations

import numba
import numpy as np
import pandas as pd
import pytest

import optbench
from optbench.columns import LOG_GAP_FLOOR
from optbench.config import build_run_configs
from optbench.engine import run_many
from optbench.results import target_column
from optbench.suites.smoke import SMOKE_BUDGET, SMOKE_START, surface_lrs

# A sensible lr per optimizer and smoke surface (each spec's ``smoke_lr``, the smoke suite's):
# every optimizer must get within a 1e-3 gap of the minimum in the fixed budget.
SMOKE_LR = surface_lrs()
BUILT_IN = list(SMOKE_LR["bowl"])


@pytest.mark.parametrize("problem", list(SMOKE_LR))
def test_every_optimizer_converges_on_the_smoke_surfaces(problem):
    result = optbench.run(
        BUILT_IN,
        problem,
        lr=SMOKE_LR[problem],
        steps=SMOKE_BUDGET,
        start=SMOKE_START.get(problem),
        save=False,
        record_every=SMOKE_BUDGET,
    )
    runs = result.runs.set_index("optimizer")
    assert not runs["diverged"].any()
    slow = runs[runs["final_gap"] > 1e-3]
    assert slow.empty, f"not within 1e-3 of f* on {problem}: {slow['final_gap'].to_dict()}"


def test_every_registered_optimizer_has_smoke_settings():
    assert set(BUILT_IN) == set(optbench.all_optimizers())


def test_history_starts_at_the_start_and_keeps_the_last_step():
    result = optbench.run("adam", "bowl", steps=10, record_every=3, start=(-7, 2), save=False)
    history = result.history
    assert history["step"].tolist() == [0, 3, 6, 9, 10]
    first = history.iloc[0]
    assert (first["x"], first["y"]) == (-7.0, 2.0)
    assert first["loss"] == pytest.approx(49 / 20 + 4)
    run = result.runs.iloc[0]
    assert (run["final_x"], run["final_y"]) == tuple(history.iloc[-1][["x", "y"]])


def test_divergence_is_a_recorded_result_not_a_crash():
    result = optbench.run(["sgd", "adam"], "rosenbrock", lr={"sgd": 1.0}, steps=500, save=False)
    runs = result.runs.set_index("optimizer")
    assert runs.loc["sgd", "diverged"]
    step = runs.loc["sgd", "diverged_step"]
    assert 0 < step < 500
    sgd_history = result.history[result.history["run_id"] == runs.loc["sgd", "run_id"]]
    assert sgd_history["step"].iloc[-1] == step  # the divergence step is kept, then nothing
    assert not runs.loc["adam", "diverged"]
    assert pd.isna(runs.loc["adam", "diverged_step"])


def test_bound_catches_runaway_without_non_finite_values():
    result = optbench.run("sgd", "saddle", lr=0.1, steps=1000, bound=10.0, save=False)
    run = result.runs.iloc[0]
    assert run["diverged"]
    assert np.isfinite(run["final_loss"])  # it left the box, it did not overflow


def test_steps_to_target_agrees_with_the_full_history():
    result = optbench.run(
        "adam", "bowl", lr=0.3, steps=400, record_every=1, start=(-7, 2), save=False
    )
    gaps = result.history["gap"].to_numpy()
    run = result.runs.iloc[0]
    for target in (1e-1, 1e-3, 1e-6):
        hits = np.flatnonzero(gaps <= target)
        expected = hits[0] if hits.size else None
        got = run[target_column(target)]
        assert (None if pd.isna(got) else got) == expected


def _engine_arrays(configs):
    out = run_many(configs)
    return [*out.metrics.values(), *out.history.values()]


def test_results_are_bit_identical_whatever_the_thread_count():
    configs = build_run_configs(
        optimizers=["sgd", "adam", "rmsprop"],
        problems="rastrigin",
        seeds=list(range(6)),
        noise=0.5,
        steps=300,
        record_every=7,
    )
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = _engine_arrays(configs)
        numba.set_num_threads(max(2, numba.config.NUMBA_NUM_THREADS))
        two = _engine_arrays(configs)
    finally:
        numba.set_num_threads(before)
    for a, b in zip(one, two, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("problem", ["bowl", "rosenbrock:b=30", "beale", "himmelblau",
                                     "rastrigin", "ackley", "booth", "goldstein_price",
                                     "styblinski_tang", "saddle"])  # fmt: skip
def test_both_surface_engines_give_the_same_bits(problem, monkeypatch):
    """Small jobs call the surface through its kernel (``problem_batch``), large ones have the
    ten inlined (``surface_batch``): a run's numbers must not depend on which ran it."""
    from optbench.families.surfaces import engine

    configs = [
        config
        for lr in (1e-3, 1e-1, 3.0)  # 3.0 diverges on most: the divergence row and step too
        for config in build_run_configs(
            optimizers=["sgd", "adam", "nesterov"],
            problems=problem,
            lr=lr,
            seeds=[0, 1],
            noise=0.3,
            steps=200,
            record_every=9,
            schedule="cosine",
        )
    ]
    monkeypatch.setattr(engine, "INLINE_STEPS", 10**18)
    called = _engine_arrays(configs)
    monkeypatch.setattr(engine, "INLINE_STEPS", 0)
    inlined = _engine_arrays(configs)
    assert engine.surface_batch.signatures and engine.problem_batch.signatures
    for a, b in zip(called, inlined, strict=True):
        np.testing.assert_array_equal(a, b)


def test_noise_comes_from_the_seed_alone():
    def final(seeds, optimizers=("sgd",)):
        result = optbench.run(list(optimizers), "bowl", seed=seeds, noise=1.0, steps=50, save=False)
        return result.runs.set_index(["optimizer", "seed"])["final_x"]

    alone = final([3])
    together = final([1, 2, 3, 4])
    assert alone[("sgd", 3)] == together[("sgd", 3)]  # same run, whatever else ran with it
    assert together[("sgd", 1)] != together[("sgd", 2)]
    quiet = optbench.run("sgd", "bowl", steps=50, save=False).runs["final_x"].iloc[0]
    assert quiet != alone[("sgd", 3)]


def test_outputs_follow_config_order_whatever_the_grouping():
    configs = build_run_configs(optimizers=["adam", "sgd"], problems="bowl", seeds=[0, 1], steps=20)
    interleaved = [configs[0], configs[2], configs[1], configs[3]]
    out = run_many(interleaved)
    alone = [run_many([c]) for c in interleaved]
    for name, values in out.metrics.items():
        np.testing.assert_array_equal(values, [one.metrics[name][0] for one in alone])


def test_mean_log10_gap_stays_finite_when_gaps_reach_zero():
    # Styblinski–Tang from (-2, -2) with sgd: gaps hit exact zeros and rounding negatives
    result = optbench.run("sgd", "styblinski_tang", start=(-2, -2), lr=0.01, steps=2000,
                          save=False)  # fmt: skip
    value = result.runs["mean_log10_gap"].iloc[0]
    assert np.isfinite(value) and value >= np.log10(LOG_GAP_FLOOR)


def test_mean_log10_gap_is_the_mean_over_every_step():
    result = optbench.run("adam", "rosenbrock", lr=0.05, steps=3000, record_every=1, save=False)
    gaps = result.history["gap"].to_numpy()
    expected = np.mean(np.log10(np.clip(gaps, LOG_GAP_FLOOR, 1 / LOG_GAP_FLOOR)))
    assert result.runs["mean_log10_gap"].iloc[0] == pytest.approx(expected, rel=1e-12)
