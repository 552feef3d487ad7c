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
    from optbench.families.surfaces.engine import run_surface_group
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
    return time.perf_counter() - began, out.metrics["final_loss"][0]


def _fused_once(steps: int) -> tuple[float, float]:
    began = time.perf_counter()
    loss, _ = fused_adam_rosenbrock(-1.5, 2.0, 1e-3, 0.9, 0.999, 1e-8, steps)
    return time.perf_counter() - began, loss


def engine_samples(steps: int = STEPS, repeats: int = REPEATS) -> list[dict[str, float]]:
    """Per repeat: the engine's and the fused loop's seconds for ``steps`` steps, alternating so
    drift hits both alike, and whether both ended at the identical loss."""
    _engine_once(10)
    _fused_once(10)
    samples = []
    for _ in range(repeats):
        engine_s, engine_loss = _engine_once(steps)
        fused_s, fused_loss = _fused_once(steps)
        samples.append(
            {"engine_s": engine_s, "fused_s": fused_s, "same": float(engine_loss == fused_loss)}
        )
    return samples


def engine_vs_fused(steps: int = STEPS, repeats: int = REPEATS) -> dict[str, float]:
    """Best-of-``repeats`` steps/s of both."""
    samples = engine_samples(steps, repeats)
    engine_rate = steps / min(s["engine_s"] for s in samples)
    fused_rate = steps / min(s["fused_s"] for s in samples)
    return {
        "engine_steps_per_s": engine_rate,
        "fused_steps_per_s": fused_rate,
        "ratio": engine_rate / fused_rate,
        "same_final_loss": samples[-1]["same"],
    }


OPTBENCH_START = ("-m", "optbench", "run", "--optimizer", "adam", "--out")
"""A whole user command: imports, engine + kernels + surface + contour grid, CSVs and figures."""
FUSED_START = (
    "-c",
    "from optbench.benchmarks.engine import fused_adam_rosenbrock as f; "
    "f(-1.5, 2.0, 1e-3, 0.9, 0.999, 1e-8, 10)",
)
"""The reference: a process that imports numba and compiles (or loads) one hand-fused loop."""


def process_seconds(arguments: tuple[str, ...], cache: str) -> float:
    """Wall time of ``python *arguments`` in a new process using numba cache folder ``cache``."""
    env = {**os.environ, "NUMBA_CACHE_DIR": cache}
    began = time.perf_counter()
    subprocess.run([sys.executable, *arguments], env=env, check=True, capture_output=True)
    return time.perf_counter() - began


def startup_samples(repeats: int = 1) -> list[dict[str, float]]:
    """Per repeat, with fresh numba cache folders: the first (compiling) and the second (cached)
    start of ``optbench run --optimizer adam`` and of the fused reference process."""
    samples = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as work:
            run = (os.path.join(work, "run1"), os.path.join(work, "run2"))
            own, ref = os.path.join(work, "cache"), os.path.join(work, "ref-cache")
            samples.append(
                {
                    "optbench_cold_s": process_seconds((*OPTBENCH_START, run[0]), own),
                    "optbench_warm_s": process_seconds((*OPTBENCH_START, run[1]), own),
                    "fused_cold_s": process_seconds(FUSED_START, ref),
                    "fused_warm_s": process_seconds(FUSED_START, ref),
                }
            )
    return samples


def startup_seconds() -> dict[str, float]:
    """Wall time of ``optbench run --optimizer adam`` in a new process: cold cache, then warm."""
    sample = startup_samples(1)[0]
    return {
        "compiling (empty cache)": sample["optbench_cold_s"],
        "cached": sample["optbench_warm_s"],
    }


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
