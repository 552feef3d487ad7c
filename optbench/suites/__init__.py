"""``optbench bench``: the smoke suite against a baseline, the perf suite, and their folders.

One package for every benchmark: ``smoke.py`` runs the smoke cases (learning rates from each
optimizer's spec), ``baseline.py`` compares and writes baselines, ``perf.py`` measures speed
beside the hand-fused references of ``fused.py``, ``mlp.py`` (network training against NumPy and
PyTorch) and ``cluster.py`` (the Dask executor, opt-in). This module strings them together the
same way for the API and the CLI: import the user's modules, run, compare, write the folder,
say what failed. Heavy imports stay inside the functions, so ``optbench --help`` stays instant.

A smoke folder holds ``smoke.csv`` (one row per optimizer × preset × problem, in the baseline's
columns plus ``converged`` and ``lr_source``: copy it to make a baseline), ``runs.csv`` (every run
made, searched learning rates included), ``moved.csv`` (every value that differs from the
baseline, with its tolerance and verdict) and ``manifest.json``. A perf folder holds
``perf.csv`` (every sample), ``summary.csv`` and ``manifest.json``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from optbench.errors import unknown_name
from optbench.user_modules import import_modules

if TYPE_CHECKING:
    import pandas as pd

SUITES = ("smoke", "perf")
SMOKE_CSV = "smoke.csv"
MOVED_CSV = "moved.csv"


@dataclass
class BenchResult:
    """What a suite produced. ``failures`` is empty when the suite passed."""

    suite: str
    table: pd.DataFrame  # smoke: one row per run of the suite; perf: the summary
    manifest: dict
    folder: Path | None = None
    runs: pd.DataFrame | None = None  # smoke: every run; perf: every sample
    moved: pd.DataFrame | None = None  # smoke with a baseline: the values that differ
    failures: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # the optimizers the failures name
    baseline_written: Path | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failures


def check_suite(suite: str) -> str:
    """``suite`` if it is one of ``SUITES``, else a one-line error suggesting the closest."""
    if suite not in SUITES:
        raise unknown_name("suite", suite, SUITES)
    return suite


def run_smoke(
    *,
    make_folder: Callable[[], Path | None],
    baseline: str | os.PathLike | None = None,
    update_baseline: bool = False,
    optimizers: Sequence[str] | None = None,
    presets: Sequence[str] | None = None,
    lr: Mapping[str, float] | None = None,
    problems: Sequence[str] | None = None,
) -> BenchResult:
    """Run the smoke suite, compare with ``baseline`` and/or rewrite it; see ``api.bench``.

    ``make_folder()`` makes the output folder (or returns None) once the input has been checked."""
    from optbench.results import RUNS_CSV, manifest, utc_now, write_csv, write_manifest
    from optbench.suites import baseline as bl
    from optbench.suites import smoke as sm

    started, began = utc_now(), time.perf_counter()
    names = sm.select_optimizers(optimizers)
    chosen_presets = sm.select_presets(presets)
    cases = sm.select_cases(problems)
    overrides = sm.parse_lr_overrides(dict(lr or {}), names, cases)
    path = Path(baseline) if baseline is not None else None
    if update_baseline and path is None:
        path = bl.DEFAULT_BASELINE
    old = None
    if path is not None and (not update_baseline or path.is_file()):
        old = bl.read_baseline(path)
    if update_baseline:  # prove the baseline writable before computing
        from optbench.results import prepare_folder

        prepare_folder(path.parent, "")
    planned = sm.plan(names, chosen_presets, overrides, bl.baseline_lrs(old), cases)
    out = make_folder()
    done = sm.run_suite(planned)
    failures = sm.convergence_failures(done.table)
    metrics = {case.problem: case.metrics for case in cases}
    columns = bl.baseline_columns(done.table, metrics)
    table = done.table[[*columns, "converged", "lr_source", "goal"]]

    moved = None
    if old is not None:
        scope = {
            "problem": [c.problem for c in cases],
            "preset": chosen_presets,
            "optimizer": names,
            "all_optimizers": not optimizers,
        }
        comparison = bl.compare(table, old, metrics, scope)
        moved = comparison.moved
        if not update_baseline:
            failures += comparison.failures
    written = None
    if update_baseline:
        order = {
            "problem": [c.problem for c in cases],
            "preset": list(sm.PRESETS),
            "optimizer": list(sm.all_optimizers()),
        }
        new = bl.merged(old, table[columns], order)
        write_csv(new, path)
        written = path

    config = {
        "kind": "bench",
        "suite": "smoke",
        "baseline": None if path is None else str(path),
        "update_baseline": update_baseline,
        "optimizers": names,
        "presets": chosen_presets,
        "lr": {f"{p}/{o}": v for (p, o), v in overrides.items()},
        "cases": [
            {"problem": c.problem, "steps": c.steps, "start": c.start, "goal": c.goal.describe()}
            for c in cases
        ],
        "tolerances": {k: t.describe() for k, t in bl.TOLERANCES.items()},
    }
    data = manifest(config, started, "bench", [0])
    result = BenchResult(
        suite="smoke",
        table=table,
        manifest=data,
        folder=out,
        runs=done.runs,
        moved=moved,
        failures=[line for _, line in failures],
        failed=list(dict.fromkeys(name for name, _ in failures)),
        baseline_written=written,
        seconds=time.perf_counter() - began,
    )
    if out is not None:
        write_csv(table, out / SMOKE_CSV)
        write_csv(done.runs, out / RUNS_CSV)
        if moved is not None:
            write_csv(moved, out / MOVED_CSV)
        data["failures"] = result.failures
        data["finished_utc"] = utc_now()
        write_manifest(out, data)
    return result


def run_perf(
    *,
    make_folder: Callable[[], Path | None],
    repeats: int,
    only: Sequence[str] | None = None,
    quick: bool = False,
    progress: Callable[[str], None] | None = None,
) -> BenchResult:
    """Run the perf suite and write perf.csv, summary.csv and manifest.json."""
    from optbench.results import manifest, utc_now, write_csv, write_manifest
    from optbench.suites import perf as pf

    started, began = utc_now(), time.perf_counter()
    pf.check_selection(repeats, only)
    out = make_folder()
    samples = pf.measure(repeats, only, quick, progress)
    summary = pf.summarize(samples)
    config = {"kind": "bench", "suite": "perf", "repeats": repeats, "only": only, "quick": quick}
    data = manifest(config, started, "bench", [0])
    result = BenchResult(
        suite="perf",
        table=summary,
        manifest=data,
        folder=out,
        runs=samples,
        seconds=time.perf_counter() - began,
    )
    if out is not None:
        write_csv(samples, out / pf.PERF_CSV)
        write_csv(summary, out / pf.SUMMARY_CSV)
        data["finished_utc"] = utc_now()
        write_manifest(out, data)
    return result


def bench(
    suite: str = "smoke",
    *,
    out: str | os.PathLike | None = None,
    baseline: str | os.PathLike | None = None,
    update_baseline: bool = False,
    optimizers: Sequence[str] | None = None,
    presets: Sequence[str] | None = None,
    lr: Mapping[str, float] | None = None,
    imports: Sequence[str] = (),
    problems: Sequence[str] | None = None,
    repeats: int = 5,
    only: Sequence[str] | None = None,
    quick: bool = False,
    save: bool = True,
    progress: Callable[[str], None] | None = None,
    results_root: str | os.PathLike = "results",
):
    """Run a benchmark suite and (by default) write its folder; returns a ``BenchResult``.

    ``suite="smoke"``: every optimizer (or ``optimizers``) × preset on the smoke problems at
    fixed settings; ``failures`` lists each run that did not converge and, with ``baseline``
    (a CSV), each metric outside its tolerance. ``update_baseline`` rewrites the rows run in
    ``baseline`` (default ``benchmarks/baselines/smoke.csv``). ``lr`` sets learning rates for
    optimizers without smoke settings: ``{"rosenbrock": 0.01, "myopt.beale": 0.1, "": 0.05}``
    (a problem, an optimizer.problem, or every problem); without one it comes from the
    baseline, else a search. ``imports`` are modules (or .py files) imported first, so their
    ``@optbench.register_optimizer`` optimizers exist. ``problems`` picks smoke cases by name,
    or adds any surface or N-D problem with a known f* (a registered one too) as a case of its
    own: the default budget and a 1e-3 gap goal.

    ``suite="perf"``: throughput, compile and start-up figures, ``repeats`` samples each, each
    beside its hand-fused reference (``only`` picks benchmarks: engine, sweep, startup, mlp,
    and cluster, which runs only when named; ``quick`` shrinks the work for tests).

    >>> import optbench
    >>> result = optbench.bench(baseline="benchmarks/baselines/smoke.csv")  # doctest: +SKIP
    >>> result.ok, result.failures                                     # doctest: +SKIP
    """
    from optbench.results import prepare_folder

    check_suite(suite)
    import_modules(list(imports))

    def folder() -> Path | None:  # made once the input is known to be good
        return prepare_folder(out, f"bench-{suite}", results_root) if save else None

    if suite == "perf":
        return run_perf(
            make_folder=folder, repeats=repeats, only=only, quick=quick, progress=progress
        )
    return run_smoke(
        make_folder=folder,
        baseline=baseline,
        update_baseline=update_baseline,
        optimizers=optimizers,
        presets=presets,
        lr=lr,
        problems=problems,
    )


def bench_compare(
    folder_a: str | os.PathLike, folder_b: str | os.PathLike, threshold: float = 1.10
) -> pd.DataFrame:
    """Compare two perf folders; rows with ``significant`` True beat the measured noise
    (non-overlapping min–max ranges and a median change beyond ``threshold``)."""
    from optbench.suites import perf as pf

    return pf.compare(pf.read_samples(folder_a), pf.read_samples(folder_b), threshold)
