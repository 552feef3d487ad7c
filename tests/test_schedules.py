"""Learning-rate schedules: every schedule against a NumPy transcription of torch's and Keras'
documented formulas, the engines applying them per update, the torch/Keras momentum split
under a changing lr, bit-identical constant runs, one engine signature, hostile settings."""

from __future__ import annotations

import bisect
import math

import numpy as np
import pytest
from click.testing import CliRunner

import optbench
from optbench import api, settings
from optbench.cli import cli
from optbench.config import SweepConfig, build_run_configs
from optbench.errors import OptbenchError
from optbench.schedules import SCHEDULES, get_schedule, schedule_row
from optbench.schedules.specs import PARAMETERS

T = 1000  # the horizon every schedule is checked over, update by update
LR = 0.3

# ── the frameworks' formulas, transcribed from their documentation (e = updates done) ────────


def torch_step(e, step_size, gamma):  # StepLR
    return LR * gamma ** (e // step_size)


def torch_multistep(e, milestones, gamma):  # MultiStepLR: bisect_right(milestones, last_epoch)
    return LR * gamma ** bisect.bisect_right(milestones, e)


def keras_piecewise(e, milestones, gamma):  # PiecewiseConstantDecay(boundaries, values)
    values = [LR * gamma**i for i in range(len(milestones) + 1)]
    for i, boundary in enumerate(milestones):
        if e <= boundary:
            return values[i]
    return values[-1]


def keras_exponential(e, gamma, step_size, staircase):  # ExponentialDecay (ExponentialLR: 1)
    p = e / step_size
    return LR * gamma ** (math.floor(p) if staircase else p)


def keras_inverse_time(e, decay_rate, step_size, staircase):  # InverseTimeDecay
    p = e / step_size
    return LR / (1 + decay_rate * (math.floor(p) if staircase else p))


def torch_polynomial(e, decay_steps, power):  # PolynomialLR, closed form
    return LR * (1 - min(decay_steps, e) / decay_steps) ** power


def keras_polynomial(e, decay_steps, power, end):  # PolynomialDecay, cycle=False
    step = min(e, decay_steps)
    return (LR - end) * (1 - step / decay_steps) ** power + end


def torch_cosine(e, t_max, eta_min, base=LR):  # CosineAnnealingLR, closed form
    return eta_min + (base - eta_min) * (1 + math.cos(math.pi * e / t_max)) / 2


def keras_cosine(e, decay_steps, alpha, base=LR):  # CosineDecay
    step = min(e, decay_steps)
    cosine = 0.5 * (1 + math.cos(math.pi * step / decay_steps))
    return base * ((1 - alpha) * cosine + alpha)


def torch_warmup_cosine(e, warmup, start_factor, t_max, eta_min):
    # SequentialLR([LinearLR(start_factor, 1.0, total_iters=warmup), CosineAnnealingLR], [warmup])
    if e < warmup:
        return LR * (start_factor + (1 - start_factor) * min(warmup, e) / warmup)
    return torch_cosine(e - warmup, t_max, eta_min)


def keras_warmup_cosine(e, warmup, initial, decay_steps, alpha):
    # CosineDecay(initial_learning_rate=initial, decay_steps, alpha, warmup_target=LR, warmup_steps)
    if e < warmup:
        return (LR - initial) * (e / warmup) + initial
    return keras_cosine(e - warmup, decay_steps, alpha)


def torch_restarts(e, t_0, t_mult, eta_min):  # CosineAnnealingWarmRestarts.step(epoch)
    if e >= t_0:
        if t_mult == 1:
            t_cur, t_i = e % t_0, t_0
        else:
            n = int(math.log(e / t_0 * (t_mult - 1) + 1, t_mult))
            t_cur = e - t_0 * (t_mult**n - 1) / (t_mult - 1)
            t_i = t_0 * t_mult**n
    else:
        t_cur, t_i = e, t_0
    return eta_min + (LR - eta_min) * (1 + math.cos(math.pi * t_cur / t_i)) / 2


def keras_restarts(e, first_decay_steps, t_mul, m_mul, alpha):  # CosineDecayRestarts
    completed = e / first_decay_steps
    if t_mul == 1.0:
        i_restart = math.floor(completed)
        completed -= i_restart
    else:
        i_restart = math.floor(math.log(1 - completed * (1 - t_mul)) / math.log(t_mul))
        sum_r = (1 - t_mul**i_restart) / (1 - t_mul)
        completed = (completed - sum_r) / t_mul**i_restart
    m_fac = m_mul**i_restart
    cosine = 0.5 * m_fac * (1 + math.cos(math.pi * completed))
    return LR * ((1 - alpha) * cosine + alpha)


def torch_onecycle(e, total, pct_start, div, final_div, base_m, max_m):  # OneCycleLR, cos
    initial = LR / div
    phases = [
        (pct_start * total - 1, initial, LR, max_m, base_m),
        (total - 1, LR, initial / final_div, base_m, max_m),
    ]

    def anneal(start, end, pct):
        return end + (start - end) / 2 * (math.cos(math.pi * pct) + 1)

    start_step = 0
    for i, (end_step, lr_a, lr_b, m_a, m_b) in enumerate(phases):
        if e <= end_step or i == len(phases) - 1:
            pct = (e - start_step) / (end_step - start_step)
            return anneal(lr_a, lr_b, pct), anneal(m_a, m_b, pct)
        start_step = end_step
    raise AssertionError


# (schedule, preset, parameters given, reference lr(e)); parameters chosen so that every
# branch shows: drops inside the horizon, past-horizon behaviour, restarts, both phases.
CASES = [
    ("constant", "torch", {}, lambda e: LR),
    ("step", "torch", {"step_size": 70, "gamma": 0.5}, lambda e: torch_step(e, 70, 0.5)),
    ("step", "keras", {"step_size": 70, "gamma": 0.5},
     lambda e: keras_exponential(e, 0.5, 70, True)),
    ("multistep", "torch", {"milestones": (100, 250, 600), "gamma": 0.3},
     lambda e: torch_multistep(e, [100, 250, 600], 0.3)),
    ("multistep", "keras", {"milestones": (100, 250, 600), "gamma": 0.3},
     lambda e: keras_piecewise(e, [100, 250, 600], 0.3)),
    ("exponential", "torch", {"gamma": 0.995, "step_size": 1},
     lambda e: LR * 0.995**e),  # ExponentialLR(gamma)
    ("exponential", "keras", {"gamma": 0.2, "step_size": 300},
     lambda e: keras_exponential(e, 0.2, 300, False)),
    ("exponential", "keras", {"gamma": 0.2, "step_size": 300, "staircase": 1},
     lambda e: keras_exponential(e, 0.2, 300, True)),
    ("inverse_time", "keras", {"decay_rate": 0.5, "step_size": 40},
     lambda e: keras_inverse_time(e, 0.5, 40, False)),
    ("inverse_time", "torch", {"decay_rate": 0.5, "step_size": 40, "staircase": 1},
     lambda e: keras_inverse_time(e, 0.5, 40, True)),
    ("polynomial", "torch", {"decay_steps": 800, "power": 2.0},
     lambda e: torch_polynomial(e, 800, 2.0)),
    ("polynomial", "keras", {"decay_steps": 800, "power": 0.5},
     lambda e: keras_polynomial(e, 800, 0.5, 1e-4)),
    ("cosine", "torch", {"decay_steps": 600, "min_lr": 0.01},
     lambda e: torch_cosine(e, 600, 0.01)),  # rises again after 600
    ("cosine", "keras", {"decay_steps": 600, "min_lr": 0.01},
     lambda e: keras_cosine(e, 600, 0.01 / LR)),  # stays at min_lr after 600
    ("warmup_cosine", "torch", {"warmup": 150, "min_lr": 0.001},
     lambda e: torch_warmup_cosine(e, 150, 1 / 3, T - 150, 0.001)),
    ("warmup_cosine", "keras", {"warmup": 150, "decay_steps": 500, "min_lr": 0.003},
     lambda e: keras_warmup_cosine(e, 150, 0.0, 500, 0.003 / LR)),
    ("warmup_cosine", "torch", {"warmup": 150, "start_factor": 0.1, "decay_steps": 500},
     lambda e: torch_warmup_cosine(e, 150, 0.1, 500, 0.0)),
    ("cosine_restarts", "torch", {"period": 90, "min_lr": 0.002},
     lambda e: torch_restarts(e, 90, 1, 0.002)),
    ("cosine_restarts", "torch", {"period": 60, "t_mult": 2},
     lambda e: torch_restarts(e, 60, 2, 0.0)),
    ("cosine_restarts", "keras", {"period": 60, "m_mul": 0.8, "min_lr": 0.03},
     lambda e: keras_restarts(e, 60, 2.0, 0.8, 0.03 / LR)),
    ("cosine_restarts", "keras", {"period": 50, "t_mult": 1.5},
     lambda e: keras_restarts(e, 50, 1.5, 1.0, 0.0)),
    ("onecycle", "torch", {}, lambda e: torch_onecycle(e, T, 0.3, 25, 1e4, 0.85, 0.95)[0]),
    ("onecycle", "keras", {"pct_start": 0.25, "div_factor": 10, "final_div_factor": 100},
     lambda e: torch_onecycle(e, T, 0.25, 10, 100, 0.85, 0.95)[0]),
]  # fmt: skip


def lr_curve(name: str, preset: str, given: dict, hyper_names=("lr",), steps: int = T):
    from optbench.schedules.kernels import lr_at

    values = get_schedule(name).resolve(preset, steps, given)
    row = np.array(schedule_row(name, values, preset, LR, hyper_names))
    return lr_at(row, np.arange(1, steps + 1, dtype=np.int64)), row


@pytest.mark.parametrize("name, preset, given, reference", CASES)
def test_schedule_matches_the_frameworks_formula_over_the_whole_horizon(
    name, preset, given, reference
):
    got, _ = lr_curve(name, preset, given)
    want = np.array([reference(t - 1) for t in range(1, T + 1)])  # update t has done t − 1
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-300)


def test_every_schedule_and_both_presets_are_checked():
    assert {name for name, *_ in CASES} == set(SCHEDULES)
    differing = {n for n, s in SCHEDULES.items() if s.differs}
    for name in differing:
        assert {p for n, p, *_ in CASES if n == name} == {"torch", "keras"}


def test_where_torch_and_keras_part_the_curves_differ():
    for name in ("multistep", "cosine", "warmup_cosine", "cosine_restarts", "polynomial"):
        spec = SCHEDULES[name]
        given = {"decay_steps": 600} if "decay_steps" in spec.parameters else {}
        torch, _ = lr_curve(name, "torch", given)
        keras, _ = lr_curve(name, "keras", given)
        assert not np.array_equal(torch, keras), name


def test_onecycle_cycles_momentum_under_torch_only():
    from optbench.schedules.kernels import apply_schedule

    _, row = lr_curve("onecycle", "torch", {}, hyper_names=("lr", "momentum"))
    hp = np.array([LR, 0.0])
    moments = []
    for t in range(1, T + 1):
        apply_schedule(row, hp, t)
        moments.append(hp[1])
    want = [torch_onecycle(t - 1, T, 0.3, 25, 1e4, 0.85, 0.95)[1] for t in range(1, T + 1)]
    np.testing.assert_allclose(moments, want, rtol=1e-12)
    _, keras_row = lr_curve("onecycle", "keras", {}, hyper_names=("lr", "momentum"))
    hp = np.array([LR, 0.5])
    apply_schedule(keras_row, hp, 10)
    assert hp[1] == 0.5  # Keras schedules only the lr
    _, adagrad_row = lr_curve("onecycle", "torch", {}, hyper_names=("lr", "lr_decay"))
    hp = np.array([LR, 0.25])
    apply_schedule(adagrad_row, hp, 10)
    assert hp[1] == 0.25  # nothing to cycle: torch would refuse, optbench cycles nothing


# ── the engines apply the schedule each update ──────────────────────────────────────────────


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_surface_engine_uses_the_scheduled_lr_each_update(name):
    """SGD on the bowl f = x²/20 + y² from (10, 0): x_t = x_{t−1}·(1 − lr_t/10), exactly the
    product of the schedule's lrs (and history.csv's scheduled_lr is that lr). OneCycle runs
    under keras: torch's would also cycle SGD's momentum (tested above)."""
    steps = 120
    preset = "keras" if name == "onecycle" else "torch"
    result = optbench.run(["sgd"], "bowl", start=(10, 0), steps=steps, lr=LR, schedule=name,
                          preset=preset, record_every=1, save=False)  # fmt: skip
    lrs, _ = lr_curve(name, preset, {}, steps=steps)
    history = result.history.sort_values("step")
    want = 10 * np.concatenate([[1.0], np.cumprod(1 - lrs / 10)])
    np.testing.assert_allclose(history["x"].to_numpy(), want, rtol=1e-12)
    np.testing.assert_allclose(history["scheduled_lr"].to_numpy()[1:], lrs, rtol=1e-15)
    assert result.runs["schedule"].iloc[0] == name


def test_network_history_shows_the_lr_of_each_epochs_last_update():
    result = optbench.run(["sgd"], "xor", epochs=6, hidden="2", lr=0.5, schedule="step",
                          step_size=2, gamma=0.5, save=False)  # fmt: skip
    history = result.history.sort_values("epoch")
    steps = history["step"].to_numpy()
    assert list(steps) == list(range(7))  # four rows in one full batch: an update per epoch
    want = [0.5 * 0.5 ** ((max(s, 1) - 1) // 2) for s in steps]
    np.testing.assert_allclose(history["scheduled_lr"], want, rtol=1e-15)
    assert result.runs["schedule_step_size"].iloc[0] == 2
    alone = optbench.run(["sgd"], "xor", epochs=6, hidden="2", lr=0.5, save=False)
    assert not np.array_equal(alone.runs["final_loss"], result.runs["final_loss"])


# ── torch and Keras momentum part under a changing lr ──────────────────────────────────────


def test_momentum_under_a_step_schedule_differs_between_presets_as_the_rules_predict():
    """Bowl from (10, 0), lr 1, μ 0.9, the lr halved every update (1, 0.5, 0.25); g = x/10.

    torch: b ← μb + g, x ← x − lr_t·b:   9,  9 − 0.5·1.8 = 8.1,  8.1 − 0.25·2.43 = 7.4925
    keras: v ← μv − lr_t·g, x ← x + v:   9,  9 − 1.35 = 7.65,    7.65 − 1.40625 = 6.24375
    After two updates they differ by μ·g₁·(lr₁ − lr₂) = 0.9·1·0.5 = 0.45: the velocity of
    Keras carries the old lr, torch's buffer is rescaled by the new one.
    """
    expected = {"torch": [10, 9, 8.1, 7.4925], "keras": [10, 9, 7.65, 6.24375]}
    for preset, xs in expected.items():
        result = optbench.run(["momentum"], "bowl", start=(10, 0), steps=3, lr=1.0, preset=preset,
                              schedule="step", step_size=1, gamma=0.5, record_every=1,
                              save=False)  # fmt: skip
        got = result.history.sort_values("step")["x"].to_numpy()
        np.testing.assert_allclose(got, xs, rtol=1e-14)
    constant = [
        optbench.run(["momentum"], "bowl", start=(10, 0), steps=3, lr=0.5, preset=p,
                     record_every=1, save=False).history["x"].to_numpy()
        for p in ("torch", "keras")
    ]  # fmt: skip
    np.testing.assert_allclose(constant[0], constant[1], rtol=1e-14)  # one rule at constant lr


# ── a constant schedule is today's optbench, bit for bit ───────────────────────────────────


def test_constant_schedule_is_bit_identical_to_before_schedules():
    """run_ids and numbers as the main branch made them before schedules existed."""
    before = {  # optbench.run(['sgd','momentum','adam'], 'beale', steps=300, noise=0.1, seed=3)
        "90fbb2d11d60": (2.82001140673016, 0.45010798208276914, 0.0064346683947983),
        "ccab1e121b44": (-5405450746631.013, -689177371700.026, 3.1307607888875405e96),
        "ef5900a4babc": (1.2757031989654966, 1.2558831897053548, 27.27969926546904),
    }
    for schedule in (None, "constant"):
        runs = optbench.run(["sgd", "momentum", "adam"], "beale", steps=300, noise=0.1, seed=3,
                            schedule=schedule, save=False).runs  # fmt: skip
        got = {r.run_id: (r.final_x, r.final_y, r.final_loss) for r in runs.itertuples()}
        assert got == before
    network = optbench.run(["adam"], "xor", epochs=20, hidden="4", schedule="constant",
                           save=False).runs.iloc[0]  # fmt: skip
    assert (network["run_id"], network["final_loss"]) == ("1dd9e9b5c459", 0.6576869765849103)


def test_a_second_schedule_adds_no_engine_signature():
    from optbench.families.networks.engine import _train_one
    from optbench.families.surfaces.engine import INLINE_STEPS, problem_batch, surface_batch

    for name in ("cosine", "multistep", "onecycle"):
        optbench.run(["adam", "momentum"], "bowl", steps=20, schedule=name, save=False)
        optbench.run(["adam"], "bowl", steps=INLINE_STEPS, schedule=name, save=False)
        optbench.run(["adam"], "xor", epochs=10, hidden="2", schedule=name, save=False)
    assert len(problem_batch.signatures) == 1  # small jobs
    assert len(surface_batch.signatures) == 1  # the one large one
    assert len(_train_one.signatures) == 1


# ── settings: axes, run_ids, hostile values ─────────────────────────────────────────────────


def test_every_schedule_parameter_is_a_setting():
    assert set(settings.SCHEDULE) == set(PARAMETERS)
    assert all(settings.BY_NAME[p].group == "schedule" for p in PARAMETERS)


def test_schedules_and_their_parameters_are_sweep_axes_and_cells():
    sweep = SweepConfig.from_raw(
        {"optimizers": ["sgd", "adam"], "problems": "bowl", "steps": 100,
         "schedule": ["constant", "step", "cosine"], "gamma": [0.1, 0.5], "seeds": 2}
    )  # fmt: skip
    points = sweep.schedule_points()
    assert points == [
        ("constant", ()), ("step", (("gamma", 0.1),)), ("step", (("gamma", 0.5),)),
        ("cosine", ()),
    ]  # fmt: skip
    runs = sweep.expand()
    assert len(runs) == sweep.run_count() == 4 * 2 * 2
    assert len({r.run_id for r in runs}) == len(runs)
    step = next(r for r in runs if r.schedule == "step")
    assert dict(step.schedule_params) == {"step_size": 25.0, "gamma": 0.1}
    assert "schedule" not in SweepConfig.from_raw({"problems": "bowl"}).to_dict()


def test_hp_assignments_of_schedule_parameters_are_the_same_settings():
    via_hp = build_run_configs(schedule="warmup_cosine", hp={"warmup": "50", "min_lr": "1e-5"},
                               steps=500, problems="bowl")  # fmt: skip
    via_setting = build_run_configs(schedule="warmup_cosine", warmup=50, min_lr=1e-5, steps=500,
                                    problems="bowl")  # fmt: skip
    assert via_hp[0].run_id == via_setting[0].run_id
    assert dict(via_hp[0].schedule_params)["decay_steps"] == 450  # the run after its warm-up


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["--schedule", "cosin"], ["unknown schedule 'cosin'", "did you mean 'cosine'"]),
        (["--schedule", "step", "--gamma", "-0.5"], ["gamma=-0.5 must be > 0"]),
        (["--schedule", "step", "--gamma", "nan"], ["gamma", "finite"]),
        (["--schedule", "step", "--gamma", "0"], ["gamma=0 must be > 0"]),
        (["--schedule", "step", "--step-size", "0"], ["step_size=0 must be a whole number"]),
        (["--schedule", "step", "--step-size", "2.5"], ["step_size=2.5 must be a whole number"]),
        (["--schedule", "step", "--step-size", "1e300"], ["step_size=1e+300 must be a whole"]),
        (["--schedule", "warmup_cosine", "--warmup", "500"],
         ["warmup=500 must be fewer than the run's 100 updates"]),
        (["--schedule", "warmup_cosine", "--hp", "warmup=5000"], ["warmup=5000 must be fewer"]),
        (["--schedule", "multistep", "--milestones", "50,20"],
         ["milestones=50,20 must be strictly increasing"]),
        (["--schedule", "multistep", "--milestones", "10,10"], ["strictly increasing"]),
        (["--schedule", "multistep", "--milestones", "10,x"], ["'x' is not a whole number"]),
        (["--schedule", "cosine", "--gamma", "0.5"],
         ["gamma: no schedule run here takes it (cosine)", "step, multistep, exponential do"]),
        (["--gamma", "0.5"], ["gamma: no schedule run here takes it (constant)"]),
        (["--schedule", "cosine_restarts", "--t-mult", "1.5"], ["t_mult=1.5 must be a whole"]),
        (["--schedule", "cosine_restarts", "--t-mult", "0.5"], ["t_mult=0.5 must be >= 1"]),
        (["--schedule", "onecycle", "--pct-start", "0.001"], ["leaves no warm-up phase"]),
        (["--schedule", "onecycle", "--decay-steps", "50"], ["must cover the run's 100"]),
        (["--schedule", "onecycle", "--base-momentum", "0.99"],
         ["base_momentum=0.99 must be <= max_momentum=0.95"]),
        (["--schedule", "cosine", "--min-lr", "-1"], ["min_lr=-1 must be >= 0"]),
        (["--schedule", "step", "--hp", "adam.gamma=0.5"], ["the same for every optimizer"]),
        (["--schedule", "step,cosine"], ["run takes one value per setting"]),
        (["--schedule", "step", "--gamma", "0.1,0.5"], ["run takes one value per setting"]),
    ],
)  # fmt: skip
def test_hostile_schedule_settings_are_one_line_and_exit_2(tmp_path, monkeypatch, args, fragments):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["run", "--steps", "100", "--problem", "bowl", *args])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.strip().splitlines() if line]
    assert len(lines) == 1 and lines[0].startswith("Error:"), result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert not (tmp_path / "results").exists()


def test_sweep_file_errors_name_the_file_and_key(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('problems = ["bowl"]\nschedule = ["step"]\ngamma = -1\n')
    with pytest.raises(OptbenchError, match=r"bad.toml:3: gamma=-1(.0)? must be > 0"):
        api.plan_sweep(str(path))


def test_list_schedules_names_both_frameworks():
    result = CliRunner().invoke(cli, ["list", "schedules"])
    assert result.exit_code == 0
    for name, spec in SCHEDULES.items():
        assert name in result.output
        assert spec.torch.split("(")[0] in result.output
    assert "CosineAnnealingWarmRestarts" in result.output and "CosineDecayRestarts" in result.output


# ── figures and tables ──────────────────────────────────────────────────────────────────────


def test_run_with_both_presets_labels_rows_and_draws_lr(tmp_path):
    import pandas as pd

    out = tmp_path / "run"
    result = CliRunner().invoke(cli, ["run", "-o", "momentum", "--preset", "torch,keras",
                                      "--schedule", "step", "--problem", "bowl", "--steps", "40",
                                      "--lr", "0.05", "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    header, torch_row, keras_row = result.output.splitlines()[:3]
    assert "preset" in header and "torch" in torch_row and "keras" in keras_row
    runs = pd.read_csv(out / "runs.csv")
    assert list(runs["preset"]) == ["torch", "keras"]
    assert runs["final_loss"].nunique() == 2  # the two momentum forms part under the schedule
    assert (out / "lr.png").is_file()


def test_lr_figure_draws_each_distinct_curve_once(tmp_path):
    from optbench.plots.schedules import distinct_curves, has_schedule

    same = optbench.run(["sgd", "adam"], "bowl", steps=50, lr=0.1, preset=["torch", "keras"],
                        schedule="step", save=False)  # fmt: skip
    assert len(distinct_curves(same.runs, same.history)) == 1  # one lr curve for all four
    parted = optbench.run(["sgd"], "bowl", steps=50, lr=0.1, preset=["torch", "keras"],
                          schedule="cosine", decay_steps=30, save=False)  # fmt: skip
    assert len(distinct_curves(parted.runs, parted.history)) == 2  # torch's cosine rises again
    constant = optbench.run(["sgd"], "bowl", steps=50, save=False)
    assert not has_schedule(constant.runs, constant.history)


def test_constant_rows_at_once_are_the_rows_one_by_one():
    """``schedule_matrix`` builds an all-constant group's rows at once: the same floats as
    ``schedule_row`` gives each run (lrs, presets and hyperparameters vary)."""
    from optbench.schedules.kernels import schedule_matrix
    from optbench.schedules.specs import schedule_row

    plan = SweepConfig.from_raw(
        dict(optimizers=["sgd", "adam", "momentum"], problems=["beale"], lr="1e-3..0.37:3",
             seeds=2, preset=["torch", "keras"])
    )  # fmt: skip
    configs = plan.expand()
    assert {c.preset for c in configs} == {"torch", "keras"}
    one_by_one = np.array(
        [
            schedule_row(c.schedule, dict(c.schedule_params), c.preset, c.lr,
                         tuple(n for n, _ in c.hp))
            for c in configs
        ]
    )  # fmt: skip
    at_once = schedule_matrix(configs)
    assert at_once.shape == one_by_one.shape
    assert np.array_equal(at_once, one_by_one)
