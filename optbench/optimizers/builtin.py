"""The built-in optimizers: each update rule (a kernel) beside its spec, defaults per convention.

Everything optbench knows about an optimizer is here: the kernel, its hyperparameters and
defaults (torch.optim 2.x and Keras 3, see docs/optimizers.md), the plot colour, the smoke
suite's learning rates and the truth-table learning rate. Variants such as ``momentum`` or
``adamw`` are one ``variant`` each: the same kernel with other defaults.

Every kernel has the signature ``update(theta, grad, state, hp, t)``: it updates ``theta`` in
place, reads ``grad`` (never writes it), keeps its memory in ``state`` (``slots`` arrays of
``n`` laid end to end, then scalar slots) and reads hyperparameters from ``hp`` in the order
its spec declares. ``t`` is the 1-based step; ``state`` is all zeros before step 1. Formula
flags (``eps_inside``, ``eps_hat``, ``keras_form`` ...) are entries of ``hp``, so
``--preset keras`` changes numbers, never the code path picked in Python.

The kernels are plain Python here; the registry jits each the first time a run needs it
(``OptimizerSpec.compiled``), so importing this module (``optbench list``) never imports numba.

Smoke learning rates (``smoke_lr``, per case of ``optbench/suites/smoke.py``) get every
optimizer within the case's goal in its budget with the torch preset; ``smoke_lr_keras`` lists
the measured exceptions where Keras 3's defaults need another. On the networks (xor, spirals)
they sit in the middle of the measured good range for both presets.
"""

from __future__ import annotations

import numpy as np

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


def sgd(theta, grad, state, hp, t):
    """SGD with optional (Nesterov) momentum; also serves ``momentum`` and ``nesterov``.

    hp: lr, momentum μ, dampening, nesterov, weight_decay λ, keras_form.

    torch:  g ← g + λθ;  b ← g at t=1, else b ← μb + (1−dampening)g;
            θ ← θ − lr·(g + μb) with nesterov, else θ ← θ − lr·b  (plain SGD when μ = 0)
    keras:  v ← μv − lr·g;  θ ← θ + v, or θ ← θ + μv − lr·g with nesterov (the new v).
            The two agree at constant lr and differ under a learning-rate schedule.
    Papers: Robbins & Monro 1951; Polyak 1964; Nesterov 1983, Sutskever et al. 2013.
    """
    lr, mu, damp, nesterov, wd, keras = hp[0], hp[1], hp[2], hp[3], hp[4], hp[5]
    for i in range(theta.size):
        g = grad[i] + wd * theta[i]
        if mu == 0.0:
            theta[i] -= lr * g
        elif keras != 0.0:
            v = mu * state[i] - lr * g
            state[i] = v
            if nesterov != 0.0:
                theta[i] += mu * v - lr * g
            else:
                theta[i] += v
        else:
            b = g if t == 1 else mu * state[i] + (1.0 - damp) * g
            state[i] = b
            if nesterov != 0.0:
                theta[i] -= lr * (g + mu * b)
            else:
                theta[i] -= lr * b


SGD = _spec(
    "sgd",
    sgd,
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
    color="#0072B2",
    smoke_lr={"bowl": 0.1, "rosenbrock": 0.03, "beale": 0.01, "xor": 1.0, "spirals": 0.3},
    truth_table_lr=1.0,
)

MOMENTUM_SGD = variant(
    SGD,
    "momentum",
    "heavy-ball momentum: b ← μb + g, θ ← θ − lr·b",
    "Polyak 1964",
    torch={"momentum": 0.9},
    keras={"momentum": 0.9},
    color="#E69F00",
    smoke_lr={"bowl": 0.03, "rosenbrock": 3e-3, "beale": 1e-3, "xor": 0.3, "spirals": 0.03},
    truth_table_lr=0.3,
)
NESTEROV = variant(
    SGD,
    "nesterov",
    "Nesterov momentum: step along g + μb, a look-ahead",
    "Nesterov 1983; Sutskever et al. 2013",
    torch={"momentum": 0.9, "nesterov": 1.0},
    keras={"momentum": 0.9, "nesterov": 1.0},
    color="#8C564B",
    smoke_lr={"bowl": 0.03, "rosenbrock": 3e-3, "beale": 1e-3, "xor": 0.3, "spirals": 0.03},
    truth_table_lr=0.3,
)


def adagrad(theta, grad, state, hp, t):
    """AdaGrad (Duchi, Hazan & Singer 2011): per-coordinate steps shrink with the summed g².

    hp: lr, lr_decay, initial_accumulator, eps, weight_decay, eps_inside.

    torch:  clr = lr/(1+(t−1)·lr_decay);  s ← s + g²;  θ ← θ − clr·g/(√s + ε)
            defaults lr 1e-2, initial_accumulator 0, ε 1e-10 (outside the root)
    keras:  s ← s + g²;  θ ← θ − lr·g/√(s + ε)
            defaults lr 1e-3, initial_accumulator 0.1, ε 1e-7 (inside the root)
    """
    lr, decay, init, eps, wd, inside = hp[0], hp[1], hp[2], hp[3], hp[4], hp[5]
    clr = lr / (1.0 + (t - 1) * decay)
    for i in range(theta.size):
        g = grad[i] + wd * theta[i]
        s = (init if t == 1 else state[i]) + g * g
        state[i] = s
        if inside != 0.0:
            theta[i] -= clr * g / np.sqrt(s + eps)
        else:
            theta[i] -= clr * g / (np.sqrt(s) + eps)


ADAGRAD = _spec(
    "adagrad",
    adagrad,
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
    color="#009E73",
    smoke_lr={"bowl": 0.3, "rosenbrock": 0.3, "beale": 0.3, "xor": 0.3, "spirals": 0.1},
    truth_table_lr=0.5,
)


def rmsprop(theta, grad, state, hp, t):
    """RMSProp (Hinton, Coursera lecture 6e, 2012): divide by a running RMS of the gradient.

    hp: lr, alpha (Keras: rho), eps, momentum μ, centered, weight_decay, eps_inside.
    state: v (mean g²), a (mean g, centered), b (momentum buffer).

    torch:  v ← αv + (1−α)g²;  ṽ = v, or v − a² with centered (a ← αa + (1−α)g);
            no momentum: θ ← θ − lr·g/(√ṽ + ε);  with μ: b ← μb + g/(√ṽ + ε), θ ← θ − lr·b
            defaults lr 1e-2, α 0.99, ε 1e-8 outside the root
    keras:  the same with ε inside the root, √(ṽ + ε); defaults lr 1e-3, ρ 0.9, ε 1e-7.
            (Keras applies lr inside its momentum buffer; identical at constant lr.)
    """
    lr, alpha, eps, mu, centered, wd, inside = hp[0], hp[1], hp[2], hp[3], hp[4], hp[5], hp[6]
    n = theta.size
    for i in range(n):
        g = grad[i] + wd * theta[i]
        v = alpha * state[i] + (1.0 - alpha) * g * g
        state[i] = v
        if centered != 0.0:
            a = alpha * state[n + i] + (1.0 - alpha) * g
            state[n + i] = a
            v = v - a * a
        if inside != 0.0:
            step = g / np.sqrt(v + eps)
        else:
            step = g / (np.sqrt(v) + eps)
        if mu != 0.0:
            b = mu * state[2 * n + i] + step
            state[2 * n + i] = b
            theta[i] -= lr * b
        else:
            theta[i] -= lr * step


RMSPROP = _spec(
    "rmsprop",
    rmsprop,
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
    color="#CC79A7",
    smoke_lr={"bowl": 0.01, "rosenbrock": 0.01, "beale": 3e-3, "xor": 0.03, "spirals": 3e-3},
    truth_table_lr=0.05,
)


def adam(theta, grad, state, hp, t):
    """Adam (Kingma & Ba 2015); also ``amsgrad`` (Reddi et al. 2018) and ``adamw`` (Loshchilov
    & Hutter 2019) by flags.

    hp: lr, beta1, beta2, eps, weight_decay λ, amsgrad, decoupled, eps_hat.
    state: m, v, vmax.

    torch:  decoupled: θ ← θ·(1 − lr·λ), else g ← g + λθ;
            m ← β1m + (1−β1)g;  v ← β2v + (1−β2)g²;  v̄ = v, or vmax ← max(vmax, v), v̄ = vmax;
            θ ← θ − (lr/(1−β1ᵗ))·m/(√v̄/√(1−β2ᵗ) + ε)          (Algorithm 1 of the paper)
    keras:  ε-hat form (before Section 2.1 of the paper), eps_hat = 1, ε 1e-7:
            αₜ = lr·√(1−β2ᵗ)/(1−β1ᵗ);  θ ← θ − αₜ·m/(√v̄ + ε);  AdamW λ default 0.004.
    """
    lr, b1, b2, eps, wd = hp[0], hp[1], hp[2], hp[3], hp[4]
    amsgrad, decoupled, eps_hat = hp[5], hp[6], hp[7]
    n = theta.size
    bc1 = 1.0 - b1**t
    bc2 = 1.0 - b2**t
    step_hat = lr * np.sqrt(bc2) / bc1
    step = lr / bc1
    root_bc2 = np.sqrt(bc2)
    for i in range(n):
        g = grad[i]
        if decoupled != 0.0:
            theta[i] *= 1.0 - lr * wd
        else:
            g += wd * theta[i]
        m = b1 * state[i] + (1.0 - b1) * g
        v = b2 * state[n + i] + (1.0 - b2) * g * g
        state[i] = m
        state[n + i] = v
        if amsgrad != 0.0:
            v = max(state[2 * n + i], v)
            state[2 * n + i] = v
        if eps_hat != 0.0:
            theta[i] -= step_hat * m / (np.sqrt(v) + eps)
        else:
            theta[i] -= step * m / (np.sqrt(v) / root_bc2 + eps)


ADAM = _spec(
    "adam",
    adam,
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
    color="#D62728",
    smoke_lr={"bowl": 0.1, "rosenbrock": 0.1, "beale": 0.1, "xor": 0.1, "spirals": 0.01},
    truth_table_lr=0.05,
)
AMSGRAD = variant(
    ADAM,
    "amsgrad",
    "Adam with a non-decreasing second moment (the max of v)",
    "Reddi, Kale & Kumar 2018",
    torch={"amsgrad": 1.0},
    keras={"amsgrad": 1.0},
    color="#7F3C8D",
    smoke_lr={"bowl": 0.1, "rosenbrock": 0.1, "beale": 0.1, "xor": 0.1, "spirals": 0.01},
    truth_table_lr=0.05,
)
ADAMW = variant(
    ADAM,
    "adamw",
    "Adam with decoupled weight decay θ ← θ(1 − lr·λ)",
    "Loshchilov & Hutter 2019",
    torch={"decoupled": 1.0, "weight_decay": 1e-2},
    keras={"decoupled": 1.0, "weight_decay": 4e-3},
    color="#F0C000",
    smoke_lr={"bowl": 0.1, "rosenbrock": 0.1, "beale": 0.1, "xor": 0.1, "spirals": 0.01},
    truth_table_lr=0.05,
)


def nadam(theta, grad, state, hp, t):
    """NAdam (Dozat 2016): Adam with a Nesterov look-ahead on the first moment.

    hp: lr, beta1, beta2, eps, momentum_decay ψ, weight_decay.  state: m, v, then P (μ-product).

    μₜ = β1(1 − ½·0.96^(tψ));  P ← P·μₜ (P₀ = 1);  m, v as Adam;  v̂ = v/(1−β2ᵗ);
    θ ← θ − lr(1−μₜ)/(1−P)·g/(√v̂+ε) − lr·μₜ₊₁/(1−P·μₜ₊₁)·m/(√v̂+ε)
    torch: ψ 4e-3, lr 2e-3, ε 1e-8 (torch keeps P in float32: it drifts ~3e-10 from this).
    keras: no ψ factor, i.e. ψ = 1 here; lr 1e-3, ε 1e-7.
    """
    lr, b1, b2, eps, psi, wd = hp[0], hp[1], hp[2], hp[3], hp[4], hp[5]
    n = theta.size
    mu = b1 * (1.0 - 0.5 * 0.96 ** (t * psi))
    mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
    product = (1.0 if t == 1 else state[2 * n]) * mu
    state[2 * n] = product
    bc2 = 1.0 - b2**t
    c_grad = lr * (1.0 - mu) / (1.0 - product)
    c_mom = lr * mu_next / (1.0 - product * mu_next)
    for i in range(n):
        g = grad[i] + wd * theta[i]
        m = b1 * state[i] + (1.0 - b1) * g
        v = b2 * state[n + i] + (1.0 - b2) * g * g
        state[i] = m
        state[n + i] = v
        denom = np.sqrt(v / bc2) + eps
        theta[i] -= c_grad * g / denom + c_mom * m / denom


NADAM = _spec(
    "nadam",
    nadam,
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
    color="#56B4E9",
    smoke_lr={"bowl": 0.1, "rosenbrock": 0.03, "beale": 0.03, "xor": 0.1, "spirals": 0.01},
    truth_table_lr=0.05,
)


def adamax(theta, grad, state, hp, t):
    """AdaMax (Kingma & Ba 2015, Section 7): Adam with the infinity norm.

    hp: lr, beta1, beta2, eps, weight_decay, eps_in_max.  state: m, u.

    torch:  u ← max(β2u, |g| + ε);  θ ← θ − (lr/(1−β1ᵗ))·m/u            (eps_in_max = 1)
    keras:  u ← max(β2u, |g|);  θ ← θ − lr·m/((1−β1ᵗ)(u + ε))           (eps_in_max = 0)
    """
    lr, b1, b2, eps, wd, in_max = hp[0], hp[1], hp[2], hp[3], hp[4], hp[5]
    n = theta.size
    bc1 = 1.0 - b1**t
    for i in range(n):
        g = grad[i] + wd * theta[i]
        m = b1 * state[i] + (1.0 - b1) * g
        state[i] = m
        if in_max != 0.0:
            u = max(b2 * state[n + i], abs(g) + eps)
            state[n + i] = u
            theta[i] -= (lr / bc1) * m / u
        else:
            u = max(b2 * state[n + i], abs(g))
            state[n + i] = u
            theta[i] -= lr * m / (bc1 * (u + eps))


ADAMAX = _spec(
    "adamax",
    adamax,
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
    color="#6B8E23",
    smoke_lr={"bowl": 0.1, "rosenbrock": 0.1, "beale": 0.1, "xor": 0.1, "spirals": 0.03},
    truth_table_lr=0.05,
)


def adadelta(theta, grad, state, hp, t):
    """AdaDelta (Zeiler 2012): steps scaled by the ratio of running RMS of updates and gradients.

    hp: lr, rho, eps, weight_decay.  state: v (mean g²), u (mean Δ²).

    v ← ρv + (1−ρ)g²;  Δ = √(u+ε)/√(v+ε)·g;  u ← ρu + (1−ρ)Δ²;  θ ← θ − lr·Δ
    torch: lr 1.0, ρ 0.9, ε 1e-6.   keras: the same formula, lr 1e-3, ρ 0.95, ε 1e-7.
    """
    lr, rho, eps, wd = hp[0], hp[1], hp[2], hp[3]
    n = theta.size
    for i in range(n):
        g = grad[i] + wd * theta[i]
        v = rho * state[i] + (1.0 - rho) * g * g
        state[i] = v
        delta = np.sqrt(state[n + i] + eps) / np.sqrt(v + eps) * g
        state[n + i] = rho * state[n + i] + (1.0 - rho) * delta * delta
        theta[i] -= lr * delta


ADADELTA = _spec(
    "adadelta",
    adadelta,
    [LR, Hyper("rho", "unit", "decay of both running averages"), EPS, WEIGHT_DECAY],
    torch={"lr": 1.0, "rho": 0.9, "eps": 1e-6, "weight_decay": 0.0},
    keras={"lr": 1e-3, "rho": 0.95, "eps": 1e-7},
    slots=2,
    summary="units-correct steps: RMS of past updates over RMS of gradients",
    paper="Zeiler 2012",
    color="#7F7F7F",
    smoke_lr={"bowl": 1.0, "rosenbrock": 0.3, "beale": 0.1, "xor": 3.0, "spirals": 1.0},
    # rho 0.95, eps 1e-7: at the torch lrs bowl ends at a 5e-2 gap (lr 1), rosenbrock at 1.9
    # (lr 0.3), beale at 12 (lr 0.1)
    smoke_lr_keras={"bowl": 1.5, "rosenbrock": 1.0, "beale": 0.3},
)


def lion(theta, grad, state, hp, t):
    """Lion (Chen et al. 2023, Symbolic Discovery of Optimization Algorithms): sign of a momentum.

    hp: lr, beta1, beta2, weight_decay (decoupled).  state: m.

    c = β1m + (1−β1)g;  θ ← θ − lr·(sign(c) + λθ);  m ← β2m + (1−β2)g
    torch convention (not in torch.optim): lr 1e-4.  keras: lr 1e-3.  Both β 0.9/0.99.
    """
    lr, b1, b2, wd = hp[0], hp[1], hp[2], hp[3]
    for i in range(theta.size):
        g = grad[i]
        c = b1 * state[i] + (1.0 - b1) * g
        theta[i] -= lr * (np.sign(c) + wd * theta[i])
        state[i] = b2 * state[i] + (1.0 - b2) * g


LION = _spec(
    "lion",
    lion,
    [LR, BETA1, BETA2, Hyper("weight_decay", "nonnegative", "decoupled decay λ")],
    torch={"lr": 1e-4, "beta1": 0.9, "beta2": 0.99, "weight_decay": 0.0},
    keras={"lr": 1e-3},
    slots=1,
    summary="step of fixed size along the sign of an interpolated momentum",
    paper="Chen et al. 2023, Symbolic Discovery of Optimization Algorithms",
    color="#17BECF",
    smoke_lr={"bowl": 0.01, "rosenbrock": 0.01, "beale": 3e-3, "xor": 0.03, "spirals": 3e-3},
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
