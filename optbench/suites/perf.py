"""The perf suite: speed figures with their noise, and a comparison that ignores the noise.

Every figure is measured ``repeats`` times, each time beside its reference doing the same
arithmetic (a hand-fused numba loop of ``fused.py``; for networks plain NumPy and PyTorch,
``mlp.py``; for the Dask executor the same sweep run locally, ``cluster.py``), so each sample
carries its own ratio and the spread over the repeats says how noisy the figure is here.

``PERF_BENCHMARKS`` is the table of measurements (a function of the repeat count and a quick
flag, returning sample rows); the ones in ``OPT_IN`` run only when ``only`` names them.

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

import functools
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
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


ENGINE_STEPS = 2_000_000
SWEEP_RUNS_PER_AXIS = 100  # 100 learning rates × 100 seeds = 10,000 runs
SWEEP_STEPS = 1000


def _engine_once(steps: int, cosine: bool = False) -> tuple[float, float]:
    import numpy as np

    from optbench.families.surfaces.engine import run_surface_group
    from optbench.optimizers import get_optimizer
    from optbench.problems import get_problem
    from optbench.schedules import get_schedule, schedule_row

    adam = get_optimizer("adam")
    values = adam.resolve("torch")
    hp = np.array([adam.hp_vector(values)])
    schedules = None
    if cosine:
        resolved = get_schedule("cosine").resolve("torch", steps, {})
        row = schedule_row("cosine", resolved, "torch", values["lr"], adam.hyper_names)
        schedules = np.array([row])
    began = time.perf_counter()
    out = run_surface_group(
        adam,
        get_problem("rosenbrock"),
        hp,
        np.array([[-1.5, 2.0]]),
        np.array([steps]),
        np.zeros(1),
        np.zeros(1, dtype=np.int64),
        record_every=steps,
        bound=1e6,
        schedules=schedules,
    )
    return time.perf_counter() - began, out.metrics["final_loss"][0]


def _fused_once(steps: int, cosine: bool = False) -> tuple[float, float]:
    from optbench.suites.fused import fused_adam_rosenbrock

    began = time.perf_counter()
    loss, _ = fused_adam_rosenbrock(-1.5, 2.0, 1e-3, 0.9, 0.999, 1e-8, steps, cosine)
    return time.perf_counter() - began, loss


def engine_samples(steps: int, repeats: int, cosine: bool = False) -> list[dict[str, float]]:
    """Per repeat: the engine's and the fused loop's seconds for ``steps`` steps of Adam on
    Rosenbrock (``cosine``: under the cosine schedule, both), alternating so drift hits both
    alike, and whether both ended at the same loss."""
    _engine_once(10, cosine)
    _fused_once(10, cosine)
    samples = []
    for _ in range(repeats):
        engine_s, engine_loss = _engine_once(steps, cosine)
        fused_s, fused_loss = _fused_once(steps, cosine)
        samples.append(
            {"engine_s": engine_s, "fused_s": fused_s, "same": float(engine_loss == fused_loss)}
        )
    return samples


def engine_rows(repeats: int, quick: bool = False, cosine: bool = False) -> list[dict]:
    """Adam on Rosenbrock, one run: engine steps/s against the hand-fused loop. With
    ``cosine`` both follow the cosine schedule (the engine one row lookup and a cosine per
    update): the price of schedules is that ratio beside the plain one."""
    steps = 20_000 if quick else ENGINE_STEPS
    measure = "engine_cosine_steps_per_s" if cosine else "engine_steps_per_s"
    rows = []
    for i, s in enumerate(engine_samples(steps, repeats, cosine)):
        rates = steps / s["engine_s"], steps / s["fused_s"]
        rows.append(_row(measure, "steps/s", "higher", steps, i, *rates, s["same"]))
    return rows


ND_CASES = {
    # measure: (problem, steps, quick steps)
    "engine_quadratic_d10000_steps_per_s": ("quadratic:d=10000", 1_000, 20),
    "engine_rosenbrock_d1000_steps_per_s": ("rosenbrock:d=1000", 100_000, 200),
}
"""The N-D figures: one Adam run (torch defaults) on a problem of many coordinates, the engine
(the problem a first-class function) against a loop hand-fused for that problem."""


def _nd_engine_once(problem: str, steps: int) -> tuple[float, float]:
    import numpy as np

    from optbench.families.surfaces.engine import run_surface_group
    from optbench.optimizers import get_optimizer
    from optbench.problems import get_problem

    adam = get_optimizer("adam")
    spec = get_problem(problem)
    began = time.perf_counter()
    out = run_surface_group(
        adam,
        spec,
        np.array([adam.hp_vector(adam.resolve("torch"))]),
        spec.start_vector(())[None, :],
        np.array([steps]),
        np.zeros(1),
        np.zeros(1, dtype=np.int64),
        record_every=steps,
        bound=1e6,
    )
    return time.perf_counter() - began, out.metrics["final_loss"][0]


def _nd_fused_once(problem: str, steps: int) -> tuple[float, float]:
    from optbench.problems import get_problem
    from optbench.suites.fused import fused_adam_quadratic, fused_adam_rosenbrock_nd

    spec = get_problem(problem)
    theta = spec.start_vector(())
    data = spec.kernel_params()
    began = time.perf_counter()
    if spec.name == "quadratic":
        loss, _ = fused_adam_quadratic(theta, data, 1e-3, 0.9, 0.999, 1e-8, steps)
    else:
        loss, _ = fused_adam_rosenbrock_nd(theta, 1e-3, 0.9, 0.999, 1e-8, steps)
    return time.perf_counter() - began, loss


def nd_rows(repeats: int, quick: bool = False) -> list[dict]:
    """Adam on quadratic:d=10000 and rosenbrock:d=1000, one run each: engine steps/s against
    the hand-fused loop, alternating, and whether both ended at the same loss."""
    rows = []
    for measure, (problem, full, short) in ND_CASES.items():
        steps = short if quick else full
        _nd_engine_once(problem, 2)  # compile or load both before timing
        _nd_fused_once(problem, 2)
        for i in range(repeats):
            engine_s, engine_loss = _nd_engine_once(problem, steps)
            fused_s, fused_loss = _nd_fused_once(problem, steps)
            same = float(engine_loss == fused_loss)
            rates = steps / engine_s, steps / fused_s
            rows.append(_row(measure, "steps/s", "higher", steps, i, *rates, same))
    return rows


def _sweep_plan(runs_per_axis: int, steps: int):
    from optbench.config import SweepConfig

    return SweepConfig.from_raw({
        "optimizers": ["adam"], "problems": ["rosenbrock"], "lr": f"1e-4..1:{runs_per_axis}",
        "seeds": runs_per_axis, "steps": steps, "record_every": steps,
    })  # fmt: skip


def sweep_samples(repeats: int, runs_per_axis: int, steps: int) -> list[dict[str, float]]:
    """Per repeat: wall times of the whole ``optbench.sweep`` (config expansion, chunked parallel
    engine, atomic CSV writes, merge), its engine calls alone and the fused ``prange`` kernel,
    and whether the engine and the fused kernel ended at identical losses."""
    import numpy as np

    from optbench import api
    from optbench.engine import run_many
    from optbench.suites.fused import fused_adam_rosenbrock_batch

    plan = _sweep_plan(runs_per_axis, steps)
    configs = plan.expand()
    lrs = np.array([c.lr for c in configs])
    out = np.empty(lrs.size)
    fused_adam_rosenbrock_batch(lrs[:2], 2, out[:2])  # compile / load from cache
    run_many(configs[:2])
    with tempfile.TemporaryDirectory() as folder:  # first-call imports (analysis, scipy …)
        api.sweep(_sweep_plan(2, 2), out=f"{folder}/warm-up", plots=False)
    result = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as folder:
            began = time.perf_counter()
            api.sweep(plan, out=f"{folder}/sweep", plots=False)
            whole = time.perf_counter() - began
        began = time.perf_counter()
        engine_out = run_many(configs)
        engine = time.perf_counter() - began
        began = time.perf_counter()
        fused_adam_rosenbrock_batch(lrs, steps, out)
        fused = time.perf_counter() - began
        same = np.array_equal(engine_out.metrics["final_loss"], out, equal_nan=True)
        result.append(
            {"runs": len(configs), "whole_s": whole, "engine_s": engine, "fused_s": fused,
             "same": float(same)}
        )  # fmt: skip
    return result


def sweep_rows(repeats: int, quick: bool = False) -> list[dict]:
    """10,000 Adam runs on Rosenbrock: the whole ``optbench.sweep`` and its engine calls alone,
    runs/s against the hand-fused ``prange`` kernel."""
    per_axis, steps = (10, 100) if quick else (SWEEP_RUNS_PER_AXIS, SWEEP_STEPS)
    rows = []
    for i, s in enumerate(sweep_samples(repeats, per_axis, steps)):
        runs = s["runs"]
        size = runs * steps
        fused = runs / s["fused_s"]
        for measure, seconds in (("sweep_runs_per_s", s["whole_s"]),
                                 ("sweep_engine_runs_per_s", s["engine_s"])):  # fmt: skip
            rows.append(
                _row(measure, "runs/s", "higher", size, i, runs / seconds, fused, s["same"])
            )
    return rows


FIRST_COMMANDS = {
    "surface_run": ("surface", ("run", "--optimizer", "adam")),
    "sweep_after_run": (
        "surface",
        ("sweep", "-o", "sgd,adam", "-p", "beale", "--lr", "1e-3..1e-1:3"),
    ),
    "network_run": ("network", ("run", "--problem", "spirals", "-o", "adam", "--epochs", "5")),
    "perceptron_run": ("perceptron", ("run", "--problem", "xor", "--model", "perceptron")),
}
"""What a new user types first: name → (numba cache folder, command). Each runs in a new process,
in this order; each cache folder starts empty, so the sweep is the first sweep *after* a first
run and every other command is the first of its kind after an install."""
FUSED_START = (
    "-c",
    "from optbench.suites.fused import fused_adam_rosenbrock as f; "
    "f(-1.5, 2.0, 1e-3, 0.9, 0.999, 1e-8, 10)",
)
"""The reference: a process that imports numba and compiles (or loads) one hand-fused loop."""
STARTUP_REPEATS = 2
"""Cold starts are slow (a minute for the four commands): fewer samples than the other figures."""


def process_seconds(arguments: tuple[str, ...], cache: str) -> float:
    """Wall time of ``python *arguments`` in a new process using numba cache folder ``cache``."""
    env = {**os.environ, "NUMBA_CACHE_DIR": cache}
    began = time.perf_counter()
    subprocess.run([sys.executable, *arguments], env=env, check=True, capture_output=True)
    return time.perf_counter() - began


def startup_samples(repeats: int) -> list[dict[str, float]]:
    """Per repeat, with fresh numba cache folders: each first command with the cache empty of
    what it needs (first) and again with it (cached), and the fused reference process."""
    samples = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as work:
            own, ref = os.path.join(work, "cache"), os.path.join(work, "ref-cache")
            sample = {
                "fused_cold_s": process_seconds(FUSED_START, ref),
                "fused_warm_s": process_seconds(FUSED_START, ref),
            }
            for name, (cache, command) in FIRST_COMMANDS.items():
                for when in ("first", "cached"):
                    out = ("--out", os.path.join(work, f"{name}-{when}"))
                    arguments = ("-m", "optbench", *command, *out)
                    sample[f"{name}_{when}_s"] = process_seconds(arguments, f"{own}-{cache}")
            samples.append(sample)
    return samples


def startup_rows(repeats: int, quick: bool = False) -> list[dict]:
    """Each first command in a new process with an empty numba cache (compiling what it needs)
    and again with that cache (cached start), against a process that compiles or loads only
    the fused loop."""
    rows = []
    for i, s in enumerate(startup_samples(1 if quick else min(repeats, STARTUP_REPEATS))):
        for name in FIRST_COMMANDS:
            for when, reference in (("first", "fused_cold_s"), ("cached", "fused_warm_s")):
                value = s[f"{name}_{when}_s"]
                rows.append(_row(f"{name}_{when}_s", "s", "lower", 1, i, value, s[reference]))
    return rows


PROCESS_REPEATS = 3
"""Each sample is four processes of seconds each: fewer samples than the engine figures."""


def process_samples(repeats: int, quick: bool = False) -> list[dict[str, float]]:
    """Per repeat, wall times of ``optbench sweep`` / ``optbench run`` as a user types them and of
    the hand-written programs of ``least`` doing the same arithmetic, each in a new process with
    a warm numba cache (one untimed pass first compiles whatever is missing)."""
    from optbench.suites.least import RUN_COMMAND, SWEEP_COMMAND

    sweep = SWEEP_COMMAND
    if quick:  # 100 runs of 100 steps: the same code paths in a fraction of the time
        sweep = tuple(
            {"1e-4..1e-1:10000": "1e-4..1e-1:100", "1000": "100"}.get(a, a) for a in sweep
        )
    pairs = {
        "sweep": (("-m", "optbench", *sweep), ("-m", "optbench.suites.least", "sweep")),
        "run": (("-m", "optbench", *RUN_COMMAND), ("-m", "optbench.suites.least", "run")),
    }
    cache = os.environ.get("NUMBA_CACHE_DIR") or os.path.join(tempfile.gettempdir(), "ob-bench")
    samples = []
    with tempfile.TemporaryDirectory() as work:
        for k in range(repeats + 1):  # pass 0 warms the cache and is not kept
            sample = {}
            for name, (ours, least) in pairs.items():
                out = os.path.join(work, f"{name}-{k}")
                sample[f"{name}_s"] = process_seconds((*ours, "--out", out), cache)
                sample[f"{name}_least_s"] = process_seconds((*least, f"{out}-least"), cache)
            if k:
                samples.append(sample)
    return samples


def process_rows(repeats: int, quick: bool = False) -> list[dict]:
    """The whole process as the user feels it: commands per second of ``optbench sweep`` (10,000
    Adam runs, five figures) and ``optbench run --optimizer adam`` against the least process
    doing the same work (``least``); the ratio is the share of the least process's speed."""
    rows = []
    for i, s in enumerate(process_samples(1 if quick else min(repeats, PROCESS_REPEATS), quick)):
        for name in ("sweep", "run"):
            ours, least = 1 / s[f"{name}_s"], 1 / s[f"{name}_least_s"]
            rows.append(_row(f"{name}_process_per_s", "1/s", "higher", 1, i, ours, least))
    return rows


def mlp_rows(repeats: int, quick: bool = False) -> list[dict]:
    """MLP training steps/s (Adam, float64) of the network engine against the same training in
    plain NumPy and, where it is installed, in PyTorch; each in its own process (their threads
    would otherwise contend), per net. For the large net also its achieved GFLOP/s (matrix
    products only, ``mlp.step_flops``) against this machine's float64 matmul peak measured with
    NumPy just after it: the ratio is the share of the machine's peak the engine reaches."""
    import importlib.util

    from optbench.suites import mlp

    rows = []
    nets = list(mlp.NETS.items())[:1] if quick else list(mlp.NETS.items())
    references = ["numpy"] + (["torch"] if importlib.util.find_spec("torch") else [])
    for label, (sizes, _activation, batch) in nets:
        for i in range(repeats):
            ours = mlp.measure_in_subprocess("optbench", label)
            for reference in references:
                theirs = mlp.measure_in_subprocess(reference, label)
                measure = f"mlp_steps_per_s[{sizes[0]}-…-{sizes[-1]} batch {batch}] ÷{reference}"
                rows.append(_row(measure, "steps/s", "higher", batch, i, ours, theirs))
            if label == mlp.LARGE:
                achieved = ours * mlp.step_flops(sizes, batch) / 1e9
                peak = mlp.measure_in_subprocess("matmul_peak", label)
                measure = "mlp_large_share_of_matmul_peak"
                rows.append(_row(measure, "GFLOP/s", "higher", batch, i, achieved, peak))
    return rows


def cluster_rows(repeats: int, quick: bool = False) -> list[dict]:
    """An MLP sweep on a local Dask cluster against the same sweep run locally (prange over
    runs): runs/s of each, and whether both wrote the same losses. Needs dask[distributed]."""
    from optbench.suites import cluster

    rows = []
    for i, s in enumerate(cluster.samples(repeats, quick)):
        runs = s["runs"]
        ours, local = runs / s["dask_s"], runs / s["local_s"]
        rows.append(_row("cluster_runs_per_s", "runs/s", "higher", runs, i, ours, local, s["same"]))
    return rows


PERF_BENCHMARKS: dict[str, Callable[[int, bool], list[dict]]] = {
    "engine": engine_rows,
    "engine_cosine": functools.partial(engine_rows, cosine=True),
    "sweep": sweep_rows,
    "nd": nd_rows,
    "startup": startup_rows,
    "process": process_rows,
    "mlp": mlp_rows,
    "cluster": cluster_rows,
}
OPT_IN = ("cluster",)
"""Benchmarks run only when named (``--only cluster``): a cluster takes seconds to start and
needs the optional dask dependency."""


def check_selection(repeats: int, only: Sequence[str] | None) -> list[str]:
    """The benchmarks to run (``only``, default all but ``OPT_IN``), with ``repeats`` checked."""
    if int(repeats) < 2:
        raise OptbenchError(f"repeats={repeats}: at least 2 are needed to know the noise")
    names = list(only) if only else [n for n in PERF_BENCHMARKS if n not in OPT_IN]
    for name in names:
        if name not in PERF_BENCHMARKS:
            raise unknown_name("perf benchmark", name, PERF_BENCHMARKS)
    return names


def measure(
    repeats: int = DEFAULT_REPEATS,
    only: Sequence[str] | None = None,
    quick: bool = False,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Every benchmark of ``only`` (default all but ``OPT_IN``), ``repeats`` samples each, as
    perf.csv rows.

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
