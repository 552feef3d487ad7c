"""Where a sweep's chunks run: in this process (``local``) or on a Dask cluster (``dask``).

Both hand back, chunk by chunk as they finish, the engine's named arrays (an ``EngineOutput``); the
caller writes each chunk with the same atomic writer, so resume and Ctrl-C behave the same
everywhere. Tasks name importable functions (``run_chunk``, ``warm_up``), never jitted closures: a
numba dispatcher pickles by value and would be recompiled in every worker.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

from optbench.errors import OptbenchError

if TYPE_CHECKING:
    from optbench.config import RunConfig
    from optbench.families.output import EngineOutput

EXECUTORS = ("local", "dask")
SCHEDULER_ENV = "OPTBENCH_DASK_SCHEDULER"
CONNECT_TIMEOUT_S = 10.0
INSTALL_HINT = "pip install 'optbench[dask]'"


def run_chunk(configs: Sequence[RunConfig], threads: int | None = None,
              data_dir: str | None = None, imports: Sequence[str] = (),
              folder: str | None = None) -> EngineOutput:  # fmt: skip
    """A Dask task: run one chunk with the ordinary engine (``threads`` numba threads), after
    importing the user's ``--import`` modules the worker has not yet (their problems and
    optimizers are registered per process; ``folder`` is where module names were found)."""
    from optbench.engine import run_many
    from optbench.user_modules import import_missing

    failed = import_missing(imports, folder)

    if threads is not None:
        import numba

        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        return run_many(list(configs), data_dir=data_dir)
    except OptbenchError as exc:
        if failed:  # an unknown name, most likely from a module that did not import here
            raise OptbenchError(f"{exc} (on a Dask worker: {'; '.join(failed)})") from None
        raise


def warm_up() -> dict[str, object]:
    """Run once per worker: load (or compile) the engine so the first real task is not slow."""
    import numba

    from optbench.config import build_run_configs

    run_chunk(build_run_configs(optimizers=["sgd"], problems="bowl", steps=2), threads=1)
    return {"pid": os.getpid(), "numba_threads": numba.config.NUMBA_NUM_THREADS}


class LocalExecutor:
    """Chunks one after another in this process; each chunk is parallel over its runs. Each
    chunk is asked for only after the one before was written (``chunks.timed_chunks`` sizes
    the next from that)."""

    name = "local"

    def __init__(self, data_dir: str | None = None):
        self.data_dir = data_dir

    def map(self, chunks: Iterable[list[RunConfig]]) -> Iterator[tuple[list, EngineOutput]]:
        from optbench.engine import run_many

        for chunk in chunks:
            yield chunk, run_many(chunk, data_dir=self.data_dir)

    def close(self) -> None:
        pass


class DaskExecutor:
    """Chunks as tasks on a Dask cluster: an existing one (``scheduler``) or a local one.

    A local cluster gets one single-threaded worker process per core, on 127.0.0.1, without
    dashboard; every worker runs numba with one thread and is warmed up before the sweep.
    """

    name = "dask"

    def __init__(self, scheduler: str | None = None, workers: int | None = None,
                 timeout: float = CONNECT_TIMEOUT_S, data_dir: str | None = None):  # fmt: skip
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise OptbenchError(
                f"--executor dask needs dask.distributed, which is not installed: {INSTALL_HINT}"
            ) from None
        self.cluster = None
        self.data_dir = data_dir  # a path every worker can read (the same on a local cluster)
        scheduler = scheduler or os.environ.get(SCHEDULER_ENV) or None
        if scheduler:
            try:
                self.client = Client(scheduler, timeout=timeout)
            except (ValueError, TypeError, KeyError) as exc:  # dask's parse of the address
                why = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise OptbenchError(
                    f"--scheduler {scheduler!r} is not a Dask scheduler address like "
                    f"tcp://HOST:8786 ({why})"
                ) from None
            except (OSError, TimeoutError) as exc:
                raise OptbenchError(
                    f"cannot reach the Dask scheduler at {scheduler} within {timeout:g} s "
                    f"({type(exc).__name__}); is `dask scheduler` running there?"
                ) from None
        else:
            self.cluster = LocalCluster(
                n_workers=workers or os.cpu_count() or 1,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                env={"NUMBA_NUM_THREADS": "1"},
            )
            self.client = Client(self.cluster)
        self.client.run(warm_up)

    @property
    def address(self) -> str:
        return self.client.scheduler.address

    def map(self, chunks: Iterable[list[RunConfig]]) -> Iterator[tuple[list, EngineOutput]]:
        """Submit every chunk, then yield them as they complete (any order).

        A worker that dies takes its task with it; the scheduler reruns it on another worker.
        """
        from distributed import as_completed

        from optbench.user_modules import IMPORTED

        imports = tuple(IMPORTED)  # files by absolute path: each worker must see the same path
        folder = os.getcwd()
        futures = {
            self.client.submit(
                run_chunk, chunk, 1, self.data_dir, imports, folder, pure=False
            ): chunk
            for chunk in chunks
        }
        try:
            for future in as_completed(futures):
                yield futures[future], future.result()
        finally:
            for future in futures:
                future.cancel()

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def make_executor(name: str = "local", scheduler: str | None = None, workers: int | None = None,
                  data_dir: str | None = None) -> LocalExecutor | DaskExecutor:  # fmt: skip
    """The executor called ``name`` (``local`` or ``dask``)."""
    data_dir = None if data_dir is None else str(data_dir)
    if name == "local":
        if scheduler:
            raise OptbenchError("--scheduler goes with --executor dask")
        return LocalExecutor(data_dir)
    if name == "dask":
        return DaskExecutor(scheduler, workers, data_dir=data_dir)
    from optbench.errors import unknown_name

    raise unknown_name("executor", name, EXECUTORS)
