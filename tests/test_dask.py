"""The Dask executor: same numbers as a local sweep, survives a killed worker, clear errors."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

import pandas as pd
import pytest
from click.testing import CliRunner

import optbench
from optbench.cli import cli
from optbench.errors import OptbenchError
from optbench.executors import SCHEDULER_ENV, DaskExecutor

distributed = pytest.importorskip("distributed")

SWEEP = {
    "optimizers": ["sgd", "adam", "rmsprop"],
    "problems": ["rosenbrock", "beale"],
    "lr": "1e-4..1e-1:6",
    "seeds": 3,
    "steps": 3000,
    "noise": 0.05,
    "record_every": 500,
}


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        env={"NUMBA_NUM_THREADS": "1"},
    ) as local:
        yield local


@pytest.fixture(scope="module")
def local_result(tmp_path_factory):
    return optbench.sweep(**SWEEP, out=tmp_path_factory.mktemp("local") / "s", plots=False)


TIMINGS = ["wall_s"]  # how long a run took is the one column allowed to differ


def same_numbers(a: optbench.Result, b: optbench.Result) -> None:
    runs_a, runs_b = (r.runs.drop(columns=TIMINGS) for r in (a, b))
    pd.testing.assert_frame_equal(runs_a, runs_b)
    pd.testing.assert_frame_equal(a.history, b.history)


def test_a_dask_sweep_equals_the_local_one(cluster, local_result, tmp_path):
    remote = optbench.sweep(
        **SWEEP,
        executor="dask",
        scheduler=cluster.scheduler_address,
        out=tmp_path / "dask",
        plots=False,
        chunk_size=5,
    )
    same_numbers(remote, local_result)


def test_the_scheduler_comes_from_the_environment(cluster, monkeypatch):
    monkeypatch.setenv(SCHEDULER_ENV, cluster.scheduler_address)
    executor = DaskExecutor()
    try:
        assert executor.cluster is None and executor.address == cluster.scheduler_address
    finally:
        executor.close()


def test_a_killed_worker_loses_nothing(cluster, tmp_path):
    client = distributed.Client(cluster.scheduler_address)
    pids = client.run(os.getpid)
    out = tmp_path / "killed"
    killed = []

    def kill_one_worker_mid_sweep():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not list((out / "chunks").glob("*.frames.npz")):
            time.sleep(0.01)
        pid = next(iter(pids.values()))
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)

    killer = threading.Thread(target=kill_one_worker_mid_sweep)
    killer.start()
    remote = optbench.sweep(
        **{**SWEEP, "steps": 30000},
        executor="dask",
        scheduler=cluster.scheduler_address,
        out=out,
        plots=False,
        chunk_size=2,
    )
    killer.join()
    client.close()
    assert killed, "the worker was never killed"
    reference = optbench.sweep(**{**SWEEP, "steps": 30000}, out=tmp_path / "ref", plots=False)
    same_numbers(remote, reference)


def test_cli_runs_on_a_cluster(cluster, tmp_path):
    result = CliRunner().invoke(
        cli,
        [
            "sweep",
            "-o",
            "sgd",
            "-p",
            "bowl",
            "--lr",
            "0.01,0.1",
            "--steps",
            "200",
            "--executor",
            "dask",
            "--scheduler",
            cluster.scheduler_address,
            "--out",
            str(tmp_path / "c"),
            "--no-plots",
        ],
    )
    assert result.exit_code == 0, result.output
    assert len(pd.read_csv(tmp_path / "c" / "runs.csv")) == 2


def test_an_unreachable_scheduler_is_a_clear_error():
    with pytest.raises(
        OptbenchError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9"
    ):
        DaskExecutor("tcp://127.0.0.1:9", timeout=1)
    result = CliRunner().invoke(
        cli,
        [
            "sweep",
            "-o",
            "sgd",
            "-p",
            "bowl",
            "--executor",
            "local",
            "--scheduler",
            "tcp://127.0.0.1:9",
        ],
    )
    assert result.exit_code == 2 and "--scheduler goes with --executor dask" in result.stderr


def test_missing_dask_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(OptbenchError, match=r"pip install 'optbench\[dask\]'"):
        DaskExecutor()


def test_an_imported_user_problem_runs_on_the_workers(cluster, tmp_path):
    """--import registers in this process only; each worker imports the same file (by its
    absolute path) before its first chunk, and the numbers equal a local sweep's."""
    from test_objectives import USER_PROBLEMS

    from optbench.problems import unregister_problem

    module = tmp_path / "dask_user_problems.py"
    module.write_text(USER_PROBLEMS)  # shifted_sphere (any d) and tilted_bowl
    args = ["sweep", "--import", str(module), "-o", "sgd,adam", "-p", "shifted_sphere:d=5",
            "--lr", "0.01,0.1", "--steps", "100", "--no-plots", "--chunk-size", "1"]  # fmt: skip
    try:
        local = CliRunner().invoke(cli, [*args, "--out", tmp_path / "l"])
        assert local.exit_code == 0, local.output
        remote = CliRunner().invoke(
            cli,
            [*args, "--out", tmp_path / "d", "--executor", "dask",
             "--scheduler", cluster.scheduler_address],
        )  # fmt: skip
        assert remote.exit_code == 0, remote.output
    finally:
        for name in ("shifted_sphere", "tilted_bowl"):
            unregister_problem(name)
    a, b = (pd.read_csv(tmp_path / f / "runs.csv").drop(columns=TIMINGS) for f in ("l", "d"))
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == 4 and a["final_loss"].notna().all()


def test_a_worker_ignores_an_import_it_cannot_make_unless_the_chunk_needs_it(monkeypatch):
    """A module the client imported from a folder the worker cannot see (or one since deleted)
    must not fail chunks that never name what it registered; a chunk that does fails with the
    import's reason beside the unknown name."""
    import dataclasses

    from optbench import user_modules
    from optbench.config import build_run_configs
    from optbench.executors import run_chunk

    monkeypatch.setattr(user_modules, "IMPORTED", list(user_modules.IMPORTED))
    configs = build_run_configs(optimizers=["sgd"], problems="bowl", steps=3)
    out = run_chunk(configs, 1, None, ("no_such_module_for_optbench",), "/nonexistent")
    assert len(out) == 1
    unknown = [dataclasses.replace(configs[0], problem="not_a_problem")]
    with pytest.raises(OptbenchError, match="no_such_module_for_optbench"):
        run_chunk(unknown, 1, None, ("no_such_module_for_optbench",), None)
