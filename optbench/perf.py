"""The perf suite: speed figures with their noise, and a comparison that ignores the noise.

Every figure is measured ``repeats`` times, each time beside its hand-fused reference from
``optbench/benchmarks/`` (the same arithmetic in one numba loop), so each sample carries its own
ratio and the spread over the repeats says how noisy the figure is on this machine.

``PERF_BENCHMARKS`` is the table of measurements (a function of the repeat count and a quick
flag, returning sample rows); networks add their MLP steps/s as one more entry.

``compare`` (``optbench bench compare A B``) judges each figure by its *ratio* to the reference,
because the reference ran beside it and so cancels what the machine did meanwhile (two perf runs
of one commit on this shared 2-core machine differed by 15 % in engine steps/s and 10 % in
compile time, while every ratio stayed within its noise). A ratio changed when both hold:
- the min–max ranges of its samples in A and in B do not overlap, and
- the medians differ by more than ``threshold`` (default 1.10, asv's default factor).
With 5 repeats each, non-overlapping ranges arise by chance with probability 2/C(10, 5) < 1 %
when nothing changed (every ordering of the 10 samples is equally likely). A figure that moved
the same way while its ratio did not is reported as machine drift, not as a change.
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


def mlp_rows(repeats: int, quick: bool = False) -> list[dict]:
    """MLP training steps/s (Adam, float64) of the network engine against the same training in
    plain NumPy and, where it is installed, in PyTorch; each in its own process (their threads
    would otherwise contend), per net."""
    import importlib.util

    from optbench.benchmarks import networks

    rows = []
    nets = list(networks.NETS.items())[:1] if quick else list(networks.NETS.items())
    references = ["numpy"] + (["torch"] if importlib.util.find_spec("torch") else [])
    for label, (sizes, _activation, batch) in nets:
        for i in range(repeats):
            ours = networks.measure_in_subprocess("optbench", label)
            for reference in references:
                theirs = networks.measure_in_subprocess(reference, label)
                measure = f"mlp_steps_per_s[{sizes[0]}-…-{sizes[-1]} batch {batch}] ÷{reference}"
                rows.append(_row(measure, "steps/s", "higher", batch, i, ours, theirs))
    return rows


PERF_BENCHMARKS: dict[str, Callable[[int, bool], list[dict]]] = {
    "engine": engine_rows,
    "sweep": sweep_rows,
    "startup": startup_rows,
    "mlp": mlp_rows,
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
    return f"{statistics.median(values):.4g} ({min(values):.4g}–{max(values):.4g})"


def _beyond_noise(va: Sequence[float], vb: Sequence[float], threshold: float) -> tuple[float, bool]:
    """Median B ÷ median A, and whether the change beats the noise: disjoint min–max ranges
    and a change factor beyond ``threshold``."""
    change = statistics.median(vb) / statistics.median(va)
    disjoint = max(va) < min(vb) or max(vb) < min(va)
    return change, disjoint and max(change, 1 / change) > threshold


COMPARE_COLUMNS = ["measure", "unit", "A", "B", "change", "ratio A", "ratio B", "ratio change",
                   "verdict", "significant"]  # fmt: skip


def compare(a: pd.DataFrame, b: pd.DataFrame, threshold: float = DEFAULT_THRESHOLD) -> pd.DataFrame:
    """One row per measure of A or B: medians (min–max) of the figure and of its ratio to the
    reference, the change factors (B ÷ A) and a verdict. ``significant`` is set where the
    *ratio* changed beyond the noise (see the module docstring); a figure that moved while its
    ratio did not is reported as machine drift, since its reference moved alike."""
    import pandas as pd

    if not threshold >= 1.0 or not math.isfinite(threshold):
        raise OptbenchError(f"threshold={threshold} must be a finite factor >= 1, e.g. 1.1")
    rows = []
    for measure in dict.fromkeys([*a["measure"], *b["measure"]]):
        sa, sb = a[a["measure"] == measure], b[b["measure"] == measure]
        row = dict.fromkeys(COMPARE_COLUMNS, "—") | {"measure": measure, "significant": False}
        row["change"] = row["ratio change"] = math.nan
        if sa.empty or sb.empty:
            rows.append(row | {"verdict": f"only in {'B' if sa.empty else 'A'}"})
            continue
        row["unit"] = sa["unit"].iloc[0]
        if set(sa["size"]) != set(sb["size"]):
            rows.append(row | {"verdict": "not comparable (other sizes)"})
            continue
        change, moved = _beyond_noise(list(sa["optbench"]), list(sb["optbench"]), threshold)
        ratio, ratio_moved = _beyond_noise(list(sa["ratio"]), list(sb["ratio"]), threshold)
        faster = (ratio > 1) == (sa["better"].iloc[0] == "higher")
        if ratio_moved:
            verdict = "faster" if faster else "slower"
        else:
            verdict = "machine drift (ratio unchanged)" if moved else "within noise"
        rows.append(row | {
            "A": _range(sa["optbench"]), "B": _range(sb["optbench"]), "change": change,
            "ratio A": _range(sa["ratio"]), "ratio B": _range(sb["ratio"]), "ratio change": ratio,
            "verdict": verdict, "significant": ratio_moved,
        })  # fmt: skip
    return pd.DataFrame(rows, columns=COMPARE_COLUMNS)
