"""Runs shared out over a pool of threads, for engines compiled without numba's ``parallel``.

numba's ``prange`` lowering is the most expensive thing a first command compiles: on the surface
engine it was 3.3 s of a 10.5 s compile (measured), on the network engine about 11 s. A compiled
function with ``nogil=True`` gives the same parallelism for nothing: each thread calls it on a
chunk of runs, and as every run writes only its own rows the numbers do not depend on the
thread count or on how the runs were chunked.
"""

from __future__ import annotations

from collections.abc import Callable


def chunks(n_items: int, workers: int, smallest: int) -> list[tuple[int, int]]:
    """``[0, n_items)`` cut into (begin, end) chunks for ``workers`` threads, largest first
    (each about half of what is left per worker, never below ``smallest``): few calls when
    runs are many, yet the last chunks are small enough to even out runs of unequal length."""
    out = []
    begin = 0
    while begin < n_items:
        size = max(smallest, (n_items - begin) // (2 * workers))
        out.append((begin, min(begin + size, n_items)))
        begin += size
    return out


def in_threads(work: Callable[[int, int], None], n_items: int, smallest: int = 4) -> None:
    """Call ``work(begin, end)`` over chunks of ``[0, n_items)`` on as many threads as numba
    would use (``numba.set_num_threads`` and ``NUMBA_NUM_THREADS`` apply); ``work`` must
    release the GIL (``nogil=True``) for the threads to run at once."""
    import numba

    workers = numba.get_num_threads()
    parts = chunks(n_items, workers, smallest)
    if workers <= 1 or len(parts) <= 1:
        for begin, end in parts:
            work(begin, end)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(min(workers, len(parts))) as pool:
        for _ in pool.map(lambda part: work(*part), parts):
            pass  # re-raises the first error of a chunk
