"""The network family: gradients, an independent NumPy twin, the engine, the lesson's facts."""

from __future__ import annotations

import itertools

import numba
import numpy as np
import pytest

import optbench
from optbench.datasets import load_dataset
from optbench.families.networks.engine import _train_one, run_network_group
from optbench.families.networks.kernels import (
    activation_width,
    loss_and_grad,
    max_width,
    param_count,
)
from optbench.optimizers import get_optimizer
from optbench.problems import get_problem
from optbench.problems.networks import ACTIVATIONS, LOSSES, NetworkOptions


def value_and_grad(sizes, act, loss, l2, theta, x, y, labels):
    """Python-side call of the jitted loss_and_grad with its scratch buffers."""
    sizes = np.asarray(sizes, dtype=np.int64)
    grad = np.zeros_like(theta)
    acts = np.empty(x.shape[0] * activation_width(sizes))
    dbuf = np.empty(2 * x.shape[0] * max_width(sizes))
    value = loss_and_grad(sizes, act, loss, l2, theta, grad, x, y, labels, acts, dbuf)
    return value, grad


def problem_data(rng, loss, n_out, rows=5, n_in=3):
    x = rng.normal(size=(rows, n_in))
    labels = rng.integers(0, max(n_out, 2), size=rows)
    if loss == LOSSES["cross_entropy"]:
        y = np.eye(n_out)[labels]
    elif loss == LOSSES["bce"]:
        y = (rng.random((rows, n_out)) < 0.5).astype(float)
        labels = y[:, 0].astype(np.int64)
    else:
        y = rng.normal(size=(rows, n_out))
    return x, y, labels.astype(np.int64)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_gradient_matches_central_differences(activation, loss):
    rng = np.random.default_rng(len(activation) * 7 + len(loss))
    act, code = ACTIVATIONS[activation], LOSSES[loss]
    sizes = [3, 4, 3, 2 if loss == "bce" else 3]
    theta = rng.normal(scale=0.8, size=param_count(np.array(sizes)))
    x, y, labels = problem_data(rng, code, sizes[-1])
    _, grad = value_and_grad(sizes, act, code, 0.03, theta, x, y, labels)
    h = 1e-6
    numeric = np.empty_like(theta)
    for i in range(theta.size):
        up, down = theta.copy(), theta.copy()
        up[i] += h
        down[i] -= h
        fu, _ = value_and_grad(sizes, act, code, 0.03, up, x, y, labels)
        fd, _ = value_and_grad(sizes, act, code, 0.03, down, x, y, labels)
        numeric[i] = (fu - fd) / (2 * h)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)


def numpy_network(sizes, theta, x, y, activation, l2):
    """An independent plain-NumPy MLP (softmax + cross-entropy): loss and gradient by hand."""
    funcs = {
        "tanh": (np.tanh, lambda a: 1 - a**2),
        "sigmoid": (lambda z: 1 / (1 + np.exp(-z)), lambda a: a * (1 - a)),
        "relu": (lambda z: np.maximum(z, 0), lambda a: (a > 0).astype(float)),
        "leaky_relu": (lambda z: np.where(z > 0, z, 0.01 * z), lambda a: np.where(a > 0, 1, 0.01)),
    }
    f, df = funcs[activation]
    weights, biases, off = [], [], 0
    for n_in, n_out in itertools.pairwise(sizes):
        weights.append(theta[off : off + n_in * n_out].reshape(n_in, n_out))
        biases.append(theta[off + n_in * n_out : off + n_in * n_out + n_out])
        off += n_in * n_out + n_out
    outs = [x]
    for layer, (w, b) in enumerate(zip(weights, biases, strict=True)):
        z = outs[-1] @ w + b
        outs.append(z if layer == len(weights) - 1 else f(z))
    z = outs[-1]
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    loss = -np.mean(np.sum(y * np.log(p), axis=1)) + 0.5 * l2 * sum((w**2).sum() for w in weights)
    delta = (p - y) / len(x)
    grads = []
    for layer in range(len(weights) - 1, -1, -1):
        grads.append((delta.sum(axis=0), outs[layer].T @ delta + l2 * weights[layer]))
        if layer:
            delta = (delta @ weights[layer].T) * df(outs[layer])
    flat = [np.concatenate([gw.ravel(), gb]) for gb, gw in reversed(grads)]
    return loss, np.concatenate(flat)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_forward_backward_match_an_independent_numpy_network(activation):
    rng = np.random.default_rng(3)
    sizes = [6, 8, 5, 4]
    theta = rng.normal(scale=0.5, size=param_count(np.array(sizes)))
    x = rng.normal(size=(9, 6))
    labels = rng.integers(0, 4, size=9)
    y = np.eye(4)[labels]
    expected_loss, expected_grad = numpy_network(sizes, theta, x, y, activation, 0.01)
    loss, grad = value_and_grad(
        sizes, ACTIVATIONS[activation], LOSSES["cross_entropy"], 0.01, theta, x, y, labels
    )
    assert loss == pytest.approx(expected_loss, rel=1e-12)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-10, atol=1e-13)


def group(problem, options, optimizer="adam", lr=None, seeds=(0,), keep_path=False, norms=False):
    spec = get_problem(problem)
    data = load_dataset(spec)
    if options.model == "perceptron":
        opt, hp = None, np.array([[lr or 1.0]] * len(seeds))
    else:
        opt = get_optimizer(optimizer)
        values = opt.resolve("torch", {"lr": lr} if lr else {})
        hp = np.array([opt.hp_vector(values)] * len(seeds))
    return run_network_group(
        opt, data, options, hp, np.array(seeds), 1, 1e6, keep_path=keep_path, grad_norms=norms
    )


def test_recorded_layer_gradient_norms_match_central_differences():
    """The optional grad_norm_layer columns: per layer, ‖∂L/∂W‖ of the data loss (no L2) on the
    whole training set, against central differences of that loss at the recorded θ; more than
    one evaluation chunk of rows (300 > 256) so the chunks' weighting counts."""
    options = NetworkOptions(hidden=(4, 3), activation="sigmoid", epochs=3, batch_size=50, l2=0.1)
    spec = get_problem("moons:n=375")
    data = load_dataset(spec)
    out = group("moons:n=375", options, "sgd", lr=0.5, keep_path=True, norms=True)
    sizes = np.asarray(data.layer_sizes(options), dtype=np.int64)
    y = np.eye(2)[data.labels_train]
    x = data.x_train
    assert x.shape[0] > 256

    def loss(theta):
        return value_and_grad(sizes, ACTIVATIONS["sigmoid"], LOSSES["cross_entropy"], 0.0,
                              theta, x, y, data.labels_train)[0]  # fmt: skip

    for row, theta in enumerate(out.per_run["path"][0]):
        numeric = np.zeros_like(theta)
        for k in range(theta.size):
            step = np.zeros_like(theta)
            step[k] = 1e-6
            numeric[k] = (loss(theta + step) - loss(theta - step)) / 2e-6
        off = 0
        for layer in range(sizes.size - 1):
            n_w = sizes[layer] * sizes[layer + 1]
            expected = np.linalg.norm(numeric[off : off + n_w])
            recorded = out.history[f"grad_norm_layer{layer + 1}"][0, row]
            assert recorded == pytest.approx(expected, rel=1e-6)
            off += n_w + sizes[layer + 1]


def test_gradient_norms_need_no_kept_path_and_match_the_kept_paths_run():
    """The norms are taken after training from θ kept at each recorded row: without
    ``keep_path`` the engine keeps those θ for itself and hands back no path."""
    options = NetworkOptions(hidden=(4,), activation="tanh", epochs=3, batch_size=20)
    alone = group("moons:n=80", options, "adam", seeds=(0, 1), norms=True)
    kept = group("moons:n=80", options, "adam", seeds=(0, 1), keep_path=True, norms=True)
    assert alone.per_run["path"] == [None, None]
    for layer in (1, 2):
        column = f"grad_norm_layer{layer}"
        rows = alone.rows[0]
        assert np.isfinite(alone.history[column][:, :rows]).all()
        assert np.array_equal(alone.history[column], kept.history[column], equal_nan=True)


def test_layer_gradient_norms_are_off_by_default():
    options = NetworkOptions(hidden=(3,), activation="tanh", epochs=1, batch_size=10)
    out = group("moons:n=40", options, "sgd", lr=0.1)
    assert not [k for k in out.history if k.startswith("grad_norm")]


def test_engine_full_batch_sgd_equals_a_numpy_training_loop():
    """Wiring check: one batch per epoch, plain SGD from the engine's own initial θ."""
    options = NetworkOptions(hidden=(5,), activation="tanh", epochs=15, batch_size=10_000)
    spec = get_problem("moons:n=60")
    data = load_dataset(spec)
    out = group("moons:n=60", options, "sgd", lr=0.5, keep_path=True)
    path, final = out.per_run["path"][0], out.per_run["final"][0]
    sizes = data.layer_sizes(options)
    theta = path[0].copy()
    y = np.eye(2)[data.labels_train]
    for epoch in range(1, 16):
        _, grad = numpy_network(sizes, theta, data.x_train, y, "tanh", 0.0)
        theta -= 0.5 * grad
        np.testing.assert_allclose(path[epoch], theta, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(final, theta, rtol=1e-9, atol=1e-12)


def test_runs_are_bit_identical_whatever_the_thread_count():
    options = NetworkOptions(epochs=3)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = group("spirals", options, seeds=(0, 1, 2))
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = group("spirals", options, seeds=(0, 1, 2))
    finally:
        numba.set_num_threads(before)
    arrays = [
        *zip(one.metrics.values(), two.metrics.values(), strict=True),
        *zip(one.history.values(), two.history.values(), strict=True),
        *zip(one.per_run["final"], two.per_run["final"], strict=True),
        (one.rows, two.rows),
    ]
    for a, b in arrays:
        assert np.array_equal(a, b, equal_nan=True)
    # and a run does not depend on its neighbours in the batch
    alone = group("spirals", options, seeds=(1,))
    assert np.array_equal(alone.per_run["final"][0], one.per_run["final"][1])


def test_one_compiled_engine_serves_every_optimizer_and_setting():
    group("xor", NetworkOptions(hidden=(2,), activation="sigmoid", loss="bce", epochs=2), "sgd")
    group("blobs", NetworkOptions(hidden=(4, 3), activation="relu", init="he", epochs=1), "rmsprop")
    group("circles", NetworkOptions(activation="leaky_relu", loss="mse", epochs=1), "adagrad")
    group("and", NetworkOptions(model="perceptron", epochs=2))
    assert len(_train_one.signatures) == 1


def test_divergence_is_a_result_not_a_crash():
    options = NetworkOptions(loss="mse", epochs=5)
    out = group("moons", options, "sgd", lr=1e4)
    assert out.metrics["diverged_step"][0] >= 1
    assert out.rows[0] >= 2  # the start and the divergence row


@pytest.mark.parametrize("table", ["and", "or", "nand"])
def test_perceptron_learns_the_linearly_separable_tables(table):
    result = optbench.run(problem=table, model="perceptron", seed=[0, 1, 2], save=False)
    assert (result.runs["test_accuracy"] == 1.0).all()
    assert (result.runs["optimizer"] == "perceptron").all()


def test_perceptron_cannot_learn_xor():
    result = optbench.run(problem="xor", model="perceptron", seed=list(range(6)), save=False)
    assert (result.history["test_accuracy"] <= 0.75).all()
    assert (result.runs["best_test_accuracy"] <= 0.75).all()


def test_mlp_with_two_hidden_units_learns_xor():
    result = optbench.run(
        ["sgd", "adam"], "xor", model="mlp", hidden="2", activation="sigmoid", save=False
    )
    assert (result.runs["test_accuracy"] == 1.0).all()


def test_spirals_reach_095_with_adam_at_defaults():
    result = optbench.run("adam", "spirals", save=False)
    assert result.runs["test_accuracy"].iloc[0] >= 0.95


def test_digits_reach_093():
    result = optbench.run("adam", "digits", hidden="100", activation="relu", epochs=20, save=False)
    assert result.runs["test_accuracy"].iloc[0] >= 0.93
    assert result.runs["epochs_to_0.9"].iloc[0] <= 20


def test_history_and_runs_columns():
    result = optbench.run(["sgd", "adam"], "moons", epochs=4, seed=[0, 1], save=False)
    for column in ["run_id", "step", "loss", "epoch", "train_loss", "test_loss", "test_accuracy"]:
        assert column in result.history
    for column in ["run_id", "problem", "optimizer", "preset", "lr", "seed", "steps",
                   "final_loss", "best_loss", "final_gap", "diverged", "diverged_step", "wall_s",
                   "test_accuracy", "epochs_to_0.9"]:  # fmt: skip
        assert column in result.runs
    assert set(result.history["epoch"]) == set(range(5))
    assert (result.runs["steps"] == 4 * 25).all()  # 800 training rows, batch 32
    assert result.runs["run_id"].is_unique
    first = result.history[result.history["run_id"] == result.runs["run_id"][0]]
    assert list(first["step"]) == [0, 25, 50, 75, 100]


def test_run_id_covers_network_settings_and_surface_ids_are_unchanged():
    import hashlib
    import json
    from dataclasses import asdict

    from optbench.config import build_run_configs

    a = build_run_configs(optimizers=["adam"], problems="spirals", hidden="16")[0]
    b = build_run_configs(optimizers=["adam"], problems="spirals", hidden="32")[0]
    assert a.run_id != b.run_id
    surface = build_run_configs(optimizers=["adam"], problems="bowl")[0]
    fields = asdict(surface)
    del fields["network"], fields["schedule"], fields["schedule_params"]  # as before both existed
    payload = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    assert surface.run_id == hashlib.sha256(payload.encode()).hexdigest()[:12]
    assert "network" not in surface.to_dict() and "schedule" not in surface.to_dict()


def test_figures_from_a_run_folder(tmp_path):
    result = optbench.run(["sgd", "adam"], "circles", epochs=5, out=tmp_path / "run")
    names = {p.name for p in result.figures}
    assert names == {"curves.png", "boundaries.png", "weight_path.png"}
    for name in ["data.csv", "boundary.csv", "weight_path.csv", "landscape.csv"]:
        assert (tmp_path / "run" / name).is_file()
    redrawn = optbench.plot(tmp_path / "run", smoothing=0.5)
    assert {p.name for p in redrawn} == names
