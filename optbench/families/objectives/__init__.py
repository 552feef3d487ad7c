"""The objective family: optimizers on N-dimensional problems (``problems/objectives.py``) —
``rosenbrock:d=100``, ``quadratic:d=1000:kappa=1e4``, the noisy quadratic model, logistic
regression, and every problem a user registers.

It runs on the surface engine (the problem is a first-class function of one signature, θ of any
length) and writes the same files; what differs is how its problems are listed, the memory a
run of d coordinates takes, and which figures mean something (a path over a contour only in
2-D, with a window to draw).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from optbench.families.surfaces import BYTES_PER_HISTORY_ROW, SurfaceFamily, record_rows

if TYPE_CHECKING:
    from optbench.config import RunConfig

VECTORS_PER_RUN = 6
"""θ, gradient and up to four optimizer state vectors of d float64 per run, held at once."""


class ObjectiveFamily(SurfaceFamily):
    name = "objective"
    catalog = "optbench.problems.objectives:OBJECTIVES"
    can_animate = False
    heading = "N-dimensional problems (name:d=N sets d where any d goes; yours too)"

    def engine(self):
        """The surface engine, and the N-D built-ins' kernels compiled (or loaded) with it, so
        ``optbench warmup`` leaves nothing of this family to compile."""
        import importlib

        from optbench.problems.objectives import KERNELS

        engine = super().engine()
        importlib.import_module(KERNELS)
        return engine

    def problems(self):
        """The N-D problems but the N-D forms of 2-D surfaces (``rosenbrock:d=N``), which the
        surface family lists beside their 2-D selves: each name is listed once."""
        from optbench.problems.objectives import discover
        from optbench.problems.surfaces import SURFACES

        discover()
        return {k: v for k, v in super().problems().items() if k not in SURFACES}

    def describe(self, name: str, spec: Any, width: int) -> list[str]:
        if spec.dims is not None:
            dims = f"d = {spec.dims}"
        else:
            dims = f"d ≥ {spec.min_dim} (default {spec.default_dim})"
        fstar = "unknown" if spec.fstar is None else f"{spec.fstar:.6g}"
        start = spec.start_vector(())
        shown = ", ".join(f"{v:g}" for v in start[:3]) + (", …" if start.size > 3 else "")
        line = f"{'':<{width}}    {dims}  start ({shown})  f* {fstar}"
        if spec.params:
            line += f"  params {dict(spec.params)}"
        formula = f"{spec.formula}   — " if spec.formula else ""
        return [f"{name:<{width}}  {formula}{spec.summary}", line]

    def memory_bytes(
        self, configs: Sequence[RunConfig], counts: Sequence[int] | None = None
    ) -> int:
        """The history rows, the d-long vectors every run holds while it runs, and each
        problem's data (the quadratic's rotation), all counted from d alone."""
        from optbench.problems import get_problem

        counts = counts or [1] * len(configs)
        specs = {p: get_problem(p) for p in dict.fromkeys(c.problem for c in configs)}
        history = super().memory_bytes(configs, counts)
        vectors = sum(
            8 * VECTORS_PER_RUN * specs[c.problem].dimension * k
            for c, k in zip(configs, counts, strict=True)
        )
        return history + vectors + sum(spec.data_bytes() for spec in specs.values())

    def too_big(self, configs, need, have, counts=None) -> str:
        history = super().memory_bytes(configs, counts)
        if history * 2 > need:
            return super().too_big(configs, need, have, counts)
        return (
            f"the runs' parameter vectors and problem data would need ~{need / 2**30:.1f} GiB "
            f"but ~{have / 2**30:.1f} GiB is free; use a smaller d or fewer runs at once"
        )


FAMILY = ObjectiveFamily()

__all__ = ["BYTES_PER_HISTORY_ROW", "FAMILY", "record_rows"]
