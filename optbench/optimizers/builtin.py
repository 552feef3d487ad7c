"""The built-in optimizers: specs and defaults per convention (docs/optimizers.md).

Each spec names its kernel in ``optimizers/kernels.py`` by string so this module (and
``optbench list``) never imports numba. Variants such as ``momentum`` or ``adamw`` are one line:
the same kernel with other defaults.
"""

from __future__ import annotations

from optbench.optimizers.registry import Hyper, OptimizerSpec, register, variant

LR = Hyper("lr", "positive", "learning rate")
BETA1 = Hyper("beta1", "unit", "decay of the first-moment average")
BETA2 = Hyper("beta2", "unit", "decay of the second-moment average")
EPS = Hyper("eps", "positive", "added to the denominator for numerical safety")
WEIGHT_DECAY = Hyper("weight_decay", "nonnegative", "L2 penalty λ")
MOMENTUM = Hyper("momentum", "unit", "momentum factor μ")


def _flag(name: str, doc: str) -> Hyper:
    return Hyper(name, "flag", doc)


def _sgd_constraints(hp: dict[str, float]) -> str | None:
    if hp["nesterov"] and (hp["momentum"] <= 0 or hp["dampening"] != 0):
        return "nesterov=1 requires momentum > 0 and dampening = 0"
    if hp["keras_form"] and hp["dampening"] != 0:
        return "dampening has no meaning in the Keras velocity form (keras_form=1); set it to 0"
    return None


def _spec(name, kernel, hypers, torch, keras, **kw) -> OptimizerSpec:
    return OptimizerSpec(
        name=name,
        kernel=kernel,
        hypers=tuple(hypers),
        defaults={"torch": torch, "keras": {**torch, **keras}},
        **kw,
    )


SGD = _spec(
    "sgd",
    "sgd",
    [
        LR,
        MOMENTUM,
        Hyper("dampening", "closed_unit", "damping of the gradient entering the buffer"),
        _flag("nesterov", "use Nesterov momentum"),
        WEIGHT_DECAY,
        _flag("keras_form", "Keras velocity form v ← μv − lr·g (differs under lr schedules)"),
    ],
    torch={
        "lr": 1e-2,
        "momentum": 0.0,
        "dampening": 0.0,
        "nesterov": 0.0,
        "weight_decay": 0.0,
        "keras_form": 0.0,
    },
    keras={"keras_form": 1.0},
    slots=1,
    summary="plain gradient descent: θ ← θ − lr·g (tool default lr 1e-2; torch has none)",
    paper="Robbins & Monro 1951",
    constraint=_sgd_constraints,
)

MOMENTUM_SGD = variant(
    SGD,
    "momentum",
    "heavy-ball momentum: b ← μb + g, θ ← θ − lr·b",
    "Polyak 1964",
    torch={"momentum": 0.9},
    keras={"momentum": 0.9},
)
NESTEROV = variant(
    SGD,
    "nesterov",
    "Nesterov momentum: step along g + μb, a look-ahead",
    "Nesterov 1983; Sutskever et al. 2013",
    torch={"momentum": 0.9, "nesterov": 1.0},
    keras={"momentum": 0.9, "nesterov": 1.0},
)

ADAGRAD = _spec(
    "adagrad",
    "adagrad",
    [
        LR,
        Hyper("lr_decay", "nonnegative", "clr = lr/(1+(t−1)·lr_decay)"),
        Hyper("initial_accumulator", "nonnegative", "starting value of Σg²"),
        EPS,
        WEIGHT_DECAY,
        _flag("eps_inside", "ε inside the square root (Keras)"),
    ],
    torch={
        "lr": 1e-2,
        "lr_decay": 0.0,
        "initial_accumulator": 0.0,
        "eps": 1e-10,
        "weight_decay": 0.0,
        "eps_inside": 0.0,
    },
    keras={"lr": 1e-3, "initial_accumulator": 0.1, "eps": 1e-7, "eps_inside": 1.0},
    slots=1,
    summary="per-coordinate lr shrinking with the sum of squared gradients",
    paper="Duchi, Hazan & Singer 2011",
)

RMSPROP = _spec(
    "rmsprop",
    "rmsprop",
    [
        LR,
        Hyper("alpha", "unit", "decay of the mean square (Keras calls it rho)"),
        EPS,
        MOMENTUM,
        _flag("centered", "divide by the variance instead of the mean square"),
        WEIGHT_DECAY,
        _flag("eps_inside", "ε inside the square root (Keras)"),
    ],
    torch={
        "lr": 1e-2,
        "alpha": 0.99,
        "eps": 1e-8,
        "momentum": 0.0,
        "centered": 0.0,
        "weight_decay": 0.0,
        "eps_inside": 0.0,
    },
    keras={"lr": 1e-3, "alpha": 0.9, "eps": 1e-7, "eps_inside": 1.0},
    slots=3,
    summary="divide the step by a running RMS of the gradient",
    paper="Hinton, Coursera Neural Networks lecture 6e, 2012",
)

ADAM = _spec(
    "adam",
    "adam",
    [
        LR,
        BETA1,
        BETA2,
        EPS,
        WEIGHT_DECAY,
        _flag("amsgrad", "use the running maximum of v (AMSGrad)"),
        _flag("decoupled", "decoupled weight decay θ ← θ(1 − lr·λ) (AdamW)"),
        _flag("eps_hat", "Keras ε-hat form: αₜ = lr·√(1−β2ᵗ)/(1−β1ᵗ), ε added to √v"),
    ],
    torch={
        "lr": 1e-3,
        "beta1": 0.9,
        "beta2": 0.999,
        "eps": 1e-8,
        "weight_decay": 0.0,
        "amsgrad": 0.0,
        "decoupled": 0.0,
        "eps_hat": 0.0,
    },
    keras={"eps": 1e-7, "eps_hat": 1.0},
    slots=3,
    summary="momentum on g and RMS scaling on g², both bias-corrected",
    paper="Kingma & Ba 2015",
)
AMSGRAD = variant(
    ADAM,
    "amsgrad",
    "Adam with a non-decreasing second moment (the max of v)",
    "Reddi, Kale & Kumar 2018",
    torch={"amsgrad": 1.0},
    keras={"amsgrad": 1.0},
)
ADAMW = variant(
    ADAM,
    "adamw",
    "Adam with decoupled weight decay θ ← θ(1 − lr·λ)",
    "Loshchilov & Hutter 2019",
    torch={"decoupled": 1.0, "weight_decay": 1e-2},
    keras={"decoupled": 1.0, "weight_decay": 4e-3},
)

NADAM = _spec(
    "nadam",
    "nadam",
    [
        LR,
        BETA1,
        BETA2,
        EPS,
        Hyper("momentum_decay", "nonnegative", "ψ in μₜ = β1(1 − ½·0.96^(tψ)); Keras has ψ = 1"),
        WEIGHT_DECAY,
    ],
    torch={
        "lr": 2e-3,
        "beta1": 0.9,
        "beta2": 0.999,
        "eps": 1e-8,
        "momentum_decay": 4e-3,
        "weight_decay": 0.0,
    },
    keras={"lr": 1e-3, "eps": 1e-7, "momentum_decay": 1.0},
    slots=2,
    scalars=1,
    summary="Adam with a Nesterov look-ahead on the first moment",
    paper="Dozat 2016",
)

ADAMAX = _spec(
    "adamax",
    "adamax",
    [
        LR,
        BETA1,
        BETA2,
        EPS,
        WEIGHT_DECAY,
        _flag("eps_in_max", "ε inside the max, u ← max(β2u, |g| + ε) (torch)"),
    ],
    torch={
        "lr": 2e-3,
        "beta1": 0.9,
        "beta2": 0.999,
        "eps": 1e-8,
        "weight_decay": 0.0,
        "eps_in_max": 1.0,
    },
    keras={"lr": 1e-3, "eps": 1e-7, "eps_in_max": 0.0},
    slots=2,
    summary="Adam with the infinity norm: u ← max(β2u, |g|)",
    paper="Kingma & Ba 2015, Section 7",
)

ADADELTA = _spec(
    "adadelta",
    "adadelta",
    [LR, Hyper("rho", "unit", "decay of both running averages"), EPS, WEIGHT_DECAY],
    torch={"lr": 1.0, "rho": 0.9, "eps": 1e-6, "weight_decay": 0.0},
    keras={"lr": 1e-3, "rho": 0.95, "eps": 1e-7},
    slots=2,
    summary="units-correct steps: RMS of past updates over RMS of gradients",
    paper="Zeiler 2012",
)

LION = _spec(
    "lion",
    "lion",
    [LR, BETA1, BETA2, Hyper("weight_decay", "nonnegative", "decoupled decay λ")],
    torch={"lr": 1e-4, "beta1": 0.9, "beta2": 0.99, "weight_decay": 0.0},
    keras={"lr": 1e-3},
    slots=1,
    summary="step of fixed size along the sign of an interpolated momentum",
    paper="Chen et al. 2023, Symbolic Discovery of Optimization Algorithms",
)

for _spec_ in (
    SGD,
    MOMENTUM_SGD,
    NESTEROV,
    ADAGRAD,
    RMSPROP,
    ADAM,
    AMSGRAD,
    ADAMW,
    NADAM,
    ADAMAX,
    ADADELTA,
    LION,
):
    register(_spec_)
