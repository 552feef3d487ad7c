"""The smoke suite: every optimizer × preset on a few problems at fixed, sensible settings.

It answers one question fast enough for every CI run: *does each optimizer still behave exactly as
it did?* Each case is a problem with a step budget, a start and a goal (a 1e-3 gap, say); each
optimizer's spec states the learning rate that reaches the goal in the budget
(``OptimizerSpec.smoke_lr``, per case name), so adding an optimizer never touches this file. The
runs are one sweep per (case, preset) — ``SweepConfig`` + ``engine.run_many`` — so the suite
shares the engine, the validation and the ``runs.csv`` columns with every other command.
``baseline.py`` then compares the metrics with a committed baseline.

The suite is the table ``SMOKE_CASES``: adding a problem (a network, say) is one entry, with its
own goal, compared metrics and extra sweep settings if it needs them, and one ``smoke_lr``
entry per optimizer spec.

An optimizer whose spec states no learning rate for a case (a user's own) gets it from
``--lr``, else from the baseline it is compared with (fixed settings, comparable numbers), else
from a search: the fastest learning rate of ``SEARCH_LRS`` that ends within the goal.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from optbench.errors import OptbenchError, unknown_name
from optbench.optimizers import PRESETS, all_optimizers, get_optimizer

if TYPE_CHECKING:
    import pandas as pd

    from optbench.config import RunConfig, SweepConfig

SMOKE_BUDGET = 3000
GAP_GOAL = 1e-3
SEARCH_LRS = tuple(float(f"{10 ** (k / 2):.3g}") for k in range(-8, 3))
"""The lr grid searched for an optimizer without a table entry: 1e-4 … 10 in half decades."""

KEY = ["problem", "optimizer", "preset"]
"""What names one smoke run (and one baseline row)."""


@dataclass(frozen=True)
class Goal:
    """What 'converged' means for a case: ``metric`` ends at most ``at_most`` (a gap) or at
    least ``at_least`` (an accuracy), and the run never diverged."""

    metric: str = "final_gap"
    at_most: float | None = GAP_GOAL
    at_least: float | None = None

    def describe(self) -> str:
        if self.at_least is not None:
            return f"{self.metric.replace('_', ' ')} >= {self.at_least:g}"
        return f"{self.metric.replace('_', ' ')} <= {self.at_most:g}"

    def met(self, value):
        """Whether ``value`` (a number or a Series) reaches the goal; NaN never does."""
        if self.at_least is not None:
            return value >= self.at_least
        return value <= self.at_most

    def steps_column(self) -> str:
        """The runs.csv column counting how long the goal took (steps, or epochs)."""
        from optbench.problems.networks import accuracy_column
        from optbench.results import target_column

        if self.at_least is not None:
            return accuracy_column(self.at_least)
        return target_column(self.at_most)


@dataclass(frozen=True)
class SmokeCase:
    """One problem of the suite and the settings every optimizer runs it with.

    ``name`` is the key of the learning rates in each optimizer's spec (``smoke_lr``).
    ``metrics`` are the ``runs.csv`` columns compared with the baseline (``*`` patterns allowed;
    tolerances in ``baseline.TOLERANCES``). ``settings`` are extra ``SweepConfig`` keys a problem
    family may need.
    """

    name: str
    problem: str
    steps: int = SMOKE_BUDGET
    start: tuple[float, ...] | None = None
    goal: Goal = field(default_factory=Goal)
    metrics: tuple[str, ...] = ("final_gap", "steps_to_*", "diverged")
    settings: Mapping[str, object] = field(default_factory=dict)
    epochs: int | None = None  # a network case trains for epochs; ``steps`` is then unused

    def table_lr(self, optimizer: str, preset: str) -> float | None:
        """The learning rate ``optimizer``'s spec states for this case and ``preset``, if any."""
        return get_optimizer(optimizer).smoke_lr_for(self.name, preset)


SMOKE_CASES: tuple[SmokeCase, ...] = (
    SmokeCase("bowl", "bowl"),
    # b=1: at the classic b=100 sgd, adagrad, rmsprop, adamw, nadam, adadelta and lion reach
    # no 1e-3 gap in 3000 steps at any lr of a half-decade grid (measured).
    SmokeCase("rosenbrock", "rosenbrock:b=1"),
    SmokeCase("beale", "beale", start=(1.5, 1.5)),
    # Networks: the defaults of the problem (xor: 2-2-1 sigmoid, full batch; spirals: 2-16-16-2
    # tanh, batch 32).
    SmokeCase(
        "xor",
        "xor",
        epochs=300,
        goal=Goal("test_accuracy", at_most=None, at_least=0.99),  # all four rows right
        metrics=("final_loss", "test_accuracy", "epochs_to_*", "diverged"),
    ),
    SmokeCase(
        "spirals",
        "spirals",
        epochs=40,
        goal=Goal("test_accuracy", at_most=None, at_least=0.9),
        metrics=("final_loss", "test_accuracy", "epochs_to_*", "diverged"),
    ),
)

SMOKE_START = {case.problem: case.start for case in SMOKE_CASES if case.start is not None}


def surface_lrs(preset: str = "torch") -> dict[str, dict[str, float]]:
    """{problem label: {optimizer: lr}} of the surface cases, from every registered spec that
    states one, for tests and notebooks."""
    return {
        case.problem: {
            name: lr for name in all_optimizers() if (lr := case.table_lr(name, preset)) is not None
        }
        for case in SMOKE_CASES
        if case.epochs is None
    }


@dataclass(frozen=True)
class Planned:
    """One smoke run to make: the case, the optimizer, the preset and where its lr comes from."""

    case: SmokeCase
    optimizer: str
    preset: str
    lr: float | None  # None: search SEARCH_LRS
    source: str  # "table", "--lr", "baseline" or "search"


def parse_lr_overrides(
    values: Mapping[str, float], optimizers: Sequence[str], cases: Sequence[SmokeCase]
) -> dict[tuple[str, str], float]:
    """``{"rosenbrock": 0.01, "myopt.beale": 0.1, "": 0.05}`` → {(problem label, optimizer): lr}.

    A key is ``PROBLEM`` (case name or problem label), ``OPTIMIZER.PROBLEM``, or empty for
    every problem; it applies to the optimizers named (all run ones without a prefix).
    """
    resolved: dict[tuple[str, str], float] = {}
    by_name = {c.name: c for c in cases} | {c.problem: c for c in cases}
    for key, value in values.items():
        lr = float(value)
        if not (math.isfinite(lr) and lr > 0):
            raise OptbenchError(f"--lr {key}={value}: a learning rate must be > 0")
        target, _, problem = key.rpartition(".") if "." in key else ("", "", key)
        if target and target not in optimizers:
            raise OptbenchError(f"--lr {key}: '{target}' is not among the optimizers smoke-tested")
        if problem and problem not in by_name:
            raise unknown_name("smoke problem", problem, [c.name for c in cases])
        chosen = [by_name[problem]] if problem else list(cases)
        for case in chosen:
            for name in [target] if target else optimizers:
                resolved[(case.problem, name)] = lr
    return resolved


def plan(
    optimizers: Sequence[str],
    presets: Sequence[str],
    lr: Mapping[tuple[str, str], float] | None = None,
    baseline_lr: Mapping[tuple[str, str, str], float] | None = None,
    cases: Sequence[SmokeCase] = SMOKE_CASES,
) -> list[Planned]:
    """Every (case, preset, optimizer) with its lr: ``--lr``, the table, the baseline, a search."""
    lr, baseline_lr = lr or {}, baseline_lr or {}
    planned = []
    for case in cases:
        for preset in presets:
            for name in optimizers:
                chosen, source = lr.get((case.problem, name)), "--lr"
                if chosen is None:
                    chosen, source = case.table_lr(name, preset), "table"
                if chosen is None:
                    chosen, source = baseline_lr.get((case.problem, name, preset)), "baseline"
                if chosen is None:
                    source = "search"
                planned.append(Planned(case, name, preset, chosen, source))
    return planned


def sweeps(planned: Iterable[Planned]) -> list[SweepConfig]:
    """One sweep per (case, preset): each optimizer at its lr, or over ``SEARCH_LRS``."""
    from optbench.config import SweepConfig

    groups: dict[tuple[str, str], list[Planned]] = {}
    cases = {}
    for p in planned:
        groups.setdefault((p.case.problem, p.preset), []).append(p)
        cases[p.case.problem] = p.case
    result = []
    for (problem, preset), members in groups.items():
        case = cases[problem]
        raw: dict[str, object] = {
            "problems": [case.problem],
            "optimizers": {
                p.optimizer: {"lr": list(SEARCH_LRS) if p.lr is None else p.lr} for p in members
            },
            "preset": preset,
            "seeds": 1,
            **case.settings,
        }
        if case.epochs is None:
            raw.update(steps=case.steps, record_every=case.steps)  # metrics need no history
        else:
            network = {**dict(case.settings.get("network", {})), "epochs": case.epochs}
            raw.update(network=network, record_every=1)  # epochs_to_* come from the records
        if case.start is not None:
            raw["start"] = list(case.start)
        result.append(SweepConfig.from_raw(raw))
    return result


def _pick(runs: pd.DataFrame, goal: Goal) -> int:
    """Index of the searched run to keep: the fastest to the goal among runs that end within it
    (ties to the smaller lr), else the best final score (``analysis.score``)."""
    from optbench.analysis import score

    met = runs[goal.met(runs[goal.metric]) & ~runs["diverged"].astype(bool)]
    column = goal.steps_column()
    if len(met) and column in met.columns:
        return int(met.assign(_s=met[column].astype(float)).sort_values(["_s", "lr"]).index[0])
    if len(met):
        return int(met.sort_values("lr").index[0])
    return int(score(runs).sort_values(kind="stable").index[0])


@dataclass
class SmokeRuns:
    """What the suite computed: one row per planned run (``table``) and every run made
    (``runs``, the searched learning rates included), in ``runs.csv`` columns."""

    table: pd.DataFrame
    runs: pd.DataFrame
    configs: list[RunConfig]


def run_suite(planned: Sequence[Planned]) -> SmokeRuns:
    """Run every planned case in one ``run_many`` call; pick the searched learning rates."""
    import pandas as pd

    from optbench.chunks import by_family
    from optbench.engine import run_many
    from optbench.results import frames

    if not planned:
        raise OptbenchError("nothing to smoke-test: no optimizer, preset or problem selected")
    configs = [config for sweep in sweeps(planned) for config in sweep.expand()]
    groups = by_family(configs)  # one engine call per family
    runs = pd.concat([frames(group, run_many(group))[0] for group in groups], ignore_index=True)
    configs = [config for group in groups for config in group]
    keyed = runs.groupby(KEY, sort=False).groups
    rows = []
    for p in planned:
        index = keyed[(p.case.problem, p.optimizer, p.preset)]
        chosen = _pick(runs.loc[index], p.case.goal) if p.lr is None else index[0]
        row = runs.loc[chosen]
        value = row[p.case.goal.metric]
        rows.append(
            {
                "index": chosen,
                "lr_source": p.source,
                "converged": bool(p.case.goal.met(value)) and not bool(row["diverged"]),
                "goal": p.case.goal.describe(),
            }
        )
    extra = {k: [r[k] for r in rows] for k in ("lr_source", "converged", "goal")}
    table = runs.loc[[r["index"] for r in rows]].reset_index(drop=True).assign(**extra)
    return SmokeRuns(table=table, runs=runs, configs=configs)


def overview(table: pd.DataFrame) -> pd.DataFrame:
    """The suite at a glance: a row per optimizer × preset, a column per problem, each cell
    the steps to the goal @ lr (a search's pick included), ``✗ <value>`` or ``diverged``."""
    import pandas as pd

    cells = []
    for row in table.to_dict("records"):
        goal = _goals().get(row["problem"], Goal())
        steps = row.get(goal.steps_column())
        if row["diverged"]:
            cell = f"diverged @ {row['lr']:g}"
        elif not row["converged"]:
            cell = f"✗ {row[goal.metric]:.2g} @ {row['lr']:g}"
        elif steps is None or pd.isna(steps):  # a goal without a steps-to column
            cell = f"{row[goal.metric]:.2g} @ {row['lr']:g}"
        else:
            cell = f"{int(steps)} @ {row['lr']:g}"
        cells.append(cell)
    grid = table.assign(cell=cells).pivot(
        index=["optimizer", "preset"], columns="problem", values="cell"
    )
    rows = list(dict.fromkeys(zip(table["optimizer"], table["preset"], strict=True)))
    grid = grid.reindex(index=rows, columns=list(dict.fromkeys(table["problem"])))
    grid.columns.name = None
    return grid.reset_index()


def _goals() -> dict[str, Goal]:
    return {case.problem: case.goal for case in SMOKE_CASES}


def convergence_failures(table: pd.DataFrame) -> list[tuple[str, str]]:
    """(optimizer, line) per run that diverged or did not reach its goal within the budget."""
    failures = []
    for row in table[~table["converged"]].itertuples(index=False):
        where = f"{row.optimizer} ({row.preset}) on {row.problem} at lr {row.lr:g}"
        if row.diverged:
            line = f"DIVERGED: {where}: at step {row.diverged_step}"
        else:
            line = f"NOT CONVERGED: {where}: {row.goal} not reached in {row.steps} steps"
        failures.append((row.optimizer, line))
    return failures


def select_cases(problems: Sequence[str] | None) -> list[SmokeCase]:
    """The cases to run: all of ``SMOKE_CASES``, or those ``problems`` name — a case's name or
    problem, or any other surface or N-D problem (a user's own), which becomes a case of its
    own at the default budget and gap goal (so it needs a known f*)."""
    if not problems:
        return list(SMOKE_CASES)
    from optbench.problems import get_problem

    known = {c.name: c for c in SMOKE_CASES} | {c.problem: c for c in SMOKE_CASES}
    cases = []
    for text in problems:
        if text in known:
            cases.append(known[text])
            continue
        spec = get_problem(text)
        if spec.family == "network":
            raise OptbenchError(
                f"--problem {text}: networks are smoke-tested as xor and spirals only"
            )
        if spec.fstar is None:
            raise OptbenchError(
                f"--problem {text}: f* is unknown, so the smoke goal (a {GAP_GOAL:g} gap) "
                "cannot be judged"
            )
        cases.append(SmokeCase(spec.label, spec.label))
    return list({case.problem: case for case in cases}.values())  # each once


def select_optimizers(names: Sequence[str] | None) -> list[str]:
    """The optimizers to smoke-test: ``names`` (validated), or every registered one."""
    if not names:
        return list(all_optimizers())
    return [get_optimizer(n).name for n in dict.fromkeys(names)]


def select_presets(names: Sequence[str] | None) -> list[str]:
    if not names:
        return list(PRESETS)
    for name in names:
        if name not in PRESETS:
            raise unknown_name("preset", name, PRESETS)
    return list(dict.fromkeys(names))
