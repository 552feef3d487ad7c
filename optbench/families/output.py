"""What every family's engine hands back: named per-run metrics and history arrays.

Names instead of column indices are what let results, chunks and executors handle any family's
output alike; a family's engine keeps its kernels' array layouts to itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class EngineOutput:
    """Engine output for runs in config order."""

    metrics: dict[str, np.ndarray]
    """Name → (R,) value per run (first hits are -1 when never reached)."""
    history: dict[str, np.ndarray]
    """Name → (R, rows) recorded values; row ``i < rows[r]`` of run ``r`` is kept."""
    rows: np.ndarray
    """(R,) history rows each run recorded."""
    wall_s: np.ndarray
    """(R,) each run's share of its kernel call's wall time."""
    per_run: dict[str, list[Any]] = field(default_factory=dict)
    """Name → one object per run whose size differs between runs (a network's final θ)."""

    def __len__(self) -> int:
        return self.rows.size

    @classmethod
    def merge(
        cls, n_runs: int, parts: Sequence[tuple[Sequence[int], EngineOutput]]
    ) -> EngineOutput:
        """One output in config order from group outputs (``index``: each part's configs).

        History rows past a run's own are padded with NaN (or -1 for integers), as each group
        pads them: nothing reads them.
        """
        first = parts[0][1]
        width = max(part.rows_capacity for _, part in parts)
        columns = {k: v.dtype for _, part in parts for k, v in part.history.items()}
        out = cls(
            metrics={k: np.empty(n_runs, dtype=v.dtype) for k, v in first.metrics.items()},
            history={  # every part's columns: a deeper net's groups record more gradient norms
                k: np.full((n_runs, width), np.nan if dtype.kind == "f" else -1, dtype=dtype)
                for k, dtype in columns.items()
            },
            rows=np.zeros(n_runs, dtype=np.int64),
            wall_s=np.empty(n_runs),
            per_run={k: [None] * n_runs for k in first.per_run},
        )
        for index, part in parts:
            index = list(index)
            for k, v in part.metrics.items():
                out.metrics[k][index] = v
            for k, v in part.history.items():
                out.history[k][index, : v.shape[1]] = v
            out.rows[index] = part.rows
            out.wall_s[index] = part.wall_s
            for k, values in part.per_run.items():
                for i, value in zip(index, values, strict=True):
                    out.per_run[k][i] = value
        return out

    @property
    def rows_capacity(self) -> int:
        """Width of the history arrays (the most rows any run could record)."""
        return next(iter(self.history.values())).shape[1] if self.history else 0
