"""Run configurations: what one run is, how user input becomes a validated list of them.

A ``RunConfig`` is frozen and fully resolved (every hyperparameter value, the start point), so
its ``run_id`` — a hash of its canonical JSON — names the same computation on every machine.
No numba or pandas here: validation happens before anything is compiled or computed.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass

from optbench.errors import OptbenchError, unknown_name
from optbench.optimizers import PRESETS, get_optimizer
from optbench.problems import get_problem
from optbench.problems.networks import NetworkOptions, resolve_network

DEFAULT_PROBLEM = "rosenbrock"
DEFAULT_STEPS = 1000
DEFAULT_BOUND = 1e6


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

    @property
    def lr(self) -> float:
        return self.hp[0][1]

    @property
    def hp_dict(self) -> dict[str, float]:
        return dict(self.hp)

    @property
    def run_id(self) -> str:
        """12 hex digits of the sha256 of the canonical JSON of everything that sets the numbers."""
        fields = asdict(self)
        if self.network is None:  # surface run_ids stay what they were before networks existed
            del fields["network"]
        payload = json.dumps(fields, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(payload.encode()).hexdigest()[:12]

    def to_dict(self) -> dict:
        fields = asdict(self)
        if self.network is None:
            del fields["network"]
        return {"run_id": self.run_id, **fields}


def parse_start(text: str) -> tuple[float, float]:
    """``"-7,2"`` → (-7.0, 2.0); anything else is a one-line error."""
    parts = [p.strip() for p in str(text).split(",")]
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != 2 or not all(math.isfinite(v) for v in values):
        raise OptbenchError(f"start '{text}' must be two finite numbers 'x,y', e.g. -7,2")
    return values  # type: ignore[return-value]


def split_hp_overrides(
    optimizers: Sequence[str], hp: Mapping[str, float] | None
) -> dict[str, dict[str, float]]:
    """Route ``{"beta1": .95, "adam.eps": 1e-7}`` to each optimizer that has that name.

    A bare name applies to every listed optimizer having it; ``opt.name`` to that one only.
    A name no listed optimizer has is an error (a typo must not be silently ignored).
    """
    routed: dict[str, dict[str, float]] = {name: {} for name in optimizers}
    for key, value in (hp or {}).items():
        target, _, hname = key.rpartition(".")
        if target:
            if target not in routed:
                raise OptbenchError(f"--hp {key}: '{target}' is not among the optimizers run")
            if hname not in get_optimizer(target).hyper_names:
                raise OptbenchError(
                    f"--hp {key}: {target} has no hyperparameter '{hname}' "
                    f"(it has {', '.join(get_optimizer(target).hyper_names)})"
                )
            routed[target][hname] = value
            continue
        takers = [o for o in optimizers if hname in get_optimizer(o).hyper_names]
        if not takers:
            raise OptbenchError(f"--hp {key}: no optimizer run here has a hyperparameter '{hname}'")
        for name in takers:
            routed[name][hname] = value
    return routed


def _positive_int(name: str, value: object, minimum: int = 1) -> int:
    """A whole number >= ``minimum`` from an int, an integral float or a numeric string."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number = math.nan
    if not number.is_integer():
        raise OptbenchError(f"{name}={value!r} must be a whole number")
    if number < minimum:
        raise OptbenchError(f"{name}={int(number)} must be >= {minimum}")
    return int(number)


def build_run_configs(
    optimizers: Iterable[str],
    problem: str = DEFAULT_PROBLEM,
    *,
    lr: float | Mapping[str, float] | None = None,
    hp: Mapping[str, float] | None = None,
    preset: str = "torch",
    steps: int | None = None,
    start: Sequence[float] | str | None = None,
    seeds: Iterable[int] = (0,),
    noise: float = 0.0,
    record_every: int = 1,
    bound: float = DEFAULT_BOUND,
    network: Mapping[str, object] | None = None,
) -> list[RunConfig]:
    """Validate user input and expand it to one ``RunConfig`` per optimizer × seed.

    ``lr`` is one value for all, a {optimizer: lr} mapping, or None for each default.
    ``network`` holds network choices (model, hidden, activation, loss, init, l2, epochs,
    batch_size; None values mean the problem's default); it is an error on a surface.
    """
    if get_problem(problem).family == "network":
        return build_network_configs(
            optimizers, problem, lr=lr, hp=hp, preset=preset, seeds=seeds,
            record_every=record_every, bound=bound, network=network, steps=steps,
            start=start, noise=noise,
        )  # fmt: skip
    given = sorted(k for k, v in (network or {}).items() if v is not None)
    if given:
        flags = ", ".join("--" + k.replace("_", "-") for k in given)
        raise OptbenchError(f"{flags}: network options; '{problem}' is a 2-D surface")
    optimizers = list(dict.fromkeys(optimizers))
    if not optimizers:
        raise OptbenchError("name at least one optimizer")
    if preset not in PRESETS:
        raise unknown_name("preset", preset, PRESETS)
    specs = {name: get_optimizer(name) for name in optimizers}
    surface = get_problem(problem)
    steps = _positive_int("steps", DEFAULT_STEPS if steps is None else steps)
    record_every = _positive_int("record_every", record_every)
    seeds = [_positive_int("seed", s, minimum=0) for s in seeds]
    if not math.isfinite(float(noise)) or float(noise) < 0:
        raise OptbenchError(f"noise={noise} must be a finite number >= 0")
    if not float(bound) > 0:
        raise OptbenchError(f"bound={bound} must be > 0")
    if start is None:
        start_point = tuple(float(v) for v in surface.start)
    elif isinstance(start, str):
        start_point = parse_start(start)
    else:
        start_point = parse_start(",".join(str(v) for v in start))

    lr_by_name: dict[str, float] = {}
    if isinstance(lr, Mapping):
        for name in lr:
            if name not in specs:
                raise OptbenchError(f"--lr {name}=...: '{name}' is not among the optimizers run")
        lr_by_name = dict(lr)
    elif lr is not None:
        lr_by_name = {name: lr for name in optimizers}
    routed = split_hp_overrides(optimizers, hp)

    configs = []
    for name, spec in specs.items():
        overrides = dict(routed[name])
        if name in lr_by_name:
            overrides["lr"] = lr_by_name[name]
        values = spec.resolve(preset, overrides)
        for seed in seeds:
            configs.append(
                RunConfig(
                    problem=surface.label,
                    optimizer=name,
                    preset=preset,
                    hp=tuple((k, values[k]) for k in spec.hyper_names),
                    seed=seed,
                    steps=steps,
                    start=start_point,
                    noise=float(noise),
                    record_every=record_every,
                    bound=float(bound),
                )
            )
    return configs


def build_network_configs(
    optimizers: Iterable[str],
    problem: str,
    *,
    lr: float | Mapping[str, float] | None = None,
    hp: Mapping[str, float] | None = None,
    preset: str = "torch",
    seeds: Iterable[int] = (0,),
    record_every: int = 1,
    bound: float = DEFAULT_BOUND,
    network: Mapping[str, object] | None = None,
    steps: int | None = None,
    start: object = None,
    noise: float = 0.0,
) -> list[RunConfig]:
    """One ``RunConfig`` per optimizer × seed on a network problem.

    ``steps`` is derived (epochs × batches per epoch), so passing it is an error, as are a
    start point and gradient noise (surface settings). The perceptron takes no optimizer: its
    learning rule is its own, and its only hyperparameter is ``lr`` (default 1).
    ``record_every`` counts epochs here.
    """
    spec = get_problem(problem)
    if steps is not None:
        raise OptbenchError("a network trains for --epochs, not --steps")
    if start is not None:
        raise OptbenchError(f"--start applies to 2-D surfaces; '{spec.name}' is a network")
    if noise:
        raise OptbenchError(
            f"--noise is gradient noise on surfaces; for noisier data use "
            f"--problem {spec.name}:noise=VALUE"
            if "noise" in spec.params
            else f"--noise applies to 2-D surfaces; '{spec.name}' is a network"
        )
    options = resolve_network(spec, **dict(network or {}))
    record_every = _positive_int("record_every", record_every)
    seeds = [_positive_int("seed", s, minimum=0) for s in seeds]
    if not float(bound) > 0:
        raise OptbenchError(f"bound={bound} must be > 0")
    if preset not in PRESETS:
        raise unknown_name("preset", preset, PRESETS)
    optimizers = list(dict.fromkeys(optimizers))
    if options.model == "perceptron":
        if optimizers and optimizers != ["perceptron"]:
            raise OptbenchError(
                "the perceptron learns by its own rule (w ← w + lr·(y − ŷ)·x), not by an "
                "optimizer: drop -o, or use --model mlp to compare optimizers"
            )
        if hp:
            raise OptbenchError("the perceptron's only hyperparameter is --lr")
        rate = lr.get("perceptron") if isinstance(lr, Mapping) else lr
        rate = spec.suggested_lr.get("perceptron", 1.0) if rate is None else float(rate)
        if not (math.isfinite(rate) and rate > 0):
            raise OptbenchError(f"perceptron: lr={rate:g} must be > 0")
        plan = {"perceptron": {"lr": rate}}
    else:
        optimizers = optimizers or ["adam"]
        if "perceptron" in optimizers:
            raise OptbenchError("'perceptron' is a model: use --model perceptron")
        specs = {name: get_optimizer(name) for name in optimizers}
        if isinstance(lr, Mapping):
            for name in lr:
                if name not in specs:
                    raise OptbenchError(
                        f"--lr {name}=...: '{name}' is not among the optimizers run"
                    )
        routed = split_hp_overrides(optimizers, hp)
        plan = {}
        for name, spec_o in specs.items():
            overrides = dict(routed[name])
            given = lr.get(name) if isinstance(lr, Mapping) else lr
            if given is None and name in spec.suggested_lr:
                given = spec.suggested_lr[name]
            if given is not None:
                overrides["lr"] = given
            values = spec_o.resolve(preset, overrides)
            plan[name] = {k: values[k] for k in spec_o.hyper_names}
    n_steps = spec.steps(options)
    return [
        RunConfig(
            problem=spec.label,
            optimizer=name,
            preset=preset,
            hp=tuple(values.items()),
            seed=seed,
            steps=n_steps,
            start=(),
            record_every=record_every,
            bound=float(bound),
            network=options,
        )
        for name, values in plan.items()
        for seed in seeds
    ]
