"""The network family: MLPs and the perceptron trained on data sets (``problems/networks.py``).

Light on import (no numba, no pandas): the engine, the data sets and the frames load on first
use.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from optbench.columns import ACCURACY_TARGETS, accuracy_column
from optbench.families import Family
from optbench.problems.networks import layer_sizes

if TYPE_CHECKING:
    import pandas as pd

    from optbench.config import RunConfig
    from optbench.families.output import EngineOutput
    from optbench.problems.networks import NetworkOptions

WORDS_PER_PARAMETER = 8  # θ, gradient, up to 3 optimizer slots, final θ, snapshots: an upper bound
BYTES_PER_HISTORY_ROW = 600  # measured: a recorded epoch in the engine's arrays and the frames
BYTES_PER_DATA_VALUE = 32  # measured: a value of the data set while it is made (or read) and scaled
BATCH_COPIES = 3  # a batch's activations, their gradients and the inputs, per unit of each layer
EVAL_ROWS = 256  # rows of the engine's evaluation buffers (``kernels.EVAL_CHUNK``)


GRAD_NORM_PREFIX = "grad_norm_layer"


def grad_norm_column(layer: int) -> str:
    """The history column of layer ``layer``'s gradient norm (1 = the first weight layer)."""
    return f"{GRAD_NORM_PREFIX}{layer}"


def record_rows(epochs: int, record_every: int) -> int:
    """History rows a run keeps: epoch 0, every k-th epoch, the last, and room for a divergence."""
    return epochs // record_every + 3


def memory_parts(
    configs: Sequence[RunConfig], counts: Sequence[int] | None = None
) -> dict[str, int]:
    """Bytes of each part of a batch of network runs, from counts alone (no data loaded):
    the histories kept, every run's parameters and optimizer state, the batch buffers and row
    orders of the runs training at once, and each data set once."""
    from optbench.problems import get_problem

    counts = counts or [1] * len(configs)
    parts = {"histories": 0, "parameters": 0, "data sets": 0}
    shapes: dict[tuple, tuple[int, int, int]] = {}  # (problem, options) → sizes, see below
    buffers = order = 0
    for config, k in zip(configs, counts, strict=True):
        key = (config.problem, config.network)
        if key not in shapes:
            spec, options = get_problem(config.problem), config.network
            train = spec.train_size()
            units = sum(layer_sizes(spec.features, spec.classes, options))
            rows = min(options.batch_size, train) + EVAL_ROWS
            shapes[key] = (spec.n_params(options), 8 * BATCH_COPIES * rows * units, 8 * train)
        n_params, buffer, shuffle = shapes[key]
        parts["histories"] += k * record_rows(config.network.epochs, config.record_every)
        parts["parameters"] += k * n_params * 8 * WORDS_PER_PARAMETER
        buffers, order = max(buffers, buffer), max(order, shuffle)
    parts["histories"] *= BYTES_PER_HISTORY_ROW
    at_once = min(sum(counts), os.cpu_count() or 1)  # runs training at the same time
    parts["parameters"] += buffers * at_once
    parts["data sets"] += order * at_once  # each run's shuffled order of the training rows
    for problem in dict.fromkeys(c.problem for c in configs):
        spec = get_problem(problem)
        values = spec.data_rows() * (spec.features + spec.classes + 1)
        parts["data sets"] += values * BYTES_PER_DATA_VALUE
    return parts


SHRINK = {
    "histories": "fewer --epochs, or a larger --record-every",
    "parameters": "smaller --hidden layers, a smaller --batch-size or fewer runs",
    "data sets": "a smaller data set: a smaller n, as in {label}:n=1000",
}


class NetworkFamily(Family):
    name = "network"
    catalog = "optbench.problems.networks:NETWORKS"
    figure_module = "optbench.plots.networks"
    can_animate = False
    metric_columns = (
        "final_loss",
        "best_loss",
        "diverged_step",
        "steps_done",
        "train_loss",
        "train_accuracy",
        "test_loss",
        "test_accuracy",
        "best_test_accuracy",
        *(accuracy_column(t) for t in ACCURACY_TARGETS),
    )
    target_columns = tuple(accuracy_column(t) for t in ACCURACY_TARGETS)
    engine_module = "optbench.families.networks.engine"
    engine_function = "_train_one"
    compile_seconds = 15
    heading = "networks (data sets; parameters as spirals:noise=0.2)"

    def options(self, spec: Any, **given: object) -> NetworkOptions:
        from optbench.problems.networks import resolve_network

        return resolve_network(spec, **given)  # type: ignore[arg-type]

    def describe(self, name: str, spec: Any, width: int) -> list[str]:
        hidden = "-".join(map(str, spec.hidden))
        params = " ".join(f"{k}={v:g}" for k, v in spec.params.items())
        return [
            f"{name:<{width}}  {spec.summary}",
            f"{'':<{width}}    {spec.features} inputs, {spec.classes} classes; default MLP "
            f"hidden {hidden} {spec.activation}, {spec.loss}, {spec.epochs} epochs, "
            f"batch {spec.batch_size}" + (f"  params {params}" if params else ""),
        ]

    has_layers = True

    def run_batch(
        self,
        configs: Sequence[RunConfig],
        data_dir: str | None = None,
        figures: bool = False,
        grad_norms: bool = False,
    ) -> EngineOutput:
        """``figures`` keeps θ at every recorded epoch (the weight-path figure) when it fits;
        ``grad_norms`` records each layer's gradient norm per recorded epoch."""
        from optbench.families.networks.results import path_fits_in_memory

        keep_path = figures and path_fits_in_memory(configs)
        return self.engine().run_networks(
            configs, data_dir=data_dir, keep_path=keep_path, grad_norms=grad_norms
        )

    def frames(
        self, configs: Sequence[RunConfig], output: EngineOutput
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        from optbench.families.networks.results import history_frame, runs_frame

        return runs_frame(configs, output), history_frame(configs, output)

    def figure_frames(
        self, configs: Sequence[RunConfig], output: EngineOutput, data_dir: str | None = None
    ) -> dict[str, pd.DataFrame]:
        """The data, decision boundaries, weight paths and landscapes the figures draw."""
        from optbench.families.networks.results import figure_frames

        return figure_frames(configs, output, data_dir)

    def summary(self, runs: pd.DataFrame) -> pd.DataFrame:
        from optbench.families.networks.results import network_summary

        return network_summary(runs)

    def notes(self, runs: pd.DataFrame) -> list[str]:
        from optbench.families.networks.results import verdicts

        return verdicts(runs)

    def memory_bytes(
        self, configs: Sequence[RunConfig], counts: Sequence[int] | None = None
    ) -> int:
        """Histories, parameters and optimizer state, batch buffers and data sets."""
        return sum(memory_parts(configs, counts).values())

    def too_big(
        self,
        configs: Sequence[RunConfig],
        need: int,
        have: float,
        counts: Sequence[int] | None = None,
    ) -> str:
        (largest, size), *others = sorted(
            memory_parts(configs, counts).items(), key=lambda item: -item[1]
        )
        from optbench.problems import get_problem

        runs = sum(counts) if counts else len(configs)
        rest = ", ".join(f"{name} ~{other / 2**30:.1f}" for name, other in others)
        problems = dict.fromkeys(c.problem for c in configs)
        biggest = max(map(get_problem, problems), key=lambda spec: spec.data_rows())
        return (
            f"{runs:,} network run(s) would need ~{need / 2**30:.1f} GiB but "
            f"~{have / 2**30:.1f} GiB is free; the {largest} take ~{size / 2**30:.1f} GiB "
            f"({rest} GiB): use {SHRINK[largest].format(label=biggest.name)}"
        )


FAMILY = NetworkFamily()
