"""Smoke baselines: the committed CSV of every smoke metric, and the tolerances it is held to.

A baseline has one row per (problem, optimizer, preset): the settings (``lr``, ``steps``) and the
metrics of ``runs.csv``. The engine is deterministic, so on one machine a correct optimizer
reproduces its row bit for bit; the tolerances only absorb what another CPU, libm or numba
version may change in the last bits, and are far smaller than what a wrong formula does
(a wrong bias correction moves the steps to 1e-3 by tens of percent, see tests/test_bench.py).

Tolerances (``TOLERANCES``; a column matches the first pattern that fits):
- ``final_gap``, ``final_loss``: log10 of the value within ±0.5 (a factor of ~3.2); values below
  1e-12 count as 1e-12, where the last bits of a float rule.
- ``steps_to_*``, ``epochs_to_*``: within 5 % and at least one step (epoch); reached versus
  never reached is a change.
- ``test_accuracy`` (networks): within ±0.02 (an accuracy: higher is better).
- ``diverged``: exactly.
Both directions fail: an optimizer that got *better* also computes something new, so the
baseline is updated on purpose (``--update-baseline``), never silently.
"""

from __future__ import annotations

import fnmatch
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from optbench.errors import OptbenchError
from optbench.suites.smoke import KEY

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_BASELINE = Path("benchmarks") / "baselines" / "smoke.csv"
SETTINGS = ["lr", "steps"]


@dataclass(frozen=True)
class Tolerance:
    """How far a metric may move from its baseline value. Lower values are better."""

    kind: str  # "log10", "relative", "absolute" or "exact"
    value: float = 0.0
    floor: float = 0.0  # log10: smaller values count as this
    least: float = 0.0  # relative: never tighter than this absolute difference
    higher_is_better: bool = False  # an accuracy

    def describe(self) -> str:
        if self.kind == "log10":
            return f"log10 ±{self.value:g} (floor {self.floor:g})"
        if self.kind == "relative":
            return f"±{self.value:.0%} (at least {self.least:g})"
        if self.kind == "absolute":
            return f"±{self.value:g}"
        return "exact"

    def _scale(self, x: float) -> float:
        """The value on the scale the tolerance is stated in; never reached/NaN is +inf."""
        if x is None or (isinstance(x, float) and math.isnan(x)):
            return math.inf
        x = float(x)
        return math.log10(max(x, self.floor)) if self.kind == "log10" else x

    def within(self, base: float, now: float) -> bool:
        a, b = self._scale(base), self._scale(now)
        if a == b:
            return True
        if self.kind == "exact" or math.isinf(a) or math.isinf(b):
            return False
        if self.kind in ("log10", "absolute"):
            return abs(b - a) <= self.value
        return abs(b - a) <= max(self.least, self.value * abs(a))

    def worse(self, base: float, now: float) -> bool:
        if self.higher_is_better:
            return self._scale(now) < self._scale(base)
        return self._scale(now) > self._scale(base)


TOLERANCES: dict[str, Tolerance] = {
    "final_gap": Tolerance("log10", 0.5, floor=1e-12),
    "final_loss": Tolerance("log10", 0.5, floor=1e-12),
    "steps_to_*": Tolerance("relative", 0.05, least=1.0),
    "epochs_to_*": Tolerance("relative", 0.05, least=1.0),
    "test_accuracy": Tolerance("absolute", 0.02, higher_is_better=True),
    "diverged": Tolerance("exact"),
}


def tolerance_for(column: str) -> Tolerance:
    for pattern, tolerance in TOLERANCES.items():
        if fnmatch.fnmatchcase(column, pattern):
            return tolerance
    raise KeyError(f"no tolerance stated for metric column '{column}'")


def metric_columns(patterns: Sequence[str], columns: Sequence[str]) -> list[str]:
    """The columns of ``columns`` that ``patterns`` name, in pattern order."""
    return [c for p in patterns for c in columns if fnmatch.fnmatchcase(c, p)]


def baseline_columns(table: pd.DataFrame, metrics: Mapping[str, Sequence[str]]) -> list[str]:
    """Key, settings, then every compared metric present in ``table``."""
    chosen = [
        c for problem in metrics for c in metric_columns(metrics[problem], list(table.columns))
    ]
    return [*KEY, *SETTINGS, *dict.fromkeys(chosen)]


def read_baseline(path: str | os.PathLike) -> pd.DataFrame:
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise OptbenchError(
            f"baseline file '{path}' not found; write one with --update-baseline "
            f"(optbench bench --suite smoke --update-baseline --baseline {path})"
        )
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise OptbenchError(f"baseline file '{path}' is not a readable CSV: {first}") from None
    missing = [c for c in [*KEY, *SETTINGS, "diverged"] if c not in frame.columns]
    if missing:
        raise OptbenchError(
            f"'{path}' is not a smoke baseline (missing columns {', '.join(missing)})"
        )
    if frame.duplicated(KEY).any():
        raise OptbenchError(f"baseline '{path}' has two rows for one (problem, optimizer, preset)")
    return _numbers(frame, path)


def _numbers(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """The settings and compared metrics as numbers (``diverged`` as true/false): a text in
    one is refused here, naming its cell, rather than failing inside a comparison."""
    import pandas as pd

    for column in frame.columns:
        if column in KEY or not (
            column in SETTINGS or any(fnmatch.fnmatchcase(column, p) for p in TOLERANCES)
        ):
            continue
        values = frame[column]
        if column == "diverged":
            truth = {"true": True, "false": False, "1": True, "0": False, "1.0": True, "0.0": False}
            parsed = values.map(lambda v, t=truth: t.get(str(v).strip().lower()))
            bad = values.notna() & parsed.isna()
            frame[column] = parsed.astype(object).where(parsed.notna(), None)
        else:
            parsed = pd.to_numeric(values, errors="coerce")
            bad = values.notna() & parsed.isna()
            frame[column] = parsed
        if bad.any():
            row = int(bad.to_numpy().argmax())
            kind = "true or false" if column == "diverged" else "a number"
            raise OptbenchError(
                f"baseline '{path}', row {row + 2}: {column} = {values.iloc[row]!r} is not {kind}"
            )
    return frame


def baseline_lrs(frame: pd.DataFrame | None) -> dict[tuple[str, str, str], float]:
    if frame is None:
        return {}
    return {(r.problem, r.optimizer, r.preset): float(r.lr) for r in frame.itertuples()}


def merged(
    old: pd.DataFrame | None, new: pd.DataFrame, order: Mapping[str, Sequence[str]]
) -> pd.DataFrame:
    """``new`` replacing the rows of ``old`` it has (a partial run updates only its rows), in a
    stable order: problems, presets and optimizers as ``order`` lists them, unknown ones last."""
    import pandas as pd

    frame = new
    if old is not None:
        keys = set(map(tuple, new[KEY].itertuples(index=False)))
        kept = old[[tuple(k) not in keys for k in old[KEY].itertuples(index=False)]]
        frame = pd.concat([kept, new], ignore_index=True)
    sort = {}
    for column in KEY:
        rank = {v: i for i, v in enumerate(order.get(column, ()))}
        sort[f"_{column}"] = frame[column].map(lambda v, rank=rank: rank.get(v, len(rank)))
    keys = [f"_{c}" for c in ("problem", "preset", "optimizer")]
    columns = [*keys, "problem", "preset", "optimizer"]
    return (
        frame.assign(**sort)
        .sort_values(columns, kind="stable")
        .drop(columns=keys)
        .reset_index(drop=True)
    )


def _show(value: object, column: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "never" if column.startswith("steps_to_") else "—"
    if isinstance(value, bool) or column == "diverged":
        return str(bool(value))
    if column.startswith("steps_to_") or column == "steps":
        return str(int(value))
    return f"{float(value):.3g}"


def _value(row: Mapping, column: str) -> object:
    import pandas as pd

    value = row.get(column)
    if value is None or pd.isna(value):
        return math.nan
    return bool(value) if column == "diverged" else float(value)


@dataclass
class Comparison:
    """Every value that differs from the baseline (``moved``) and what fails (``failures``)."""

    moved: pd.DataFrame
    failures: list[tuple[str, str]]  # (optimizer, line)
    compared: int


MOVED_COLUMNS = [*KEY, "metric", "baseline", "now", "tolerance", "verdict"]


def compare(
    table: pd.DataFrame,
    baseline: pd.DataFrame,
    metrics: Mapping[str, Sequence[str]],
    scope: Mapping[str, Sequence[str]],
) -> Comparison:
    """Compare the suite's ``table`` with ``baseline`` metric by metric.

    ``metrics`` maps a problem label to its compared column patterns; ``scope`` lists the
    problems, presets and optimizers this run covered (only baseline rows inside it are
    expected; an optimizer named in the baseline but not registered is expected too when
    the whole suite ran, so deleting an optimizer is noticed).
    """
    import pandas as pd

    moved: list[dict] = []
    failures: list[tuple[str, str]] = []
    now_rows = {tuple(r[k] for k in KEY): r for r in table.to_dict("records")}
    base_rows = {tuple(r[k] for k in KEY): r for r in baseline.to_dict("records")}
    in_scope = {
        key
        for key in base_rows
        if key[0] in scope["problem"]
        and key[2] in scope["preset"]
        and (key[1] in scope["optimizer"] or scope.get("all_optimizers"))
    }

    def fail(key, metric, base, now, tolerance, verdict, why):
        moved.append(dict(zip(KEY, key, strict=True), metric=metric, baseline=base, now=now,
                          tolerance=tolerance, verdict=verdict))  # fmt: skip
        failures.append((key[1], f"{verdict}: {key[1]} ({key[2]}) on {key[0]}: {why}"))

    for key in sorted(in_scope - set(now_rows)):
        fail(key, "—", "present", "not run", "—", "MISSING",
             "in the baseline but not run (not registered any more?)")  # fmt: skip
    compared = 0
    for key, now in now_rows.items():
        base = base_rows.get(key)
        if base is None:
            fail(key, "—", "absent", "new", "—", "NEW",
                 "not in the baseline; add it with --update-baseline")  # fmt: skip
            continue
        changed = [c for c in SETTINGS if _value(base, c) != _value(now, c)]
        if changed:
            was = ", ".join(f"{c} {_show(base[c], c)}" for c in changed)
            is_ = ", ".join(f"{c} {_show(now[c], c)}" for c in changed)
            fail(key, ", ".join(changed), was, is_, "exact", "SETTINGS",
                 f"{was} → {is_}: not the baseline's settings; update it with "
                 "--update-baseline")  # fmt: skip
            continue
        compared += 1
        columns = metric_columns(metrics.get(key[0], ()), sorted(set(table) | set(baseline)))
        for column in dict.fromkeys(columns):
            a, b = _value(base, column), _value(now, column)
            if a == b or (isinstance(a, float) and isinstance(b, float) and a != a and b != b):
                continue
            tolerance = tolerance_for(column)
            shown_a, shown_b = _show(a, column), _show(b, column)
            if tolerance.within(a, b):
                verdict = "within tolerance"
            else:
                verdict = "REGRESSION" if tolerance.worse(a, b) else "CHANGED (better)"
            row = dict(zip(KEY, key, strict=True), metric=column, baseline=shown_a, now=shown_b,
                       tolerance=tolerance.describe(), verdict=verdict)  # fmt: skip
            moved.append(row)
            if verdict != "within tolerance":
                failures.append((key[1],
                    f"{verdict}: {key[1]} ({key[2]}) on {key[0]}: {column} "
                    f"{shown_a} → {shown_b} (tolerance {tolerance.describe()})"
                ))  # fmt: skip
    frame = pd.DataFrame(moved, columns=MOVED_COLUMNS).astype(str)
    return Comparison(moved=frame, failures=failures, compared=compared)
