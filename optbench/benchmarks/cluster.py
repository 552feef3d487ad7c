"""The Dask executor's cost: one MLP sweep locally (prange over runs) and on a 2-worker local
cluster (one single-threaded process per core), runs/s of each and the cluster's overhead.

The cluster's start-up is reported apart: it is paid once per session, not per sweep.
"""

from __future__ import annotations

import tempfile
import time

from optbench.config import SweepConfig

WORKERS = 2


def workload() -> SweepConfig:
    """An MLP sweep: 3 optimizers × 4 learning rates × 4 seeds on spirals (2-16-16-2, tanh),
    40 epochs of minibatches of 32 each."""
    return SweepConfig.from_raw({
        "optimizers": ["sgd", "momentum", "adam"], "problems": ["spirals"],
        "lr": "1e-3..1:4", "seeds": 4, "network": {"epochs": 40},
    })  # fmt: skip


def measure() -> dict[str, float]:
    import optbench
    from optbench.executors import DaskExecutor

    plan = workload()
    runs = len(plan.expand())
    with tempfile.TemporaryDirectory() as folder:
        optbench.sweep(plan, out=f"{folder}/warm", plots=False)  # load the cache first
        began = time.perf_counter()
        optbench.sweep(plan, out=f"{folder}/local", plots=False)
        local = time.perf_counter() - began
        began = time.perf_counter()
        executor = DaskExecutor(workers=WORKERS)
        startup = time.perf_counter() - began
        try:
            began = time.perf_counter()
            optbench.sweep(plan, out=f"{folder}/dask", executor="dask",
                           scheduler=executor.address, plots=False)  # fmt: skip
            remote = time.perf_counter() - began
        finally:
            executor.close()
    return {"runs": runs, "local_s": local, "dask_s": remote, "startup_s": startup}


def main() -> None:
    result = measure()
    runs = result["runs"]
    print(f"cluster: the same sweep of {runs:,} runs locally and on {WORKERS} Dask workers")
    for label, key in (("local (prange)", "local_s"), (f"dask, {WORKERS} workers", "dask_s")):
        print(f"  {label:<18} {result[key]:6.2f} s   {runs / result[key]:8,.0f} runs/s")
    print(
        f"  overhead            {result['dask_s'] / result['local_s'] - 1:+6.0%}   "
        f"(cluster start-up, paid once: {result['startup_s']:.1f} s)"
    )


if __name__ == "__main__":
    main()
