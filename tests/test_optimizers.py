"""Optimizer kernels against the plain-NumPy reference of docs/optimizers.md, and the registry.

The reference (tests/reference.py) is written from the document, not from the kernels, so every
comparison here checks a kernel against the document. Both sides get the same resolved
hyperparameter dict and the same gradient function. At defaults each side evaluates it at its
own θ (the whole closed loop is compared) and then again in lockstep, where both get the gradient
at the kernel's θ (see ``both_trajectories``).

Tolerance: rtol 1e-12 on every coordinate of every step. Coordinates of a trajectory may pass
through zero (Rosenbrock's x goes from −1.5 towards 1; quadratic coordinates drift across 0), and
there a rounding-level difference of ~1e-16·|θ| is a huge *relative* error, so comparisons also
allow an absolute 1e-12 times that step's largest |θ|. That is still tight: doubling ε inside
Keras AdaGrad's root (a ~5e-7 relative change of each step) fails these tests.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from reference import RULES, SPEC_DEFAULTS, Reference

import optbench
from optbench.errors import OptbenchError
from optbench.optimizers import PRESETS, all_optimizers, get_optimizer

RTOL = 1e-12
STEPS = 200
ROSENBROCK_START = (-1.5, 2.0)

OPTIMIZERS = all_optimizers()
CASES = [(name, preset) for name in OPTIMIZERS for preset in PRESETS]


def rosenbrock_grad(theta: np.ndarray, a: float = 1.0, b: float = 100.0) -> np.ndarray:
    """∇[(a − x)² + b(y − x²)²]."""
    x, y = theta
    return np.array([-2 * (a - x) - 4 * b * x * (y - x * x), 2 * b * (y - x * x)])


def rosenbrock(theta: np.ndarray, a: float = 1.0, b: float = 100.0) -> float:
    x, y = theta
    return (a - x) ** 2 + b * (y - x * x) ** 2


def _quadratic(n: int = 50, seed: int = 20240611) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A, b, θ₀ for f = ½ θᵀAθ − bᵀθ with A SPD (eigenvalues in about [0.1, 4.3])."""
    rng = np.random.default_rng(seed)
    m = rng.standard_normal((n, n))
    return m @ m.T / n + 0.1 * np.eye(n), rng.standard_normal(n), rng.standard_normal(n)


QUAD_A, QUAD_B, QUAD_START = _quadratic()


def quadratic_grad(theta: np.ndarray) -> np.ndarray:
    return QUAD_A @ theta - QUAD_B


def quadratic(theta: np.ndarray) -> float:
    return 0.5 * theta @ QUAD_A @ theta - QUAD_B @ theta


PROBLEMS = {
    "rosenbrock": (rosenbrock_grad, np.array(ROSENBROCK_START)),
    "quadratic": (quadratic_grad, QUAD_START),
}


def kernel_trajectory(spec, hp: dict, grad, start: np.ndarray, steps: int = STEPS) -> np.ndarray:
    """θ after each of ``steps`` updates of the jitted kernel, shape (steps, n)."""
    update = spec.compiled()
    theta = np.array(start, dtype=np.float64)
    state = np.zeros(spec.state_size(theta.size))
    hp_vector = np.array(spec.hp_vector(hp), dtype=np.float64)
    out = np.empty((steps, theta.size))
    with np.errstate(all="ignore"):  # a divergent run is compared too, NaN for NaN
        for t in range(1, steps + 1):
            update(theta, grad(theta), state, hp_vector, t)
            out[t - 1] = theta
    return out


def both_trajectories(name: str, spec, hp: dict, grad, start, lockstep: bool = False):
    """θ after each update of the kernel and of the NumPy reference, two (steps, n) arrays.

    Normally each side evaluates ``grad`` at its own θ. With ``lockstep`` both get the gradient
    at the kernel's θ, the same sequence: then a rounding difference cannot feed back into the
    path, which is what makes strongly oscillating runs (edge-of-stability RMSProp or Adam,
    where a 1-ulp difference grows ~1.3x per step) comparable at 1e-12.
    """
    update = spec.compiled()
    theta = np.array(start, dtype=np.float64)
    state = np.zeros(spec.state_size(theta.size))
    hp_vector = np.array(spec.hp_vector(hp), dtype=np.float64)
    ref = Reference(name, hp)
    ref_theta = theta.copy()
    kernel = np.empty((STEPS, theta.size))
    reference = np.empty((STEPS, theta.size))
    with np.errstate(all="ignore"):  # a divergent run is compared too, NaN for NaN
        for t in range(1, STEPS + 1):
            g = grad(theta)
            update(theta, g, state, hp_vector, t)
            ref_theta = ref.step(ref_theta, g if lockstep else grad(ref_theta))
            kernel[t - 1] = theta
            reference[t - 1] = ref_theta
    return kernel, reference


def assert_same_trajectory(kernel: np.ndarray, reference: np.ndarray, label: str) -> None:
    """rtol 1e-12 everywhere, plus atol 1e-12 times the step's own largest |θ| (module doc).

    Each step (row) is divided by a power of two just above its largest finite |θ| — exact in
    binary — so one ``assert_allclose(rtol=atol=1e-12)`` applies a per-step scale, and the huge
    values of a diverging run cannot loosen the check on its early steps. NaN must meet NaN.
    """
    magnitude = np.where(np.isfinite(reference), np.abs(reference), 0.0).max(axis=1)
    scale = np.exp2(np.ceil(np.log2(np.maximum(magnitude, np.finfo(float).tiny))))[:, None]
    np.testing.assert_allclose(
        kernel / scale, reference / scale, rtol=RTOL, atol=RTOL, err_msg=f"{label} (θ / {scale})"
    )


def _needs_reference(name: str) -> None:
    if name not in RULES:
        pytest.skip(f"'{name}' is a user optimizer: tests/reference.py has no rule for it")


def _compare(
    name: str, preset: str, problem: str, overrides: dict | None = None, lockstep: bool = False
) -> np.ndarray:
    spec = OPTIMIZERS[name]
    hp = spec.resolve(preset, overrides)
    grad, start = PROBLEMS[problem]
    kernel, reference = both_trajectories(name, spec, hp, grad, start, lockstep)
    label = f"{name} {preset} {problem} {overrides or ''} {'lockstep' if lockstep else ''}"
    assert_same_trajectory(kernel, reference, label)
    return kernel


# ---------------------------------------------------------------- test functions are right


@pytest.mark.parametrize(
    ("f", "grad", "theta"),
    [
        (rosenbrock, rosenbrock_grad, np.array(ROSENBROCK_START)),
        (rosenbrock, rosenbrock_grad, np.array([0.3, -0.7])),
        (quadratic, quadratic_grad, QUAD_START),
    ],
)
def test_test_gradients_match_central_differences(f, grad, theta):
    h = 1e-6
    numeric = np.array(
        [(f(theta + h * e) - f(theta - h * e)) / (2 * h) for e in np.eye(theta.size)]
    )
    np.testing.assert_allclose(grad(theta), numeric, rtol=1e-6, atol=1e-6)


def test_quadratic_is_spd():
    assert np.allclose(QUAD_A, QUAD_A.T)
    assert np.linalg.eigvalsh(QUAD_A).min() > 0.05


# ---------------------------------------------------------------- kernels vs reference


@pytest.mark.parametrize(("name", "preset"), CASES)
def test_kernel_matches_reference_on_rosenbrock(name, preset):
    """200 steps from (−1.5, 2) at the preset's defaults. The SGD family diverges there at its
    default lr 1e-2 (curvature ~1900 at the start): that run must blow up at the same step on
    both sides, and a run at a stable lr (divided by 10 until finite) must match throughout.
    Each run is compared with each side at its own θ, then again in lockstep."""
    _needs_reference(name)
    kernel = _compare(name, preset, "rosenbrock")
    _compare(name, preset, "rosenbrock", lockstep=True)
    lr = OPTIMIZERS[name].resolve(preset)["lr"]
    while not np.isfinite(kernel).all():
        lr /= 10
        assert lr > 1e-8, f"{name} {preset} diverges on Rosenbrock even at lr {lr * 10:g}"
        kernel = _compare(name, preset, "rosenbrock", {"lr": lr})
        _compare(name, preset, "rosenbrock", {"lr": lr}, lockstep=True)


@pytest.mark.parametrize(("name", "preset"), CASES)
def test_kernel_matches_reference_on_quadratic(name, preset):
    """200 steps on a random 50-dimensional SPD quadratic at the preset's defaults, each side at
    its own θ, then in lockstep."""
    _needs_reference(name)
    kernel = _compare(name, preset, "quadratic")
    _compare(name, preset, "quadratic", lockstep=True)
    assert np.isfinite(kernel).all()
    assert not np.array_equal(kernel[-1], QUAD_START), "the optimizer did not move"


VARIANTS = [
    ("sgd", "torch", {"momentum": 0.9, "dampening": 0.5}),
    ("sgd", "torch", {"weight_decay": 0.1}),
    ("sgd", "torch", {"momentum": 0.9, "nesterov": 1.0, "weight_decay": 0.05}),
    ("sgd", "keras", {"momentum": 0.5}),
    ("sgd", "keras", {"momentum": 0.5, "nesterov": 1.0}),
    ("momentum", "torch", {"dampening": 0.3}),
    ("momentum", "torch", {"weight_decay": 0.1}),
    ("nesterov", "torch", {"weight_decay": 0.1}),
    ("nesterov", "keras", {"momentum": 0.5}),
    ("adagrad", "torch", {"lr_decay": 0.1, "lr": 0.1}),
    ("adagrad", "torch", {"initial_accumulator": 0.5, "lr": 0.1}),
    ("adagrad", "torch", {"weight_decay": 0.1, "lr": 0.1}),
    ("adagrad", "torch", {"eps_inside": 1.0, "eps": 1e-2}),
    ("adagrad", "keras", {"lr_decay": 0.1, "lr": 0.1}),
    ("adagrad", "keras", {"eps_inside": 0.0, "eps": 1e-2}),
    ("rmsprop", "torch", {"centered": 1.0}),
    ("rmsprop", "torch", {"momentum": 0.9, "lr": 1e-3}),
    ("rmsprop", "torch", {"centered": 1.0, "momentum": 0.5, "lr": 1e-3}),
    ("rmsprop", "torch", {"weight_decay": 0.1}),
    ("rmsprop", "keras", {"centered": 1.0, "lr": 1e-2}),
    ("rmsprop", "keras", {"momentum": 0.9}),
    ("adam", "torch", {"amsgrad": 1.0, "lr": 0.05}),
    ("adam", "torch", {"weight_decay": 0.1, "lr": 0.05}),
    ("adam", "torch", {"decoupled": 1.0, "weight_decay": 0.1, "lr": 0.05}),
    ("adam", "torch", {"beta1": 0.5, "beta2": 0.9, "lr": 0.05}),
    ("adam", "keras", {"amsgrad": 1.0, "lr": 0.05}),
    ("adam", "keras", {"eps_hat": 0.0, "eps": 1e-2}),
    ("amsgrad", "torch", {"weight_decay": 0.1, "lr": 0.05}),
    ("adamw", "torch", {"weight_decay": 0.5, "lr": 0.05}),
    ("adamw", "keras", {"weight_decay": 0.5, "lr": 0.05}),
    ("nadam", "torch", {"weight_decay": 0.1, "lr": 0.05}),
    ("nadam", "torch", {"momentum_decay": 0.1, "lr": 0.05}),
    ("nadam", "keras", {"beta1": 0.95, "lr": 0.05}),
    ("adamax", "torch", {"weight_decay": 0.1, "lr": 0.05}),
    ("adamax", "torch", {"eps_in_max": 0.0, "eps": 1e-2, "lr": 0.05}),
    ("adamax", "keras", {"eps_in_max": 1.0, "eps": 1e-2, "lr": 0.05}),
    ("adadelta", "torch", {"weight_decay": 0.1}),
    ("adadelta", "torch", {"rho": 0.5}),
    ("adadelta", "keras", {"rho": 0.5, "eps": 1e-3}),
    ("lion", "torch", {"weight_decay": 0.1, "lr": 1e-2}),
    ("lion", "keras", {"beta1": 0.5, "beta2": 0.9}),
]


@pytest.mark.parametrize(
    ("name", "preset", "overrides"),
    VARIANTS,
    ids=[f"{n}-{p}-" + ",".join(f"{k}={v:g}" for k, v in o.items()) for n, p, o in VARIANTS],
)
def test_variant_matches_reference(name, preset, overrides):
    """Non-default settings against the reference on the quadratic and on Rosenbrock.

    In lockstep (the same gradient sequence to both): several of these settings put the run at
    the edge of stability, where each side at its own θ turns a 1e-16 rounding difference into
    ~1e-3 within 200 steps (measured: RMSProp λ 0.1, NAdam λ 0.1, Adam β 0.5/0.9) although in
    lockstep the two agree to ~1e-14. Each variant must also move θ differently from the same
    run without it, so the test exercises its code path."""
    kernel = _compare(name, preset, "quadratic", overrides, lockstep=True)
    assert np.isfinite(kernel).all()
    spec = OPTIMIZERS[name]
    plain = {k: v for k, v in overrides.items() if k == "lr"}
    baseline = kernel_trajectory(spec, spec.resolve(preset, plain), quadratic_grad, QUAD_START)
    assert np.abs(kernel - baseline).max() > 1e-9, "the variant does not change the trajectory"
    rosen = {**overrides, "lr": min(spec.resolve(preset, overrides)["lr"], 1e-3)}
    _compare(name, preset, "rosenbrock", rosen, lockstep=True)


@pytest.mark.parametrize(("name", "nesterov"), [("momentum", 0.0), ("nesterov", 1.0)])
def test_keras_velocity_form_equals_torch_form_at_constant_lr(name, nesterov):
    """docs/optimizers.md: the Keras form v ← μv − lr·g is the torch form with v = −lr·b."""
    spec = OPTIMIZERS[name]
    runs = [
        kernel_trajectory(
            spec,
            spec.resolve("torch", {"keras_form": form, "lr": 0.05, "nesterov": nesterov}),
            quadratic_grad,
            QUAD_START,
        )
        for form in (0.0, 1.0)
    ]
    assert_same_trajectory(runs[1], runs[0], name)


@pytest.mark.parametrize("name", [n for n in OPTIMIZERS if n not in ("adamw", "lion")])
def test_coupled_weight_decay_is_g_plus_lambda_theta(name):
    """docs/optimizers.md: coupled decay g ← g + λθ on every torch optimizer but adamw and lion.
    Independent of either implementation: with λ the run on f equals the run on f + λ/2·|θ|²."""
    _needs_reference(name)
    spec = OPTIMIZERS[name]
    lam = 0.3
    with_decay = kernel_trajectory(
        spec, spec.resolve("torch", {"weight_decay": lam}), quadratic_grad, QUAD_START
    )
    on_penalised = kernel_trajectory(
        spec,
        spec.resolve("torch"),
        lambda theta: quadratic_grad(theta) + lam * theta,
        QUAD_START,
    )
    assert_same_trajectory(with_decay, on_penalised, name)


# ---------------------------------------------------------------- closed form


def bowl_grad(theta: np.ndarray) -> np.ndarray:
    """∇(x²/20 + y²)."""
    return np.array([theta[0] / 10, 2 * theta[1]])


def test_sgd_closed_form_on_bowl_kernel():
    """SGD lr 0.95 on x²/20 + y² multiplies x by 0.905 and y by −0.9 each step."""
    spec = get_optimizer("sgd")
    path = kernel_trajectory(spec, spec.resolve("torch", {"lr": 0.95}), bowl_grad, (-7.0, 2.0), 30)
    k = np.arange(1, 31)
    expected = np.column_stack([-7 * 0.905**k, 2 * (-0.9) ** k])
    np.testing.assert_allclose(path, expected, rtol=1e-13)
    np.testing.assert_allclose(path[-1], [-7 * 0.905**30, 2 * 0.9**30], rtol=1e-13)


def test_sgd_closed_form_on_bowl_public_api():
    result = optbench.run("sgd", "bowl", lr=0.95, start=(-7, 2), steps=30, save=False)
    row = result.runs.iloc[0]
    np.testing.assert_allclose(
        [row["final_x"], row["final_y"]], [-7 * 0.905**30, 2 * (-0.9) ** 30], rtol=1e-13
    )


# ---------------------------------------------------------------- validation

BAD_VALUES = {
    "lr": [-1.0, 0.0],
    "beta1": [1.0, -0.1],
    "beta2": [1.0, 1.5],
    "alpha": [1.0, -0.5],
    "rho": [1.0, -0.5],
    "momentum": [1.0, -0.5],
    "dampening": [-0.5, 1.5],
    "eps": [0.0, -1e-8],
    "weight_decay": [-1.0],
    "lr_decay": [-0.1],
    "initial_accumulator": [-0.1],
    "momentum_decay": [-1.0],
}
"""Values each hyperparameter must refuse (the issue: lr > 0, 0 ≤ β < 1, ε > 0 ...)."""

GOOD_VALUES = {
    "lr": [1e-12, 10.0],
    "beta1": [0.0, 0.999],
    "beta2": [0.0, 0.9999],
    "alpha": [0.0, 0.999],
    "rho": [0.0, 0.999],
    "momentum": [0.0, 0.999],
    "dampening": [0.0, 1.0],
    "eps": [1e-30, 1.0],
    "weight_decay": [0.0, 10.0],
    "lr_decay": [0.0],
    "initial_accumulator": [0.0],
    "momentum_decay": [0.0],
}
"""Boundary values each hyperparameter must accept."""

CHECK_GOOD = {
    "positive": [1e-30],
    "nonnegative": [0.0],
    "unit": [0.0, 0.999],
    "closed_unit": [0.0, 1.0],
    "flag": [0.0, 1.0],
    "finite": [-1e3, 0.0, 1e3],
}
CHECK_BAD = {
    "positive": [0.0, -1.0],
    "nonnegative": [-1.0],
    "unit": [1.0, -0.1],
    "closed_unit": [1.5, -0.1],
    "flag": [0.5, 2.0],
    "finite": [],
}
"""For a hyperparameter not named above (a user optimizer): what its declared check accepts
and refuses."""


def _flags(spec) -> set[str]:
    return {h.name for h in spec.hypers if h.is_flag}


def _bad_values(spec, hyper) -> list[float]:
    if hyper.name in BAD_VALUES:
        return BAD_VALUES[hyper.name]
    if hyper.name in _flags(spec):
        return [0.5, 2.0, -1.0]
    return CHECK_BAD[hyper.check]


def _valid_base(spec, name: str) -> dict:
    """Overrides that keep the other constraints satisfied while ``name`` is made bad."""
    if spec.resolve("torch").get("nesterov") and name in ("momentum", "dampening"):
        return {"nesterov": 0.0}
    if name == "nesterov":
        return {"momentum": 0.9, "dampening": 0.0}
    return {}


HYPER_CASES = [(n, h.name) for n, spec in OPTIMIZERS.items() for h in spec.hypers]


def _assert_names_value(message: str, name: str, value: float) -> None:
    assert "\n" not in message, message
    found = re.search(rf"\b{re.escape(name)}=(\S+)", message)
    assert found, f"message does not name {name}=...: {message!r}"
    assert float(found.group(1)) == value, message


@pytest.mark.parametrize(("optimizer", "hyper"), HYPER_CASES)
def test_bad_hyperparameter_is_refused_with_its_value(optimizer, hyper):
    spec = OPTIMIZERS[optimizer]
    (h,) = [h for h in spec.hypers if h.name == hyper]
    bad = _bad_values(spec, h)
    if not bad:
        pytest.skip(f"{optimizer}.{hyper} accepts any finite value")
    for preset in PRESETS:
        for value in bad:
            with pytest.raises(OptbenchError) as caught:
                spec.resolve(preset, {**_valid_base(spec, hyper), hyper: value})
            _assert_names_value(str(caught.value), hyper, value)
        for value in (float("nan"), float("inf")):
            with pytest.raises(OptbenchError, match=re.escape(hyper)):
                spec.resolve(preset, {hyper: value})
        with pytest.raises(OptbenchError, match="not a number"):
            spec.resolve(preset, {hyper: "abc"})


@pytest.mark.parametrize(("optimizer", "hyper"), HYPER_CASES)
def test_boundary_hyperparameter_is_accepted(optimizer, hyper):
    spec = OPTIMIZERS[optimizer]
    (h,) = [h for h in spec.hypers if h.name == hyper]
    if hyper in _flags(spec):
        good = [0.0, 1.0]
    else:
        good = GOOD_VALUES.get(hyper, CHECK_GOOD[h.check])
    for value in good:
        assert spec.resolve("torch", {**_valid_base(spec, hyper), hyper: value})[hyper] == value


@pytest.mark.parametrize(
    ("optimizer", "overrides"),
    [
        ("sgd", {"nesterov": 1.0, "momentum": 0.0}),
        ("nesterov", {"momentum": 0.0}),
        ("nesterov", {"dampening": 0.5}),
    ],
)
def test_nesterov_needs_momentum_and_no_dampening(optimizer, overrides):
    with pytest.raises(OptbenchError, match="nesterov=1") as caught:
        get_optimizer(optimizer).resolve("torch", overrides)
    assert "\n" not in str(caught.value)


def test_unknown_hyperparameter_suggests_closest():
    with pytest.raises(OptbenchError, match="did you mean 'beta1'"):
        get_optimizer("adam").resolve("torch", {"beta_1": 0.9})


# ---------------------------------------------------------------- registry


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_registry_spec_is_consistent(name):
    spec = OPTIMIZERS[name]
    names = spec.hyper_names
    assert names[0] == "lr"
    assert len(set(names)) == len(names)
    for preset in PRESETS:
        assert set(spec.defaults[preset]) == set(names), preset
        values = spec.resolve(preset)
        assert spec.hp_vector(values) == [values[n] for n in names]
    assert spec.state_size(0) >= 0
    assert spec.state_size(7) - spec.state_size(3) == 4 * spec.slots
    update = spec.compiled()
    assert len(update.signatures) == 1
    theta = np.array([0.5, -0.25])
    update(
        theta,
        np.array([1.0, -2.0]),
        np.zeros(spec.state_size(2)),
        np.array(spec.hp_vector(spec.resolve("torch"))),
        1,
    )
    assert np.isfinite(theta).all()


@pytest.mark.parametrize(("name", "preset"), CASES)
def test_registry_defaults_match_the_documented_defaults(name, preset):
    if name not in SPEC_DEFAULTS[preset]:
        pytest.skip(f"'{name}' is not in docs/optimizers.md")
    assert OPTIMIZERS[name].resolve(preset) == SPEC_DEFAULTS[preset][name]


def test_every_builtin_has_a_reference():
    builtins = {"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "amsgrad"}
    builtins |= {"adamw", "nadam", "adamax", "adadelta", "lion"}
    assert builtins <= set(OPTIMIZERS)
    assert builtins == set(RULES) == set(SPEC_DEFAULTS["torch"]) == set(SPEC_DEFAULTS["keras"])


# ---------------------------------------------------------------- compilation budget


def test_second_engine_call_adds_no_signature():
    from optbench.families.surfaces import engine

    optbench.run("adam", "rosenbrock", steps=20, save=False)
    optbench.run(["lion", "rmsprop"], "beale", steps=20, preset="keras", save=False)
    assert len(engine.problem_batch.signatures) == 1  # the engine of small jobs
    for name in ("adam", "lion", "rmsprop"):
        assert len(get_optimizer(name).compiled().signatures) == 1, name
    # the direct kernel calls of the tests above used the same single signature too
    for name, spec in OPTIMIZERS.items():
        assert len(spec.compiled().signatures) == 1, name
