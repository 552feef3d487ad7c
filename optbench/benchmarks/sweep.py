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

RUNS_PER_AXIS = 100  # 100 learning rates × 100 seeds = 10,000 runs
STEPS = 1000


@jit(parallel=True)
def fused_adam_rosenbrock_batch(lrs, steps, out):
    """Each run's Adam loop on Rosenbrock from (−2, 2), fused, one run per prange iteration."""
    for r in prange(lrs.size):
        x, y = -2.0, 2.0
        lr, b1, b2, eps = lrs[r], 0.9, 0.999, 1e-8
        m0 = m1 = v0 = v1 = 0.0
        loss = (1.0 - x) ** 2 + 100.0 * (y - x * x) * (y - x * x)
        for t in range(1, steps + 1):
            q = y - x * x
            g0 = -2.0 * (1.0 - x) - 400.0 * x * q
            g1 = 200.0 * q
            bc1 = 1.0 - b1**t
            root_bc2 = np.sqrt(1.0 - b2**t)
            m0 = b1 * m0 + (1.0 - b1) * g0
            m1 = b1 * m1 + (1.0 - b1) * g1
            v0 = b2 * v0 + (1.0 - b2) * g0 * g0
            v1 = b2 * v1 + (1.0 - b2) * g1 * g1
            x -= (lr / bc1) * m0 / (np.sqrt(v0) / root_bc2 + eps)
            y -= (lr / bc1) * m1 / (np.sqrt(v1) / root_bc2 + eps)
            q = y - x * x
            loss = (1.0 - x) ** 2 + 100.0 * q * q
            if not np.isfinite(loss) or not (abs(x) <= 1e6 and abs(y) <= 1e6):
                break
        out[r] = loss


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
        same = np.array_equal(engine_out.metrics[:, 0], out, equal_nan=True)
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
