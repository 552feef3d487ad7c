"""Configurations: what one run is, what a sweep is, and how user input becomes them.

A ``RunConfig`` is frozen and fully resolved (every hyperparameter value, the start point), so
its ``run_id`` — a hash of its canonical JSON — names the same computation on every machine.
A ``SweepConfig`` is a grid: problems × presets × noise × steps × optimizers × hyperparameter
axes × seeds; ``expand()`` lists its runs in a fixed order. ``optbench run`` is the one-point
case of the same thing, so flags, TOML files and the API share one validation path.
No numba or pandas here: every value is checked before anything is compiled or computed.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import math
import operator
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace

from optbench import settings
from optbench.errors import OptbenchError, unknown_name
from optbench.families import get_family
from optbench.optimizers import PRESETS, Hyper, OptimizerSpec, get_optimizer
from optbench.problems import get_problem
from optbench.problems.networks import NetworkOptions, parse_hidden
from optbench.schedules import SCHEDULES, get_schedule, label
from optbench.schedules.specs import Value as ScheduleValue
from optbench.schedules.specs import check_parameter, takers
from optbench.settings import DEFAULT_BOUND, DEFAULT_PROBLEM, DEFAULT_STEPS

HISTORY_ROWS = 1000  # default record_every keeps about this many rows per run
SWEEP_HISTORY_ROWS = 100  # ... and per run of a sweep, where runs are many


@dataclass(frozen=True)
class RunConfig:
    """One run: an optimizer with resolved hyperparameters on a problem from a start."""

    problem: str
    optimizer: str
    preset: str
    hp: tuple[tuple[str, float], ...]
    seed: int
    steps: int
    start: tuple[float, ...]
    noise: float = 0.0
    record_every: int = 1
    bound: float = DEFAULT_BOUND
    network: NetworkOptions | None = None
    """How a network problem's model is built and trained; None for surfaces."""
    schedule: str = "constant"
    schedule_params: tuple[tuple[str, float | tuple[int, ...]], ...] = ()
    """The learning-rate schedule and every one of its parameters, resolved for this run."""

    @property
    def lr(self) -> float:
        return self.hp[0][1]

    @property
    def hp_dict(self) -> dict[str, float]:
        return dict(self.hp)

    @functools.cached_property
    def run_id(self) -> str:
        """12 hex digits of the sha256 of the canonical JSON of everything that sets the numbers
        (cached: a sweep asks for it many times, and the config never changes)."""
        fields = self._fields()
        payload = json.dumps(fields, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(payload.encode()).hexdigest()[:12]

    def _fields(self) -> dict:
        fields = {name: getattr(self, name) for name in self.__dataclass_fields__}
        if self.network is None:  # surface run_ids stay what they were before networks existed
            del fields["network"]
        else:
            fields["network"] = asdict(self.network)
        if self.schedule == "constant":  # ... and constant-lr ones as before schedules existed
            del fields["schedule"], fields["schedule_params"]
        return fields

    def to_dict(self) -> dict:
        return {"run_id": self.run_id, **self._fields()}


def parse_start(text: str) -> tuple[float, ...]:
    """``"-7,2"`` → (-7.0, 2.0): finite numbers, one per coordinate (or one for every
    coordinate); anything else is a one-line error. ``fit_start`` checks the count."""
    parts = [p.strip() for p in str(text).split(",")]
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        values = ()
    if not values or not all(math.isfinite(v) for v in values):
        raise OptbenchError(
            f"start '{text}' must be two finite numbers 'x,y', e.g. -7,2 (in N dimensions: "
            "d numbers, or one for every coordinate)"
        )
    return values


def fit_start(start: tuple[float, ...], problem: str) -> tuple[float, ...]:
    """``start`` checked against the dimension of ``problem``: x,y for a 2-D problem; d values,
    or one for every coordinate, in N-D (stored as given)."""
    dimension = get_problem(problem).dimension
    if dimension == 2 and len(start) != 2:  # a point on a picture: both coordinates, as always
        text = ",".join(f"{v:g}" for v in start)
        raise OptbenchError(f"start '{text}' must be two finite numbers 'x,y', e.g. -7,2")
    if len(start) not in (1, dimension):
        raise OptbenchError(
            f"start has {len(start)} values; '{problem}' has {dimension} coordinates "
            f"(give {dimension} values, or one for every coordinate)"
        )
    return start


Axis = tuple[float, ...]
SchedulePoint = tuple[str, tuple[tuple[str, "ScheduleValue"], ...]]
"""A schedule and the parameters the user gave it (the preset and the run fill in the rest)."""
Cell = tuple[str, str, float, int, str, "NetworkOptions | None", SchedulePoint]
Where = Callable[[str], str]


def _nowhere(key: str) -> str:
    return ""


def parse_axis(value: object, key: str, where: Where = _nowhere) -> Axis:
    """The values of one grid axis, each once (a repeated value would repeat identical runs).

    A number is a fixed value; a list is an axis; ``{log_space = [lo, hi], num = n}`` and
    ``{lin_space = [lo, hi], num = n}`` make n points; the flag forms are ``"0.1"``,
    ``"0.1,0.3"`` and ``"1e-4..1:13"`` (13 log-spaced points from 1e-4 to 1).
    """
    prefix = where(key)

    def bad(why: str) -> OptbenchError:
        return OptbenchError(f"{prefix}{key} = {value!r}: {why}")

    def number(item: object) -> float:
        if isinstance(item, bool):
            raise bad("true/false is not a number")
        try:
            result = float(item)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise bad(f"{item!r} is not a number") from None
        if not math.isfinite(result):
            raise bad("values must be finite")
        return result

    def spaced(kind: str, ends: object, num: object) -> Axis:
        if not isinstance(ends, list | tuple) or len(ends) != 2:
            raise bad(f"{kind} takes two end points [lo, hi]")
        lo, hi = number(ends[0]), number(ends[1])
        n = number(num)
        if not n.is_integer() or n < 1:
            raise bad("num must be a whole number >= 1")
        n = int(n)
        if n > MAX_AXIS:
            raise bad(f"num={n} values: at most {MAX_AXIS:,} per axis")
        if kind == "log_space":
            if lo <= 0 or hi <= 0:
                raise bad("log_space end points must be > 0")
            if n == 1:
                return (lo,)
            ratio = math.log(hi / lo) / (n - 1)
            return tuple(float(f"{lo * math.exp(ratio * i):.12g}") for i in range(n))
        if n == 1:
            return (lo,)
        return tuple(float(f"{lo + (hi - lo) * i / (n - 1):.12g}") for i in range(n))

    if isinstance(value, Mapping):
        kinds = [k for k in ("log_space", "lin_space") if k in value]
        extra = set(value) - {"log_space", "lin_space", "num"}
        if len(kinds) != 1 or "num" not in value or extra:
            raise bad("a grid table is {log_space = [lo, hi], num = n} or {lin_space = ...}")
        return spaced(kinds[0], value[kinds[0]], value["num"])
    if isinstance(value, str):
        text = value.strip()
        if ".." in text:
            ends, _, num = text.partition(":")
            lo, _, hi = ends.partition("..")
            if hi.startswith(".") or ".." in hi:
                raise bad("a range is LO..HI:N with two dots, e.g. 1e-4..1:13")
            return spaced("log_space", [lo, hi], num or "7")
        parts = text.split(",")
        if any(not part.strip() for part in parts):
            raise bad("an empty entry between commas")
        return tuple(dict.fromkeys(number(part) for part in parts))
    if isinstance(value, list | tuple):
        if not value:
            raise bad("an empty list makes an empty grid")
        return tuple(dict.fromkeys(number(item) for item in value))
    return (number(value),)


COMPACT_AXIS = 8
"""Axes at least this long are recorded by their rule when one makes them exactly."""


def compact_axis(values: Axis) -> list[float] | dict[str, object]:
    """``values`` as ``{log_space = [lo, hi], num = n}`` (or ``lin_space``) when that rule
    gives exactly these values, else as the list itself."""
    if len(values) >= COMPACT_AXIS:
        for kind in ("log_space", "lin_space"):
            rule = {kind: [values[0], values[-1]], "num": len(values)}
            try:
                if parse_axis(rule, "axis") == tuple(values):
                    return rule
            except OptbenchError:
                continue
    return list(values)


MAX_AXIS = 1_000_000
"""Values one axis may hold: more is a typo (``num = 1e9``), and would not fit in memory."""
MAX_RUNS = 1_000_000
"""Runs one sweep may plan: counted before any is made, so a huge grid fails in a moment."""

LARGEST = {
    "steps": 10**9,
    "record_every": 10**9,
    "epochs": 10**9,
    "batch_size": 10**9,
    "seeds": 2**63 - 1,
    "final_seeds": 2**63 - 1,
}
"""Upper bounds of whole-number settings: a seed is an int64 inside the engine, and so are a
network's steps (epochs × batches of up to 60,000 rows stay far below 2^63)."""


def _whole(key: str, value: object, where: Where, minimum: int = 1) -> int:
    """A whole number >= ``minimum`` (and <= ``LARGEST[key]``) from an int, an integral float
    or a numeric string, compared exactly (a float would round 2^63 − 2 up past the bound)."""
    number = _integer(value)
    if number is None:
        raise OptbenchError(f"{where(key)}{key}={value!r} must be a whole number")
    shown = value.strip() if isinstance(value, str) else number  # as typed: 1e30, not 10…656
    if number < minimum:
        raise OptbenchError(f"{where(key)}{key}={shown} must be >= {minimum}")
    largest = LARGEST.get(key)
    if largest is not None and number > largest:
        raise OptbenchError(f"{where(key)}{key}={shown} must be <= {largest:,}")
    return number


def _integer(value: object) -> int | None:
    """``value`` as an exact int (ints, numpy ints, ``"12"``, ``12.0``, ``"1e3"``), or None."""
    if isinstance(value, bool):
        return None
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        pass
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else None


def _seeds(key: str, value: object, where: Where, after: int = 0) -> tuple[int, ...]:
    """``5`` means five seeds (``after`` … ``after``+4); a list (or ``"3,7"``) names them."""
    if isinstance(value, str) and "," in value:
        value = _list(value)
    if isinstance(value, list | tuple):
        if not value:
            raise OptbenchError(f"{where(key)}{key} = []: an empty list makes an empty grid")
        return tuple(dict.fromkeys(_whole(key, v, where, minimum=0) for v in value))
    count = _whole(key, value, where)
    if count > 1_000_000:
        raise OptbenchError(f"{where(key)}{key}={count} seeds: at most 1,000,000 per sweep")
    if after + count - 1 > LARGEST[key]:  # counted on from the largest tuning seed
        raise OptbenchError(
            f"{where(key)}{key}={count} seeds from {after} would reach {after + count - 1}, past "
            f"the largest seed {LARGEST[key]:,}; use smaller seeds or list the {key}"
        )
    return tuple(range(after, after + count))


def _list(value: object) -> list:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return list(value) if isinstance(value, list | tuple) else [value]


SWEEP_KEYS = settings.PLAN
"""The keys of a sweep's grid and protocol (execution keys are the caller's business)."""
NETWORK_KEYS = settings.NETWORK

PERCEPTRON_RULE = OptimizerSpec(
    name="perceptron",
    kernel="sgd",
    hypers=(Hyper("lr", "positive", "learning rate"),),
    defaults={"torch": {"lr": 1.0}, "keras": {"lr": 1.0}},
    slots=1,
    summary="Rosenblatt's rule w ← w + lr·(y − ŷ)·x: the perceptron model's own learner",
    truth_table_lr=1.0,
)
"""Not a registered optimizer (it only makes sense for ``model = "perceptron"``), but it goes
through the same grid, validation and run_id machinery as one."""


def optimizer_spec(name: str) -> OptimizerSpec:
    return PERCEPTRON_RULE if name == "perceptron" else get_optimizer(name)


@dataclass(frozen=True)
class SweepConfig:
    """A grid of runs. Tuples throughout so it is hashable and its JSON is canonical."""

    problems: tuple[str, ...]
    optimizers: tuple[str, ...]
    axes: tuple[tuple[str, tuple[tuple[str, Axis], ...]], ...]  # optimizer → hp name → values
    presets: tuple[str, ...] = ("torch",)
    steps: tuple[int, ...] = (DEFAULT_STEPS,)
    seeds: tuple[int, ...] = (0,)
    noise: tuple[float, ...] = (0.0,)
    starts: tuple[tuple[str, tuple[float, ...]], ...] = ()  # problem label ("*" for all) → start
    record_every: int | None = None
    bound: float = DEFAULT_BOUND
    tune: tuple[str, ...] = ()
    final_seeds: tuple[int, ...] = ()
    network: tuple[tuple[str, tuple], ...] = ()
    """Network settings given, each an axis (name → values; the problem's defaults fill in)."""
    schedules: tuple[str, ...] = ("constant",)
    schedule_params: tuple[tuple[str, tuple], ...] = ()
    """Schedule parameters given, each an axis (name → values) for the schedules taking it."""
    history_rows: int = field(default=SWEEP_HISTORY_ROWS, compare=False)

    @classmethod
    def from_raw(
        cls,
        raw: Mapping[str, object],
        where: Where = _nowhere,
        history_rows: int = SWEEP_HISTORY_ROWS,
    ) -> SweepConfig:
        """Validate settings as the user wrote them (flags, TOML or keywords, by the names of
        ``optbench.settings``) and build the sweep.

        ``where(key)`` prefixes error messages with the key's origin, e.g. ``"fair.toml:7: "``.
        """
        raw = _flatten_network_table(
            {settings.canonical(key): value for key, value in raw.items()}, where
        )
        for key in raw:
            if key not in SWEEP_KEYS:
                raise OptbenchError(f"{where(key)}{unknown_name('key', key, SWEEP_KEYS).args[0]}")
        problems = tuple(
            dict.fromkeys(  # each problem once, however it was spelled
                _located(where, "problems", get_problem, str(p)).label
                for p in _list(raw.get("problems", DEFAULT_PROBLEM))
            )
        )
        if not problems:
            raise OptbenchError(f"{where('problems')}name at least one problem")
        network, models = _network_axes(raw, problems, where)
        per_optimizer, specs = _optimizers(raw, models, where)
        schedules, schedule_params = _schedule_axes(raw, where)
        presets = tuple(dict.fromkeys(str(p) for p in _list(raw.get("preset", "torch"))))
        for preset in presets:
            if preset not in PRESETS:
                raise OptbenchError(f"{where('preset')}{unknown_name('preset', preset, PRESETS)}")
        axes = _hyper_axes(raw, per_optimizer, specs, problems, presets[0], where)
        steps = tuple(
            dict.fromkeys(_whole("steps", v, where) for v in _list(raw.get("steps", DEFAULT_STEPS)))
        )
        noise = parse_axis(raw.get("noise", 0.0), "noise", where)
        if any(v < 0 for v in noise):
            raise OptbenchError(f"{where('noise')}noise={min(noise)} must be a finite number >= 0")
        seeds = _seeds("seeds", raw.get("seeds", 1), where)
        record_every = raw.get("record_every")
        if record_every is not None:
            record_every = _whole("record_every", record_every, where)
        bound = parse_axis(raw.get("bound", DEFAULT_BOUND), "bound", where)
        if len(bound) != 1 or not bound[0] > 0:
            raise OptbenchError(f"{where('bound')}bound={raw.get('bound')} must be one number > 0")
        tune, final_seeds = _protocol(raw, axes, seeds, where)
        sweep = cls(
            problems=problems,
            optimizers=tuple(specs),
            axes=tuple((name, tuple(axes[name].items())) for name in specs),
            presets=presets,
            steps=steps,
            seeds=seeds,
            noise=noise,
            starts=_starts(raw.get("start"), problems, where),
            record_every=record_every,
            bound=bound[0],
            tune=tune,
            final_seeds=final_seeds,
            network=network,
            schedules=schedules,
            schedule_params=schedule_params,
            history_rows=history_rows,
        )
        planned = sweep.run_count()
        if planned > MAX_RUNS:
            raise OptbenchError(
                f"{where('seeds')}the grid makes {planned:,} runs: at most {MAX_RUNS:,} per sweep "
                "(split it, or use fewer values or seeds)"
            )
        sweep.points(where)  # resolve every grid point once: impossible values fail now
        sweep._check_schedules(where)
        return sweep

    def schedule_points(self) -> list[SchedulePoint]:
        """Every schedule with every combination of the given parameters it takes."""
        given = dict(self.schedule_params)
        points: list[SchedulePoint] = []
        for name in self.schedules:
            own = [p for p in SCHEDULES[name].parameters if p in given]
            for values in itertools.product(*(given[p] for p in own)):
                points.append((name, tuple(zip(own, values, strict=True))))
        return points

    def _check_schedules(self, where: Where) -> None:
        """Resolve every schedule point for every preset and run length: a warm-up longer
        than a run fails before anything runs."""
        lengths = {cell[3] for cell in self.cells()}
        for name, given in self.schedule_points():
            for preset, steps in itertools.product(self.presets, sorted(lengths)):
                key = given[0][0] if given else "schedule"
                _located(where, key, SCHEDULES[name].resolve, preset, steps, dict(given))

    def points(self, where: Where = _nowhere) -> dict[tuple[str, str], list[dict[str, float]]]:
        """Resolved hyperparameters of every grid point, per (optimizer, preset); resolved once
        per config (a 10,000-point grid is asked for when checked and when expanded)."""
        if "_points" in self.__dict__:
            return self.__dict__["_points"]
        resolved = {}
        for name, named_axes in self.axes:
            spec = optimizer_spec(name)
            names = [h for h, _ in named_axes]
            for preset in self.presets:
                grid = []
                for values in itertools.product(*(v for _, v in named_axes)):
                    try:
                        grid.append(spec.resolve(preset, dict(zip(names, values, strict=True))))
                    except OptbenchError as exc:
                        key = f"optimizers.{name}" if names else "optimizers"
                        raise OptbenchError(f"{where(key)}{exc}") from None
                resolved[(name, preset)] = grid
        self.__dict__["_points"] = resolved  # not a field: asdict, sha256 and == ignore it
        return resolved

    def start_for(self, problem: str) -> tuple[float, ...]:
        """The start a run of ``problem`` is given: the user's, else a 2-D problem's own (kept
        in the run, as run_ids always had it), else () for an N-D problem's own start (d
        values need not live in every run's config)."""
        starts = dict(self.starts)
        chosen = starts.get(problem, starts.get("*"))
        if chosen is not None:
            return fit_start(chosen, problem)
        spec = get_problem(problem)
        return tuple(float(v) for v in spec.start) if spec.dimension == 2 else ()

    def network_options(self, problem: str) -> list[NetworkOptions | None]:
        """Every combination of the family's own settings (a network's model and training)
        the axes make for ``problem``, resolved by its family; [None] for a family without
        settings of its own (2-D surfaces)."""
        spec = get_problem(problem)
        own = settings.of_family(spec.family)
        if not own:
            return [None]
        axes = [(name, values) for name, values in self.network if name in own]
        names = [name for name, _ in axes]
        family = get_family(spec.family)
        return list(
            dict.fromkeys(
                family.options(spec, **dict(zip(names, values, strict=True)))
                for values in itertools.product(*(v for _, v in axes))
            )
        )

    def cells(self) -> list[Cell]:
        """(problem, preset, noise, steps, optimizer, network, schedule): what tuning picks one
        point for.

        Noise and steps are surface axes; a network's steps follow from its epochs, and each
        combination of its settings' values is a cell of its own, as is each schedule."""
        cells: list[Cell] = []
        schedules = self.schedule_points()
        for problem in self.problems:
            for options in self.network_options(problem):
                if options is None:
                    noise, steps = self.noise, self.steps
                else:
                    noise, steps = (0.0,), (get_problem(problem).steps(options),)
                cells += [
                    (problem, preset, v, n, name, options, schedule)
                    for preset, v, n, schedule, name in itertools.product(
                        self.presets, noise, steps, schedules, self.optimizers
                    )
                ]
        return cells

    def _runs(
        self, cell: Cell, hps: Iterable[dict[str, float]], seeds: Iterable[int]
    ) -> list[RunConfig]:
        problem, preset, noise, steps, name, options, (schedule, given) = cell
        names = optimizer_spec(name).hyper_names
        resolved = SCHEDULES[schedule].resolve(preset, steps, dict(given))
        if options is None:
            start = self.start_for(problem)
            record_every = self.record_every or max(1, steps // self.history_rows)
        else:  # networks record every k-th *epoch*, all of them by default
            start, record_every = (), self.record_every or 1
        return [
            RunConfig(
                problem=problem,
                optimizer=name,
                preset=preset,
                hp=tuple((k, hp[k]) for k in names),
                seed=seed,
                steps=steps,
                start=start,
                noise=noise,
                record_every=record_every,
                bound=self.bound,
                network=options,
                schedule=schedule,
                schedule_params=tuple(resolved.items()),
            )
            for hp in hps
            for seed in seeds
        ]

    def expand(self) -> list[RunConfig]:
        """Every run of the grid, in a fixed order (problem, network, preset, noise, steps,
        optimizer, hyperparameter point, seed), so chunks keep runs of one kernel group
        together."""
        points = self.points()
        return [
            run
            for cell in self.cells()
            for run in self._runs(cell, points[(cell[4], cell[1])], self.seeds)
        ]

    def final_runs(self, picked: Iterable[RunConfig]) -> list[RunConfig]:
        """Reruns of each cell's picked grid run on the fresh ``final_seeds`` (the tuning
        protocol): the same configuration, only the seed changes."""
        return [replace(run, seed=seed) for run in picked for seed in self.final_seeds]

    def run_count(self) -> int:
        """Runs of the grid plus the tuned reruns, counted without making them."""
        points = sum(
            math.prod(len(values) for _, values in named_axes) for _, named_axes in self.axes
        )
        conditions = len(self.cells()) // len(self.optimizers)  # cells per optimizer
        grid = conditions * points * len(self.seeds)
        return grid + conditions * len(self.optimizers) * len(self.final_seeds)

    def to_dict(self) -> dict:
        data = asdict(self)
        data.pop("history_rows")
        if self.schedules == ("constant",) and not self.schedule_params:
            del data["schedules"], data["schedule_params"]  # hashes as before schedules existed
        return data

    def to_record(self) -> dict:
        """``to_dict`` with every long grid axis written as the rule that makes it (the
        manifest records a 10,000-point lr grid as three numbers, not 340 KB of values);
        ``parse_axis`` reads a rule back to exactly the same values."""
        data = self.to_dict()
        data["axes"] = [
            [name, [[hname, compact_axis(values)] for hname, values in named_axes]]
            for name, named_axes in self.axes
        ]
        return data

    @functools.cached_property
    def sha256(self) -> str:
        payload = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(payload.encode()).hexdigest()

    def describe(self) -> str:
        """The plan in words: the grid and how many runs it makes."""
        lines = [f"problems   {', '.join(self.problems)}",
                 f"presets    {', '.join(self.presets)}   seeds {len(self.seeds)}"]  # fmt: skip
        if any(None in self.network_options(p) for p in self.problems):
            noise = ", ".join(f"{v:g}" for v in self.noise)
            lines.append(f"surfaces   noise {noise}   steps {', '.join(map(str, self.steps))}")
        for problem in self.problems:
            for options in self.network_options(problem):
                if options is not None:
                    hidden = "-".join(map(str, options.hidden)) or "none"
                    lines.append(
                        f"{problem:<10} {options.model} hidden {hidden} {options.activation}, "
                        f"{options.loss}, {options.epochs} epochs of batch {options.batch_size} "
                        f"({get_problem(problem).steps(options):,} steps)"
                    )
        if self.schedules != ("constant",):
            points = self.schedule_points()
            lines.append(
                f"schedules  {len(points)}: " + ", ".join(label(n, dict(g)) for n, g in points)
            )
        points = self.points()
        for name, named_axes in self.axes:
            grid = "  ".join(
                f"{h}: {len(v)} values [{min(v):g} … {max(v):g}]" if len(v) > 1 else f"{h}={v[0]:g}"
                for h, v in named_axes
            )
            count = len(points[(name, self.presets[0])])
            lines.append(f"{name:<10} {count} grid point(s)   {grid or 'defaults'}")
        reruns = len(self.cells()) * len(self.final_seeds)
        lines.append(f"runs       {self.run_count() - reruns:,}")
        if self.tune:
            lines[-1] += (
                f" to tune {', '.join(self.tune)}, then {reruns:,} reruns of the picks on fresh "
                f"seeds {self.final_seeds[0]}…{self.final_seeds[-1]}"
            )
        return "\n".join(lines)


def _optimizers(
    raw: Mapping[str, object], models: set[str], where: Where
) -> tuple[dict[str, object], dict[str, OptimizerSpec]]:
    """The optimizers named (a list, or a table of per-optimizer hyperparameters) and their
    specs; the perceptron model has its own learning rule and takes no optimizer."""
    table = raw.get("optimizers", "perceptron" if "perceptron" in models else "adam")
    if isinstance(table, Mapping):
        per_optimizer = {str(k): v for k, v in table.items()}
    else:
        per_optimizer = {str(name): {} for name in _list(table)}
    if not per_optimizer or "" in per_optimizer:
        raise OptbenchError(f"{where('optimizers')}name at least one optimizer (no empty name)")
    if "perceptron" in models and set(per_optimizer) != {"perceptron"}:
        raise OptbenchError(
            f"{where('optimizers')}the perceptron learns by its own rule "
            "(w ← w + lr·(y − ŷ)·x), not by an optimizer: drop -o, or use --model mlp to "
            "compare optimizers"
        )
    if "perceptron" in per_optimizer and "perceptron" not in models:
        raise OptbenchError(f"{where('optimizers')}'perceptron' is a model: use --model perceptron")
    own_key = isinstance(table, Mapping)
    specs = {
        name: _located(
            where, f"optimizers.{name}" if own_key else "optimizers", optimizer_spec, name
        )
        for name in per_optimizer
    }
    return per_optimizer, specs


def _hyper_axes(
    raw: Mapping[str, object],
    per_optimizer: Mapping[str, object],
    specs: Mapping[str, OptimizerSpec],
    problems: Sequence[str],
    preset: str,
    where: Where,
) -> dict[str, dict[str, Axis]]:
    """Per optimizer, the values of each hyperparameter given: shared (``lr``, ``hp``) or its
    own table; each value validated alone, so the error names the key that set it."""
    axes: dict[str, dict[str, Axis]] = {name: {} for name in specs}
    origin: dict[tuple[str, str], str] = {}  # (optimizer, hp) → the key that set it
    _route_shared(raw, specs, axes, origin, where)
    for name, own in per_optimizer.items():
        if not isinstance(own, Mapping):
            raise OptbenchError(
                f"{where(f'optimizers.{name}')}optimizers.{name} must be a table of hyperparameters"
            )
        for hname, value in own.items():
            key = f"optimizers.{name}.{hname}"
            if hname not in specs[name].hyper_names:
                known = specs[name].hyper_names
                error = unknown_name(f"hyperparameter of {name}", hname, known)
                raise OptbenchError(f"{where(key)}{error}")
            axes[name][hname] = parse_axis(value, key, where)
            origin[(name, hname)] = key
    if len(problems) == 1:  # a truth table suggests its lrs (sgd 1.0 learns XOR, 1e-2 barely)
        for name in specs:
            suggested = specs[name].suggested_lr(get_problem(problems[0]), preset)
            if "lr" not in axes[name] and suggested is not None:
                axes[name]["lr"] = (float(suggested),)
    for (name, hname), key in origin.items():
        hyper = specs[name].hypers[specs[name].hyper_names.index(hname)]
        for value in axes[name][hname]:
            try:
                hyper.validate(value, name)
            except OptbenchError as exc:
                raise OptbenchError(f"{where(key)}{exc}") from None
    return axes


def _protocol(
    raw: Mapping[str, object], axes: Mapping[str, Mapping[str, Axis]], seeds: tuple[int, ...],
    where: Where,
) -> tuple[tuple[str, ...], tuple[int, ...]]:  # fmt: skip
    """``tune`` (axes to pick the best point of) and the fresh ``final_seeds`` to judge it on."""
    tune = tuple(str(t) for t in _list(raw.get("tune", [])))
    for hname in tune:
        if not any(len(a.get(hname, ())) > 1 for a in axes.values()):
            raise OptbenchError(
                f"{where('tune')}tune = {hname!r}: no optimizer has a grid of {hname} values "
                f"to tune over (give e.g. {hname} = {{log_space = [1e-4, 1], num = 9}})"
            )
    if not tune:
        if "final_seeds" in raw:
            raise OptbenchError(f"{where('final_seeds')}final_seeds only makes sense with tune")
        return (), ()
    final_seeds = _seeds(
        "final_seeds", raw.get("final_seeds", len(seeds)), where, after=max(seeds) + 1
    )
    if set(final_seeds) & set(seeds):
        raise OptbenchError(
            f"{where('final_seeds')}final_seeds must be fresh: not among the tuning seeds"
        )
    return tune, final_seeds


def _flatten_network_table(raw: dict[str, object], where: Where) -> dict[str, object]:
    """A ``[network]`` table in a sweep file is a heading over the network settings: its keys
    are the same top-level settings (a flag of the same name wins over it)."""
    table = raw.pop("network", None)
    if table is None:
        return raw
    if not isinstance(table, Mapping):
        raise OptbenchError(f"{where('network')}network must be a table of model settings")
    for key, value in table.items():
        if key not in NETWORK_KEYS:
            raise OptbenchError(
                f"{where('network')}{unknown_name('network setting', key, NETWORK_KEYS)}"
            )
        raw.setdefault(key, value)
    return raw


def _hidden_axis(value: object) -> tuple[tuple[int, ...], ...]:
    """Architectures: ``64,32`` / ``[64, 32]`` is one (two layers); a list of several
    (``["16", "64x32"]``, ``[[16], [64, 32]]``, or the flag repeated) is an axis."""
    if isinstance(value, list | tuple) and any(isinstance(v, list | tuple | str) for v in value):
        return tuple(dict.fromkeys(parse_hidden(v) for v in value))
    return (parse_hidden(value),)


def _names_axis(key: str, value: object, where: Where) -> tuple[str, ...]:
    values = _list(value)
    if not values:
        raise OptbenchError(f"{where(key)}{key} = {value!r}: name at least one value")
    return tuple(dict.fromkeys(str(v) for v in values))


def _whole_axis(key: str, value: object, where: Where) -> tuple[int, ...]:
    values = _list(value)
    if not values:
        raise OptbenchError(f"{where(key)}{key} = {value!r}: give at least one value")
    return tuple(dict.fromkeys(_whole(key, v, where) for v in values))


AXIS_PARSERS: dict[str, Callable[[str, object, Where], tuple]] = {
    "names": _names_axis,
    "whole": _whole_axis,
    "numbers": lambda key, value, where: parse_axis(value, key, where),
    "architectures": lambda key, value, where: _located(where, key, _hidden_axis, value),
}
"""How a family's own settings are read as axes, by their declared ``kind``."""


def _network_axis(key: str, value: object, where: Where) -> tuple:
    """The values one of a family's settings takes (one value is an axis of one)."""
    return AXIS_PARSERS[settings.BY_NAME[key].kind](key, value, where)


def _network_axes(
    raw: Mapping[str, object], problems: Sequence[str], where: Where
) -> tuple[tuple[tuple[str, tuple], ...], set[str]]:
    """The network settings given (model, hidden, activation, ...), each an axis, checked
    against every network problem of the sweep; returns them in declaration order and the set
    of models they make."""
    axes = tuple(
        (key, _network_axis(key, raw[key], where))
        for key in NETWORK_KEYS
        if raw.get(key) is not None
    )
    networks = [p for p in problems if settings.of_family(get_problem(p).family)]
    surfaces = [p for p in problems if p not in networks]
    if axes and not networks:
        flags = ", ".join(settings.BY_NAME[k].flag for k, _ in axes)
        raise OptbenchError(
            f"{where(axes[0][0])}{flags}: network options; '{surfaces[0]}' is a 2-D surface"
        )
    names = [k for k, _ in axes]
    for problem in networks:  # every combination resolves: impossible ones fail before running
        spec = get_problem(problem)
        for values in itertools.product(*(v for _, v in axes)):
            given = dict(zip(names, values, strict=True))
            _located(where, names[0] if names else "network", get_family(spec.family).options,
                     spec, **given)  # fmt: skip
    models = set(dict(axes).get("model", ("mlp",))) if networks else set()
    if "perceptron" in models and (surfaces or len(models) > 1):
        other = "network problems only" if surfaces else "a sweep of its own (not mixed with mlp)"
        raise OptbenchError(f"{where('model')}the perceptron model needs {other}")
    if networks and not surfaces:
        surface_only = {
            "steps": "a network trains for --epochs, not --steps",
            "start": f"--start applies to 2-D surfaces; '{networks[0]}' is a network",
        }
        for key, why in surface_only.items():
            if raw.get(key) is not None:
                raise OptbenchError(f"{where(key)}{why}")
        if any(v != 0 for v in _list(raw.get("noise", 0.0))):
            raise OptbenchError(
                f"{where('noise')}--noise is gradient noise on 2-D surfaces; for noisier data use "
                f"--problem {get_problem(networks[0]).name}:noise=VALUE"
            )
    return axes, models


def _located(where: Where, key: str, function: Callable, *args: object, **kwargs: object):
    """``function(*args, **kwargs)``, with any user error prefixed by where ``key`` was written."""
    try:
        return function(*args, **kwargs)
    except OptbenchError as exc:
        raise OptbenchError(f"{where(key)}{exc}") from None


def _route_shared(
    raw: Mapping[str, object], specs: Mapping, axes: dict, origin: dict, where: Where
) -> None:
    """Top-level ``lr`` and ``hp`` (the flag forms) apply to every optimizer having the name;
    ``lr = {adam = ...}`` or ``hp = {"adam.beta1" = ...}`` to one. Unused names are errors."""
    shared: dict[str, tuple[str, object]] = {}  # key → (where it came from, value)
    if "lr" in raw:
        lr = raw["lr"]
        if isinstance(lr, Mapping) and not {"log_space", "lin_space"} & set(lr):
            shared.update({f"{name}.lr": ("lr", value) for name, value in lr.items()})
        else:
            shared["lr"] = ("lr", lr)
    hp = raw.get("hp", {})
    if not isinstance(hp, Mapping):
        raise OptbenchError(f"{where('hp')}hp must be a table of name = value")
    for key in hp:
        if key.rpartition(".")[2] == "lr" and "lr" in raw:
            raise OptbenchError(f"{where('hp')}lr is given twice: as lr (--lr) and as hp.{key}")
    shared.update({key: ("hp", value) for key, value in hp.items()})
    for key, (flag, value) in shared.items():
        target, _, hname = key.rpartition(".")
        if target:
            if target not in specs:
                raise OptbenchError(
                    f"{where(flag)}{key}: '{target}' is not among the optimizers run"
                )
            if hname not in specs[target].hyper_names:
                raise OptbenchError(
                    f"{where(flag)}{key}: {target} has no hyperparameter '{hname}' "
                    f"(it has {', '.join(specs[target].hyper_names)})"
                )
            takers = [target]
        else:
            takers = [name for name, spec in specs.items() if hname in spec.hyper_names]
            if not takers:
                raise OptbenchError(
                    f"{where(flag)}{key}: no optimizer run here has a hyperparameter '{hname}'"
                )
        source = "lr" if flag == "lr" else f"hp.{key}"
        values = parse_axis(value, source, where)
        for name in takers:
            if hname not in axes[name]:  # an optimizer's own table wins over the shared value
                axes[name][hname] = values
                origin[(name, hname)] = source


def _schedule_axes(
    raw: dict[str, object], where: Where
) -> tuple[tuple[str, ...], tuple[tuple[str, tuple], ...]]:
    """The schedules named and the values of each schedule parameter given, as a setting
    (``gamma = 0.5``, ``--gamma``) or among the hyperparameters (``--hp gamma=0.5``, which
    is taken out of ``hp`` here: a schedule parameter applies to every optimizer)."""
    schedules = tuple(
        _located(where, "schedule", get_schedule, name).name
        for name in _names_axis("schedule", raw.get("schedule", "constant"), where)
    )
    hp = raw.get("hp")
    if isinstance(hp, Mapping):
        moved = {k: v for k, v in hp.items() if k.rpartition(".")[2] in settings.SCHEDULE}
        for key, value in moved.items():
            target, _, name = key.rpartition(".")
            if target:
                raise OptbenchError(
                    f"{where('hp')}hp.{key}: {name} is a schedule parameter, the same for every "
                    f"optimizer: give {name}={value} without '{target}.'"
                )
            if name in raw:
                raise OptbenchError(
                    f"{where('hp')}{name} is given twice: as {name} and as hp.{key}"
                )
            raw[name] = value
        raw["hp"] = {k: v for k, v in hp.items() if k not in moved}
    params = []
    for name in settings.SCHEDULE:
        if raw.get(name) is None:
            continue
        if not takers(name, schedules):
            known = ", ".join(n for n, spec in SCHEDULES.items() if name in spec.parameters)
            raise OptbenchError(
                f"{where(name)}{name}: no schedule run here takes it ({', '.join(schedules)}); "
                f"{known} do"
            )
        params.append((name, _schedule_values(name, raw[name], where)))
    return schedules, tuple(params)


def _schedule_values(name: str, value: object, where: Where) -> tuple:
    """The values of one schedule parameter (an axis); milestones are lists of updates, an
    axis of them a list of lists (or the flag repeated)."""
    if name == "milestones":
        many = isinstance(value, list | tuple) and any(
            isinstance(v, list | tuple | str) for v in value
        )
        values = list(value) if many else [value]  # type: ignore[arg-type]
    else:
        values = list(parse_axis(value, name, where))
    return tuple(dict.fromkeys(_located(where, name, check_parameter, name, v) for v in values))


def _starts(value: object, problems: Sequence[str], where: Where) -> tuple:
    """``start = "x,y"`` / ``[x, y]`` for every problem, or a table problem → point."""
    if value is None:
        return ()
    if isinstance(value, Mapping):
        starts = []
        for problem, point in value.items():
            label = get_problem(str(problem)).label
            if label not in problems:
                raise OptbenchError(f"{where('start')}start.{problem}: not among the problems run")
            starts.append((label, _located(where, "start", fit_start, _point(point, where), label)))
        return tuple(starts)
    point = _point(value, where)
    for problem in problems:
        if settings.of_family(get_problem(problem).family):
            continue  # a network takes no start: said where network settings are checked
        _located(where, "start", fit_start, point, problem)
    return (("*", point),)


def _point(value: object, where: Where) -> tuple[float, ...]:
    text = value if isinstance(value, str) else ",".join(str(v) for v in _list(value))
    try:
        return parse_start(text)
    except OptbenchError as exc:
        raise OptbenchError(f"{where('start')}{exc}") from None


def build_run_configs(**given: object) -> list[RunConfig]:
    """The runs of ``optbench run``: one per optimizer × seed, one value per setting.

    ``given`` maps setting names (``optbench.settings``) to values as the user wrote them;
    None means "not given". ``record_every`` unset keeps about ``HISTORY_ROWS`` history rows
    per run (every epoch for a network).
    """
    raw = {settings.canonical(k): v for k, v in given.items() if v is not None}
    for key in raw:
        setting = settings.BY_NAME.get(key)
        if setting is None or "run" not in setting.commands or setting.group == "execution":
            known = [s.name for s in settings.for_command("run") if s.group != "execution"]
            raise unknown_name("setting of run", key, known)
    problems = _list(raw.get("problems", DEFAULT_PROBLEM))
    if len(problems) != 1:
        raise OptbenchError("run takes one problem; use 'optbench sweep' for several")
    sweep = SweepConfig.from_raw(raw, history_rows=HISTORY_ROWS)
    grids = [name for name, axes in sweep.axes if any(len(v) > 1 for _, v in axes)]
    grids += [name for name, values in sweep.network if len(values) > 1]
    grids += [name for name, values in sweep.schedule_params if len(values) > 1]
    if grids or len(sweep.steps) > 1 or len(sweep.noise) > 1 or len(sweep.schedules) > 1:
        raise OptbenchError("run takes one value per setting; use 'optbench sweep' for grids")
    return sweep.expand()


def execution_settings(given: Mapping[str, object], where: Where = _nowhere) -> dict[str, object]:
    """Where runs execute (``executor``, ``scheduler``, ``workers``, ``data_dir``): checked
    here like every setting, kept out of a sweep's identity."""
    chosen: dict[str, object] = {}
    for key in settings.EXECUTION:
        value = given.get(key)
        if value is None:
            continue
        if key == "workers":
            chosen[key] = _whole(key, value, where)
        elif not isinstance(value, str | os.PathLike) or not str(value).strip():
            raise OptbenchError(f"{where(key)}{key} = {value!r} must be a non-empty string")
        else:
            chosen[key] = str(value)
    executor = chosen.get("executor", "local")
    if executor not in ("local", "dask"):
        raise OptbenchError(
            f"{where('executor')}{unknown_name('executor', executor, ('local', 'dask'))}"
        )
    return chosen
