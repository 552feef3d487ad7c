"""Network results as tidy frames: runs, per-epoch history, and what the figures need.

The run folder of a network problem holds, beside ``runs.csv`` / ``history.csv`` /
``manifest.json`` (same contract as surfaces, plus network columns):

- ``data.csv``      — 2-D data sets only: ``split, x1, x2, label`` (the points, raw coordinates);
- ``boundary.csv``  — 2-D data sets only: ``run_id, x1, x2, pred, p_pred`` on a grid (the
  trained model's class and its probability), one run per optimizer;
- ``weight_path.csv`` — ``run_id, epoch, pc1, pc2, loss``: the parameter path projected on the
  two principal directions of that run's own path (centred on its final θ);
- ``landscape.csv`` — ``run_id, pc1, pc2, loss``: the training objective on that plane.

Everything a figure shows is computed here, once, at run time; ``optbench plot DIR`` redraws
from these files without the data set or numba (plots read only what results wrote).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from optbench.config import RunConfig
    from optbench.families.output import EngineOutput

from optbench.columns import BOUNDARY_CSV, DATA_CSV, LANDSCAPE_CSV, WEIGHT_PATH_CSV
from optbench.families.networks import GRAD_NORM_PREFIX

BOUNDARY_GRID = 121
LANDSCAPE_GRID = 31
LANDSCAPE_BUDGET = 2e9  # multiply-adds spent on one landscape (sets how many rows it scores)


def runs_frame(configs: Sequence[RunConfig], out: EngineOutput) -> pd.DataFrame:
    """One row per run: the contract columns, then network settings and accuracy metrics."""
    import pandas as pd

    from optbench.problems.networks import ACCURACY_TARGETS, accuracy_column

    rows = []
    for r, config in enumerate(configs):
        m = {name: values[r] for name, values in out.metrics.items()}
        net = config.network
        diverged_step = int(m["diverged_step"])
        row: dict[str, Any] = {
            "run_id": config.run_id,
            "problem": config.problem,
            "optimizer": config.optimizer,
            "preset": config.preset,
            "lr": config.lr,
            "seed": config.seed,
            "steps": config.steps,
        }
        row.update({f"hp_{k}": v for k, v in config.hp[1:]})
        row.update(
            {
                "model": net.model,
                "hidden": "-".join(map(str, net.hidden)) or "none",
                "activation": net.activation if net.model == "mlp" else "step",
                "loss_fn": net.loss,
                "init": net.init if net.model == "mlp" else "zeros",
                "l2": net.l2,
                "noise": config.noise,  # always 0: kept so sweeps group networks like surfaces
                "epochs": net.epochs,
                "batch_size": net.batch_size,
                "n_params": out.per_run["final"][r].size,
                "final_loss": m["final_loss"],
                "best_loss": m["best_loss"],
                "final_gap": math.nan,
                "diverged": diverged_step >= 0,
                "diverged_step": diverged_step if diverged_step >= 0 else None,
                "wall_s": out.wall_s[r],
                "train_loss": m["train_loss"],
                "train_accuracy": m["train_accuracy"],
                "test_loss": m["test_loss"],
                "test_accuracy": m["test_accuracy"],
                "best_test_accuracy": m["best_test_accuracy"],
            }
        )
        for target in ACCURACY_TARGETS:
            hit = m[accuracy_column(target)]
            row[accuracy_column(target)] = int(hit) if hit >= 0 else None
        rows.append(row)
    frame = pd.DataFrame(rows)
    for column in ["diverged_step", *(accuracy_column(t) for t in ACCURACY_TARGETS)]:
        frame[column] = frame[column].astype("Int64")
    hp_columns = [c for c in frame.columns if c.startswith("hp_")]
    head = ["run_id", "problem", "optimizer", "preset", "lr", "seed", "steps", *hp_columns]
    return frame[head + [c for c in frame.columns if c not in head]]


def history_frame(configs: Sequence[RunConfig], out: EngineOutput) -> pd.DataFrame:
    """Long format, one row per recorded epoch per run (epoch 0 is the initial network)."""
    import pandas as pd

    h = out.history
    parts = []
    for r, config in enumerate(configs):
        n = int(out.rows[r])
        parts.append(
            pd.DataFrame(
                {
                    "run_id": config.run_id,
                    "step": h["step"][r, :n].astype(np.int64),
                    "loss": h["loss"][r, :n],
                    "epoch": h["epoch"][r, :n].astype(np.int64),
                    "train_loss": h["train_loss"][r, :n],
                    "test_loss": h["test_loss"][r, :n],
                    "test_accuracy": h["test_accuracy"][r, :n],
                    "train_accuracy": h["train_accuracy"][r, :n],
                    **{k: v[r, :n] for k, v in h.items() if k.startswith(GRAD_NORM_PREFIX)},
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def figure_frames(
    configs: Sequence[RunConfig], out: EngineOutput, data_dir=None
) -> dict[str, pd.DataFrame]:
    """The extra frames figures need (see the module docstring), keyed by file name.

    One run per optimizer (its first seed) gets a decision boundary and a landscape: they show
    what an optimizer reached, and seeds would only repeat the picture.
    """
    import pandas as pd

    from optbench.datasets import load_dataset
    from optbench.problems import get_problem

    spec = get_problem(configs[0].problem)
    data = load_dataset(spec, data_dir)
    chosen: dict[str, int] = {}
    for r, config in enumerate(configs):
        chosen.setdefault(config.optimizer, r)
    frames: dict[str, pd.DataFrame] = {}
    if spec.two_d:
        raw_train = data.x_train * data.std + data.mean
        raw_test = data.x_test * data.std + data.mean
        frames[DATA_CSV] = pd.DataFrame(
            {
                "split": ["train"] * len(raw_train) + ["test"] * len(raw_test),
                "x1": np.concatenate([raw_train[:, 0], raw_test[:, 0]]),
                "x2": np.concatenate([raw_train[:, 1], raw_test[:, 1]]),
                "label": np.concatenate([data.labels_train, data.labels_test]),
            }
        )
        final = out.per_run["final"]
        frames[BOUNDARY_CSV] = pd.concat(
            [boundary_frame(configs[r], final[r], data, raw_train) for r in chosen.values()],
            ignore_index=True,
        )
    paths = [  # not for the perceptron: its 0/1 error has no landscape (see plots.networks)
        _landscape(configs[r], out, r, data)
        for r in chosen.values()
        if configs[r].network.model != "perceptron"
        and out.per_run["path"][r] is not None
        and len(out.per_run["path"][r]) >= 3
    ]
    if paths:
        frames[WEIGHT_PATH_CSV] = pd.concat([p for p, _ in paths], ignore_index=True)
        frames[LANDSCAPE_CSV] = pd.concat([g for _, g in paths], ignore_index=True)
    return frames


def _codes(config: RunConfig) -> tuple[int, int]:
    from optbench.problems.networks import ACTIVATIONS, LOSSES, PERCEPTRON_LOSS

    net = config.network
    loss = PERCEPTRON_LOSS if net.model == "perceptron" else LOSSES[net.loss]
    return ACTIVATIONS[net.activation], loss


def boundary_frame(
    config: RunConfig, theta: np.ndarray, data, raw: np.ndarray, size: int = BOUNDARY_GRID
) -> pd.DataFrame:
    """The model's predicted class and its probability on a size × size grid over the data's
    extent (x1 fastest; the explorer page asks for a coarser grid than the figure)."""
    import pandas as pd

    from optbench.families.networks.kernels import predict

    lo, hi = raw.min(axis=0), raw.max(axis=0)
    pad = 0.15 * (hi - lo) + 1e-9
    g1 = np.linspace(lo[0] - pad[0], hi[0] + pad[0], size)
    g2 = np.linspace(lo[1] - pad[1], hi[1] + pad[1], size)
    m1, m2 = np.meshgrid(g1, g2)
    grid = np.column_stack([m1.ravel(), m2.ravel()])
    act, loss = _codes(config)
    sizes = np.array(data.layer_sizes(config.network), dtype=np.int64)
    probs = predict(sizes, act, loss, np.ascontiguousarray(theta), data.standardise(grid))
    if probs.shape[1] == 1:  # one output: P(class 1)
        p1 = np.clip(probs[:, 0], 0.0, 1.0)
        pred = (p1 >= 0.5).astype(np.int64)
        p_pred = np.where(pred == 1, p1, 1.0 - p1)
    else:
        pred = probs.argmax(axis=1)
        p_pred = probs.max(axis=1)
    return pd.DataFrame(
        {
            "run_id": config.run_id,
            "x1": grid[:, 0],
            "x2": grid[:, 1],
            "pred": pred,
            "p_pred": p_pred,
        }
    )


def principal_plane(path: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(centre, u, v, explained) of a parameter path: centred on its last point, u and v the
    two leading right-singular vectors of the displacements, explained their variance shares."""
    center = path[-1]
    moves = path - center
    _, s, vt = np.linalg.svd(moves, full_matrices=False)
    var = s**2
    explained = var[:2] / var.sum() if var.sum() > 0 else np.zeros(2)
    v = vt[1] if vt.shape[0] > 1 else np.zeros_like(center)
    return center, vt[0], v, np.pad(explained, (0, 2 - explained.size))


def _landscape(config: RunConfig, out: EngineOutput, r: int, data):
    """The run's projected path and the training objective on its principal plane."""
    import pandas as pd

    from optbench.datasets import permutation
    from optbench.families.networks.kernels import plane_losses

    path = out.per_run["path"][r]
    finite = np.isfinite(path).all(axis=1)
    path = path[finite]
    epochs = out.history["epoch"][r, : len(finite)][finite]
    losses = out.history["loss"][r, : len(finite)][finite]
    center, u, v, explained = principal_plane(path)
    pc1 = (path - center) @ u
    pc2 = (path - center) @ v
    span1 = max(np.ptp(pc1), 1e-3)
    span2 = max(np.ptp(pc2), 0.2 * span1)
    alphas = np.linspace(pc1.min() - 0.25 * span1, pc1.max() + 0.25 * span1, LANDSCAPE_GRID)
    betas = np.linspace(pc2.min() - 0.25 * span2, pc2.max() + 0.25 * span2, LANDSCAPE_GRID)
    # score the plane on a seeded subsample of the training rows, sized to a fixed budget
    rows = int(np.clip(LANDSCAPE_BUDGET / (LANDSCAPE_GRID**2 * center.size), 64, 2000))
    take = np.sort(permutation(config.seed, 99, len(data.labels_train))[:rows])
    act, loss = _codes(config)
    sizes = np.array(data.layer_sizes(config.network), dtype=np.int64)
    y_train, _ = data.targets(int(sizes[-1]))
    grid = plane_losses(
        sizes,
        act,
        loss,
        float(config.network.l2),
        np.ascontiguousarray(center),
        np.ascontiguousarray(u),
        np.ascontiguousarray(v),
        alphas,
        betas,
        np.ascontiguousarray(data.x_train[take]),
        np.ascontiguousarray(y_train[take]),
        np.ascontiguousarray(data.labels_train[take]),
    )
    a, b = np.meshgrid(alphas, betas)
    walk = pd.DataFrame(
        {
            "run_id": config.run_id,
            "epoch": epochs.astype(np.int64),
            "pc1": pc1,
            "pc2": pc2,
            "loss": losses,
            "explained1": explained[0],
            "explained2": explained[1],
        }
    )
    plane = pd.DataFrame(
        {"run_id": config.run_id, "pc1": a.ravel(), "pc2": b.ravel(), "loss": grid.ravel()}
    )
    return walk, plane


def network_summary(runs: pd.DataFrame) -> pd.DataFrame:
    """The terminal table for network runs: accuracy first, then losses and speed."""
    from optbench.problems import all_truth_tables
    from optbench.problems.networks import accuracy_column

    columns = {
        "optimizer": "optimizer",
        "lr": "lr",
        "test_accuracy": "test acc",
        "train_accuracy": "train acc",
        "test_loss": "test loss",
        "final_loss": "train loss",
        accuracy_column(0.9): "epochs to 0.9",
        "diverged": "diverged",
    }
    if all_truth_tables(runs["problem"]):  # tested on its training rows: one accuracy, one loss
        columns["test_accuracy"] = "acc (4 training rows)"
        del columns["train_accuracy"], columns["test_loss"]
    columns = {k: v for k, v in columns.items() if k in runs}  # an old or edited runs.csv
    table = runs[list(columns)].rename(columns=columns)
    if runs["seed"].nunique() > 1:
        table.insert(2, "seed", runs["seed"])
    return table


PATH_MEMORY_LIMIT = 512 * 2**20  # bytes of θ snapshots kept for the weight-space figure


def path_fits_in_memory(configs: Sequence[RunConfig]) -> bool:
    """Whether keeping θ at every recorded epoch (for the weight-path figure) fits the budget."""
    from optbench.families.networks import record_rows
    from optbench.problems import get_problem

    n_params = get_problem(configs[0].problem).n_params(configs[0].network)
    snapshots = sum(record_rows(c.network.epochs, c.record_every) for c in configs)
    return snapshots * n_params * 8 <= PATH_MEMORY_LIMIT


def verdicts(runs: pd.DataFrame) -> list[str]:
    """Plain-language lines about what the runs show (printed under the summary table)."""
    lines = []
    for problem, group in runs.groupby("problem", sort=False):
        name = str(problem).split(":")[0]
        perceptron = group[group["model"] == "perceptron"]
        if len(perceptron):
            best = float(perceptron["best_test_accuracy"].max())
            if name == "xor":
                lines.append(
                    "The perceptron cannot learn XOR: no straight line separates (0,1),(1,0) from "
                    f"(0,0),(1,1), so at most 3 of the 4 rows come out right (best accuracy "
                    f"here {best:.2f} ≤ 0.75). A hidden layer can: --model mlp --hidden 2."
                )
            elif (perceptron["test_accuracy"] == 1.0).all():
                first = perceptron["epochs_to_0.99"].min()
                lines.append(
                    f"The perceptron learned {name}: a straight line separates the classes, "
                    f"and the rule found one (by epoch {first})."
                )
            else:
                lines.append(
                    f"The perceptron reached accuracy {best:.2f} on {name}: no straight line "
                    "separates these classes exactly."
                )
        diverged = group[group["diverged"]]
        for row in diverged.itertuples():
            lines.append(f"{row.optimizer} diverged at step {row.diverged_step} (lr={row.lr:g}).")
    return lines
