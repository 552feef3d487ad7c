"""The network family: MLPs and the perceptron trained on data sets (``problems/networks.py``).

Light on import (no numba, no pandas): the engine, the data sets and the frames load on first
use.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from optbench.columns import ACCURACY_TARGETS, accuracy_column
from optbench.families import Family

if TYPE_CHECKING:
    import pandas as pd

    from optbench.config import RunConfig
    from optbench.families.output import EngineOutput
    from optbench.problems.networks import NetworkOptions

WORDS_PER_PARAMETER = 8  # θ, gradient, up to 3 optimizer slots, final θ, snapshots: an upper bound


def record_rows(epochs: int, record_every: int) -> int:
    """History rows a run keeps: epoch 0, every k-th epoch, the last, and room for a divergence."""
    return epochs // record_every + 3


def _largest(configs: Sequence[RunConfig]) -> int:
    from optbench.problems import get_problem

    return max(get_problem(c.problem).n_params(c.network) for c in configs)


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

    def run_batch(
        self, configs: Sequence[RunConfig], data_dir: str | None = None, figures: bool = False
    ) -> EngineOutput:
        """``figures`` keeps θ at every recorded epoch (the weight-path figure) when it fits."""
        from optbench.families.networks.results import path_fits_in_memory

        keep_path = figures and path_fits_in_memory(configs)
        return self.engine().run_networks(configs, data_dir=data_dir, keep_path=keep_path)

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

    def memory_bytes(self, configs: Sequence[RunConfig]) -> int:
        """Parameters, optimizer state and snapshots of every run at once."""
        if not configs:
            return 0
        return len(configs) * _largest(configs) * 8 * WORDS_PER_PARAMETER

    def too_big(self, configs: Sequence[RunConfig], need: int, have: float) -> str:
        return (
            f"{len(configs):,} network run(s) of up to {_largest(configs):,} parameters would "
            f"need ~{need / 2**30:.1f} GiB but ~{have / 2**30:.1f} GiB is free; use smaller "
            "--hidden layers or fewer runs"
        )


FAMILY = NetworkFamily()
