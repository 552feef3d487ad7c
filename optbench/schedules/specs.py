"""Learning-rate schedules as torch.optim.lr_scheduler and keras.optimizers.schedules define
them: names, parameters, defaults per preset, validation, and the row the engines read.

No numba here: ``optbench list schedules``, ``--help`` and config validation read specs only.
A schedule is applied by the engines through ``optbench.schedules.kernels.apply_schedule``,
which reads one float64 *row* per run (``schedule_row``): the schedule's index, the run's base
learning rate, where to cycle momentum, the preset's form and every parameter in a fixed slot.
One row layout for every schedule is what keeps each engine one compiled function.

The unit is the optimizer update and t counts from 1 as in the kernels; the frameworks count
the updates done *before* an update (``last_epoch`` of a scheduler stepped after every
``optimizer.step()``, Keras' ``optimizer.iterations``), so update t sees e = t − 1.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from optbench.errors import OptbenchError, unknown_name

# Slots of a schedule row (see ``schedule_row``); the kernels read these indices.
KIND, BASE_LR, MOMENTUM_INDEX, KERAS_FORM = range(4)
PARAMETERS = (
    "step_size", "gamma", "milestones", "staircase", "decay_rate", "decay_steps", "power",
    "min_lr", "warmup", "start_factor", "period", "t_mult", "m_mul", "pct_start", "div_factor",
    "final_div_factor", "cycle_momentum", "base_momentum", "max_momentum",
)  # fmt: skip
"""Every schedule parameter, each a setting of its own (``--gamma``, ``gamma = ...``)."""
SLOT = {name: 4 + i for i, name in enumerate(PARAMETERS) if name != "milestones"}
N_MILESTONES = 4 + len(PARAMETERS)
FIRST_MILESTONE = N_MILESTONES + 1
ROW_WIDTH = FIRST_MILESTONE  # a row's width without milestones

CONSTANT, STEP, MULTISTEP, EXPONENTIAL, INVERSE_TIME = range(5)
POLYNOMIAL, COSINE, WARMUP_COSINE, COSINE_RESTARTS, ONECYCLE = range(5, 10)

Value = float | tuple[int, ...]  # milestones are a tuple of update numbers


def _whole(value: Value) -> bool:
    return isinstance(value, float) and value.is_integer() and 1 <= value <= 1e15


UPDATE_COUNTS = ("step_size", "decay_steps", "warmup", "period")
"""Parameters that count updates (whole numbers)."""

CHECKS: dict[str, tuple[Callable[[Value], bool], str]] = {
    "step_size": (_whole, "must be a whole number of updates >= 1"),
    "decay_steps": (_whole, "must be a whole number of updates >= 1"),
    "warmup": (_whole, "must be a whole number of updates >= 1"),
    "period": (_whole, "must be a whole number of updates >= 1"),
    "gamma": (lambda v: v > 0, "must be > 0"),
    "decay_rate": (lambda v: v >= 0, "must be >= 0"),
    "power": (lambda v: v > 0, "must be > 0"),
    "min_lr": (lambda v: v >= 0, "must be >= 0"),
    "start_factor": (lambda v: 0 <= v <= 1, "must be in [0, 1]"),
    "t_mult": (lambda v: v >= 1, "must be >= 1"),
    "m_mul": (lambda v: v > 0, "must be > 0"),
    "pct_start": (lambda v: 0 < v < 1, "must be in (0, 1)"),
    "div_factor": (lambda v: v > 0, "must be > 0"),
    "final_div_factor": (lambda v: v > 0, "must be > 0"),
    "base_momentum": (lambda v: 0 <= v < 1, "must be in [0, 1)"),
    "max_momentum": (lambda v: 0 <= v < 1, "must be in [0, 1)"),
    "cycle_momentum": (lambda v: v in (0.0, 1.0), "must be 0 or 1"),
    "staircase": (lambda v: v in (0.0, 1.0), "must be 0 or 1"),
}
"""What each parameter's value must be; the message names the value given."""


@dataclass(frozen=True)
class ScheduleSpec:
    """One schedule: its parameters with defaults per preset, and what torch and Keras call it.

    A default may be a function of the run's number of updates (``steps``): a horizon that
    follows the run is what a user means by "cosine over the run".
    """

    name: str
    index: int
    summary: str
    formula: str
    torch: str
    keras: str
    defaults: Mapping[str, Mapping[str, Value | OfRun]]
    """preset → parameter → value, or how it follows from the run's updates."""
    differs: str = ""
    """Where torch's and Keras' definitions part, in words (empty: they agree)."""

    @property
    def parameters(self) -> tuple[str, ...]:
        return tuple(self.defaults["torch"])

    def resolve(self, preset: str, steps: int, given: Mapping[str, Value]) -> dict[str, Value]:
        """Every parameter of this schedule for a run of ``steps`` updates under ``preset``:
        the preset's defaults updated with the ``given`` ones this schedule takes, validated."""
        if preset not in self.defaults:
            raise unknown_name("preset", preset, self.defaults)
        values: dict[str, Value] = {}
        for name, default in self.defaults[preset].items():  # in order: a default may use
            value = given.get(name, default)  # the values before it (T − warmup)
            values[name] = check_parameter(name, value(steps, values) if callable(value) else value)
        self._check_together(values, steps, preset)
        return values

    def _check_together(self, values: Mapping[str, Value], steps: int, preset: str) -> None:
        where = f"schedule {self.name}"
        warmup = values.get("warmup")
        if warmup is not None and warmup >= steps:
            raise OptbenchError(
                f"{where}: warmup={warmup:g} must be fewer than the run's {steps:,} updates"
            )
        if values.get("base_momentum", 0.0) > values.get("max_momentum", 1.0):
            raise OptbenchError(
                f"{where}: base_momentum={values['base_momentum']:g} must be <= "
                f"max_momentum={values['max_momentum']:g}"
            )
        if self.index == ONECYCLE and values["decay_steps"] < steps:
            raise OptbenchError(
                f"{where}: decay_steps={values['decay_steps']:g} (OneCycleLR's total_steps) "
                f"must cover the run's {steps:,} updates"
            )
        if self.index == ONECYCLE and not values["pct_start"] * values["decay_steps"] > 1:
            raise OptbenchError(
                f"{where}: pct_start={values['pct_start']:g} of {values['decay_steps']:g} "
                "updates leaves no warm-up phase (pct_start × updates must exceed 1)"
            )
        t_mult = values.get("t_mult")
        if preset == "torch" and t_mult is not None and not float(t_mult).is_integer():
            raise OptbenchError(
                f"{where}: t_mult={t_mult:g} must be a whole number under the torch preset "
                "(CosineAnnealingWarmRestarts' T_mult); --preset keras takes any t_mult >= 1"
            )


def check_parameter(name: str, value: object) -> Value:
    """``value`` of schedule parameter ``name`` as a float (a tuple for milestones), or a
    one-line error naming it."""
    if name == "milestones":
        return parse_milestones(value)
    if isinstance(value, bool):
        raise OptbenchError(f"{name}={value!r} is not a number")
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise OptbenchError(f"{name}={value!r} is not a number") from None
    predicate, must = CHECKS[name]
    if not math.isfinite(number) or not predicate(number):
        raise OptbenchError(f"{name}={number:g} {must}")
    return number


def parse_milestones(value: object) -> tuple[int, ...]:
    """``"100,200"``, ``[100, 200]`` or ``(100, 200)``: update numbers, strictly increasing."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not items:
        raise OptbenchError(f"milestones={value!r} must be update numbers, e.g. 100,200")
    numbers = []
    for item in items:
        try:
            number = float(str(item).strip()) if not isinstance(item, bool) else math.nan
        except ValueError:
            number = math.nan
        if not (math.isfinite(number) and number.is_integer() and 1 <= number <= 1e15):
            raise OptbenchError(f"milestones={value!r}: {item!r} is not a whole number >= 1")
        numbers.append(int(number))
    if any(b <= a for a, b in itertools.pairwise(numbers)):
        shown = ",".join(map(str, numbers))
        raise OptbenchError(f"milestones={shown} must be strictly increasing")
    return tuple(numbers)


@dataclass(frozen=True)
class OfRun:
    """A default that follows the run's number of updates T (``text`` says how)."""

    text: str
    value: Callable[[int, Mapping[str, Value]], Value]
    """Of the run's updates and the parameters resolved before this one."""

    def __call__(self, steps: int, earlier: Mapping[str, Value]) -> Value:
        return self.value(steps, earlier)

    def __str__(self) -> str:
        return self.text


def _fraction(part: int) -> OfRun:
    """T // ``part`` updates (at least 1)."""
    return OfRun(f"T/{part}", lambda steps, _: float(max(1, steps // part)))


_run_length = OfRun("T", lambda steps, _: float(steps))
_milestones = OfRun(
    "T/2,3T/4", lambda steps, _: tuple(dict.fromkeys(max(1, steps * k // 4) for k in (2, 3)))
)
_after_warmup = OfRun(
    "T − warmup", lambda steps, earlier: float(max(1.0, steps - earlier["warmup"]))
)


def _same(**defaults: Value | OfRun) -> dict[str, dict]:
    return {"torch": dict(defaults), "keras": dict(defaults)}


def _preset(torch: Mapping, keras: Mapping, **shared: Value | OfRun) -> dict:
    return {"torch": {**shared, **torch}, "keras": {**shared, **keras}}


SPECS: tuple[ScheduleSpec, ...] = (
    ScheduleSpec(
        "constant", CONSTANT, "the learning rate never changes", "lr",
        "no scheduler", "a float learning_rate", _same(),
    ),
    ScheduleSpec(
        "step", STEP, "multiply by gamma every step_size updates",
        "lr·γ^⌊e/step_size⌋",
        "StepLR(step_size, gamma=0.1)",
        "ExponentialDecay(initial_learning_rate, decay_steps, decay_rate, staircase=True)",
        _same(step_size=_fraction(4), gamma=0.1),
    ),
    ScheduleSpec(
        "multistep", MULTISTEP, "multiply by gamma at each milestone",
        "lr·γ^(milestones passed)",
        "MultiStepLR(milestones, gamma=0.1)",
        "PiecewiseConstantDecay(boundaries, values)",
        _same(milestones=_milestones, gamma=0.1),
        differs="torch drops at e = milestone (bisect_right: e ≥ m counts), Keras one update "
        "later (step > boundary): the keras preset follows Keras",
    ),
    ScheduleSpec(
        "exponential", EXPONENTIAL, "multiply by gamma every step_size updates, smoothly",
        "lr·γ^(e/step_size) (staircase: ⌊e/step_size⌋)",
        "ExponentialLR(gamma): step_size = 1",
        "ExponentialDecay(initial_learning_rate, decay_steps, decay_rate, staircase=False)",
        _same(gamma=0.1, step_size=_run_length, staircase=0.0),
    ),
    ScheduleSpec(
        "inverse_time", INVERSE_TIME, "divide by 1 + decay_rate per step_size updates",
        "lr / (1 + decay_rate·e/step_size) (staircase: ⌊e/step_size⌋)",
        "none (LambdaLR; Adagrad's lr_decay is this with step_size 1)",
        "InverseTimeDecay(initial_learning_rate, decay_steps, decay_rate, staircase=False)",
        _same(decay_rate=1.0, step_size=_fraction(10), staircase=0.0),
    ),
    ScheduleSpec(
        "polynomial", POLYNOMIAL, "decay to min_lr along (1 − e/decay_steps)^power",
        "(lr − min_lr)·(1 − min(e, decay_steps)/decay_steps)^power + min_lr",
        "PolynomialLR(total_iters, power=1.0): min_lr = 0",
        "PolynomialDecay(initial_learning_rate, decay_steps, end_learning_rate=1e-4, power=1.0)",
        _preset({"min_lr": 0.0}, {"min_lr": 1e-4}, decay_steps=_run_length, power=1.0),
        differs="torch decays to 0, Keras to end_learning_rate (default 1e-4, an absolute lr)",
    ),
    ScheduleSpec(
        "cosine", COSINE, "half a cosine from lr down to min_lr over decay_steps",
        "min_lr + (lr − min_lr)·(1 + cos(π·e/decay_steps))/2",
        "CosineAnnealingLR(T_max, eta_min=0)",
        "CosineDecay(initial_learning_rate, decay_steps, alpha=0.0): alpha = min_lr/lr",
        _same(decay_steps=_run_length, min_lr=0.0),
        differs="past decay_steps torch's cosine rises again (its closed form is periodic), "
        "Keras stays at min_lr",
    ),
    ScheduleSpec(
        "warmup_cosine", WARMUP_COSINE, "linear warm-up over warmup updates, then cosine",
        "e < warmup: lr·(start_factor + (1 − start_factor)·e/warmup); "
        "then cosine over decay_steps from e − warmup",
        "SequentialLR([LinearLR(start_factor, total_iters=warmup), CosineAnnealingLR(T_max, "
        "eta_min)], milestones=[warmup])",
        "CosineDecay(initial_learning_rate=start_factor·lr, decay_steps, alpha, "
        "warmup_target=lr, warmup_steps=warmup)",
        _preset(
            {"start_factor": 1 / 3},
            {"start_factor": 0.0},
            warmup=_fraction(10),
            decay_steps=_after_warmup,
            min_lr=0.0,
        ),
        differs="the warm-up starts at LinearLR's start_factor 1/3 of lr in torch, at "
        "initial_learning_rate (0 in Keras' own example) in Keras; past the horizon as cosine",
    ),
    ScheduleSpec(
        "cosine_restarts", COSINE_RESTARTS, "cosine to min_lr, restarting (SGDR)",
        "periods period, period·t_mult, …; min_lr + (lr − min_lr)·m_mul^i·(1 + cos(π·e_i/T_i))/2",
        "CosineAnnealingWarmRestarts(T_0, T_mult=1, eta_min=0): m_mul = 1",
        "CosineDecayRestarts(initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, "
        "alpha=0.0)",
        _preset({"t_mult": 1.0}, {"t_mult": 2.0}, period=_fraction(4), m_mul=1.0, min_lr=0.0),
        differs="periods keep their length in torch (T_mult=1) and double in Keras (t_mul=2); "
        "Keras alone scales each restart's peak by m_mul",
    ),
    ScheduleSpec(
        "onecycle", ONECYCLE, "cosine up from lr/div_factor to lr, then down to its 1/1e4",
        "cosine from lr/div_factor to lr over pct_start of the run, then to "
        "lr/(div_factor·final_div_factor); momentum (or beta1) the other way",
        "OneCycleLR(max_lr=lr, total_steps, pct_start=0.3, div_factor=25, "
        "final_div_factor=1e4, cycle_momentum=True, base_momentum=0.85, max_momentum=0.95)",
        "none: Keras has no OneCycle; a LearningRateSchedule can only set the lr",
        _preset(
            {"cycle_momentum": 1.0},
            {"cycle_momentum": 0.0},
            decay_steps=_run_length,
            pct_start=0.3,
            div_factor=25.0,
            final_div_factor=1e4,
            base_momentum=0.85,
            max_momentum=0.95,
        ),
        differs="torch cycles momentum (or beta1) between max_momentum and base_momentum, "
        "opposite to the lr; Keras schedules only the lr, so the keras preset does not",
    ),
)  # fmt: skip

SCHEDULES: dict[str, ScheduleSpec] = {spec.name: spec for spec in SPECS}


def get_schedule(name: str) -> ScheduleSpec:
    """The spec of schedule ``name``; an unknown name is a one-line error suggesting one."""
    try:
        return SCHEDULES[name]
    except KeyError:
        raise unknown_name("schedule", name, SCHEDULES) from None


def takers(parameter: str, names: tuple[str, ...]) -> list[str]:
    """The schedules among ``names`` that take ``parameter``."""
    return [n for n in names if parameter in SCHEDULES[n].parameters]


MOMENTUM_NAMES = ("momentum", "beta1")
"""What OneCycleLR cycles: an optimizer's ``momentum``, else the first of its ``betas``."""


def schedule_row(
    name: str,
    values: Mapping[str, Value],
    preset: str,
    lr: float,
    hyper_names: tuple[str, ...],
) -> list[float]:
    """The float64 row ``apply_schedule`` reads for one run (milestones at the end)."""
    spec = SCHEDULES[name]
    milestones = tuple(values.get("milestones", ()))
    row = [0.0] * (FIRST_MILESTONE + len(milestones))
    row[KIND] = float(spec.index)
    row[BASE_LR] = float(lr)
    row[MOMENTUM_INDEX] = -1.0
    if values.get("cycle_momentum", 0.0):
        cycled = [hyper_names.index(n) for n in MOMENTUM_NAMES if n in hyper_names]
        row[MOMENTUM_INDEX] = float(cycled[0]) if cycled else -1.0
    row[KERAS_FORM] = 1.0 if preset == "keras" else 0.0
    for parameter, value in values.items():
        if parameter != "milestones":
            row[SLOT[parameter]] = float(value)  # type: ignore[arg-type]
    row[N_MILESTONES] = float(len(milestones))
    row[FIRST_MILESTONE:] = [float(m) for m in milestones]
    return row


def label(name: str, values: Mapping[str, Value]) -> str:
    """A short label for figures and tables: ``step (step_size=250, gamma=0.1)``."""
    if not values:
        return name

    def shown(value: Value) -> str:
        return ",".join(map(str, value)) if isinstance(value, tuple) else f"{value:g}"

    return f"{name} (" + ", ".join(f"{k}={shown(v)}" for k, v in values.items()) + ")"
