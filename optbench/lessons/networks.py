"""The lessons on networks: the perceptron and XOR, backpropagation, activations, softmax,
batch sizes, overfitting and a real data set. Each runs real commands through its ``Workbook``
and says what the numbers it got show; nothing here states a result it did not compute."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from optbench.api import Result
from optbench.columns import accuracy_column
from optbench.lessons.workbook import Workbook
from optbench.plots.lessons import Curve, Panel, activation_panels, curve_panels, shades

TABLES = ("and", "or", "nand")


def history_of(result: Result, row: int = 0) -> pd.DataFrame:
    """The history of the ``row``-th run of ``result``."""
    run_id = result.runs["run_id"].iloc[row]
    return result.history[result.history["run_id"] == run_id].reset_index(drop=True)


def first_epoch(h: pd.DataFrame, column: str, at_least: float) -> int | None:
    """The first recorded epoch at which ``column`` reached ``at_least``, or None."""
    hit = h.loc[h[column] >= at_least, "epoch"]
    return int(hit.iloc[0]) if len(hit) else None


def after(epoch: int | None) -> str:
    if epoch is None:
        return "never"
    return f"after {epoch} epoch{'s' if epoch != 1 else ''}"


def perceptron(book: Workbook, knobs: Mapping) -> None:
    epochs = int(knobs["epochs"])
    curves, learned = [], []
    for table, color in zip(TABLES, shades(len(TABLES), "plasma"), strict=True):
        result = book.run(table, None, table, model="perceptron", epochs=epochs)
        h = history_of(result)
        rows = 4 * (1 - h["train_accuracy"])
        curves.append(Curve(table.upper(), h["epoch"], rows, color, "-o"))
        learned.append((table.upper(), first_epoch(h, "train_accuracy", 1.0)))
    fig = curve_panels([Panel("the perceptron rule on the four rows of each truth table",
                              "epoch (one pass over the four rows)", "rows classified wrong",
                              tuple(curves), log_y=False, whole_y=True)])  # fmt: skip
    book.figure(fig, "perceptron.png", main=True)
    book.note(
        "perceptron.png: all four rows right "
        + ", ".join(f"for {name} {after(epoch)}" for name, epoch in learned)
        + " — each a straight line w·x + b = 0 between the 1s and the 0s."
    )
    book.note(
        "Each mistake moves the line by lr·(y − ŷ)·x: the rule stops changing the weights "
        "once no row is wrong (see each table's boundaries.png)."
    )


def xor(book: Workbook, knobs: Mapping) -> None:
    single = book.run("perceptron", None, "xor", model="perceptron",
                      epochs=int(knobs["perceptron_epochs"]))  # fmt: skip
    mlp = book.run("mlp", ["sgd", "adam"], "xor", model="mlp", hidden="2", shows=True,
                   activation="sigmoid", epochs=int(knobs["epochs"]))  # fmt: skip
    book.main_figure(mlp.folder / "boundaries.png")
    best = history_of(single)["train_accuracy"].max()
    book.note(
        f"perceptron/boundaries.png: the perceptron's best over {knobs['perceptron_epochs']} "
        f"epochs is {round(best * 4)} of 4 rows: one straight line cannot put (0,1) and (1,0) "
        "on one side and (0,0) and (1,1) on the other."
    )
    parts = []
    for row, run in enumerate(mlp.runs.itertuples()):
        h = history_of(mlp, row)
        parts.append(
            f"{run.optimizer} (lr {run.lr:g}) gets {round(run.train_accuracy * 4)} of 4 rows "
            f"right, all four {after(first_epoch(h, 'train_accuracy', 1.0))}"
        )
    book.note(f"mlp/boundaries.png, two sigmoid hidden units: {'; '.join(parts)}. Each hidden "
              "unit draws a line; the output combines the two into a band.")  # fmt: skip


def gradient_check(hidden: str, activation: str, rows: int = 32) -> pd.DataFrame:
    """Backprop's gradient against central differences, per weight layer, on ``rows`` rows of
    spirals at a random θ: the largest difference, relative to the largest gradient entry."""
    from optbench.datasets import load_dataset
    from optbench.families.networks.kernels import (
        activation_width,
        loss_and_grad,
        max_width,
        param_count,
    )
    from optbench.problems import get_problem
    from optbench.problems.networks import ACTIVATIONS, LOSSES

    data = load_dataset(get_problem("spirals"))
    x = np.ascontiguousarray(data.x_train[:rows])
    labels = np.ascontiguousarray(data.labels_train[:rows])
    y = np.eye(2)[labels]
    sizes = np.array([2, *map(int, hidden.split(",")), 2], dtype=np.int64)
    theta = np.random.default_rng(0).normal(0.0, 0.5, int(param_count(sizes)))
    acts = np.empty(rows * activation_width(sizes))
    dbuf = np.empty(2 * rows * max_width(sizes))
    act, loss = ACTIVATIONS[activation], LOSSES["cross_entropy"]

    def value(t: np.ndarray, grad: np.ndarray) -> float:
        return loss_and_grad(sizes, act, loss, 0.0, t, grad, x, y, labels, acts, dbuf)

    backprop = np.zeros_like(theta)
    value(theta, backprop)
    numeric, scratch, h = np.empty_like(theta), np.empty_like(theta), 1e-6
    for k in range(theta.size):
        step = theta.copy()
        step[k] += h
        up = value(step, scratch)
        step[k] -= 2 * h
        numeric[k] = (up - value(step, scratch)) / (2 * h)
    table, off = [], 0
    for layer in range(sizes.size - 1):
        n = sizes[layer] * sizes[layer + 1] + sizes[layer + 1]
        b, c = backprop[off : off + n], numeric[off : off + n]
        table.append({
            "layer": layer + 1,
            "parameters": n,
            "largest backprop entry": float(np.abs(b).max()),
            "largest difference": float(np.abs(b - c).max()),
            "relative difference": float(np.abs(b - c).max() / np.abs(c).max()),
        })  # fmt: skip
        off += n
    return pd.DataFrame(table)


def norm_curves(result: Result) -> tuple[Curve, ...]:
    """One curve per layer of the run's recorded gradient norms, first layers dark."""
    h = history_of(result)
    columns = [c for c in h.columns if c.startswith("grad_norm_layer")]
    colors = shades(len(columns))
    return tuple(
        Curve(f"layer {k + 1}" + (" (input side)" if k == 0 else "") +
              (" (output)" if k == len(columns) - 1 else ""), h["epoch"], h[c], colors[k])
        for k, c in enumerate(columns)
    )  # fmt: skip


def backprop(book: Workbook, knobs: Mapping) -> None:
    hidden, epochs, lr = str(knobs["hidden"]), int(knobs["epochs"]), float(knobs["lr"])
    check = gradient_check(hidden, "sigmoid")
    book.echo("gradient check, backprop against central differences (h = 1e-6), per layer:")
    book.table(check, "gradient_check.csv")
    nets = {
        act: book.run(act, ["sgd"], "spirals", hidden=hidden, activation=act, lr=lr,
                      epochs=epochs, grad_norms=True)
        for act in ("sigmoid", "relu")
    }  # fmt: skip
    fig = curve_panels(
        [Panel(f"{act}, hidden {hidden.replace(',', '-')}", "epoch",
               "‖∂loss/∂W‖ of the layer (training set)", norm_curves(r))
         for act, r in nets.items()],
        title=f"spirals, sgd lr {lr:g}: the gradient reaching each layer", share_y=True,
    )  # fmt: skip
    book.figure(fig, "gradient_norms.png", main=True)
    worst = check["relative difference"].max()
    book.note(
        f"gradient_check.csv: backprop and central differences agree in every layer to "
        f"{worst:.1e} of the largest gradient entry"
        + (": the chain rule, layer by layer, is right." if worst < 1e-5 else
           ": more than the 1e-5 rounding explains — a gradient is wrong.")
    )  # fmt: skip
    ratio = {}
    for act, r in nets.items():
        h = history_of(r)
        norms = [c for c in h.columns if c.startswith("grad_norm_layer")]
        ratio[act] = h[norms[-1]].iloc[0] / h[norms[0]].iloc[0]
    loss = {act: r.runs["train_loss"].iloc[0] for act, r in nets.items()}
    book.note(
        f"gradient_norms.png, at the start: the output layer's gradient is "
        f"{ratio['sigmoid']:.3g}× the first layer's with sigmoid, {ratio['relu']:.3g}× with "
        "ReLU — each sigmoid layer multiplies the backward signal by σ′ ≤ 0.25."
    )
    book.note(
        f"After {epochs} epochs the training loss is {loss['sigmoid']:.3g} with sigmoid and "
        f"{loss['relu']:.3g} with ReLU (ln 2 = {math.log(2):.3g} is a coin toss)."
    )


def activations(book: Workbook, knobs: Mapping) -> None:
    from optbench.families.networks.kernels import activate, activation_slopes
    from optbench.problems.networks import ACTIVATIONS

    z = np.linspace(-5.0, 5.0, 1001)
    values, slopes = {}, {}
    for name in ("sigmoid", "tanh", "relu", "leaky_relu"):
        a = z.copy()
        activate(ACTIVATIONS[name], a)  # the kernels the MLP trains with
        values[name], slopes[name] = a, np.empty_like(a)
        activation_slopes(ACTIVATIONS[name], a, slopes[name])
    frame = pd.DataFrame({"z": z, **values, **{f"{k}_slope": v for k, v in slopes.items()}})
    book.table(frame, "activations.csv", every=250)
    peak = float(slopes["sigmoid"].max())
    at = float(z[slopes["sigmoid"].argmax()])
    fig = activation_panels(z, values, slopes, f"largest sigmoid slope: {peak:.3g}")
    book.figure(fig, "activations.png", main=True)
    sweep = book.sweep("spirals", optimizers=["adam"], problems=["spirals"],
                       activation=list(values), epochs=int(knobs["epochs"]))  # fmt: skip
    runs = sweep.runs[sweep.runs["phase"] == "grid"]
    accuracy = runs.groupby("activation")["test_accuracy"].mean().sort_values(ascending=False)
    book.note(
        f"activations.png: σ′ peaks at {peak:.4f} (at z = {at:.2g}); tanh′ at "
        f"{slopes['tanh'].max():.4f}; ReLU′ is 1 for every z > 0 and leaky ReLU′ "
        f"{slopes['leaky_relu'].min():g} below 0, so ReLU passes gradients back undiminished."
    )
    book.note(
        f"spirals/, adam for {knobs['epochs']} epochs, test accuracy: "
        + ", ".join(f"{name} {acc:.3f}" for name, acc in accuracy.items())
        + "."
    )


def softmax(book: Workbook, knobs: Mapping) -> None:
    result = book.run("blobs", ["adam"], "blobs", loss="cross_entropy", shows=True,
                      epochs=int(knobs["epochs"]))  # fmt: skip
    book.main_figure(result.folder / "boundaries.png")
    h = history_of(result)
    run = result.runs.iloc[0]
    book.note(
        f"The softmax turns three outputs into probabilities; cross-entropy is −log of the "
        f"true class's. It starts at {h['train_loss'].iloc[0]:.3f} (guessing 1/3 each would "
        f"give ln 3 = {math.log(3):.3f}) and ends at {run['train_loss']:.3g}."
    )
    wrong = round((1 - run["test_accuracy"]) * 100)
    book.note(
        f"boundaries.png: three regions, one per class, where each output's probability is "
        f"the largest; test accuracy {run['test_accuracy']:.3f} after {knobs['epochs']} epochs"
        + (
            f": about {wrong} test points in 100 lie where another cluster's points crowd."
            if wrong
            else "."
        )
    )


def batch_size(book: Workbook, knobs: Mapping) -> None:
    epochs, lr = int(knobs["epochs"]), float(knobs["lr"])
    sizes = [int(b) for b in knobs["batch_sizes"]]
    results = {
        b: book.run(f"batch-{b}", ["sgd"], "spirals", batch_size=b, lr=lr, epochs=epochs)
        for b in sizes
    }
    colors = dict(zip(sizes, shades(len(sizes), "plasma"), strict=True))
    by_epoch, by_update, notes = [], [], []
    for b, r in results.items():
        h = history_of(r)
        label = f"batch {b}"
        by_epoch.append(Curve(label, h["epoch"], h["train_loss"], colors[b]))
        by_update.append(Curve(label, h["step"].clip(lower=1), h["train_loss"], colors[b]))
        per_epoch = int(h["step"].iloc[1] - h["step"].iloc[0])
        drop = (h["train_loss"].iloc[0] - h["train_loss"].iloc[1]) / per_epoch
        notes.append((b, per_epoch, drop, r.runs["train_loss"].iloc[0]))
    fig = curve_panels([
        Panel("per epoch (every example seen once)", "epoch", "training loss", tuple(by_epoch)),
        Panel("per update (one step of the optimizer)", "updates (log scale; the start at 1)",
              "training loss",
              tuple(by_update), log_x=True),
    ], title=f"SGD lr {lr:g} on spirals, {epochs} epochs")  # fmt: skip
    book.figure(fig, "batch_size.png", main=True)
    ordered = [loss for _, _, _, loss in sorted(notes)]
    book.note(
        f"batch_size.png, after {epochs} epochs the training loss is "
        + ", ".join(f"{loss:.3g} with batch {b} ({updates(n)} per epoch)"
                    for b, n, _, loss in notes)
        + (": per epoch, the smaller the batch (the more updates) the further it went."
           if ordered == sorted(ordered) else ".")
    )  # fmt: skip
    drops = [drop for _, _, drop, _ in sorted(notes)]
    book.note(
        "Per update, in the first epoch: "
        + ", ".join(f"batch {b} lowered the loss by {drop:.2g}" for b, _, drop, _ in notes)
        + (" — an update on more examples is worth more, and costs more."
           if drops == sorted(drops) else ".")
    )  # fmt: skip


def updates(n: int) -> str:
    return f"{n} update{'s' if n != 1 else ''}"


def overfitting(book: Workbook, knobs: Mapping) -> None:
    epochs, l2 = int(knobs["epochs"]), float(knobs["l2"])
    problem = "moons:n=100:noise=0.3"
    common = {"hidden": "64,64", "activation": "tanh", "lr": 0.01, "batch_size": 16,
              "epochs": epochs}  # fmt: skip
    runs = {
        "without L2": book.run("no-l2", ["adam"], problem, **common),
        f"L2 λ = {l2:g}": book.run("l2", ["adam"], problem, l2=l2, **common),
    }
    curves = []
    for (label, r), color in zip(runs.items(), ("#d62728", "#1f77b4"), strict=True):
        h = history_of(r)
        curves.append(Curve(f"{label}: training", h["epoch"], h["train_loss"], color))
        curves.append(Curve(f"{label}: test", h["epoch"], h["test_loss"], color, "--"))
    fig = curve_panels([Panel(f"{problem}, MLP 2-64-64-2 tanh, adam lr 0.01",
                              "epoch", "cross-entropy (data loss, no L2 term)", tuple(curves))],
                       width=7.5, height=4.6)  # fmt: skip
    book.figure(fig, "overfitting.png", main=True)
    ends = {}
    for label, r in runs.items():
        h = history_of(r)
        low = h["test_loss"].idxmin()
        test, train = h["test_loss"].iloc[-1], h["train_loss"].iloc[-1]
        ends[label] = test
        lowest, at = h["test_loss"].iloc[low], int(h["epoch"].iloc[low])
        said = (f"training loss ends at {train:.3g}, test loss at {test:.3g} (its lowest "
                f"{lowest:.3g} at epoch {at})")  # fmt: skip
        if test > 1.2 * h["test_loss"].iloc[low] and test > 2 * train:
            said += ": the test loss rose while the training loss fell — it memorises the "
            said += "training points"
        elif test <= 2 * train:
            said += ": the two stay close, the fit is as good on unseen points"
        book.note(f"overfitting.png, {label}: {said}.")
    (plain, plain_end), (penalised, l2_end) = ends.items()
    book.note(
        f"The penalty ½λΣw² keeps the weights small: the final test loss is {l2_end:.3g} with "
        f"{penalised}, {plain_end:.3g} {plain}"
        + (" — better on unseen points." if l2_end < plain_end else ".")
    )


def digits(book: Workbook, knobs: Mapping) -> None:
    epochs = int(knobs["epochs"])
    result = book.run("digits", ["adam"], "digits", hidden="100", activation="relu", shows=True,
                      epochs=epochs)  # fmt: skip
    book.main_figure(result.folder / "curves.png")
    run = result.runs.iloc[0]
    reached = run[accuracy_column(0.95)]
    book.note(
        f"curves.png: on the held-out 8×8 digits the test accuracy is {run['test_accuracy']:.3f} "
        f"after {epochs} epoch{'s' if epochs != 1 else ''} (training accuracy "
        f"{run['train_accuracy']:.3f}); "
        + (f"0.95 first reached at epoch {int(reached)}." if pd.notna(reached) and reached >= 0
           else "0.95 not reached.")
    )  # fmt: skip
    book.note(
        f"The same adam kernel that walked Beale trained these {int(run['n_params']):,} "
        "weights: a network is one long parameter vector to an optimizer."
    )
