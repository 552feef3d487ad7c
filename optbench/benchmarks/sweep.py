"""Sweep throughput: 10,000 runs × 1,000 Adam steps on Rosenbrock, final values only.

Three timings side by side: the whole ``optbench.sweep`` (config expansion, chunked parallel
engine, atomic CSV writes, merge), the engine calls alone, and a hand-fused ``prange`` kernel of
the same Adam update written here. Ratios are fused time ÷ optbench time (1.0 = as fast).
"""

from __future__ import annotations

import tempfile
import time

import numpy as np
from numba import prange

from optbench._jit import jit
from optbench.benchmarks.engine import fused_adam_rosenbrock

RUNS_PER_AXIS = 100  # 100 learning rates × 100 seeds = 10,000 runs
STEPS = 1000


@jit(parallel=True)
def fused_adam_rosenbrock_batch(lrs, steps, out):
    """The hand-fused Adam loop (inlined), one run per prange iteration, from (−2, 2)."""
    for r in prange(lrs.size):
        out[r] = fused_adam_rosenbrock(-2.0, 2.0, lrs[r], 0.9, 0.999, 1e-8, steps)[0]


def _plan(runs_per_axis: int = RUNS_PER_AXIS, steps: int = STEPS):
    from optbench.config import SweepConfig

    return SweepConfig.from_raw({
        "optimizers": ["adam"], "problems": ["rosenbrock"], "lr": f"1e-4..1:{runs_per_axis}",
        "seeds": runs_per_axis, "steps": steps, "record_every": steps,
    })  # fmt: skip


def samples(
    repeats: int = 3, runs_per_axis: int = RUNS_PER_AXIS, steps: int = STEPS
) -> list[dict[str, float]]:
    """Per repeat: wall times of the whole sweep, its engine part and the fused kernel, and
    whether the engine and the fused kernel ended at identical losses."""
    import optbench
    from optbench.engine import run_many

    plan = _plan(runs_per_axis, steps)
    configs = plan.expand()
    lrs = np.array([c.lr for c in configs])
    out = np.empty(lrs.size)
    fused_adam_rosenbrock_batch(lrs[:2], 2, out[:2])  # compile / load from cache
    run_many(configs[:2])
    with tempfile.TemporaryDirectory() as folder:  # first-call imports (analysis, scipy …)
        optbench.sweep(_plan(2, 2), out=f"{folder}/warm-up", plots=False)
    result = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as folder:
            began = time.perf_counter()
            optbench.sweep(plan, out=f"{folder}/sweep", plots=False)
            whole = time.perf_counter() - began
        began = time.perf_counter()
        engine_out = run_many(configs)
        engine = time.perf_counter() - began
        began = time.perf_counter()
        fused_adam_rosenbrock_batch(lrs, steps, out)
        fused = time.perf_counter() - began
        same = np.array_equal(engine_out.metrics["final_loss"], out, equal_nan=True)
        result.append(
            {"runs": len(configs), "whole_s": whole, "engine_s": engine, "fused_s": fused,
             "same": float(same)}
        )  # fmt: skip
    return result


def measure(repeats: int = 3) -> dict[str, float]:
    """Best-of-``repeats`` wall times of the whole sweep, its engine part and the fused kernel."""
    found = samples(repeats)
    return {
        "runs": found[0]["runs"],
        "whole_s": min(s["whole_s"] for s in found),
        "engine_s": min(s["engine_s"] for s in found),
        "fused_s": min(s["fused_s"] for s in found),
        "same_final_loss": found[-1]["same"],
    }


def main() -> None:
    result = measure()
    runs = result["runs"]
    print(
        f"sweep: {runs:,} runs × {STEPS:,} Adam steps on Rosenbrock (final values only), best of 3"
    )
    for label, key in (("whole optbench.sweep", "whole_s"), ("engine calls only", "engine_s"),
                       ("hand-fused prange", "fused_s")):  # fmt: skip
        seconds = result[key]
        print(
            f"  {label:<22} {seconds:6.2f} s   {runs / seconds:9,.0f} runs/s   "
            f"{runs * STEPS / seconds / 1e6:6.1f} M steps/s"
        )
    print(
        f"  ratio fused/engine     {result['fused_s'] / result['engine_s']:6.2f}   (target >= 0.5)"
    )
    print(f"  ratio fused/whole      {result['fused_s'] / result['whole_s']:6.2f}")
    print(f"  whole sweep under 2 s: {result['whole_s'] < 2.0}")
    print(f"  identical final losses: {bool(result['same_final_loss'])}")


if __name__ == "__main__":
    main()
