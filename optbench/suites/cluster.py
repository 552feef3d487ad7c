"""The Dask executor's cost: one MLP sweep locally (prange over runs) and on a 2-worker local
cluster (one single-threaded process per core), runs/s of each; opt-in in the perf suite
(``optbench bench --suite perf --only cluster``), as it needs dask[distributed].

The cluster's start-up is left out of the samples: it is paid once per session, not per sweep.
"""

from __future__ import annotations

import tempfile
import time

import numpy as np

WORKERS = 2


def workload(quick: bool = False):
    """An MLP sweep: 3 optimizers × 4 learning rates × 4 seeds on spirals (2-16-16-2, tanh),
    40 epochs of minibatches of 32 each (quick: 2 epochs)."""
    from optbench.config import SweepConfig

    return SweepConfig.from_raw({
        "optimizers": ["sgd", "momentum", "adam"], "problems": ["spirals"],
        "lr": "1e-3..1:4", "seeds": 4, "network": {"epochs": 2 if quick else 40},
    })  # fmt: skip


def samples(repeats: int, quick: bool = False) -> list[dict[str, float]]:
    """Per repeat: wall times of the sweep run locally and on the cluster, alternating so drift
    hits both alike, and whether both ended at identical final losses."""
    import optbench
    from optbench.executors import DaskExecutor

    plan = workload(quick)
    runs = len(plan.expand())
    result = []
    with tempfile.TemporaryDirectory() as folder:
        optbench.sweep(plan, out=f"{folder}/warm", plots=False)  # load the cache first
        executor = DaskExecutor(workers=WORKERS)
        try:
            for i in range(repeats):
                began = time.perf_counter()
                local = optbench.sweep(plan, out=f"{folder}/local{i}", plots=False)
                local_s = time.perf_counter() - began
                began = time.perf_counter()
                remote = optbench.sweep(plan, out=f"{folder}/dask{i}", executor="dask",
                                        scheduler=executor.address, plots=False)  # fmt: skip
                dask_s = time.perf_counter() - began
                same = np.array_equal(*(_losses(r) for r in (local, remote)), equal_nan=True)
                result.append(
                    {"runs": runs, "local_s": local_s, "dask_s": dask_s, "same": float(same)}
                )
        finally:
            executor.close()
    return result


def _losses(result) -> np.ndarray:
    return result.runs.sort_values("run_id")["final_loss"].to_numpy(dtype=float)
