"""The explorer's grid: optimizers × learning rates × one more hyperparameter × start points.

The settings go through the same validation as ``optbench sweep`` (``SweepConfig.from_raw``)
and the paths come from the same engine ``optbench run`` uses (``engine.run_many``), every
step recorded, so what the page shows is what ``run`` computes. A grid can also be read back
from a finished run or sweep folder whose ``history.csv`` holds every step.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from optbench.config import SweepConfig
from optbench.errors import OptbenchError
from optbench.problems import get_problem

if TYPE_CHECKING:
    from optbench.config import RunConfig
    from optbench.explorer.networks import NetworkPlan

DEFAULT_PROBLEM = "bowl"
DEFAULT_OPTIMIZERS = ("sgd", "momentum", "adagrad", "rmsprop", "adam")
DEFAULT_LR = "1e-3..3:15"
DEFAULT_HP = {"momentum.momentum": "0,0.5,0.9,0.99", "adam.beta1": "0,0.5,0.9,0.99"}
"""The second slider of the default page: heavy-ball momentum and Adam's β1 side by side."""
DEFAULT_STEPS = 60
DEFAULT_STARTS = "7x7"
MAX_STARTS_SIDE = 40


@dataclass
class SliderGrid:
    """What both page kinds' sliders stand on: the problem, the optimizers, their lr values
    and the second hyperparameter each moves."""

    problem: str
    optimizers: list[str]
    lr: dict[str, list[float]]
    """Per optimizer its lr values, one per lr slider position (all the same length)."""
    second: dict[str, tuple[str, list[float]] | None]
    """Per optimizer the hyperparameter the second slider moves and its values, or None."""

    @property
    def n_lr(self) -> int:
        return len(self.lr[self.optimizers[0]])

    @property
    def n_second(self) -> int:
        return max([len(v[1]) for v in self.second.values() if v] or [1])


@dataclass
class SurfacePaths(SliderGrid):
    """Every path of the grid, flat, in page order: optimizer, lr index, hp index, start.

    An optimizer whose second hyperparameter is fixed has one hp index, not K copies.
    """

    starts: np.ndarray
    """(S, 2) start points; the page picks the one nearest a click."""
    first_start: int
    """The start the page shows first (the problem's classic one when it is in the grid)."""
    steps: int
    counts: np.ndarray = field(repr=False)
    """(P,) finite points recorded per path (the start is point 0)."""
    diverged: np.ndarray = field(repr=False)
    """(P,) the step at which each path diverged, -1 when it did not."""
    x: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)
    loss: np.ndarray = field(repr=False)
    """Concatenated per path, ``counts[p]`` values each."""


@dataclass
class ExplorePlan:
    """A validated grid, counted but not computed: what the budget check reads."""

    sweep: SweepConfig
    starts: np.ndarray
    first_start: int
    steps: int

    @property
    def runs_per_start(self) -> int:
        return sum(len(points) for points in self.sweep.points().values())

    @property
    def n_paths(self) -> int:
        return self.runs_per_start * len(self.starts)

    @property
    def max_points(self) -> int:
        """Every path at full length: the most points the page can hold."""
        return self.n_paths * (self.steps + 1)


def parse_starts(text: object) -> tuple[int, int]:
    """``"9x9"`` → (9, 9) columns × rows; ``"7"`` → (7, 7)."""
    match = re.fullmatch(r"\s*(\d+)\s*(?:[x×]\s*(\d+))?\s*", str(text))
    if not match:
        raise OptbenchError(f"starts '{text}' must look like 7x7 (columns x rows) or 7")
    cols = int(match.group(1))
    rows = int(match.group(2) or cols)
    if not (1 <= cols <= MAX_STARTS_SIDE and 1 <= rows <= MAX_STARTS_SIDE):
        raise OptbenchError(f"starts '{text}': each side must be 1 to {MAX_STARTS_SIDE}")
    return cols, rows


def start_grid(problem: str, cols: int, rows: int) -> tuple[np.ndarray, int]:
    """Cell centres of a cols × rows grid over the surface's window, plus its classic start
    (shown first), so the textbook path is always one of the choices."""
    spec = get_problem(problem)
    (x0, x1), (y0, y1) = spec.window
    xs = x0 + (np.arange(cols) + 0.5) * (x1 - x0) / cols
    ys = y0 + (np.arange(rows) + 0.5) * (y1 - y0) / rows
    grid = np.array([(x, y) for y in ys for x in xs], dtype=np.float64)
    classic = np.array([float(v) for v in spec.start], dtype=np.float64)
    return np.vstack([grid, classic]), len(grid)


def plan_explore(
    problem: str | None = None,
    optimizers: str | Sequence[str] | None = None,
    lr: object = None,
    hp: Mapping[str, object] | None = None,
    steps: object = None,
    starts: object = None,
    preset: str | None = None,
    bound: object = None,
    epochs: object = None,
) -> ExplorePlan | NetworkPlan:
    """Validate the explorer's settings (as ``sweep`` validates its own) without computing."""
    problem = DEFAULT_PROBLEM if problem is None else problem
    spec = get_problem(str(problem))
    if isinstance(optimizers, str):
        optimizers = [o.strip() for o in optimizers.split(",")]
    chosen = list(optimizers or DEFAULT_OPTIMIZERS)
    hp = DEFAULT_HP if hp is None and optimizers is None else dict(hp or {})
    lr = DEFAULT_LR if lr is None else lr
    if spec.family == "network":
        from optbench.explorer.networks import plan_network

        for name, value in (("steps", steps), ("starts", starts)):
            if value is not None:
                raise OptbenchError(f"--{name} is for 2-D surfaces; networks train for --epochs")
        return plan_network(spec.label, chosen, lr, hp, epochs, preset, bound)
    if spec.family != "surface":
        raise OptbenchError(f"explore shows surfaces and networks; '{problem}' is neither")
    if epochs is not None:
        raise OptbenchError("--epochs is for network problems; a surface path takes --steps")
    raw: dict[str, object] = {
        "problems": spec.label,
        "optimizers": chosen,
        "lr": lr,
        "hp": hp,
        "steps": DEFAULT_STEPS if steps is None else steps,
        "record_every": 1,
    }
    if preset is not None:
        raw["preset"] = preset
    if bound is not None:
        raw["bound"] = bound
    sweep = SweepConfig.from_raw(raw)
    if len(sweep.presets) != 1 or len(sweep.steps) != 1:
        raise OptbenchError("explore takes one preset and one number of steps")
    sliders(sweep)  # at most lr and one other axis per optimizer, of one length
    cols, rows = parse_starts(DEFAULT_STARTS if starts is None else starts)
    points, first = start_grid(spec.label, cols, rows)
    return ExplorePlan(sweep=sweep, starts=points, first_start=first, steps=sweep.steps[0])


def sliders(sweep: SweepConfig) -> tuple[dict[str, list[float]], dict]:
    """Per optimizer its lr values and the (name, values) of its second axis (or None).

    The page has two sliders, so each optimizer may vary lr and one other hyperparameter,
    every optimizer's lr list has one length and every second axis another."""
    lrs: dict[str, list[float]] = {}
    second: dict[str, tuple[str, list[float]] | None] = {}
    for name, axes in sweep.axes:
        varying = {h: sorted(v) for h, v in axes if len(v) > 1 and h != "lr"}  # as sliders
        if len(varying) > 1:
            raise OptbenchError(
                f"{name}: explore has one slider besides lr, but {', '.join(varying)} all vary "
                "(give one of them several values)"
            )
        given = dict(axes)
        lrs[name] = sorted(given.get("lr") or [sweep.points()[(name, sweep.presets[0])][0]["lr"]])
        second[name] = next(iter(varying.items()), None)
    lengths = {len(v) for v in lrs.values()}
    if len(lengths) > 1:
        raise OptbenchError("explore needs the same number of lr values for every optimizer")
    counts = {len(v[1]) for v in second.values() if v}
    if len(counts) > 1:
        raise OptbenchError(
            "the second slider needs as many values for every optimizer it moves; got "
            + ", ".join(f"{n}: {len(v[1])} {v[0]}" for n, v in second.items() if v)
        )
    return lrs, second


def ordered_runs(sweep: SweepConfig, starts: np.ndarray | None) -> list[RunConfig]:
    """Every run in page order: optimizer, lr, second hyperparameter, then (surfaces) start."""
    runs = sweep.expand()  # optimizer, then its grid in lr-major order, one start
    second = sliders(sweep)[1]
    ordered = []
    for name in sweep.optimizers:
        mine = [r for r in runs if r.optimizer == name]
        other = second[name][0] if second[name] else None
        mine.sort(key=lambda r, h=other: (r.lr, r.hp_dict[h] if h else 0.0))
        for run in mine:
            if starts is None:
                ordered.append(run)
            else:
                ordered += [replace(run, start=(float(x), float(y))) for x, y in starts]
    return ordered


def compute(plan: ExplorePlan) -> SurfacePaths:
    """Run every path of the plan with the engine ``optbench run`` uses, every step recorded."""
    from optbench.engine import run_many

    configs = ordered_runs(plan.sweep, plan.starts)
    output = run_many(configs)
    rows = output.rows
    xs, ys, losses = output.history["x"], output.history["y"], output.history["loss"]
    steps = output.history["step"]
    spec = get_problem(plan.sweep.problems[0])
    lrs, second = sliders(plan.sweep)
    counts = np.empty(len(configs), dtype=np.int64)
    diverged = output.metrics["diverged_step"].astype(np.int64)
    parts_x, parts_y, parts_v = [], [], []
    for r in range(len(configs)):
        n = int(rows[r])
        keep = np.isfinite(xs[r, :n]) & np.isfinite(ys[r, :n]) & np.isfinite(losses[r, :n])
        n = int(np.argmin(keep)) if not keep.all() else n  # finite points up to the first bad
        if not np.array_equal(steps[r, :n], np.arange(n)):
            raise AssertionError("explore records every step")  # record_every is 1
        counts[r] = n
        parts_x.append(xs[r, :n])
        parts_y.append(ys[r, :n])
        parts_v.append(losses[r, :n])
    return SurfacePaths(
        problem=spec.label,
        optimizers=list(plan.sweep.optimizers),
        lr=lrs,
        second=second,
        starts=plan.starts,
        first_start=plan.first_start,
        steps=plan.steps,
        counts=counts,
        diverged=diverged,
        x=np.concatenate(parts_x),
        y=np.concatenate(parts_y),
        loss=np.concatenate(parts_v),
    )


# --- a finished run or sweep folder -------------------------------------------------------

FIXED_COLUMNS = ("problem", "preset", "steps", "seed", "noise")
"""What must be one value over the folder's runs: the page has no slider for them."""


def paths_from_folder(folder: str | Path) -> SurfacePaths:
    """The grid a run or sweep folder holds, when its history has every step of every run.

    Its runs must make a full grid: the same lr count per optimizer, at most one other
    hyperparameter varying per optimizer, every combination run from every start."""
    from optbench.results import read_results

    runs, history, _ = read_results(folder)
    if "phase" in runs.columns:
        runs = runs[runs["phase"] == "grid"]
    if runs.empty:
        raise OptbenchError(f"'{folder}' holds no runs")
    if "family" in runs.columns and set(runs["family"]) != {"surface"}:
        raise OptbenchError(f"'{folder}': explore reads 2-D surface runs only")
    for column in FIXED_COLUMNS:
        if column in runs.columns and runs[column].nunique(dropna=False) > 1:
            values = ", ".join(map(str, sorted(runs[column].unique())[:4]))
            raise OptbenchError(
                f"'{folder}': its runs differ in {column} ({values}); explore shows one {column}"
            )
    spec = get_problem(str(runs["problem"].iloc[0]))
    hp_columns = [c for c in runs.columns if c.startswith("hp_") and c != "hp_lr"]
    optimizers = list(dict.fromkeys(runs["optimizer"]))
    starts_frame = runs[["start_x", "start_y"]].drop_duplicates()
    starts = starts_frame.to_numpy(dtype=np.float64)
    lrs: dict[str, list[float]] = {}
    second: dict[str, tuple[str, list[float]] | None] = {}
    order: list[str] = []
    for name in optimizers:
        mine = runs[runs["optimizer"] == name]
        varying = [c for c in hp_columns if mine[c].nunique() > 1]
        if len(varying) > 1:
            raise OptbenchError(
                f"'{folder}': {name} varies {', '.join(c[3:] for c in varying)}; "
                "explore has one slider besides lr"
            )
        lrs[name] = sorted(mine["lr"].unique().tolist())
        second[name] = None
        if varying:
            second[name] = (varying[0][3:], sorted(mine[varying[0]].unique().tolist()))
        for lr in lrs[name]:
            for value in second[name][1] if second[name] else [None]:
                at = mine[mine["lr"] == lr]
                if value is not None:
                    at = at[at[varying[0]] == value]
                for x, y in starts:
                    hit = at[(at["start_x"] == x) & (at["start_y"] == y)]
                    if len(hit) != 1:
                        raise OptbenchError(
                            f"'{folder}' is not a full grid: {name} lr={lr:g} from ({x:g}, {y:g}) "
                            f"has {len(hit)} runs, explore needs exactly one"
                        )
                    order.append(str(hit["run_id"].iloc[0]))
    if len({len(v) for v in lrs.values()}) > 1:
        raise OptbenchError(f"'{folder}': explore needs the same number of lr values per optimizer")
    if len({len(v[1]) for v in second.values() if v}) > 1:
        raise OptbenchError(f"'{folder}': the varying hyperparameters differ in length")
    return _paths_from_history(folder, runs, history, order, spec, optimizers, lrs, second, starts)


def _paths_from_history(folder, runs, history, order, spec, optimizers, lrs, second, starts):
    by_run = {run_id: rows for run_id, rows in history.groupby("run_id", sort=False)}
    steps = int(runs["steps"].iloc[0])
    counts, diverged, parts = [], [], []
    div_of = dict(zip(runs["run_id"], runs["diverged_step"], strict=True))
    for run_id in order:
        rows = by_run.get(run_id)
        if rows is None:
            raise OptbenchError(f"'{folder}': history.csv has no rows of run {run_id}")
        rows = rows.sort_values("step")
        step = rows["step"].to_numpy()
        if not np.array_equal(step, np.arange(len(step))):
            raise OptbenchError(
                f"'{folder}': history.csv does not hold every step of run {run_id} "
                "(rerun with --record-every 1)"
            )
        values = rows[["x", "y", "loss"]].to_numpy(dtype=np.float64)
        finite = np.isfinite(values).all(axis=1)
        n = len(values) if finite.all() else int(np.argmin(finite))
        counts.append(n)
        div = div_of[run_id]
        diverged.append(-1 if _missing(div) or div < 0 else int(div))
        parts.append(values[:n])
    data = np.concatenate(parts) if parts else np.empty((0, 3))
    return SurfacePaths(
        problem=spec.label,
        optimizers=optimizers,
        lr=lrs,
        second=second,
        starts=starts,
        first_start=0,
        steps=steps,
        counts=np.asarray(counts, dtype=np.int64),
        diverged=np.asarray(diverged, dtype=np.int64),
        x=data[:, 0],
        y=data[:, 1],
        loss=data[:, 2],
    )


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))
