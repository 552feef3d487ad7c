"""The explorer for network problems: optimizers × learning rates × one more hyperparameter,
each trained by the engine ``optbench run`` uses, every epoch's loss and accuracy recorded and
the decision regions (2-D data sets) at a few epochs.

Decision regions are computed from θ at those epochs (the engine keeps θ at every recorded
epoch, as it does for ``weight_path.png``) by the same predictor as ``boundaries.png``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from optbench.config import SweepConfig
from optbench.errors import OptbenchError
from optbench.explorer.grid import SliderGrid, ordered_runs, sliders
from optbench.problems import get_problem

BOUNDARY_SIZE = 48
"""Cells per side of a decision-region image on the page (the figure uses 121)."""
CHECKPOINTS = 5
"""Epochs with decision regions: 0, then geometrically spaced up to the last."""
CERTAINTY_LEVELS = 15
"""A region cell holds its class × 16 + its certainty in 0…15 (255: no model, diverged)."""
NO_MODEL = 255


@dataclass
class NetworkPaths(SliderGrid):
    """Every run's curves, in page order (optimizer, lr index, hp index), and its regions."""

    epochs: int
    checkpoints: list[int]
    counts: np.ndarray = field(repr=False)
    """(P,) epochs recorded per run (epoch 0, the initial network, included)."""
    diverged: np.ndarray = field(repr=False)
    """(P,) the epoch in which a run diverged, -1 when it did not."""
    train_loss: np.ndarray = field(repr=False)
    test_loss: np.ndarray = field(repr=False)
    test_accuracy: np.ndarray = field(repr=False)
    regions: np.ndarray = field(repr=False)
    """(P, checkpoints, size, size) uint8 region codes (x1 fastest, x2 upwards)."""
    extent: list[float] = field(default_factory=list)
    """[x1 lo, x1 hi, x2 lo, x2 hi] of the region grid."""
    points: dict[str, list] = field(default_factory=dict)
    """The data set's points in input units: x1, x2, label, split (train/test)."""
    classes: int = 2


@dataclass
class NetworkPlan:
    sweep: SweepConfig
    epochs: int
    two_d: bool
    """Whether the data is 2-D, so the page holds decision regions."""

    @property
    def n_paths(self) -> int:
        return sum(len(points) for points in self.sweep.points().values())


def checkpoints(epochs: int) -> list[int]:
    """0 and CHECKPOINTS − 1 epochs spaced geometrically up to ``epochs``."""
    spaced = np.geomspace(1, max(1, epochs), CHECKPOINTS - 1).round().astype(int)
    return sorted({0, *spaced.tolist()})


def plan_network(
    problem: str,
    optimizers: Sequence[str],
    lr: object,
    hp: Mapping[str, object],
    epochs: object,
    preset: str | None,
    bound: object,
) -> NetworkPlan:
    """Validate a network grid (as ``sweep`` does): one network setting, every epoch kept."""
    raw: dict[str, object] = {
        "problems": problem,
        "optimizers": list(optimizers),
        "lr": lr,
        "hp": dict(hp),
        "record_every": 1,
    }
    if epochs is not None:
        raw["epochs"] = epochs
    if preset is not None:
        raw["preset"] = preset
    if bound is not None:
        raw["bound"] = bound
    sweep = SweepConfig.from_raw(raw)
    if len(sweep.presets) != 1 or len(sweep.network_options(sweep.problems[0])) != 1:
        raise OptbenchError("explore takes one preset and one number of epochs")
    sliders(sweep)
    options = sweep.network_options(sweep.problems[0])[0]
    spec = get_problem(sweep.problems[0])
    return NetworkPlan(sweep=sweep, epochs=int(options.epochs), two_d=bool(spec.two_d))


def compute_network(plan: NetworkPlan) -> NetworkPaths:
    """Train every run of the plan with ``run``'s engine and keep its curves and regions."""
    from optbench.datasets import load_dataset
    from optbench.engine import run_many
    from optbench.families.networks.results import boundary_frame, path_fits_in_memory

    configs = ordered_runs(plan.sweep, None)
    spec = get_problem(plan.sweep.problems[0])
    if spec.two_d and not path_fits_in_memory(configs):
        raise OptbenchError(
            "keeping θ at every epoch of every run would not fit in memory: use fewer lr "
            "values, optimizers or --epochs"
        )
    output = run_many(configs, figures=spec.two_d)
    lrs, second = sliders(plan.sweep)
    marks = checkpoints(plan.epochs) if spec.two_d else []
    data = load_dataset(spec)
    raw_train = data.x_train * data.std + data.mean if spec.two_d else None
    h = output.history
    counts = output.rows.astype(np.int64)
    for r in range(len(configs)):  # keep the finite rows: a diverged run's last may be NaN
        finite = np.isfinite(h["train_loss"][r, : counts[r]])
        finite &= np.isfinite(h["test_accuracy"][r, : counts[r]])
        counts[r] = counts[r] if finite.all() else int(np.argmin(finite))
    diverged_step = output.metrics["diverged_step"]
    epochs_recorded = h["epoch"]
    diverged = np.array(
        [int(epochs_recorded[r, output.rows[r] - 1]) if diverged_step[r] >= 0 else -1
         for r in range(len(configs))],
        dtype=np.int64,
    )  # fmt: skip
    size = BOUNDARY_SIZE
    regions = np.full((len(configs), len(marks), size, size), NO_MODEL, dtype=np.uint8)
    extent: list[float] = []
    for r, config in enumerate(configs):
        path = output.per_run["path"][r] if spec.two_d else None
        for c, epoch in enumerate(marks):
            if path is None or epoch >= counts[r] or not np.isfinite(path[epoch]).all():
                continue
            frame = boundary_frame(config, path[epoch], data, raw_train, size=size)
            certainty = (frame["p_pred"].to_numpy() - 1 / data.classes) / (1 - 1 / data.classes)
            level = np.round(np.clip(certainty, 0, 1) * CERTAINTY_LEVELS).astype(np.uint8)
            regions[r, c] = (frame["pred"].to_numpy().astype(np.uint8) * 16 + level).reshape(
                size, size
            )
            if not extent:
                extent = [float(frame["x1"].min()), float(frame["x1"].max()),
                          float(frame["x2"].min()), float(frame["x2"].max())]  # fmt: skip
    points: dict[str, list] = {}
    if spec.two_d:
        raw_test = data.x_test * data.std + data.mean
        points = {
            "x1": np.round(np.concatenate([raw_train[:, 0], raw_test[:, 0]]), 4).tolist(),
            "x2": np.round(np.concatenate([raw_train[:, 1], raw_test[:, 1]]), 4).tolist(),
            "label": np.concatenate([data.labels_train, data.labels_test]).astype(int).tolist(),
            "test": [0] * len(raw_train) + [1] * len(raw_test),
        }

    def flat(name: str) -> np.ndarray:
        return np.concatenate([h[name][r, : counts[r]] for r in range(len(configs))])

    return NetworkPaths(
        problem=spec.label,
        optimizers=list(plan.sweep.optimizers),
        lr=lrs,
        second=second,
        epochs=plan.epochs,
        checkpoints=marks,
        counts=counts,
        diverged=diverged,
        train_loss=flat("train_loss"),
        test_loss=flat("test_loss"),
        test_accuracy=flat("test_accuracy"),
        regions=regions,
        extent=extent,
        points=points,
        classes=int(data.classes),
    )
