"""The torch.optim / keras.optimizers line that computes what an optbench setting computes.

A framework constructor fixes the formula (Keras's ε inside the root, torch's buffer form ...)
and takes the numbers as arguments. So a setting has a framework line only when its formula
flags are the ones that framework hard-codes; otherwise the answer is None with the reason
(``eps_hat=1 is Keras's form``). This module holds only the names (which class, which
argument takes which hyperparameter); the rules themselves are docs/optimizers.md's.

Every argument is written out with the exact value (``repr`` of the float, so it reads back
bit for bit), except a switch that is off or a decay that is zero where the framework's own
default is that same off value (``amsgrad=False``, ``weight_decay=0``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

FRAMEWORK_PREFIX = {"torch": "torch.optim", "keras": "keras.optimizers"}
CODE_COLUMNS = {"torch": "torch_code", "keras": "keras_code"}
"""best.csv's columns holding each winner's framework line, by convention."""


@dataclass(frozen=True)
class Arg:
    """A constructor argument: its name, the hyperparameter(s) it takes, how it is written.

    ``kind``: ``number`` (one value), ``pair`` (``betas=(beta1, beta2)``) or ``switch`` (a
    0/1 flag written as a bool). ``off``: the framework's default when it means "off"; an
    argument at that value is left out.
    """

    name: str
    hypers: tuple[str, ...]
    kind: str = "number"
    off: float | None = None


@dataclass(frozen=True)
class Constructor:
    """A framework class and, for the hyperparameters it hard-codes, the values it needs."""

    cls: str
    args: tuple[Arg, ...]
    needs: Mapping[str, float] = field(default_factory=dict)
    why: Mapping[str, str] = field(default_factory=dict)
    """Per hyperparameter in ``needs``: what another ``{value}`` means (for the reason)."""


def _a(name: str, hyper: str = "", kind: str = "number", off: float | None = None) -> Arg:
    return Arg(name, (hyper or name,), kind, off)


_BETAS = Arg("betas", ("beta1", "beta2"), "pair")
_K_BETAS = (_a("beta_1", "beta1"), _a("beta_2", "beta2"))
_COUPLED = "weight_decay={value:g} is coupled here (g ← g + λθ), Keras's own is decoupled"
_NO_COUPLED_DECAY = {"weight_decay": _COUPLED}

_TORCH_SGD = Constructor(
    "SGD",
    (
        _a("lr"),
        _a("momentum", off=0.0),
        _a("dampening", off=0.0),
        _a("weight_decay", off=0.0),
        _a("nesterov", kind="switch", off=0.0),
    ),
    needs={"keras_form": 0.0},
    why={"keras_form": "keras_form=1 is Keras's velocity form"},
)
_KERAS_SGD = Constructor(
    "SGD",
    (_a("learning_rate", "lr"), _a("momentum", off=0.0), _a("nesterov", kind="switch", off=0.0)),
    needs={"keras_form": 1.0, "dampening": 0.0, "weight_decay": 0.0},
    why={"keras_form": "keras_form=0 is torch's buffer form", **_NO_COUPLED_DECAY},
)
_ADAM_ARGS = (_a("lr"), _BETAS, _a("eps"))
_TORCH_ADAM = (
    Constructor(
        "Adam",
        (*_ADAM_ARGS, _a("weight_decay", off=0.0), _a("amsgrad", kind="switch", off=0.0)),
        needs={"eps_hat": 0.0, "decoupled": 0.0},
        why={"eps_hat": "eps_hat=1 is Keras's ε-hat form"},
    ),
    Constructor(
        "AdamW",
        (*_ADAM_ARGS, _a("weight_decay"), _a("amsgrad", kind="switch", off=0.0)),
        needs={"eps_hat": 0.0, "decoupled": 1.0},
        why={"eps_hat": "eps_hat=1 is Keras's ε-hat form"},
    ),
)
_KERAS_ADAM_ARGS = (_a("learning_rate", "lr"), *_K_BETAS, _a("epsilon", "eps"))
_KERAS_ADAM = (
    Constructor(
        "Adam",
        (*_KERAS_ADAM_ARGS, _a("amsgrad", kind="switch", off=0.0)),
        needs={"eps_hat": 1.0, "decoupled": 0.0, "weight_decay": 0.0},
        why={"eps_hat": "eps_hat=0 is torch's bias correction", **_NO_COUPLED_DECAY},
    ),
    Constructor(
        "AdamW",
        (
            *_KERAS_ADAM_ARGS[:1],
            _a("weight_decay"),
            *_KERAS_ADAM_ARGS[1:],
            _a("amsgrad", kind="switch", off=0.0),
        ),
        needs={"eps_hat": 1.0, "decoupled": 1.0},
        why={"eps_hat": "eps_hat=0 is torch's bias correction"},
    ),
)

CONSTRUCTORS: dict[str, dict[str, tuple[Constructor, ...]]] = {
    "torch": {
        "sgd": (_TORCH_SGD,),
        "momentum": (_TORCH_SGD,),
        "nesterov": (_TORCH_SGD,),
        "adagrad": (
            Constructor(
                "Adagrad",
                (
                    _a("lr"),
                    _a("lr_decay", off=0.0),
                    _a("weight_decay", off=0.0),
                    _a("initial_accumulator_value", "initial_accumulator", off=0.0),
                    _a("eps"),
                ),
                needs={"eps_inside": 0.0},
                why={"eps_inside": "eps_inside=1 is Keras's ε inside the root"},
            ),
        ),
        "rmsprop": (
            Constructor(
                "RMSprop",
                (
                    _a("lr"),
                    _a("alpha"),
                    _a("eps"),
                    _a("weight_decay", off=0.0),
                    _a("momentum", off=0.0),
                    _a("centered", kind="switch", off=0.0),
                ),
                needs={"eps_inside": 0.0},
                why={"eps_inside": "eps_inside=1 is Keras's ε inside the root"},
            ),
        ),
        "adam": _TORCH_ADAM,
        "amsgrad": _TORCH_ADAM,
        "adamw": _TORCH_ADAM,
        "nadam": (
            Constructor(
                "NAdam",
                (
                    _a("lr"),
                    _BETAS,
                    _a("eps"),
                    _a("weight_decay", off=0.0),
                    _a("momentum_decay"),
                ),
            ),
        ),
        "adamax": (
            Constructor(
                "Adamax",
                (_a("lr"), _BETAS, _a("eps"), _a("weight_decay", off=0.0)),
                needs={"eps_in_max": 1.0},
                why={"eps_in_max": "eps_in_max=0 is Keras's ε added to u"},
            ),
        ),
        "adadelta": (
            Constructor("Adadelta", (_a("lr"), _a("rho"), _a("eps"), _a("weight_decay", off=0.0))),
        ),
    },
    "keras": {
        "sgd": (_KERAS_SGD,),
        "momentum": (_KERAS_SGD,),
        "nesterov": (_KERAS_SGD,),
        "adagrad": (
            Constructor(
                "Adagrad",
                (
                    _a("learning_rate", "lr"),
                    _a("initial_accumulator_value", "initial_accumulator"),
                    _a("epsilon", "eps"),
                ),
                needs={"eps_inside": 1.0, "lr_decay": 0.0, "weight_decay": 0.0},
                why={
                    "eps_inside": "eps_inside=0 is torch's ε outside the root",
                    "lr_decay": "lr_decay={value:g}: Keras has no lr_decay",
                    **_NO_COUPLED_DECAY,
                },
            ),
        ),
        "rmsprop": (
            Constructor(
                "RMSprop",
                (
                    _a("learning_rate", "lr"),
                    _a("rho", "alpha"),
                    _a("momentum", off=0.0),
                    _a("epsilon", "eps"),
                    _a("centered", kind="switch", off=0.0),
                ),
                needs={"eps_inside": 1.0, "weight_decay": 0.0},
                why={
                    "eps_inside": "eps_inside=0 is torch's ε outside the root",
                    **_NO_COUPLED_DECAY,
                },
            ),
        ),
        "adam": _KERAS_ADAM,
        "amsgrad": _KERAS_ADAM,
        "adamw": _KERAS_ADAM,
        "nadam": (
            Constructor(
                "Nadam",
                (_a("learning_rate", "lr"), *_K_BETAS, _a("epsilon", "eps")),
                needs={"momentum_decay": 1.0, "weight_decay": 0.0},
                why={
                    "momentum_decay": "momentum_decay={value:g}: Keras has none (it is 1)",
                    **_NO_COUPLED_DECAY,
                },
            ),
        ),
        "adamax": (
            Constructor(
                "Adamax",
                (_a("learning_rate", "lr"), *_K_BETAS, _a("epsilon", "eps")),
                needs={"eps_in_max": 0.0, "weight_decay": 0.0},
                why={"eps_in_max": "eps_in_max=1 is torch's ε inside the max", **_NO_COUPLED_DECAY},
            ),
        ),
        "adadelta": (
            Constructor(
                "Adadelta",
                (_a("learning_rate", "lr"), _a("rho"), _a("epsilon", "eps")),
                needs={"weight_decay": 0.0},
                why=_NO_COUPLED_DECAY,
            ),
        ),
        "lion": (
            Constructor(
                "Lion",
                (_a("learning_rate", "lr"), *_K_BETAS, _a("weight_decay", off=0.0)),
            ),
        ),
    },
}
"""Per convention and optimizer, the framework classes that can compute it (tried in order:
Adam, then AdamW for decoupled decay). An optimizer missing here has no such line."""


@dataclass(frozen=True)
class FrameworkLine:
    """The code reproducing a setting in one framework, or None and why there is none."""

    convention: str
    code: str | None
    reason: str = ""


def _value(arg: Arg, values: Mapping[str, float]) -> str:
    if arg.kind == "pair":
        return "(" + ", ".join(repr(float(values[h])) for h in arg.hypers) + ")"
    value = float(values[arg.hypers[0]])
    return str(value != 0.0) if arg.kind == "switch" else repr(value)


def _call(convention: str, constructor: Constructor, values: Mapping[str, float]) -> str:
    parts = ["params"] if convention == "torch" else []
    for arg in constructor.args:
        if arg.off is not None and float(values[arg.hypers[0]]) == arg.off:
            continue
        parts.append(f"{arg.name}={_value(arg, values)}")
    return f"{FRAMEWORK_PREFIX[convention]}.{constructor.cls}({', '.join(parts)})"


def framework_line(optimizer: str, convention: str, values: Mapping[str, float]) -> FrameworkLine:
    """``convention``'s constructor call computing ``optimizer`` at ``values`` (every
    hyperparameter, e.g. ``spec.resolve(preset)``), or None with the reason it cannot."""
    constructors = CONSTRUCTORS[convention].get(optimizer)
    if not constructors:
        where = FRAMEWORK_PREFIX[convention]
        return FrameworkLine(convention, None, f"{where} has no '{optimizer}'")
    for constructor in constructors:
        unmet = [k for k, v in constructor.needs.items() if float(values[k]) != v]
        if not unmet:
            return FrameworkLine(convention, _call(convention, constructor, values))
    first = constructors[0]
    unmet = [k for k, v in first.needs.items() if float(values[k]) != v]
    key = next((k for k in unmet if k in first.why), unmet[0])
    reason = first.why.get(key, "{key}={value:g}").format(key=key, value=float(values[key]))
    return FrameworkLine(convention, None, f"no {FRAMEWORK_PREFIX[convention]} line: {reason}")


def framework_lines(optimizer: str, values: Mapping[str, float]) -> dict[str, FrameworkLine]:
    """Both conventions' lines for one setting, by convention."""
    return {c: framework_line(optimizer, c, values) for c in FRAMEWORK_PREFIX}
