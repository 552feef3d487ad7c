"""Plain-NumPy reference of every update rule in docs/optimizers.md: the slow twin of each kernel.

Written straight from the equations of docs/optimizers.md (torch 2.x and Keras 3), line by line,
with no numba and no loops over coordinates, so each rule can be read against its section and
checked by eye. It deliberately shares no code with ``optbench/optimizers/builtin.py``: the tests
run both side by side and a disagreement means one of them does not say what the document says.

Each rule is ``rule(theta, g, state, hp, t) -> new theta``:

* ``hp`` is the same {name: value} dict that ``spec.resolve(preset, overrides)`` returns, so the
  tests feed one resolved dict to both sides. Formula flags (``keras_form``, ``eps_inside``,
  ``eps_hat``, ``eps_in_max``, ``amsgrad``, ``decoupled``, ``centered``) pick the convention.
* ``state`` is a dict of named arrays (``m``, ``v``, ``b`` ...) that the rule creates on step 1;
  names follow the document, not the kernel's flat layout.
* ``t`` is the 1-based step count.

``SPEC_DEFAULTS`` transcribes the defaults of both presets from the document, in optbench's
hyperparameter names, so a test can check the registry's presets against the document too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

Rule = Callable[[np.ndarray, np.ndarray, dict, Mapping[str, float], int], np.ndarray]


def _slot(state: dict, name: str, like: np.ndarray, start: float = 0.0) -> np.ndarray:
    """The state array ``name``, created as ``start`` everywhere before the first step."""
    if name not in state:
        state[name] = np.full_like(like, start, dtype=np.float64)
    return state[name]


def sgd(theta, g, state, hp, t):
    """Sections SGD, Momentum and Nesterov. Dampening and coupled λ are torch features; the
    Keras velocity form has neither (the tests use them with torch only)."""
    lr, mu, lam = hp["lr"], hp["momentum"], hp["weight_decay"]
    g = g + lam * theta  # coupled weight decay: g ← g + λθ
    if mu == 0:  # plain sgd: no buffer at all
        return theta - lr * g
    if hp["keras_form"]:
        # keras: v ← μv − lr·g; θ ← θ + v  (Nesterov: θ ← θ + μv − lr·g with the new v)
        v = mu * _slot(state, "v", theta) - lr * g
        state["v"] = v
        if hp["nesterov"]:
            return theta + mu * v - lr * g
        return theta + v
    # torch: b ← g at t = 1, else b ← μb + (1 − dampening)g
    if t == 1:
        b = g.copy()
    else:
        b = mu * state["b"] + (1 - hp["dampening"]) * g
    state["b"] = b
    if hp["nesterov"]:
        return theta - lr * (g + mu * b)  # θ ← θ − lr·(g + μb)
    return theta - lr * b  # θ ← θ − lr·b


def adagrad(theta, g, state, hp, t):
    """Section AdaGrad: torch (ε outside √, lr_decay) and keras (ε inside √)."""
    g = g + hp["weight_decay"] * theta
    clr = hp["lr"] / (1 + (t - 1) * hp["lr_decay"])  # clr = lr/(1+(t−1)·lr_decay)
    s = _slot(state, "s", theta, hp["initial_accumulator"]) + g**2  # s ← s + g²
    state["s"] = s
    if hp["eps_inside"]:
        return theta - clr * g / np.sqrt(s + hp["eps"])  # keras: θ ← θ − lr·g/√(s + ε)
    return theta - clr * g / (np.sqrt(s) + hp["eps"])  # torch: θ ← θ − clr·g/(√s + ε)


def rmsprop(theta, g, state, hp, t):
    """Section RMSProp. Keras's centered and momentum forms are torch's with ε inside the
    root (Keras 3 keeps lr inside its momentum buffer: the same numbers at a constant lr)."""
    alpha, eps, mu = hp["alpha"], hp["eps"], hp["momentum"]
    g = g + hp["weight_decay"] * theta
    v = alpha * _slot(state, "v", theta) + (1 - alpha) * g**2  # v ← αv + (1−α)g²
    state["v"] = v
    v_tilde = v
    if hp["centered"]:
        a = alpha * _slot(state, "a", theta) + (1 - alpha) * g  # a ← αa + (1−α)g
        state["a"] = a
        v_tilde = v - a**2  # ṽ = v − a²
    if hp["eps_inside"]:
        scaled = g / np.sqrt(v_tilde + eps)  # keras: g/√(ṽ + ε)
    else:
        scaled = g / (np.sqrt(v_tilde) + eps)  # torch: g/(√ṽ + ε)
    if mu == 0:
        return theta - hp["lr"] * scaled
    b = mu * _slot(state, "b", theta) + scaled  # b ← μb + g/(√ṽ + ε)
    state["b"] = b
    return theta - hp["lr"] * b


def adam(theta, g, state, hp, t):
    """Sections Adam, AMSGrad and AdamW."""
    lr, b1, b2, eps, lam = hp["lr"], hp["beta1"], hp["beta2"], hp["eps"], hp["weight_decay"]
    if hp["decoupled"]:
        # adamw: θ ← θ·(1 − lr·λ) (Keras writes θ − lr·λ·θ: the same up to one rounding)
        theta = theta * (1 - lr * lam)
    else:
        g = g + lam * theta
    m = b1 * _slot(state, "m", theta) + (1 - b1) * g  # m ← β1m + (1−β1)g
    v = b2 * _slot(state, "v", theta) + (1 - b2) * g**2  # v ← β2v + (1−β2)g²
    state["m"], state["v"] = m, v
    v_bar = v
    if hp["amsgrad"]:
        v_bar = np.maximum(_slot(state, "vmax", theta), v)  # vmax ← max(vmax, v)
        state["vmax"] = v_bar
    if hp["eps_hat"]:
        alpha_t = lr * np.sqrt(1 - b2**t) / (1 - b1**t)  # keras: αₜ = lr·√(1−β2ᵗ)/(1−β1ᵗ)
        return theta - alpha_t * m / (np.sqrt(v_bar) + eps)
    # torch: θ ← θ − (lr/(1−β1ᵗ))·m/(√v̄/√(1−β2ᵗ) + ε)
    return theta - (lr / (1 - b1**t)) * m / (np.sqrt(v_bar) / np.sqrt(1 - b2**t) + eps)


def nadam(theta, g, state, hp, t):
    """Section NAdam: torch ψ = momentum_decay; keras has no ψ factor (ψ = 1)."""
    lr, b1, b2, eps, psi = hp["lr"], hp["beta1"], hp["beta2"], hp["eps"], hp["momentum_decay"]
    g = g + hp["weight_decay"] * theta
    mu_t = b1 * (1 - 0.5 * 0.96 ** (t * psi))  # μₜ = β1(1 − ½·0.96^(tψ))
    mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))  # μₜ₊₁
    product = state.get("P", 1.0) * mu_t  # P ← P·μₜ, P₀ = 1
    state["P"] = product
    m = b1 * _slot(state, "m", theta) + (1 - b1) * g
    v = b2 * _slot(state, "v", theta) + (1 - b2) * g**2
    state["m"], state["v"] = m, v
    denom = np.sqrt(v / (1 - b2**t)) + eps  # √v̂ + ε with v̂ = v/(1−β2ᵗ)
    return (
        theta
        - lr * (1 - mu_t) / (1 - product) * g / denom
        - lr * mu_next / (1 - product * mu_next) * m / denom
    )


def adamax(theta, g, state, hp, t):
    """Section AdaMax: torch puts ε inside the max, keras next to u in the denominator."""
    lr, b1, b2, eps = hp["lr"], hp["beta1"], hp["beta2"], hp["eps"]
    g = g + hp["weight_decay"] * theta
    m = b1 * _slot(state, "m", theta) + (1 - b1) * g
    state["m"] = m
    if hp["eps_in_max"]:
        u = np.maximum(b2 * _slot(state, "u", theta), np.abs(g) + eps)  # u ← max(β2u, |g| + ε)
        state["u"] = u
        return theta - (lr / (1 - b1**t)) * m / u  # θ ← θ − (lr/(1−β1ᵗ))·m/u
    u = np.maximum(b2 * _slot(state, "u", theta), np.abs(g))  # keras: u ← max(β2u, |g|)
    state["u"] = u
    return theta - lr * m / ((1 - b1**t) * (u + eps))  # θ ← θ − lr·m/((1−β1ᵗ)(u+ε))


def adadelta(theta, g, state, hp, t):
    """Section AdaDelta: the same formula in both conventions."""
    lr, rho, eps = hp["lr"], hp["rho"], hp["eps"]
    g = g + hp["weight_decay"] * theta
    v = rho * _slot(state, "v", theta) + (1 - rho) * g**2  # v ← ρv + (1−ρ)g²
    u = _slot(state, "u", theta)
    delta = np.sqrt(u + eps) / np.sqrt(v + eps) * g  # Δ = √(u+ε)/√(v+ε)·g
    state["v"] = v
    state["u"] = rho * u + (1 - rho) * delta**2  # u ← ρu + (1−ρ)Δ²
    return theta - lr * delta  # θ ← θ − lr·Δ


def lion(theta, g, state, hp, t):
    """Section Lion (Chen et al. 2023): the weight decay is decoupled, inside the step."""
    lr, b1, b2, lam = hp["lr"], hp["beta1"], hp["beta2"], hp["weight_decay"]
    m = _slot(state, "m", theta)
    c = b1 * m + (1 - b1) * g  # c = β1m + (1−β1)g
    new_theta = theta - lr * (np.sign(c) + lam * theta)  # θ ← θ − lr·(sign(c) + λθ)
    state["m"] = b2 * m + (1 - b2) * g  # m ← β2m + (1−β2)g
    return new_theta


RULES: dict[str, Rule] = {
    "sgd": sgd,
    "momentum": sgd,
    "nesterov": sgd,
    "adagrad": adagrad,
    "rmsprop": rmsprop,
    "adam": adam,
    "amsgrad": adam,
    "adamw": adam,
    "nadam": nadam,
    "adamax": adamax,
    "adadelta": adadelta,
    "lion": lion,
}
"""Optimizer name → reference rule. ``momentum``/``nesterov`` are rows of the sgd rule and
``amsgrad``/``adamw`` of the adam rule; the hyperparameters pick the variant."""


class Reference:
    """A reference optimizer: a rule, its hyperparameters, its state and its step count."""

    def __init__(self, name: str, hp: Mapping[str, float]) -> None:
        self.rule = RULES[name]
        self.hp = dict(hp)
        self.state: dict = {}
        self.t = 0

    def step(self, theta: np.ndarray, grad: np.ndarray) -> np.ndarray:
        """One update; returns the new θ (the arguments are not modified)."""
        self.t += 1
        return self.rule(np.array(theta, dtype=np.float64), grad, self.state, self.hp, self.t)


_SGD = {"momentum": 0.0, "dampening": 0.0, "nesterov": 0.0, "weight_decay": 0.0}
_ADAM = {"beta1": 0.9, "beta2": 0.999, "weight_decay": 0.0, "amsgrad": 0.0, "decoupled": 0.0}

TORCH_DEFAULTS: dict[str, dict[str, float]] = {
    # The torch preset; coupled λ is 0 wherever the document does not give it.
    "sgd": {"lr": 1e-2, **_SGD, "keras_form": 0.0},
    "momentum": {"lr": 1e-2, **_SGD, "momentum": 0.9, "keras_form": 0.0},
    "nesterov": {"lr": 1e-2, **_SGD, "momentum": 0.9, "nesterov": 1.0, "keras_form": 0.0},
    "adagrad": {
        "lr": 1e-2,
        "lr_decay": 0.0,
        "initial_accumulator": 0.0,
        "eps": 1e-10,
        "eps_inside": 0.0,
    },
    "rmsprop": {
        "lr": 1e-2,
        "alpha": 0.99,
        "eps": 1e-8,
        "momentum": 0.0,
        "centered": 0.0,
        "eps_inside": 0.0,
    },
    "adam": {"lr": 1e-3, **_ADAM, "eps": 1e-8, "eps_hat": 0.0},
    # Adam's defaults with "amsgrad on"
    "amsgrad": {"lr": 1e-3, **_ADAM, "eps": 1e-8, "amsgrad": 1.0, "eps_hat": 0.0},
    "adamw": {
        "lr": 1e-3,
        **_ADAM,
        "eps": 1e-8,
        "weight_decay": 1e-2,
        "decoupled": 1.0,
        "eps_hat": 0.0,
    },
    "nadam": {"lr": 2e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "momentum_decay": 4e-3},
    "adamax": {"lr": 2e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "eps_in_max": 1.0},
    "adadelta": {"lr": 1.0, "rho": 0.9, "eps": 1e-6},
    "lion": {"lr": 1e-4, "beta1": 0.9, "beta2": 0.99},
}
for _row in TORCH_DEFAULTS.values():
    _row.setdefault("weight_decay", 0.0)

KERAS_CHANGES: dict[str, dict[str, float]] = {
    # The keras preset, where it differs from torch; formula differences become flags. The
    # ε of nadam and adamax is Keras 3's own default 1e-7 (as for adam).
    "sgd": {"keras_form": 1.0},
    "momentum": {"keras_form": 1.0},
    "nesterov": {"keras_form": 1.0},
    "adagrad": {"lr": 1e-3, "initial_accumulator": 0.1, "eps": 1e-7, "eps_inside": 1.0},
    "rmsprop": {"lr": 1e-3, "alpha": 0.9, "eps": 1e-7, "eps_inside": 1.0},
    "adam": {"eps": 1e-7, "eps_hat": 1.0},
    "amsgrad": {"eps": 1e-7, "eps_hat": 1.0},
    "adamw": {"weight_decay": 4e-3, "eps": 1e-7, "eps_hat": 1.0},
    "nadam": {"lr": 1e-3, "eps": 1e-7, "momentum_decay": 1.0},
    "adamax": {"lr": 1e-3, "eps": 1e-7, "eps_in_max": 0.0},
    "adadelta": {"lr": 1e-3, "rho": 0.95, "eps": 1e-7},
    "lion": {"lr": 1e-3},
}

SPEC_DEFAULTS: dict[str, dict[str, dict[str, float]]] = {
    "torch": TORCH_DEFAULTS,
    "keras": {name: {**row, **KERAS_CHANGES[name]} for name, row in TORCH_DEFAULTS.items()},
}
"""The defaults of docs/optimizers.md in optbench's hyperparameter names, per preset."""
