"""The perf suite: speed figures with their noise, and a comparison that ignores the noise.

Every figure is measured ``repeats`` times, each time beside its hand-fused reference from
``optbench/benchmarks/`` (the same arithmetic in one numba loop), so each sample carries its own
ratio and the spread over the repeats says how noisy the figure is on this machine.

``PERF_BENCHMARKS`` is the table of measurements (a function of the repeat count and a quick
flag, returning sample rows); networks add their MLP steps/s as one more entry.

``compare`` (``optbench bench compare A B``) reports a figure as changed only when both hold:
- the min–max ranges of its samples in A and in B do not overlap, and
- the medians differ by more than ``threshold`` (default 1.10, i.e. 10 %, asv's default factor).
With 5 repeats each, non-overlapping ranges arise by chance with probability 2/C(10, 5) < 1 %
when nothing changed (every ordering of the 10 samples is equally likely). But the spread within
one run underestimates the drift between runs on a shared machine (two perf runs of the same
commit here differed by 9 % in engine steps/s, each with a 4–7 % spread), hence the 10 % floor;
the ratios to the reference, measured side by side, cancel most of that drift.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from optbench.errors import OptbenchError, unknown_name

if TYPE_CHECKING:
    import pandas as pd

PERF_CSV = "perf.csv"
SUMMARY_CSV = "summary.csv"
DEFAULT_REPEATS = 5
DEFAULT_THRESHOLD = 1.10
COLUMNS = ["measure", "unit", "better", "size", "repeat", "optbench", "reference", "ratio", "same"]
"""perf.csv: one row per measure × repeat; ``ratio`` = optbench ÷ reference in the unit;
``same`` = 1 when optbench and the reference ended at bit-identical losses (empty where the
figure is a process start-up): a ratio means something only if both did the same arithmetic."""


def _row(measure, unit, better, size, repeat, optbench, reference, same=math.nan) -> dict:
    return {
        "measure": measure,
        "unit": unit,
        "better": better,
        "size": size,
        "repeat": repeat,
        "optbench": optbench,
        "reference": reference,
        "ratio": optbench / reference,
        "same": same,
    }


def engine_rows(repeats: int, quick: bool = False) -> list[dict]:
    """Adam on Rosenbrock, one run: engine steps/s against the hand-fused loop."""
    from optbench.benchmarks import engine

    steps = 20_000 if quick else engine.STEPS
    rows = []
    for i, s in enumerate(engine.engine_samples(steps, repeats)):
        rates = steps / s["engine_s"], steps / s["fused_s"]
        rows.append(_row("engine_steps_per_s", "steps/s", "higher", steps, i, *rates, s["same"]))
    return rows


def sweep_rows(repeats: int, quick: bool = False) -> list[dict]:
    """10,000 Adam runs on Rosenbrock: the whole ``optbench.sweep`` and its engine calls alone,
    runs/s against the hand-fused ``prange`` kernel."""
    from optbench.benchmarks import sweep

    per_axis, steps = (10, 100) if quick else (sweep.RUNS_PER_AXIS, sweep.STEPS)
    rows = []
    for i, s in enumerate(sweep.samples(repeats, per_axis, steps)):
        runs = s["runs"]
        size = runs * steps
        fused = runs / s["fused_s"]
        for measure, seconds in (("sweep_runs_per_s", s["whole_s"]),
                                 ("sweep_engine_runs_per_s", s["engine_s"])):  # fmt: skip
            rows.append(
                _row(measure, "runs/s", "higher", size, i, runs / seconds, fused, s["same"])
            )
    return rows


def startup_rows(repeats: int, quick: bool = False) -> list[dict]:
    """``optbench run --optimizer adam`` in a new process with an empty numba cache (first
    compile) and again with that cache (cached start), against a process that compiles or
    loads only the fused loop."""
    from optbench.benchmarks import engine

    rows = []
    for i, s in enumerate(engine.startup_samples(repeats)):
        rows.append(
            _row("first_compile_s", "s", "lower", 1, i, s["optbench_cold_s"], s["fused_cold_s"])
        )
        rows.append(
            _row("cached_start_s", "s", "lower", 1, i, s["optbench_warm_s"], s["fused_warm_s"])
        )
    return rows


PERF_BENCHMARKS: dict[str, Callable[[int, bool], list[dict]]] = {
    "engine": engine_rows,
    "sweep": sweep_rows,
    "startup": startup_rows,
    # "mlp": MLP steps/s against a fused NumPy/numba network step, when networks are merged
}


def check_selection(repeats: int, only: Sequence[str] | None) -> list[str]:
    """The benchmarks to run (``only``, default all), with ``repeats`` checked."""
    if int(repeats) < 2:
        raise OptbenchError(f"repeats={repeats}: at least 2 are needed to know the noise")
    names = list(only) if only else list(PERF_BENCHMARKS)
    for name in names:
        if name not in PERF_BENCHMARKS:
            raise unknown_name("perf benchmark", name, PERF_BENCHMARKS)
    return names


def run_perf(
    repeats: int = DEFAULT_REPEATS,
    only: Sequence[str] | None = None,
    quick: bool = False,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Every benchmark of ``only`` (default all), ``repeats`` samples each, as perf.csv rows.

    ``quick`` shrinks the work ~100× (for tests; its figures compare only with quick runs).
    """
    import pandas as pd

    names = check_selection(repeats, only)
    rows = []
    for name in names:
        if progress:
            progress(name)
        rows.extend(PERF_BENCHMARKS[name](int(repeats), quick))
    return pd.DataFrame(rows, columns=COLUMNS)


def summarize(samples: pd.DataFrame) -> pd.DataFrame:
    """Per measure: median, min and max of optbench, the reference and their ratio, and the
    noise (optbench's (max − min) / median)."""
    groups = samples.groupby(["measure", "unit", "better", "size"], sort=False)
    summary = groups.agg(
        repeats=("repeat", "size"),
        optbench=("optbench", "median"),
        optbench_min=("optbench", "min"),
        optbench_max=("optbench", "max"),
        reference=("reference", "median"),
        ratio=("ratio", "median"),
        ratio_min=("ratio", "min"),
        ratio_max=("ratio", "max"),
        same=("same", "min"),
    ).reset_index()
    summary["noise"] = (summary["optbench_max"] - summary["optbench_min"]) / summary["optbench"]
    return summary


def read_samples(folder: str | Path) -> pd.DataFrame:
    import pandas as pd

    path = Path(folder) / PERF_CSV
    if not path.is_file():
        raise OptbenchError(
            f"'{folder}' holds no {PERF_CSV}; make one with optbench bench --suite perf --out DIR"
        )
    frame = pd.read_csv(path)
    missing = [c for c in COLUMNS if c not in frame.columns and c != "same"]
    if missing:
        raise OptbenchError(f"'{path}' is not a perf result (missing {', '.join(missing)})")
    return frame


def _range(values: Sequence[float]) -> str:
    return f"{statistics.median(values):.4g} [{min(values):.4g} … {max(values):.4g}]"


COMPARE_COLUMNS = ["measure", "quantity", "A", "B", "change", "verdict", "significant"]


def compare(a: pd.DataFrame, b: pd.DataFrame, threshold: float = DEFAULT_THRESHOLD) -> pd.DataFrame:
    """Every measure of A and B, value and ratio to the reference, with ``significant`` set
    where the change beats the noise (see the module docstring for the rule)."""
    import pandas as pd

    if not threshold >= 1.0 or not math.isfinite(threshold):
        raise OptbenchError(f"threshold={threshold} must be a finite factor >= 1, e.g. 1.1")
    rows = []

    def add(measure, quantity, in_a, in_b, change, verdict, significant=False):
        rows.append(dict(zip(COMPARE_COLUMNS, (measure, quantity, in_a, in_b, change, verdict,
                                               significant), strict=True)))  # fmt: skip

    for measure in dict.fromkeys([*a["measure"], *b["measure"]]):
        sa, sb = a[a["measure"] == measure], b[b["measure"] == measure]
        if sa.empty or sb.empty:
            where = "B" if sa.empty else "A"
            add(measure, "—", "—" if sa.empty else "measured", "—" if sb.empty else "measured",
                math.nan, f"only in {where}")  # fmt: skip
            continue
        if set(sa["size"]) != set(sb["size"]):
            add(measure, "—", f"size {sa['size'].iloc[0]:g}", f"size {sb['size'].iloc[0]:g}",
                math.nan, "not comparable (other sizes)")  # fmt: skip
            continue
        higher = sa["better"].iloc[0] == "higher"
        for quantity, label in (("optbench", sa["unit"].iloc[0]), ("ratio", "÷ reference")):
            va, vb = list(sa[quantity]), list(sb[quantity])
            change = statistics.median(vb) / statistics.median(va)
            disjoint = max(va) < min(vb) or max(vb) < min(va)
            significant = disjoint and max(change, 1 / change) > threshold
            faster = (change > 1) == higher
            verdict = ("faster" if faster else "slower") if significant else "within noise"
            add(measure, label, _range(va), _range(vb), change, verdict, significant)
    return pd.DataFrame(rows, columns=COMPARE_COLUMNS)
