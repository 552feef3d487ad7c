"""Engine throughput: Adam on Rosenbrock, optbench's engine against a hand-fused loop.

The fused loop computes the same gradient, loss, Adam update (torch form) and divergence check
with everything in registers, so ``ratio = engine steps/s ÷ fused steps/s`` is the price of the
general engine (first-class optimizer function, flat state array, history and target tracking).
Also measures a process's start-up: compiling (empty numba cache) and cached.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from optbench._jit import jit

STEPS = 2_000_000
REPEATS = 5


@jit(inline="always")
def fused_adam_rosenbrock(x, y, lr, b1, b2, eps, steps):
    """Adam on (1−x)² + 100(y−x²)², hand-fused; returns the final loss and steps done.

    The same arithmetic as the engine (loss, gradient, torch-form Adam, divergence check), in
    registers; the sweep benchmark inlines it into a prange."""
    m0 = m1 = v0 = v1 = 0.0
    loss = (1.0 - x) ** 2 + 100.0 * (y - x * x) * (y - x * x)
    for t in range(1, steps + 1):
        r = y - x * x
        g0 = -2.0 * (1.0 - x) - 400.0 * x * r
        g1 = 200.0 * r
        bc1 = 1.0 - b1**t
        root_bc2 = np.sqrt(1.0 - b2**t)
        m0 = b1 * m0 + (1.0 - b1) * g0
        m1 = b1 * m1 + (1.0 - b1) * g1
        v0 = b2 * v0 + (1.0 - b2) * g0 * g0
        v1 = b2 * v1 + (1.0 - b2) * g1 * g1
        x -= (lr / bc1) * m0 / (np.sqrt(v0) / root_bc2 + eps)
        y -= (lr / bc1) * m1 / (np.sqrt(v1) / root_bc2 + eps)
        loss = (1.0 - x) ** 2 + 100.0 * (y - x * x) * (y - x * x)
        if not np.isfinite(loss) or not (abs(x) <= 1e6 and abs(y) <= 1e6):
            return loss, t
    return loss, steps


def _engine_once(steps: int) -> tuple[float, float]:
    from optbench.engine import run_surface_group
    from optbench.optimizers import get_optimizer
    from optbench.problems import get_problem

    adam = get_optimizer("adam")
    hp = np.array([adam.hp_vector(adam.resolve("torch"))])
    began = time.perf_counter()
    out = run_surface_group(
        adam,
        get_problem("rosenbrock"),
        hp,
        np.array([[-1.5, 2.0]]),
        np.array([steps]),
        np.zeros(1),
        np.zeros(1, dtype=np.int64),
        record_every=steps,
        bound=1e6,
    )
    return time.perf_counter() - began, out.metrics[0, 0]


def _fused_once(steps: int) -> tuple[float, float]:
    began = time.perf_counter()
    loss, _ = fused_adam_rosenbrock(-1.5, 2.0, 1e-3, 0.9, 0.999, 1e-8, steps)
    return time.perf_counter() - began, loss


def engine_vs_fused(steps: int = STEPS, repeats: int = REPEATS) -> dict[str, float]:
    """Best-of-``repeats`` steps/s of both, alternating so drift hits both alike."""
    _engine_once(10)
    _fused_once(10)
    engine_times, fused_times = [], []
    for _ in range(repeats):
        t, engine_loss = _engine_once(steps)
        engine_times.append(t)
        t, fused_loss = _fused_once(steps)
        fused_times.append(t)
    engine_rate = steps / min(engine_times)
    fused_rate = steps / min(fused_times)
    return {
        "engine_steps_per_s": engine_rate,
        "fused_steps_per_s": fused_rate,
        "ratio": engine_rate / fused_rate,
        "same_final_loss": float(engine_loss == fused_loss),
    }


def startup_seconds() -> dict[str, float]:
    """Wall time of ``optbench run --optimizer adam`` in a new process: cold cache, then warm."""
    timings = {}
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as out:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        for label in ("compiling (empty cache)", "cached"):
            began = time.perf_counter()
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "optbench",
                    "run",
                    "--optimizer",
                    "adam",
                    "--out",
                    os.path.join(out, label.split()[0]),
                ],
                env=env,
                check=True,
                capture_output=True,
            )
            timings[label] = time.perf_counter() - began
    return timings


def main() -> None:
    print(f"engine: Adam on Rosenbrock, {STEPS:,} steps, best of {REPEATS}")
    result = engine_vs_fused()
    print(f"  optbench engine  {result['engine_steps_per_s'] / 1e6:8.1f} M steps/s")
    print(f"  hand-fused loop  {result['fused_steps_per_s'] / 1e6:8.1f} M steps/s")
    print(f"  ratio            {result['ratio']:8.2f}   (target >= 0.5)")
    print(f"  identical final loss: {bool(result['same_final_loss'])}")
    print("start-up: `optbench run --optimizer adam` in a new process (wall time)")
    for label, seconds in startup_seconds().items():
        print(f"  {label:<24} {seconds:6.2f} s")


if __name__ == "__main__":
    main()
