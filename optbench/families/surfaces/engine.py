"""The surface engine: many optimizer runs at once, one jitted loop per run, divergence as a result.

Two engines share one loop (``_run_rows``), each compiled once for the whole surface family with
an explicit signature that takes the optimizer, the problem and the schedule as first-class
functions, so every optimizer (built-in or registered by a user) and every problem reuses the
same machine code from numba's disk cache. ``problem_batch`` calls the problem's own kernel
(``value_and_grad(theta, grad, params) -> loss``, θ of any length d): a first command compiles it
and the one problem it runs. ``surface_batch`` has the ten 2-D surfaces inlined, dispatched by
index, for groups large enough to be worth its compile (``INLINE_STEPS``); both give the same
bits. Threads share the runs out in chunks (``optbench.threads``; numba's ``prange`` cost 3.3 s
more to compile) and each run writes only its own rows: results are bit-identical whatever the
thread count. A run's history keeps the first two coordinates, the distance to the nearest
known minimum and the gradient norm per recorded step, never the whole θ.

``run_surfaces`` is the Python side: it groups run configs by (optimizer, problem), allocates the
outputs, calls an engine per group and hands back named arrays in config order.
"""

from __future__ import annotations

import importlib
import math
import time

import numpy as np
from numba import types

from optbench._jit import (
    PROBLEM_FUNCTION,
    PROBLEM_SIGNATURE,
    SCHEDULE_FUNCTION,
    UPDATE_FUNCTION,
    compiled_for,
    f8_1d,
    f8_2d,
    f8_3d,
    i8_1d,
    jit,
    u8_1d,
)
from optbench.columns import GAP_TARGETS, LOG_GAP_FLOOR
from optbench.families.output import EngineOutput
from optbench.families.surfaces import FAMILY, record_rows
from optbench.families.surfaces.kernels import value_and_grad as surface_value_and_grad
from optbench.rng import normal, seed_state
from optbench.schedules.kernels import (
    constant_rows,
    schedule_changes_lr,
    schedule_function,
    schedule_matrix,
)
from optbench.threads import in_threads

# Columns of the kernel's per-run metrics array, then one column per target; outside this
# module they are known by name (METRICS), as EngineOutput.metrics keys.
M_FINAL, M_BEST, M_DIVERGED_STEP, M_STEPS_DONE, M_MEAN_LOG_GAP = range(5)
N_FIXED_METRICS = 5
METRICS = FAMILY.metric_columns
NOISE_STREAM = 1
SMALLEST_CHUNK = 4  # the fewest runs handed to a thread at a time: run lengths differ a lot

_SURFACE_SIGNATURE = types.void(
    UPDATE_FUNCTION,  # update(theta, grad, state, hp, t)
    PROBLEM_FUNCTION,  # value_and_grad(theta, grad, params) -> loss
    SCHEDULE_FUNCTION,  # apply(row, hp, t): the schedule, optbench.schedules
    types.int64,  # first run of the chunk
    types.int64,  # end of the chunk (one past its last run)
    types.int64,  # a 2-D surface's index (called inlined, not through the function), or -1
    f8_1d,  # the problem's params vector
    f8_2d,  # theta (R, d): the starts, updated in place
    f8_2d,  # hp (R, H)
    f8_2d,  # learning-rate schedule rows (R, W), optbench.schedules
    f8_2d,  # optimizer state (R, S), zeros
    f8_2d,  # gradient per run (R, d), scratch
    u8_1d,  # generator state per run (R,), scratch
    i8_1d,  # steps (R,)
    f8_1d,  # gradient noise sigma (R,)
    f8_1d,  # noise scale per coordinate (d,): ones, or the problem's own
    i8_1d,  # seeds (R,)
    types.int64,  # record every k steps
    types.float64,  # divergence bound on |theta|
    types.float64,  # f* (nan when unknown)
    f8_2d,  # known minima (M, d), M may be 0
    f8_1d,  # gap targets (T,)
    f8_2d,  # out: recorded loss (R, rows)
    f8_3d,  # out: recorded theta[0], theta[1], distance to the nearest minimum, |gradient|
    i8_1d,  # out: rows recorded per run (R,)
    f8_2d,  # out: metrics (R, N_FIXED_METRICS + T)
)
REC_X, REC_Y, REC_DIST, REC_GRAD_NORM = range(4)


@jit(inline="always")
def _nearest_minimum(x, minima):
    """Euclidean distance from ``x`` to the nearest row of ``minima`` (nan when none)."""
    nearest = np.inf if minima.shape[0] else np.nan
    for m in range(minima.shape[0]):
        total = 0.0
        for i in range(x.size):
            total += (x[i] - minima[m, i]) ** 2
        nearest = min(nearest, np.sqrt(total))
    return nearest


@jit(inline="always")
def _record(x, grad, minima, out):
    """The recorded view of a point: its first two coordinates (nan past the dimension), its
    distance to the nearest known minimum and the gradient's norm; never the whole θ."""
    out[REC_X] = x[0]
    out[REC_Y] = x[1] if x.size > 1 else np.nan
    out[REC_DIST] = _nearest_minimum(x, minima)
    total = 0.0
    for i in range(grad.size):
        total += grad[i] * grad[i]
    out[REC_GRAD_NORM] = np.sqrt(total)


@jit(inline="always")
def _inlined(value_and_grad, surface, params, x, grad):
    """f at ``x``, its gradient written into ``grad``: a 2-D surface by index, its arithmetic
    inlined into the engine (``surface_batch``)."""
    return surface_value_and_grad(surface, params, x, grad)


@jit(inline="always")
def _called(value_and_grad, surface, params, x, grad):
    """f at ``x``, its gradient written into ``grad``: through the problem's kernel, a call
    through a function pointer (``problem_batch``)."""
    return value_and_grad(x, grad, params)


@jit(inline="always")
def _run_rows(evaluate, update, value_and_grad, apply, begin, end, surface, params, theta, hp,
              schedules, state, grads, generators, steps, noise, noise_scale, seeds, record_every,
              bound, fstar, minima, targets, rec_loss, rec_theta, rec_rows, metrics):  # fmt: skip
    """Run rows ``begin`` … ``end - 1`` of ``theta`` (the starts, updated in place) to their end
    or divergence; the engines release the GIL, so threads run chunks of one group at once.

    All working memory (``theta``, ``state``, the gradient and generator rows) is allocated
    by the caller: a run allocates nothing, which matters when runs are short and many.
    ``evaluate`` (``_inlined`` or ``_called``) is how f and its gradient are computed.
    """
    n = theta.shape[1]
    n_targets = targets.size
    for r in range(begin, end):
        x = theta[r]
        grad = grads[r]
        rng = generators[r : r + 1]
        rng[0] = seed_state(seeds[r], NOISE_STREAM)
        h = hp[r]
        schedule = schedules[r]
        scheduled = schedule_changes_lr(schedule)  # once per run: a constant lr costs nothing
        memory = state[r]
        sigma = noise[r]
        n_steps = steps[r]
        for k in range(n_targets):
            metrics[r, N_FIXED_METRICS + k] = -1.0
        next_target = 0  # targets are decreasing: only the next one can be hit first

        loss = evaluate(value_and_grad, surface, params, x, grad)
        best = loss
        diverged_at = -1
        gap_product = 1.0
        gap_exponent = 0
        row = 0
        t = 0
        next_record = 0  # a countdown, not t % record_every: division is slow in a hot loop
        while True:
            # record, score and check the point reached after t updates
            bad = not np.isfinite(loss)
            for i in range(n):
                bad = bad or not abs(x[i]) <= bound
            if bad:
                diverged_at = t
            if bad or t == next_record or t == n_steps:
                rec_loss[r, row] = loss
                _record(x, grad, minima, rec_theta[r, row])
                row += 1
                if t == next_record:
                    next_record += record_every
            if bad:
                break
            best = min(best, loss)
            gap = loss - fstar
            # Σ log10(gap) without a log per step: keep the product of gaps as mantissa × 2^exp
            # each factor in [floor, 1/floor] and the product kept in [1e-200, 1e200]: their
            # product can neither underflow nor overflow
            gap_product *= min(max(gap, LOG_GAP_FLOOR), 1.0 / LOG_GAP_FLOOR)
            if not 1e-200 < gap_product < 1e200:
                mantissa, exponent = math.frexp(gap_product)
                gap_product = mantissa
                gap_exponent += exponent
            while next_target < n_targets and gap <= targets[next_target]:
                metrics[r, N_FIXED_METRICS + next_target] = t
                next_target += 1
            if t == n_steps:
                break
            t += 1
            if sigma > 0.0:
                for i in range(n):
                    grad[i] += sigma * noise_scale[i] * normal(rng)
            if scheduled:
                apply(schedule, h, t)
            update(x, grad, memory, h, t)
            loss = evaluate(value_and_grad, surface, params, x, grad)

        rec_rows[r] = row
        metrics[r, M_FINAL] = loss
        metrics[r, M_BEST] = best
        metrics[r, M_DIVERGED_STEP] = diverged_at
        metrics[r, M_STEPS_DONE] = t
        log_gap_sum = np.log10(gap_product) + gap_exponent * np.log10(2.0)
        metrics[r, M_MEAN_LOG_GAP] = np.nan if diverged_at >= 0 else log_gap_sum / (t + 1)


@jit(nogil=True)
def surface_batch(update, value_and_grad, apply, begin, end, surface, params, theta, hp, schedules,
                  state, grads, generators, steps, noise, noise_scale, seeds, record_every, bound,
                  fstar, minima, targets, rec_loss, rec_theta, rec_rows, metrics):  # fmt: skip
    """The engine of large jobs on the ten 2-D surfaces: the surface of index ``surface``
    evaluated inlined, no call per step. Compiling the ten into it costs 2.5 s once; through the
    function pointer instead, Adam on Rosenbrock ran at 0.51–0.53 of the fused loop against
    0.65–0.74 inlined (``--only engine``)."""
    _run_rows(_inlined, update, value_and_grad, apply, begin, end, surface, params, theta, hp,
              schedules, state, grads, generators, steps, noise, noise_scale, seeds,
              record_every, bound, fstar, minima, targets, rec_loss, rec_theta, rec_rows,
              metrics)  # fmt: skip


@jit(nogil=True)
def problem_batch(update, value_and_grad, apply, begin, end, surface, params, theta, hp, schedules,
                  state, grads, generators, steps, noise, noise_scale, seeds, record_every, bound,
                  fstar, minima, targets, rec_loss, rec_theta, rec_rows, metrics):  # fmt: skip
    """The engine of every other job: the problem is called through its kernel, so a first
    command compiles one small engine and the one problem it runs (``surface`` is unused)."""
    _run_rows(_called, update, value_and_grad, apply, begin, end, surface, params, theta, hp,
              schedules, state, grads, generators, steps, noise, noise_scale, seeds,
              record_every, bound, fstar, minima, targets, rec_loss, rec_theta, rec_rows,
              metrics)  # fmt: skip


def compiled(engine):
    """``engine`` compiled for ``_SURFACE_SIGNATURE`` (or loaded from numba's cache) and for it
    alone, so every optimizer and problem reuses that machine code. Neither engine compiles at
    import: a command compiles only the one its runs need."""
    return compiled_for(engine, _SURFACE_SIGNATURE)


def compile_all() -> None:
    """Both engines and the ten surfaces' kernels (``optbench warmup``)."""
    from optbench.problems.surfaces import SURFACES

    compiled(surface_batch)
    compiled(problem_batch)
    for spec in SURFACES.values():
        problem_kernel(spec)


INLINE_STEPS = 1_000_000
"""A group (a sweep's chunk) of 2-D surface runs with at least this many steps in all runs the
inlined engine (``surface_batch``), smaller ones ``problem_batch``. Through the pointer a million
Adam steps take about 0.05 s more (of 0.2 s); the inlined engine costs 2.5 s to compile, once per
install. A first ``run`` (10,000 steps) or a small sweep never compiles it; the bulk of a large
sweep runs in it (its first chunks, of 64 and 256 runs, are too small)."""


def recorded_steps(n_steps: int, record_every: int, diverged_at: int, rows: int) -> np.ndarray:
    """The step numbers of a run's recorded rows (the last row is the divergence step if any)."""
    grid = np.arange(0, n_steps + 1, record_every)
    if grid[-1] != n_steps:
        grid = np.append(grid, n_steps)
    if diverged_at >= 0:
        grid = grid[grid < diverged_at]
        grid = np.append(grid, diverged_at)
    return grid[:rows]


def problem_kernel(problem) -> object:
    """The problem's compiled kernel: a built-in's from its module (compiled for the problem
    signature on first use, or loaded from numba's cache), a user's compiled (once)."""
    if isinstance(problem.kernel, str):
        module, _, name = problem.kernel.partition(":")
        return compiled_for(getattr(importlib.import_module(module), name), PROBLEM_SIGNATURE)
    return problem.compiled()


def run_surface_group(
    optimizer,
    problem,
    hp: np.ndarray,
    starts: np.ndarray,
    steps: np.ndarray,
    noise: np.ndarray,
    seeds: np.ndarray,
    record_every: int,
    bound: float,
    schedules: np.ndarray | None = None,
) -> EngineOutput:
    """Run one (optimizer, problem) group of runs, chunks of it on each thread; ``starts`` is
    (R, d), ``problem`` a spec of the surface or the objective family; ``schedules`` holds each
    run's learning-rate schedule row (None: a constant lr)."""
    n_runs, dimension = starts.shape
    max_steps = int(steps.max())
    rows = record_rows(max_steps, record_every) + 1  # +1: a divergence row between grid points
    targets = np.asarray(GAP_TARGETS, dtype=np.float64)
    rec_loss = np.full((n_runs, rows), np.nan)
    rec_theta = np.full((n_runs, rows, 4), np.nan)
    rec_rows = np.zeros(n_runs, dtype=np.int64)
    metrics = np.empty((n_runs, N_FIXED_METRICS + targets.size))
    fstar = np.nan if problem.fstar is None else float(problem.fstar)
    schedules = constant_rows(n_runs) if schedules is None else schedules
    kernel = optimizer.compiled()
    value_and_grad = problem_kernel(problem)  # compiled here, when first needed
    arguments = (
        problem.index,
        problem.kernel_params(),
        np.array(starts, dtype=np.float64, order="C"),  # a copy: the kernel moves it
        np.array(hp, dtype=np.float64, order="C"),  # a copy: a schedule sets its lr
        schedules,
        np.zeros((n_runs, optimizer.state_size(dimension))),
        np.empty((n_runs, dimension)),
        np.empty(n_runs, dtype=np.uint64),
        np.ascontiguousarray(steps, dtype=np.int64),
        np.ascontiguousarray(noise, dtype=np.float64),
        np.ascontiguousarray(problem.noise_scale(), dtype=np.float64),
        np.ascontiguousarray(seeds, dtype=np.int64),
        int(record_every),
        float(bound),
        fstar,
        np.ascontiguousarray(problem.minima_matrix(), dtype=np.float64),
        targets,
        rec_loss,
        rec_theta,
        rec_rows,
        metrics,
    )
    apply = schedule_function(schedules)

    inlined = problem.index >= 0 and int(steps.sum()) >= INLINE_STEPS
    engine = compiled(surface_batch if inlined else problem_batch)

    def chunk(begin: int, end: int) -> None:
        engine(kernel, value_and_grad, apply, begin, end, *arguments)

    began = time.perf_counter()
    in_threads(chunk, n_runs, SMALLEST_CHUNK)
    elapsed = time.perf_counter() - began
    done = metrics[:, M_STEPS_DONE] + 1
    rec_steps = np.full((n_runs, rows), -1, dtype=np.int64)
    grids: dict[tuple[int, int], np.ndarray] = {}  # most runs share (steps, divergence)
    for r in range(n_runs):
        key = (int(steps[r]), int(metrics[r, M_DIVERGED_STEP]))
        if key not in grids:
            grids[key] = recorded_steps(key[0], record_every, key[1], int(rec_rows[r]))
        rec_steps[r, : grids[key].size] = grids[key]
    return EngineOutput(
        metrics={name: metrics[:, k] for k, name in enumerate(METRICS)},
        history={
            "step": rec_steps,
            "loss": rec_loss,
            "x": rec_theta[..., REC_X],
            "y": rec_theta[..., REC_Y],
            "dist_to_min": rec_theta[..., REC_DIST],
            "grad_norm": rec_theta[..., REC_GRAD_NORM],
        },
        rows=rec_rows,
        wall_s=elapsed * done / done.sum(),
    )


def run_surfaces(configs) -> EngineOutput:
    """Run every surface config; groups of one (optimizer, problem) share a parallel kernel call.

    The output rows follow ``configs`` order whatever the grouping, so callers never see it.
    """
    from optbench.optimizers import get_optimizer
    from optbench.problems import get_problem

    groups: dict[tuple[str, str, int, float], list[int]] = {}
    for i, c in enumerate(configs):
        groups.setdefault((c.optimizer, c.problem, c.record_every, c.bound), []).append(i)
    parts = []
    for (optimizer, problem, record_every, bound), index in groups.items():
        members = [configs[i] for i in index]
        spec = get_problem(problem)
        part = run_surface_group(
            get_optimizer(optimizer),
            spec,
            hp=np.array([[v for _, v in c.hp] for c in members]),
            schedules=schedule_matrix(members),
            starts=np.array([spec.start_vector(c.start) for c in members]),
            steps=np.array([c.steps for c in members]),
            noise=np.array([c.noise for c in members]),
            seeds=np.array([c.seed for c in members]),
            record_every=record_every,
            bound=bound,
        )
        parts.append((index, part))
    return EngineOutput.merge(len(configs), parts)
