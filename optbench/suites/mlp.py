"""Training steps per second of the network engine, against plain NumPy and PyTorch (CPU, float64).

Two nets, each trained with Adam on random data (one minibatch = one step, forward + backward +
update, minibatches reshuffled every epoch):

- small: 2-16-16-2 tanh, batch 32 (the spirals default) — per-step overhead dominates;
- large: 784-100-100-100-100-10 relu, batch 128 — matrix products dominate.

Targets (issue 4): ≥ 25× PyTorch on the small net, ≥ 1× on the large one. PyTorch is measured
only when installed (it is not a dependency). Beside them, this machine's float64 matrix-multiply
peak as NumPy reaches it (GFLOP/s of a 2048² ``a @ b``), against which the large net's achieved
GFLOP/s (its matrix products' flops × steps/s, ``step_flops``) is the share of the machine the
engine uses: a figure that does not move with the machine's speed (target ≥ 40 %).

Each measurement runs in a fresh subprocess (``python -m optbench.suites.mlp --one FRAMEWORK
NET``), one after the other: numba's OpenMP workers, PyTorch's and OpenBLAS's threads otherwise
spin against each other (measured in one process: torch fell to 45 steps/s on the large net,
NumPy to 176, and OpenBLAS warned "Detect OpenMP Loop" on every call). The perf suite's
``mlp`` entry runs them: ``optbench bench --suite perf --only mlp``.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import time

import numpy as np

LARGE = "large 784-100x4-10 relu, batch 128"  # the net whose share of the peak is reported
NETS = {
    "small 2-16-16-2 tanh, batch 32": ((2, 16, 16, 2), "tanh", 32),
    LARGE: ((784, 100, 100, 100, 100, 10), "relu", 128),
}
MIN_SECONDS = 1.5  # each measurement runs at least this long (after a warm-up)
PEAK_SIZE = 2048  # the square float64 matrices whose product measures the machine's peak
PEAK_REPEATS = 5


def step_flops(sizes, batch: int) -> int:
    """Floating-point operations of one training step's matrix products: the forward pass
    (2·batch·n_in·n_out per layer), the weight gradients (the same again) and the deltas passed
    back through every layer after the first (the same for those layers). The element-wise work
    (biases, activations, loss, optimizer) is not counted: it is what keeps a step from peak."""
    pairs = [a * b for a, b in itertools.pairwise(sizes)]
    return 2 * batch * (2 * sum(pairs) + sum(pairs[1:]))


def matmul_peak_gflops(*_net, size: int = PEAK_SIZE, repeats: int = PEAK_REPEATS) -> float:
    """This machine's float64 matrix-multiply peak as NumPy reaches it (every core, its BLAS):
    GFLOP/s of the best of ``repeats`` products of two random ``size`` × ``size`` matrices."""
    rng = np.random.default_rng(0)
    a, b = rng.random((size, size)), rng.random((size, size))
    out = a @ b  # warm-up: BLAS threads started, pages touched
    best = np.inf
    for _ in range(repeats):
        began = time.perf_counter()
        np.matmul(a, b, out=out)
        best = min(best, time.perf_counter() - began)
    return 2 * size**3 / best / 1e9


def _data(sizes, batch, batches_per_epoch=50, seed=0):
    rng = np.random.default_rng(seed)
    n = batch * batches_per_epoch
    x = rng.normal(size=(n, sizes[0]))
    labels = rng.integers(0, sizes[-1], size=n)
    return x, labels


def _timed(step_block, steps_per_block: int) -> float:
    """Steps per second of ``step_block`` (runs ``steps_per_block`` steps), best of repeats."""
    step_block()  # warm-up (compilation, caches, allocator)
    best = 0.0
    spent = 0.0
    while spent < MIN_SECONDS:
        began = time.perf_counter()
        step_block()
        took = time.perf_counter() - began
        spent += took
        best = max(best, steps_per_block / took)
    return best


def optbench_steps_per_second(sizes, activation, batch) -> float:
    from optbench.datasets import Dataset
    from optbench.families.networks.engine import run_network_group
    from optbench.optimizers import get_optimizer
    from optbench.problems.networks import NetworkOptions

    x, labels = _data(sizes, batch)
    dataset = Dataset(
        "bench", x, labels, x[:batch], labels[:batch], sizes[-1], np.zeros(1), np.ones(1)
    )
    adam = get_optimizer("adam")
    hp = np.array([adam.hp_vector(adam.resolve("torch"))])
    epochs = 40 if sizes[0] < 100 else 4
    options = NetworkOptions(
        hidden=tuple(sizes[1:-1]),
        activation=activation,
        init="he" if activation == "relu" else "xavier",
        epochs=epochs,
        batch_size=batch,
    )
    steps = epochs * (len(labels) // batch)

    def block():  # record_every = epochs: only the start and the end are scored
        run_network_group(adam, dataset, options, hp, np.array([0]), epochs, 1e6)

    return _timed(block, steps)


def numpy_steps_per_second(sizes, activation, batch) -> float:
    """The same training in plain NumPy: forward, backprop and Adam written with arrays."""
    x, labels = _data(sizes, batch)
    y = np.eye(sizes[-1])[labels]
    rng = np.random.default_rng(1)
    weights = [rng.normal(scale=np.sqrt(2 / a), size=(a, b)) for a, b in itertools.pairwise(sizes)]
    biases = [np.zeros(b) for b in sizes[1:]]
    params = weights + biases
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    relu = activation == "relu"
    state = {"t": 0}
    order = np.arange(len(labels))

    def step(xb, yb):
        outs = [xb]
        for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
            z = outs[-1] @ w + b
            outs.append(z if i == len(weights) - 1 else (np.maximum(z, 0) if relu else np.tanh(z)))
        z = outs[-1]
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        delta = (p - yb) / len(xb)
        gw, gb = [None] * len(weights), [None] * len(weights)
        for i in range(len(weights) - 1, -1, -1):
            gw[i] = outs[i].T @ delta
            gb[i] = delta.sum(axis=0)
            if i:
                a = outs[i]
                delta = (delta @ weights[i].T) * ((a > 0) if relu else (1 - a * a))
        state["t"] += 1
        t = state["t"]
        for k, g in enumerate(gw + gb):
            m[k] *= 0.9
            m[k] += 0.1 * g
            v[k] *= 0.999
            v[k] += 0.001 * g * g
            params[k] -= (1e-3 / (1 - 0.9**t)) * m[k] / (np.sqrt(v[k] / (1 - 0.999**t)) + 1e-8)

    def block():
        rng.shuffle(order)
        for start in range(0, len(order), batch):
            idx = order[start : start + batch]
            step(x[idx], y[idx])

    return _timed(block, len(labels) // batch)


def torch_steps_per_second(sizes, activation, batch) -> float | None:
    """PyTorch's best of its default thread count and one thread (small nets run faster on
    one: its intra-op threads spin-wait, and lose badly whenever the machine is busy)."""
    try:
        import torch
    except ImportError:
        return None
    threads = torch.get_num_threads()
    rates = []
    for count in dict.fromkeys((threads, 1)):
        torch.set_num_threads(count)
        rates.append(_torch_rate(torch, sizes, activation, batch))
    torch.set_num_threads(threads)
    return max(rates)


def _torch_rate(torch, sizes, activation, batch) -> float:
    torch.manual_seed(0)
    layers = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        layers.append(torch.nn.Linear(a, b, dtype=torch.float64))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU() if activation == "relu" else torch.nn.Tanh())
    model = torch.nn.Sequential(*layers)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    x, labels = _data(sizes, batch)
    xt = torch.from_numpy(x)
    yt = torch.from_numpy(labels)
    n = len(labels)

    def block():
        order = torch.randperm(n)
        for start in range(0, n, batch):
            idx = order[start : start + batch]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(xt[idx]), yt[idx])
            loss.backward()
            optimizer.step()

    return _timed(block, n // batch)


MEASURE = {
    "optbench": optbench_steps_per_second,
    "numpy": numpy_steps_per_second,
    "torch": torch_steps_per_second,
    "matmul_peak": matmul_peak_gflops,  # GFLOP/s; the net is ignored
}


def measure_in_subprocess(framework: str, label: str) -> float | None:
    """Steps/s of ``framework`` on the net ``label`` (a key of ``NETS``), in a new process
    (``matmul_peak``: the machine's GFLOP/s)."""
    done = subprocess.run(
        [sys.executable, "-m", "optbench.suites.mlp", "--one", framework, label],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":  # one measurement, in the process measure_in_subprocess starts
    _, _, framework, net = sys.argv
    sizes, activation, batch = NETS[net]
    print(json.dumps(MEASURE[framework](sizes, activation, batch)))
