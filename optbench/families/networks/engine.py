"""The network engine: many training runs at once, one jitted loop per run, the registry's
optimizer kernels doing the updates.

``_train_one`` (one run) is compiled once for the whole network family, with an explicit
signature taking the optimizer as a first-class function (as the surface family's
``surface_batch`` does), and the schedule, ``loss_and_grad`` and ``evaluate`` likewise (each is
compiled once on its own instead of being linked into, and optimised again inside, the training
loop's machine code): every optimizer, every layer size, activation, loss and initialisation
reuses the same machine code from numba's disk cache. ``network_batch`` runs a group's runs on
a pool of threads (the compiled run releases the GIL); each writes only its own rows, and every
random draw (initial weights, minibatch order) comes from the run's seed through
``optbench/rng.py``, so a run's numbers do not depend on the thread count or its neighbours.

The single-layer perceptron runs through the same kernel: its step output's loss code makes
``loss_and_grad`` return Rosenblatt's correction −(y − ŷ)·(x, 1) as the "gradient", and with
one example per batch and plain SGD (no momentum) the update θ ← θ − lr·g *is* the perceptron
learning rule w ← w + lr·(y − ŷ)·x, b ← b + lr·(y − ŷ). No second engine to compile or trust.

``run_networks`` is the Python side: it groups configs, loads each data set once, allocates the
outputs and hands back arrays in config order.
"""

from __future__ import annotations

import time

import numpy as np
from numba import types

from optbench._jit import SCHEDULE_FUNCTION, UPDATE_FUNCTION, f8_1d, f8_2d, f8_3d, i8_1d, jit
from optbench.families.networks import FAMILY, grad_norm_column, record_rows
from optbench.families.networks.kernels import (
    PERCEPTRON,
    activation_width,
    eval_buffer,
    evaluate,
    gather,
    init_params,
    l2_penalty,
    loss_and_grad,
    max_width,
    param_count,
    path_gradient_norms,
)
from optbench.families.output import EngineOutput
from optbench.rng import below, seed_state
from optbench.schedules.kernels import (
    constant_rows,
    schedule_changes_lr,
    schedule_function,
    schedule_matrix,
)
from optbench.threads import in_threads

INIT_STREAM = 2
BATCH_STREAM = 3

# Columns of a recorded history row.
R_STEP, R_EPOCH, R_LOSS, R_TRAIN_LOSS, R_TRAIN_ACC, R_TEST_LOSS, R_TEST_ACC = range(7)
N_REC = 7
# Columns of the kernel's per-run metrics array, then one column per accuracy target; outside
# this module they are known by name (METRICS), as EngineOutput.metrics keys.
(
    M_FINAL,
    M_BEST,
    M_DIVERGED_STEP,
    M_STEPS_DONE,
    M_TRAIN_LOSS,
    M_TRAIN_ACC,
    M_TEST_LOSS,
    M_TEST_ACC,
    M_BEST_TEST_ACC,
) = range(9)
N_FIXED_METRICS = 9
METRICS = FAMILY.metric_columns
HISTORY = {  # EngineOutput.history key → column of a recorded row
    "step": R_STEP,
    "epoch": R_EPOCH,
    "loss": R_LOSS,
    "train_loss": R_TRAIN_LOSS,
    "train_accuracy": R_TRAIN_ACC,
    "test_loss": R_TEST_LOSS,
    "test_accuracy": R_TEST_ACC,
}

_BATCH_ARGS = (
    i8_1d,  # layer sizes [n_in, h1, ..., n_out]
    types.int64,  # hidden activation code
    types.int64,  # output/loss code
    types.float64,  # L2 coefficient λ (penalty ½λΣw²)
    i8_1d,  # seeds (R,)
    types.int64,  # epochs
    types.int64,  # record every k epochs
    types.float64,  # divergence bound on |θ|
    f8_2d,  # train inputs (n, n_in)
    f8_2d,  # train targets (n, n_out)
    i8_1d,  # train labels (n,)
    f8_2d,  # test inputs
    f8_2d,  # test targets
    i8_1d,  # test labels
    f8_1d,  # accuracy targets (T,)
    f8_3d,  # out: recorded rows (R, rows, N_REC)
    i8_1d,  # out: rows recorded per run (R,)
    f8_3d,  # out: θ at each recorded row (R, rows, P), or (R, 0, P) to keep none
    f8_2d,  # out: final θ (R, P)
    f8_2d,  # out: metrics (R, N_FIXED_METRICS + T)
)


@jit(inline="always")
def _record(
    score,
    r,
    step,
    epoch,
    sizes,
    act,
    loss,
    l2,
    theta,
    x,
    y,
    labels,
    xt,
    yt,
    labels_t,
    buffers,
    rec,
    rec_rows,
    path,
):
    """Score ``theta`` on the train and test sets (``score`` is ``kernels.evaluate``) into the
    next row of run ``r``; keep θ when ``path`` has rows (a loop, not ``path[r, row, :] =
    theta``: numba's slice assignment compiles a formatted shape-mismatch error that cost 4.4 s
    of a first run)."""
    row = rec_rows[r]
    rec_rows[r] = row + 1
    acts, scores = buffers
    score(sizes, act, loss, theta, x, y, labels, acts, scores)
    train_loss, train_acc = scores[0], scores[1]
    score(sizes, act, loss, theta, xt, yt, labels_t, acts, scores)
    test_loss, test_acc = scores[0], scores[1]
    rec[r, row, R_STEP] = step
    rec[r, row, R_EPOCH] = epoch
    rec[r, row, R_LOSS] = train_loss + l2_penalty(sizes, theta, l2)
    rec[r, row, R_TRAIN_LOSS] = train_loss
    rec[r, row, R_TRAIN_ACC] = train_acc
    rec[r, row, R_TEST_LOSS] = test_loss
    rec[r, row, R_TEST_ACC] = test_acc
    if path.shape[1] > 0:
        for k in range(theta.size):
            path[r, row, k] = theta[k]


@jit(inline="always")
def _finish(r, diverged_at, steps_done, targets, rec, rec_rows, theta, final, metrics):
    """Per-run metrics from its recorded rows: final and best values, epochs to each target."""
    rows = rec_rows[r]
    last = rows - 1
    for k in range(theta.size):
        final[r, k] = theta[k]
    metrics[r, M_FINAL] = rec[r, last, R_LOSS]
    best = np.inf
    best_acc = -np.inf
    for i in range(rows):
        if rec[r, i, R_LOSS] < best:
            best = rec[r, i, R_LOSS]
        if rec[r, i, R_TEST_ACC] > best_acc:
            best_acc = rec[r, i, R_TEST_ACC]
    metrics[r, M_BEST] = best if best < np.inf else np.nan
    metrics[r, M_DIVERGED_STEP] = diverged_at
    metrics[r, M_STEPS_DONE] = steps_done
    metrics[r, M_TRAIN_LOSS] = rec[r, last, R_TRAIN_LOSS]
    metrics[r, M_TRAIN_ACC] = rec[r, last, R_TRAIN_ACC]
    metrics[r, M_TEST_LOSS] = rec[r, last, R_TEST_LOSS]
    metrics[r, M_TEST_ACC] = rec[r, last, R_TEST_ACC]
    metrics[r, M_BEST_TEST_ACC] = best_acc
    for k in range(targets.size):
        metrics[r, N_FIXED_METRICS + k] = -1.0
        for i in range(rows):
            if rec[r, i, R_TEST_ACC] >= targets[k]:
                metrics[r, N_FIXED_METRICS + k] = rec[r, i, R_EPOCH]
                break


@jit(inline="always")
def _beyond(theta, bound):
    """Whether any |θ_k| exceeds ``bound`` or is NaN: an or over every element without an early
    exit, so LLVM vectorises it (the early-exit loop cost a large net's step 130 µs, this 20)."""
    out = False
    for k in range(theta.size):
        out |= not abs(theta[k]) <= bound  # also catches NaN
    return out


@jit(inline="always")
def _shuffle(order, rng):
    """Fisher–Yates shuffle of ``order`` in place from the run's generator."""
    for i in range(order.size - 1, 0, -1):
        j = below(rng, i + 1)
        tmp = order[i]
        order[i] = order[j]
        order[j] = tmp


I8 = types.int64
LOSS_AND_GRAD_FUNCTION = types.FunctionType(
    types.float64(i8_1d, I8, I8, types.float64, f8_1d, f8_1d, f8_2d, f8_2d, i8_1d, f8_1d, f8_1d)
)
"""``kernels.loss_and_grad(sizes, act, loss, l2, theta, grad, x, y, labels, acts, dbuf)``."""
EVALUATE_FUNCTION = types.FunctionType(
    types.void(i8_1d, I8, I8, f8_1d, f8_2d, f8_2d, i8_1d, f8_1d, f8_1d)
)
"""``kernels.evaluate(sizes, act, loss, theta, x, y, labels, acts, out)``.
Both reach ``_train_one`` as first-class functions, as the optimizer does: compiled on their
own, once, not linked into (and optimised again inside) the training loop's machine code,
which cost a first run 3 s."""

_TRAIN_ONE_SIGNATURE = types.void(
    LOSS_AND_GRAD_FUNCTION,
    EVALUATE_FUNCTION,
    UPDATE_FUNCTION,
    SCHEDULE_FUNCTION,  # apply(row, hp, t): the schedule, optbench.schedules
    types.int64,  # initialisation code
    f8_1d,  # this run's hp
    f8_1d,  # this run's learning-rate schedule row (optbench.schedules)
    types.int64,  # optimizer state size
    types.int64,  # batch size
    types.int64,  # run index r (its rows of the outputs)
    *_BATCH_ARGS,
)


@jit(signature=_TRAIN_ONE_SIGNATURE, nogil=True)
def _train_one(
    step_grad,
    score,
    update,
    apply,
    init,
    hp,
    schedule,
    state_size,
    batch_size,
    r,
    sizes,
    act,
    loss,
    l2,
    seeds,
    epochs,
    record_every,
    bound,
    x,
    y,
    labels,
    xt,
    yt,
    labels_t,
    targets,
    rec,
    rec_rows,
    path,
    final,
    metrics,
):
    """Train run ``r``: shuffled minibatches, the optimizer kernel, a record every k epochs."""
    n = x.shape[0]
    n_params = param_count(sizes)
    n_out = sizes[sizes.size - 1]
    rows_per_batch = min(batch_size, n)
    rng = np.empty(1, dtype=np.uint64)
    rng[0] = seed_state(seeds[r], INIT_STREAM)
    theta = np.empty(n_params)
    init_params(sizes, init, rng, theta)
    rng[0] = seed_state(seeds[r], BATCH_STREAM)
    grad = np.zeros(n_params)
    state = np.zeros(state_size)
    h = hp.copy()
    scheduled = schedule_changes_lr(schedule)  # once per run: a constant lr costs nothing
    order = np.empty(n, dtype=np.int64)
    for i in range(n):
        order[i] = i
    xb_buf = np.empty(rows_per_batch * sizes[0])
    yb_buf = np.empty(rows_per_batch * n_out)
    lb_buf = np.empty(rows_per_batch, dtype=np.int64)
    acts = np.empty(rows_per_batch * activation_width(sizes))
    dbuf = np.empty(2 * rows_per_batch * max_width(sizes))
    buffers = (eval_buffer(sizes), np.empty(2))  # evaluate's activations and its two results

    rec_rows[r] = 0
    t = 0
    diverged_at = -1
    for epoch in range(epochs + 1):  # epoch 0 only records the starting point
        for start in range(0, n if epoch > 0 else 0, rows_per_batch):
            if start == 0:
                _shuffle(order, rng)
            stop = min(start + rows_per_batch, n)
            xb = gather(x, order, start, stop, xb_buf)
            yb = gather(y, order, start, stop, yb_buf)
            lb = lb_buf[: stop - start]
            for i in range(stop - start):
                lb[i] = labels[order[start + i]]
            value = step_grad(sizes, act, loss, l2, theta, grad, xb, yb, lb, acts, dbuf)
            if not np.isfinite(value):
                diverged_at = t
                break
            t += 1
            if scheduled:
                apply(schedule, h, t)
            update(theta, grad, state, h, t)
            if _beyond(theta, bound):
                diverged_at = t
                break
        if diverged_at >= 0 or epoch % record_every == 0 or epoch == epochs:
            _record(score, r, t, epoch, sizes, act, loss, l2, theta, x, y, labels, xt, yt, labels_t,
                    buffers, rec, rec_rows, path)  # fmt: skip
        if diverged_at >= 0:
            break
    _finish(r, diverged_at, t, targets, rec, rec_rows, theta, final, metrics)


_NORM_ARGS = (0, 1, 2, 8, 9, 10, 16, 17)  # sizes, act, loss, x, y, labels, rec_rows, path of batch


def network_batch(
    update, apply, init, hp, schedules, state_size, batch_size, *batch, norms=None
) -> None:
    """Every run of a group, ``_train_one`` each on a pool of threads (it releases the GIL, and
    each run writes only its own rows, so the numbers do not depend on the thread count).
    With ``norms`` (R, rows, layers), each run's layer gradient norms at the θ its ``path``
    kept at each recorded row, after its training: a kernel of its own, compiled only by runs
    that ask for it (inside ``_train_one`` it cost every first run 3 s of compiling).

    A jitted ``prange`` loop would do the same, but compiling its parallel lowering around the
    whole training function cost about 11 of a first network command's 29 s; threads cost
    nothing to compile and a few microseconds per run."""
    runs = hp.shape[0]

    def train(r: int) -> None:
        functions = (loss_and_grad, evaluate, update, apply)
        _train_one(*functions, init, hp[r], schedules[r], state_size, batch_size, r, *batch)
        if norms is not None:
            sizes, act, loss, x, y, labels, rec_rows, path = (batch[k] for k in _NORM_ARGS)
            path_gradient_norms(sizes, act, loss, path[r], rec_rows[r], x, y, labels, norms[r])

    in_threads(lambda begin, end: [train(r) for r in range(begin, end)], runs, smallest=1)


def run_network_group(
    optimizer,
    data,
    options,
    hp: np.ndarray,
    seeds: np.ndarray,
    record_every: int,
    bound: float,
    keep_path: bool = False,
    schedules: np.ndarray | None = None,
    grad_norms: bool = False,
) -> EngineOutput:
    """Train one group (one optimizer, one problem, one network setting) in one kernel call.

    ``optimizer`` is an OptimizerSpec, or None for the perceptron (``hp[:, 0]`` is its lr).
    ``per_run`` holds each run's ``final`` θ and, with ``keep_path``, its ``path``: θ at each
    recorded row (else None). ``schedules`` holds each run's learning-rate schedule row
    (None: a constant lr). ``grad_norms`` adds history columns ``grad_norm_layer1`` …:
    each layer's weight-gradient norm on the whole training set at each recorded epoch (off by
    default: it costs a full backward pass per record).
    """
    from optbench.problems.networks import ACCURACY_TARGETS, ACTIVATIONS, INITS, LOSSES

    perceptron = options.model == "perceptron"
    loss_code = PERCEPTRON if perceptron else LOSSES[options.loss]
    if perceptron:  # Rosenblatt's rule = plain SGD, one example at a time, on its correction
        from optbench.optimizers import get_optimizer

        optimizer = get_optimizer("sgd")
        hp = np.array(
            [optimizer.hp_vector(optimizer.resolve("torch", {"lr": lr})) for lr in hp[:, 0]]
        )
    sizes = np.array(data.layer_sizes(options), dtype=np.int64)
    n_params = int(param_count(sizes))
    n_runs = seeds.size
    rows = record_rows(options.epochs, record_every)
    targets = np.asarray(ACCURACY_TARGETS, dtype=np.float64)
    rec = np.full((n_runs, rows, N_REC), np.nan)
    rec_rows = np.zeros(n_runs, dtype=np.int64)
    # the gradient norms are taken after training, at the θ kept at each recorded row
    path = np.full((n_runs, rows if keep_path or grad_norms else 0, n_params), np.nan)
    norms = np.full((n_runs, rows, sizes.size - 1), np.nan) if grad_norms else None
    final = np.empty((n_runs, n_params))
    metrics = np.empty((n_runs, N_FIXED_METRICS + targets.size))
    y_train, y_test = data.targets(int(sizes[-1]))
    schedules = constant_rows(n_runs) if schedules is None else schedules
    common = (
        sizes,
        ACTIVATIONS[options.activation],
        loss_code,
        float(options.l2),
        np.ascontiguousarray(seeds, dtype=np.int64),
        int(options.epochs),
        int(record_every),
        float(bound),
        data.x_train,
        y_train,
        data.labels_train,
        data.x_test,
        y_test,
        data.labels_test,
        targets,
        rec,
        rec_rows,
        path,
        final,
        metrics,
    )
    began = time.perf_counter()
    network_batch(
        optimizer.compiled(),
        schedule_function(schedules),
        INITS[options.init],
        np.ascontiguousarray(hp, dtype=np.float64),
        schedules,
        optimizer.state_size(n_params),
        1 if perceptron else int(options.batch_size),
        *common,
        norms=norms,
    )
    elapsed = time.perf_counter() - began
    history = {name: rec[:, :, column] for name, column in HISTORY.items()}
    if grad_norms:
        history.update({grad_norm_column(k + 1): norms[:, :, k] for k in range(norms.shape[2])})
    return EngineOutput(
        metrics={name: metrics[:, k] for k, name in enumerate(METRICS)},
        history=history,
        rows=rec_rows,
        wall_s=np.full(n_runs, elapsed / n_runs),  # the runs of a group train as many steps
        per_run={
            "final": list(final),
            "path": [path[k, : rec_rows[k]] if keep_path else None for k in range(n_runs)],
        },
    )


def run_networks(
    configs, data_dir=None, keep_path: bool = False, grad_norms: bool = False
) -> EngineOutput:
    """Run every network config; runs sharing (optimizer, problem, network settings) share a
    parallel kernel call and a data set. Outputs follow ``configs`` order."""
    from optbench.datasets import load_dataset
    from optbench.optimizers import get_optimizer
    from optbench.problems import get_problem

    groups: dict[tuple, list[int]] = {}
    for i, c in enumerate(configs):
        groups.setdefault((c.optimizer, c.problem, c.network, c.record_every, c.bound), []).append(
            i
        )
    datasets: dict[str, object] = {}
    parts = []
    for (optimizer, problem, options, record_every, bound), index in groups.items():
        if problem not in datasets:
            datasets[problem] = load_dataset(get_problem(problem), data_dir)
        members = [configs[i] for i in index]
        part = run_network_group(
            None if options.model == "perceptron" else get_optimizer(optimizer),
            datasets[problem],
            options,
            hp=np.array([[v for _, v in c.hp] for c in members]),
            schedules=schedule_matrix(members),
            seeds=np.array([c.seed for c in members]),
            record_every=record_every,
            bound=bound,
            keep_path=keep_path,
            grad_norms=grad_norms,
        )
        parts.append((index, part))
    return EngineOutput.merge(len(configs), parts)
