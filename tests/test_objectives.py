"""N-dimensional problems and users' problems: gradients, the 2-D surfaces kept bit for bit,
registration (decorator and a real entry point), one engine signature, and hostile kernels."""

from __future__ import annotations

import sys
import textwrap

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import optbench
from optbench.cli import cli
from optbench.errors import OptbenchError
from optbench.families.surfaces.engine import problem_kernel
from optbench.problems import get_problem, objectives, unregister_problem

BUILT_IN = [spec.name for spec in objectives.BUILT_IN]


@pytest.fixture
def clean_problems():
    """Problems a test registers are removed afterwards."""
    before = set(objectives.OBJECTIVES)
    yield
    for name in set(objectives.OBJECTIVES) - before:
        unregister_problem(name)


def evaluate(spec, theta):
    grad = np.empty(theta.size)
    loss = problem_kernel(spec)(np.asarray(theta, float), grad, spec.kernel_params())
    return loss, grad


def label(name: str, d: int) -> str:
    return name if objectives.OBJECTIVES[name].dims is not None else f"{name}:d={d}"


@pytest.mark.parametrize("name", BUILT_IN)
@settings(max_examples=25, deadline=None)
@given(d=st.integers(2, 7), seed=st.integers(0, 2**32 - 1), scale=st.floats(0.05, 2.0))
def test_gradient_matches_central_differences(name, d, seed, scale):
    spec = get_problem(label(name, d))
    theta = np.random.default_rng(seed).normal(0.0, scale, spec.dimension)
    loss, grad = evaluate(spec, theta)
    h = 1e-6
    expected = np.empty(spec.dimension)
    for i in range(spec.dimension):
        up, down = theta.copy(), theta.copy()
        up[i] += h
        down[i] -= h
        expected[i] = (evaluate(spec, up)[0] - evaluate(spec, down)[0]) / (2 * h)
    tolerance = 1e-6 * max(1.0, abs(loss), np.abs(expected).max())
    np.testing.assert_allclose(grad, expected, rtol=1e-5, atol=tolerance)


@pytest.mark.parametrize("name", BUILT_IN)
def test_the_known_minimum_has_fstar_and_no_gradient(name):
    spec = get_problem(label(name, 5))
    (point,) = spec.minima
    loss, grad = evaluate(spec, np.array(point))
    assert loss == pytest.approx(spec.fstar, abs=1e-9)
    assert np.abs(grad).max() < 1e-6


@pytest.mark.parametrize("name", ["rosenbrock", "rastrigin", "ackley", "styblinski_tang"])
def test_at_d_2_the_n_d_form_is_the_2_d_surface_bit_for_bit(name):
    runs = {}
    for problem in (name, f"{name}:d=2"):
        runs[problem] = optbench.run(
            ["sgd", "adam"], problem, lr={"sgd": 1e-3, "adam": 0.05}, steps=300, noise=0.1,
            seed=[0, 1], record_every=7, save=False,
        )  # fmt: skip
    surface, chained = runs[name], runs[f"{name}:d=2"]
    assert get_problem(f"{name}:d=2").family == "objective"
    assert surface.runs["run_id"].tolist() != chained.runs["run_id"].tolist()
    for column in ("final_loss", "best_loss", "final_gap", "final_x", "final_y", "dist_to_min",
                   "mean_log10_gap", "diverged_step"):  # fmt: skip
        assert surface.runs[column].equals(chained.runs[column]), column
    for column in ("step", "loss", "gap", "x", "y", "dist_to_min", "grad_norm"):
        assert surface.history[column].equals(chained.history[column]), column


def test_the_quadratic_has_the_asked_spectrum_in_a_dense_rotation():
    spec = get_problem("quadratic:d=12:kappa=1000:seed=3")
    hessian = np.column_stack([evaluate(spec, e)[1] for e in np.eye(12)])
    np.testing.assert_allclose(hessian, hessian.T, atol=1e-12)
    np.testing.assert_allclose(np.linalg.eigvalsh(hessian), np.geomspace(1, 1000, 12), rtol=1e-9)
    off_diagonal = hessian - np.diag(np.diag(hessian))
    assert (np.abs(off_diagonal) > 1e-3).mean() > 0.5  # rotated: not a diagonal in disguise
    other = get_problem("quadratic:d=12:kappa=1000:seed=4")
    assert not np.allclose(np.column_stack([evaluate(other, e)[1] for e in np.eye(12)]), hessian)


def test_the_noisy_quadratic_model_scales_noise_by_the_curvature():
    spec = get_problem("noisy_quadratic:d=4")
    np.testing.assert_allclose(spec.kernel_params(), [1, 1 / 2, 1 / 3, 1 / 4])
    np.testing.assert_allclose(spec.noise_scale() ** 2, spec.kernel_params())
    # one step of sgd with lr 1 from the minimum: θ = −noise, so the spread per coordinate
    # over seeds is σ√hᵢ
    result = optbench.run("sgd", "noisy_quadratic:d=4", lr=1.0, steps=1, start=0, noise=0.5,
                          seed=list(range(400)), save=False, record_every=1)  # fmt: skip
    first = result.history[result.history["step"] == 1]
    assert first["x"].std() == pytest.approx(0.5, rel=0.15)
    assert first["y"].std() == pytest.approx(0.5 * np.sqrt(1 / 2), rel=0.15)


def test_logistic_regression_reaches_its_newton_minimum():
    spec = get_problem("logistic")
    assert spec.dimension == 65 and 0.1 < spec.fstar < 0.7
    result = optbench.run("adam", "logistic", lr=0.05, steps=3000, save=False)
    run = result.runs.iloc[0]
    assert 0 <= run["final_gap"] < 1e-9 and run["dist_to_min"] < 1e-3


def test_n_d_history_keeps_two_coordinates_distance_and_gradient_norm():
    result = optbench.run("sgd", "quadratic:d=50:kappa=10", lr=0.05, steps=20, start="2",
                          record_every=5, save=False)  # fmt: skip
    history = result.history
    assert list(history.columns) == ["run_id", "step", "loss", "gap", "x", "y", "dist_to_min",
                                     "grad_norm", "scheduled_lr"]  # fmt: skip
    first = history.iloc[0]
    assert (first["x"], first["y"]) == (2.0, 2.0)
    assert first["dist_to_min"] == pytest.approx(2.0 * np.sqrt(50))
    assert history["dist_to_min"].is_monotonic_decreasing
    run = result.runs.iloc[0]
    assert (run["start_x"], run["start_y"]) == (2.0, 2.0)
    assert run["dist_to_min"] == history["dist_to_min"].iloc[-1]


def test_start_takes_d_values_or_one():
    values = ",".join(str(v) for v in range(1, 6))
    result = optbench.run("sgd", "rastrigin:d=5", start=values, steps=1, save=False)
    assert tuple(result.history.iloc[0][["x", "y"]]) == (1.0, 2.0)
    with pytest.raises(OptbenchError, match="start has 3 values; 'rastrigin:d=5' has 5"):
        optbench.run("sgd", "rastrigin:d=5", start="1,2,3", steps=1, save=False)
    with pytest.raises(OptbenchError, match="start '1,2,3' must be two finite numbers"):
        optbench.run("sgd", "bowl", start="1,2,3", steps=1, save=False)
    with pytest.raises(OptbenchError, match="start '1' must be two finite numbers"):
        optbench.run("sgd", "rosenbrock:d=2", start="1", steps=1, save=False)


@pytest.mark.parametrize(
    "text, message",
    [
        ("rosenbrock:d=0", "rosenbrock: d=0 must be a whole number from 2"),
        ("rosenbrock:d=2.5", "d=2.5 must be a whole number"),
        ("quadratic:d=-3", "d=-3 must be a whole number"),
        ("quadratic:d=1e12", "d=1e12 must be a whole number from 1 to 100,000,000"),
        ("bowl:d=3", "problem 'bowl' is a 2-D surface: it takes no d"),
        ("logistic:d=3", "problem 'logistic' is 65-dimensional: it takes no d"),
        ("xor:d=3", "problem 'xor' is a network on a data set: it takes no d"),
        ("quadratic:kapa=3", "did you mean 'kappa'"),
        ("quadratic:kappa=0", "quadratic: kappa=0 must be > 0"),
        ("quadratic:kappa=nan", "must be finite"),
        ("quadratic:d=3:d=4", "given twice"),
        ("quadratc", "did you mean 'quadratic'"),
    ],
)
def test_bad_dimensions_and_parameters_are_one_line(text, message):
    with pytest.raises(OptbenchError, match=message):
        get_problem(text)
    done = CliRunner().invoke(cli, ["run", "-p", text, "--steps", "1", "--no-plots"])
    assert done.exit_code == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


USER_PROBLEMS = """
import numpy as np
import optbench


@optbench.register_problem("shifted_sphere", dims=None, params={"shift": 1.0},
                           start=lambda n, p: np.full(n, 3.0), f_star=0.0,
                           minimum=lambda n, p: np.full(n, p["shift"]), checks={"shift": "finite"})
def shifted_sphere(theta, grad, params):
    s = 0.0
    for i in range(theta.size):
        d = theta[i] - params[0]
        grad[i] = 2.0 * d
        s += d * d
    return s


@optbench.register_problem("tilted_bowl", params={"tilt": 0.5}, start=(2.0, -1.0), f_star=None,
                           window=((-3, 3), (-3, 3)), summary="a bowl, tilted")
def tilted_bowl(theta, grad, params):
    grad[0] = 2.0 * theta[0] + params[0]
    grad[1] = 4.0 * theta[1]
    return theta[0] ** 2 + 2.0 * theta[1] ** 2 + params[0] * theta[0]
"""


def test_a_decorated_problem_works_through_the_cli(clean_problems, tmp_path, monkeypatch):
    module = tmp_path / "my_problems.py"
    module.write_text(USER_PROBLEMS)
    monkeypatch.delitem(sys.modules, "my_problems", raising=False)
    runner = CliRunner()
    out = tmp_path / "run"
    done = runner.invoke(cli, ["run", "-o", "sgd,adam", "--import", str(module), "--problem",
                               "shifted_sphere:d=50:shift=-1", "--steps", "300", "--lr", "0.1",
                               "--out", str(out)])  # fmt: skip
    assert done.exit_code == 0, done.output
    runs = optbench.load(out).runs
    assert runs["problem"].tolist() == ["shifted_sphere:d=50:shift=-1"] * 2
    assert (runs["family"] == "objective").all() and (runs["final_gap"] < 1e-8).all()
    assert (runs["start_x"] == 3.0).all() and (runs["dist_to_min"] < 1e-4).all()
    assert {p.name for p in out.iterdir()} >= {"loss.png", "runs.csv", "history.csv"}
    assert not (out / "trajectories.png").exists()  # two coordinates of 50 would mislead
    listed = runner.invoke(cli, ["list", "problems", "--import", str(module)]).output
    assert "shifted_sphere" in listed and "a bowl, tilted" in listed
    # a 2-D problem with a window draws its paths over its own contours
    flat = tmp_path / "flat"
    done = runner.invoke(cli, ["run", "-o", "sgd", "-p", "tilted_bowl", "--steps", "40",
                               "--out", str(flat)])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert (flat / "trajectories.png").is_file()
    redrawn = runner.invoke(cli, ["plot", str(flat), "--import", str(module)])
    assert redrawn.exit_code == 0, redrawn.output
    swept = runner.invoke(cli, ["sweep", "-o", "sgd,adam", "-p", "shifted_sphere:d=5,tilted_bowl",
                                "--lr", "1e-2..1e-1:3", "--seeds", "2", "--steps", "100",
                                "--out", str(tmp_path / "sweep")])  # fmt: skip
    assert swept.exit_code == 0, swept.output
    assert (tmp_path / "sweep" / "best.csv").is_file()


def test_an_entry_point_problem_of_an_installed_distribution(clean_problems, tmp_path,
                                                             monkeypatch):  # fmt: skip
    site = tmp_path / "site"
    (site / "optbench_nd_demo-1.0.dist-info").mkdir(parents=True)
    (site / "optbench_nd_demo-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: optbench-nd-demo\nVersion: 1.0\n"
    )
    (site / "optbench_nd_demo-1.0.dist-info" / "entry_points.txt").write_text(
        "[optbench.problems]\nsum_of_fourth_powers = optbench_nd_demo:SPEC\n"
    )
    (site / "optbench_nd_demo.py").write_text(
        textwrap.dedent("""
        import numpy as np
        from optbench.problems import ObjectiveSpec

        def fourth(theta, grad, params):
            s = 0.0
            for i in range(theta.size):
                grad[i] = 4.0 * theta[i] ** 3
                s += theta[i] ** 4
            return s

        SPEC = ObjectiveSpec("sum_of_fourth_powers", fourth, summary="Σ θᵢ⁴: flat at the bottom",
                             start_of=lambda d, p: np.ones(d), fstar_of=0.0,
                             minimum_of=lambda d, p: np.zeros(d))
    """)
    )
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setattr(objectives, "_discovered", False)
    runner = CliRunner()
    listed = runner.invoke(cli, ["list", "problems"])
    assert "sum_of_fourth_powers" in listed.output and "flat at the bottom" in listed.output
    out = tmp_path / "run"
    done = runner.invoke(cli, ["run", "-o", "adam", "-p", "sum_of_fourth_powers:d=20", "--lr",
                               "0.05", "--steps", "400", "--out", str(out)])  # fmt: skip
    assert done.exit_code == 0, done.output
    run = optbench.load(out).runs.iloc[0]
    assert run["family"] == "objective" and run["final_gap"] < 1e-3
    sys.modules.pop("optbench_nd_demo", None)


def test_a_second_user_problem_adds_no_engine_signature(clean_problems):
    from optbench.families.surfaces.engine import problem_batch

    for name, power in (("first_user_problem", 2.0), ("second_user_problem", 4.0)):

        @optbench.register_problem(name, dims=None, f_star=0.0, params={"power": power})
        def kernel(theta, grad, params):
            s = 0.0
            for i in range(theta.size):
                grad[i] = params[0] * theta[i] ** (params[0] - 1.0)
                s += theta[i] ** params[0]
            return s

        optbench.run("sgd", f"{name}:d=3", lr=0.01, steps=5, start=1, save=False)
        assert len(problem_batch.signatures) == 1 and len(problem_batch.overloads) == 1


HOSTILE = {
    "not_compilable": (
        "    import os\n    return float(len(os.listdir('.')))",
        "problem 'not_compilable': kernel does not compile",
    ),
    "returns_none": ("    grad[0] = 1.0", "problem 'returns_none': kernel returns none"),
    "returns_array": ("    return theta", "problem 'returns_array': kernel returns array"),
    "returns_int": ("    return theta.size", "problem 'returns_int': kernel returns int64"),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_kernel_is_one_line_naming_the_problem(clean_problems, tmp_path, name):
    body, message = HOSTILE[name]
    module = tmp_path / f"hostile_{name}.py"
    module.write_text(
        f"import optbench\n\n@optbench.register_problem({name!r}, dims=None)\n"
        f"def kernel(theta, grad, params):\n{body}\n"
    )
    out = tmp_path / "out"
    done = CliRunner().invoke(cli, ["run", "--import", str(module), "-p", f"{name}:d=3",
                                    "--steps", "3", "--out", str(out)])  # fmt: skip
    assert done.exit_code == 2, done.output
    assert message in done.stderr and done.stderr.count("\n") == 1
    assert not out.exists()  # a failed run leaves nothing behind


def test_a_kernel_of_the_wrong_signature_is_one_line(clean_problems):
    @optbench.register_problem("two_arguments", dims=None)
    def two_arguments(theta, grad):
        return 0.0

    with pytest.raises(OptbenchError, match="'two_arguments': its kernel takes 2 argument"):
        optbench.run("sgd", "two_arguments:d=3", steps=2, save=False)


def test_a_kernel_writing_nan_is_a_recorded_divergence(clean_problems):
    @optbench.register_problem("nan_below_half", dims=None, f_star=0.0)
    def nan_below_half(theta, grad, params):
        s = 0.0
        for i in range(theta.size):
            grad[i] = 2.0 * theta[i] if theta[0] > 0.5 else np.nan
            s += theta[i] ** 2
        return s

    result = optbench.run(["sgd", "adam"], "nan_below_half:d=4", lr=0.1, start=1, steps=50,
                          save=False)  # fmt: skip
    runs = result.runs.set_index("optimizer")
    assert runs["diverged"].all()
    assert (runs["diverged_step"] > 0).all()


def test_registration_is_checked(clean_problems):
    with pytest.raises(OptbenchError, match="already registered"):
        optbench.register_problem("bowl")(lambda theta, grad, params: 0.0)
    with pytest.raises(OptbenchError, match="already registered"):
        optbench.register_problem("quadratic")(lambda theta, grad, params: 0.0)
    with pytest.raises(OptbenchError, match="problem name 'a,b'"):
        optbench.register_problem("a,b")(lambda theta, grad, params: 0.0)
    with pytest.raises(OptbenchError, match="unknown check"):
        optbench.register_problem("x", params={"k": 1.0}, checks={"k": "postive"})(
            lambda theta, grad, params: 0.0
        )


def test_the_readme_2_d_commands_give_the_numbers_they_gave_before_n_d_problems():
    """Final losses of the README's classic comparison and Keras run, as computed by the
    engine before problems became first-class kernels (float.hex: every bit)."""
    classic = optbench.run(["sgd", "momentum", "adagrad", "adam"], "bowl", start=(-7, 2), steps=30,
                           lr={"sgd": 0.95, "momentum": 0.1, "adagrad": 1.5, "adam": 0.3},
                           save=False)  # fmt: skip
    finals = map(float.hex, classic.runs["final_loss"])
    assert dict(zip(classic.runs["optimizer"], finals, strict=True)) == {
        "sgd": "0x1.b4b1552ee69a0p-7",
        "momentum": "0x1.88b319520e78cp-5",
        "adagrad": "0x1.7a82422009db7p-11",
        "adam": "0x1.a2a1d7b3339e1p-4",
    }
    keras = optbench.run("adam", "rosenbrock", preset="keras", hp={"beta1": 0.95}, lr=0.01,
                         steps=2000, save=False)  # fmt: skip
    assert keras.runs["final_loss"].iloc[0].hex() == "0x1.608a0a1014d81p+2"


def test_the_n_d_benchmark_references_do_the_engine_s_arithmetic():
    """The hand-fused loops of ``make bench`` end at the engine's losses bit for bit (a ratio
    means something only then); quick sizes, no time asserted."""
    from optbench.suites import perf

    rows = perf.nd_rows(2, quick=True)
    assert {row["measure"] for row in rows} == set(perf.ND_CASES)
    assert all(row["same"] == 1.0 for row in rows)


def test_a_user_problem_is_a_smoke_case_of_its_own(clean_problems):
    @optbench.register_problem("quartic_bowl", dims=None, f_star=0.0, start=1.0)
    def quartic_bowl(theta, grad, params):
        s = 0.0
        for i in range(theta.size):
            grad[i] = 2.0 * theta[i] + 4.0 * theta[i] ** 3
            s += theta[i] ** 2 + theta[i] ** 4
        return s

    result = optbench.bench("smoke", optimizers=["sgd"], presets=["torch"], save=False,
                            problems=["quartic_bowl:d=8"], lr={"": 0.1})  # fmt: skip
    row = result.table.iloc[0]
    assert row["problem"] == "quartic_bowl:d=8" and row["converged"] and result.ok
    with pytest.raises(OptbenchError, match="f\\* is unknown"):
        optbench.bench("smoke", optimizers=["sgd"], problems=["saddle"], save=False)
    with pytest.raises(OptbenchError, match="networks are smoke-tested as xor and spirals"):
        optbench.bench("smoke", optimizers=["sgd"], problems=["moons"], save=False)


def test_a_problem_too_big_for_memory_is_refused_before_anything_is_built(tmp_path):
    """d = 10⁸ coordinates: the rotation's data alone would be tens of GB; counted, not built."""
    done = CliRunner().invoke(cli, ["run", "-p", "quadratic:d=100000000", "--steps", "1",
                                    "--out", str(tmp_path / "big")])  # fmt: skip
    assert done.exit_code == 2, done.output
    assert "problem data would need" in done.stderr and done.stderr.count("\n") == 1
    assert not (tmp_path / "big").exists()
