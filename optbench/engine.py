"""Running configs, whatever their problem family: the entry point chunks, executors, the API
and the smoke suite call. Each family runs its own batches (``optbench/families/``); this
module only finds the family, so no caller needs to know which one it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from optbench.families import family_of

if TYPE_CHECKING:
    from optbench.config import RunConfig
    from optbench.families.output import EngineOutput


def run_many(
    configs: Sequence[RunConfig],
    data_dir: str | None = None,
    figures: bool = False,
    grad_norms: bool = False,
) -> EngineOutput:
    """Run every config (one family per call), outputs in config order.

    ``data_dir``: where IDX data sets live; ``figures``: also keep what the family's figures
    need beyond the frames (a network's θ path), when that fits in memory; ``grad_norms``:
    record each layer's gradient norm (networks).
    """
    return family_of(configs).run_batch(
        list(configs), data_dir=data_dir, figures=figures, grad_norms=grad_norms
    )
