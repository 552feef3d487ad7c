"""The surface family: optimizers on 2-D test functions (``problems/surfaces.py``).

Light on import (no numba, no pandas): the engine and the frames load on first use.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from optbench.columns import GAP_TARGETS, target_column
from optbench.families import Family

if TYPE_CHECKING:
    import pandas as pd

    from optbench.config import RunConfig
    from optbench.families.output import EngineOutput

BYTES_PER_HISTORY_ROW = 120  # measured: a row of the in-memory history frame, run_id included


def record_rows(steps: int, record_every: int) -> int:
    """Rows of history a run of ``steps`` keeps: every k-th step from 0, plus the last (the
    engine allocates one more, for a divergence between grid points)."""
    return steps // record_every + 1 + (1 if steps % record_every else 0)


class SurfaceFamily(Family):
    name = "surface"
    catalog = "optbench.problems.surfaces:SURFACES"
    figure_module = "optbench.plots.surfaces"
    can_animate = True
    metric_columns = (
        "final_loss",
        "best_loss",
        "diverged_step",
        "steps_done",
        "mean_log10_gap",
        *(target_column(t) for t in GAP_TARGETS),
    )
    engine_module = "optbench.families.surfaces.engine"
    engine_function = "problem_batch"
    compile_seconds = 4
    heading = "2-D surfaces"

    def describe(self, name: str, spec: Any, width: int) -> list[str]:
        (x0, x1), (y0, y1) = spec.window
        minima = ", ".join(f"({x:g}, {y:g})" for x, y in spec.minima) or "none (unbounded below)"
        fstar = "—" if spec.fstar is None else f"{spec.fstar:.6g}"
        lines = [
            f"{name:<{width}}  {spec.formula}   — {spec.summary}",
            f"{'':<{width}}    window [{x0:g}, {x1:g}] × [{y0:g}, {y1:g}]  start "
            f"({spec.start[0]:g}, {spec.start[1]:g})  minima {minima}  f* {fstar}"
            + (f"  params {dict(spec.params)}" if spec.params else ""),
        ]
        from optbench.problems.objectives import OBJECTIVES

        if name in OBJECTIVES:  # its N-D form, an objective, goes by the same name with d
            nd = OBJECTIVES[name]
            lines.append(f"{'':<{width}}    in N-D: {name}:d=N (d ≥ {nd.min_dim}), {nd.formula}")
        return lines

    target_columns = tuple(target_column(t) for t in GAP_TARGETS)

    def run_batch(
        self,
        configs: Sequence[RunConfig],
        data_dir: str | None = None,
        figures: bool = False,
        grad_norms: bool = False,
    ) -> EngineOutput:
        """Surface runs record their whole path in the history: ``figures`` needs nothing more;
        a surface has no layers (``grad_norms`` is refused before a run gets here)."""

        return self.engine().run_surfaces(configs)

    def frames(
        self, configs: Sequence[RunConfig], output: EngineOutput
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        from optbench.families.surfaces.results import history_frame, runs_frame

        return runs_frame(configs, output), history_frame(configs, output)

    def summary(self, runs: pd.DataFrame) -> pd.DataFrame:
        from optbench.families.surfaces.results import summary_table

        return summary_table(runs)

    def notes(self, runs: pd.DataFrame) -> list[str]:
        from optbench.families.surfaces.results import verdicts

        return verdicts(runs)

    def memory_bytes(
        self, configs: Sequence[RunConfig], counts: Sequence[int] | None = None
    ) -> int:
        """The history frame dominates: every recorded row of every run."""
        counts = counts or [1] * len(configs)
        rows = sum(
            record_rows(c.steps, c.record_every) * k for c, k in zip(configs, counts, strict=True)
        )
        return rows * BYTES_PER_HISTORY_ROW

    def too_big(
        self,
        configs: Sequence[RunConfig],
        need: int,
        have: float,
        counts: Sequence[int] | None = None,
    ) -> str:
        rows = need // BYTES_PER_HISTORY_ROW
        steps = max(c.steps for c in configs)
        every = max(c.record_every for c in configs) * math.ceil(need / have)
        return (
            f"the full history would need ~{need / 2**30:.1f} GiB ({rows:,} rows) but "
            f"~{have / 2**30:.1f} GiB is free; keep fewer rows with --record-every {every} "
            f"(or more; {steps} steps per run)"
        )


FAMILY = SurfaceFamily()
