"""The schedules' jitted kernels: the lr (and OneCycle's momentum) of update t from a run's row.

Every schedule is one branch of ``scheduled_lr``, dispatched by the index in the row, so an
engine calls ``apply_schedule(row, hp, t)`` once per update (unless ``schedule_changes_lr``
said, once per run, that it is constant) and stays one compiled function
whatever the schedule: a second schedule is a second row, never a second signature. The
constant schedule returns before touching ``hp``: its runs are bit-identical to runs made
before schedules existed. Formulas and where torch and Keras differ: ``specs.py`` and
docs/optimizers.md.

Only the small helpers are inlined (``inline="always"``). Inlining ``apply_schedule`` and
``scheduled_lr`` into the engines removed the cost of a schedule (the cosine engine ratio of the
perf suite 0.69 against 0.68 at a constant lr) but took the surface engine's first compile from
11 s to 29 s (measured). Even called, they were compiled into every engine: 2.5 s of a first
run that has no schedule. So the engines take the schedule as a first-class function
(``schedule_function``): ``apply_schedule`` compiles, once and into numba's cache, only for a
group whose runs have a schedule; every other group gets ``keep_lr``, which does nothing.
"""

from __future__ import annotations

import math

import numpy as np

from optbench._jit import SCHEDULE_SIGNATURE, jit
from optbench.schedules.specs import (
    BASE_LR,
    CONSTANT,
    COSINE,
    COSINE_RESTARTS,
    EXPONENTIAL,
    FIRST_MILESTONE,
    INVERSE_TIME,
    KERAS_FORM,
    KIND,
    MOMENTUM_INDEX,
    MULTISTEP,
    N_MILESTONES,
    ONECYCLE,
    POLYNOMIAL,
    ROW_WIDTH,
    SLOT,
    STEP,
    WARMUP_COSINE,
    schedule_row,
)

STEP_SIZE = SLOT["step_size"]
GAMMA = SLOT["gamma"]
STAIRCASE = SLOT["staircase"]
DECAY_RATE = SLOT["decay_rate"]
DECAY_STEPS = SLOT["decay_steps"]
POWER = SLOT["power"]
MIN_LR = SLOT["min_lr"]
WARMUP = SLOT["warmup"]
START_FACTOR = SLOT["start_factor"]
PERIOD = SLOT["period"]
T_MULT = SLOT["t_mult"]
M_MUL = SLOT["m_mul"]
PCT_START = SLOT["pct_start"]
DIV_FACTOR = SLOT["div_factor"]
FINAL_DIV_FACTOR = SLOT["final_div_factor"]
BASE_MOMENTUM = SLOT["base_momentum"]
MAX_MOMENTUM = SLOT["max_momentum"]


@jit(inline="always")
def _cosine(lr, min_lr, e, horizon, keras):
    """Half a cosine from lr to min_lr over ``horizon``; Keras clamps e there, torch's closed
    form goes on (and rises again)."""
    if keras:
        e = min(e, horizon)
    return min_lr + (lr - min_lr) * (1.0 + math.cos(math.pi * e / horizon)) / 2.0


@jit(inline="always")
def _anneal(start, end, pct):
    """OneCycleLR's cosine annealing from ``start`` to ``end`` as pct goes 0 → 1."""
    return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1.0)


@jit(inline="always")
def _onecycle_phase(row, e):
    """(phase, pct): OneCycleLR's two phases end at pct_start·T − 1 and T − 1."""
    total = row[DECAY_STEPS]
    first_end = row[PCT_START] * total - 1.0
    if e <= first_end:
        return 0, e / first_end
    return 1, (e - first_end) / (total - 1.0 - first_end)


@jit
def scheduled_lr(row, t):
    """The learning rate of update ``t`` (1-based): the schedule of ``row`` at e = t − 1."""
    kind = int(row[KIND])
    lr = row[BASE_LR]
    e = t - 1.0
    if kind == CONSTANT:
        return lr
    if kind == STEP:
        return lr * row[GAMMA] ** math.floor(e / row[STEP_SIZE])
    if kind == MULTISTEP:
        passed = 0
        keras = row[KERAS_FORM] != 0.0
        for i in range(int(row[N_MILESTONES])):
            milestone = row[FIRST_MILESTONE + i]
            if e > milestone or (e == milestone and not keras):
                passed += 1
        return lr * row[GAMMA] ** passed
    if kind == EXPONENTIAL or kind == INVERSE_TIME:
        p = e / row[STEP_SIZE]
        if row[STAIRCASE] != 0.0:
            p = math.floor(p)
        if kind == EXPONENTIAL:
            return lr * row[GAMMA] ** p
        return lr / (1.0 + row[DECAY_RATE] * p)
    if kind == POLYNOMIAL:
        horizon = row[DECAY_STEPS]
        left = 1.0 - min(e, horizon) / horizon
        return (lr - row[MIN_LR]) * left ** row[POWER] + row[MIN_LR]
    if kind == COSINE:
        return _cosine(lr, row[MIN_LR], e, row[DECAY_STEPS], row[KERAS_FORM] != 0.0)
    if kind == WARMUP_COSINE:
        warmup = row[WARMUP]
        if e < warmup:
            start = row[START_FACTOR]
            return lr * (start + (1.0 - start) * e / warmup)
        return _cosine(lr, row[MIN_LR], e - warmup, row[DECAY_STEPS], row[KERAS_FORM] != 0.0)
    if kind == COSINE_RESTARTS:
        period = row[PERIOD]
        t_mult = row[T_MULT]
        begun = 0.0
        peak = 1.0
        if t_mult == 1.0:  # equal periods: no loop, however many restarts
            restarts = math.floor(e / period)
            begun = restarts * period
            peak = row[M_MUL] ** restarts
        else:  # periods grow geometrically: a handful of iterations
            while e >= begun + period:
                begun += period
                period *= t_mult
                peak *= row[M_MUL]
        cosine = (1.0 + math.cos(math.pi * (e - begun) / period)) / 2.0
        return row[MIN_LR] + (lr - row[MIN_LR]) * peak * cosine
    if kind == ONECYCLE:
        phase, pct = _onecycle_phase(row, e)
        low = lr / row[DIV_FACTOR]
        if phase == 0:
            return _anneal(low, lr, pct)
        return _anneal(lr, low / row[FINAL_DIV_FACTOR], pct)
    return np.nan  # an index no spec has: loud, never silently constant


@jit(inline="always")
def scheduled_momentum(row, t):
    """OneCycleLR's momentum (or beta1) at update ``t``: max → base while the lr rises."""
    phase, pct = _onecycle_phase(row, t - 1.0)
    if phase == 0:
        return _anneal(row[MAX_MOMENTUM], row[BASE_MOMENTUM], pct)
    return _anneal(row[BASE_MOMENTUM], row[MAX_MOMENTUM], pct)


@jit
def schedule_changes_lr(row):
    """Whether ``row``'s schedule changes the lr: the engines ask once per run and skip
    ``apply_schedule`` altogether under a constant one (its hp is never touched)."""
    return row[KIND] != CONSTANT


@jit
def apply_schedule(row, hp, t):
    """Set ``hp`` (lr first) for update ``t``; a constant schedule leaves it untouched."""
    if row[KIND] == CONSTANT:
        return
    hp[0] = scheduled_lr(row, t)
    if row[MOMENTUM_INDEX] >= 0.0:
        hp[int(row[MOMENTUM_INDEX])] = scheduled_momentum(row, t)


@jit
def keep_lr(row, hp, t):
    """The schedule function of a group at a constant lr: nothing to set (and, as the engines
    ask ``schedule_changes_lr`` once per run first, never even called)."""
    return


def schedule_function(rows: np.ndarray):
    """The first-class ``apply(row, hp, t)`` an engine calls per update for a group with
    schedule ``rows``: ``apply_schedule`` if any row changes the lr, else ``keep_lr``; compiled
    here, when first needed (numba's cache keeps it for the next process)."""
    changes = bool(np.any(rows[:, KIND] != CONSTANT))
    kernel = apply_schedule if changes else keep_lr
    kernel.compile(SCHEDULE_SIGNATURE.args)
    return kernel


@jit
def lr_at(row, steps):
    """The lr each update in ``steps`` used (an int64 array; step 0, before any update, takes
    the lr of update 1): the ``lr`` column of history.csv."""
    out = np.empty(steps.size)
    for i in range(steps.size):
        out[i] = scheduled_lr(row, max(steps[i], 1))
    return out


def constant_rows(n_runs: int) -> np.ndarray:
    """Schedule rows of ``n_runs`` runs at a constant learning rate (the engines' default)."""
    rows = np.zeros((n_runs, ROW_WIDTH))
    rows[:, KIND] = CONSTANT
    rows[:, MOMENTUM_INDEX] = -1.0
    return rows


def schedule_matrix(configs) -> np.ndarray:
    """The schedule rows of a group's run configs (``RunConfig``), padded to one width (the
    milestones vary in number); the kernels never read past a row's own milestones."""
    if all(c.schedule == "constant" and not c.schedule_params for c in configs):
        # a sweep's usual case: what schedule_row gives each run, for all at once (row by
        # row, a 10,000-run sweep spent a quarter of a second here)
        rows = constant_rows(len(configs))
        rows[:, BASE_LR] = [c.lr for c in configs]
        rows[:, KERAS_FORM] = [c.preset == "keras" for c in configs]
        return rows
    rows = [
        schedule_row(c.schedule, dict(c.schedule_params), c.preset, c.lr, tuple(n for n, _ in c.hp))
        for c in configs
    ]
    matrix = np.zeros((len(rows), max(map(len, rows))))
    for r, row in enumerate(rows):
        matrix[r, : len(row)] = row
    return matrix
