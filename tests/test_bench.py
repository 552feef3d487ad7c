"""optbench bench: the smoke suite against baselines, user optimizers, perf and its comparison."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from test_cli import assert_one_line_error
from test_registry import clean_registry  # noqa: F401  (a fixture: registrations are undone)

import optbench
from optbench.cli import cli
from optbench.errors import OptbenchError
from optbench.optimizers import registry
from optbench.suites import baseline, perf, smoke

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "benchmarks" / "baselines" / "smoke.csv"
WORKFLOW = ROOT / "docs" / "ci" / "optbench-smoke.yml"


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def adam_without_bias_correction(theta, grad, state, hp, t):
    """Adam (torch form) with the bias corrections forgotten: a classic slip."""
    lr, b1, b2, eps = hp[0], hp[1], hp[2], hp[3]
    n = theta.size
    for i in range(n):
        g = grad[i]
        m = b1 * state[i] + (1.0 - b1) * g
        v = b2 * state[n + i] + (1.0 - b2) * g * g
        state[i] = m
        state[n + i] = v
        theta[i] -= lr * m / (np.sqrt(v) + eps)


# --- the committed baseline -------------------------------------------------------------------


def test_the_suite_passes_on_the_committed_baseline(tmp_path):
    """Within the stated tolerances of the committed baseline, which was written on another CPU:
    the network rows' last bits follow the machine's BLAS and vector width (measured: relative
    differences up to 3e-6 between an AVX2 and an AVX-512 machine), so bit-identity is checked
    on one machine, below, not across machines."""
    result = optbench.bench("smoke", baseline=COMMITTED, out=tmp_path / "smoke")
    assert result.failures == []
    assert result.moved is not None
    assert set(result.moved["verdict"]) <= {"within tolerance"}
    expected = len(optbench.all_optimizers()) * 2 * len(smoke.SMOKE_CASES)
    assert len(result.table) == expected
    assert result.table["converged"].all()
    written = pd.read_csv(tmp_path / "smoke" / "smoke.csv")
    committed = pd.read_csv(COMMITTED)
    assert list(written[list(committed.columns)].columns) == list(committed.columns)
    assert (tmp_path / "smoke" / "manifest.json").is_file()
    # deterministic on one machine: a baseline written here is reproduced bit for bit
    again = optbench.bench("smoke", baseline=tmp_path / "smoke" / "smoke.csv", save=False)
    assert again.failures == [] and again.moved is not None and again.moved.empty


def test_the_committed_baseline_covers_every_optimizer_preset_and_case():
    committed = pd.read_csv(COMMITTED)
    keys = set(map(tuple, committed[smoke.KEY].itertuples(index=False)))
    expected = {
        (case.problem, name, preset)
        for case in smoke.SMOKE_CASES
        for name in optbench.all_optimizers()
        for preset in ("torch", "keras")
    }
    assert keys == expected


def test_every_built_in_optimizer_has_an_lr_for_every_case():
    for case in smoke.SMOKE_CASES:
        for name, spec in optbench.all_optimizers().items():
            for preset in ("torch", "keras"):
                assert spec.smoke_lr_for(case.name, preset) is not None, (case.name, name)


# --- a broken optimizer is caught and named ---------------------------------------------------


@pytest.mark.usefixtures("clean_registry")
def test_a_wrong_bias_correction_fails_the_suite_and_names_adam(tmp_path):
    adam = optbench.get_optimizer("adam")
    registry._REGISTRY["adam"] = dataclasses.replace(
        adam, kernel=adam_without_bias_correction, _compiled=[]
    )
    result = invoke(
        "bench",
        "--suite",
        "smoke",
        "-o",
        "adam",
        "--baseline",
        COMMITTED,
        "--out",
        tmp_path / "out",
    )
    assert result.exit_code == 1, result.output
    regressions = [line for line in result.stderr.splitlines() if "adam (torch)" in line]
    assert regressions, result.stderr
    assert "steps_to_" in result.stderr and "→" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("Error: smoke suite failed")
    assert "adam" in result.stderr.strip().splitlines()[-1]
    moved = pd.read_csv(tmp_path / "out" / "moved.csv")
    assert set(moved["optimizer"]) == {"adam"}
    assert (moved["verdict"] != "within tolerance").any()


@pytest.mark.usefixtures("clean_registry")
def test_a_registered_wrong_variant_fails_against_the_right_ones_baseline(tmp_path):
    optbench.register_optimizer(
        "adam_nobc",
        {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
        checks={"beta1": "unit", "beta2": "unit", "eps": "positive"},
        slots=2,
    )(adam_without_bias_correction)
    right = optbench.bench("smoke", optimizers=["adam"], presets=["torch"], save=False)
    base = right.table.assign(optimizer="adam_nobc")[
        baseline.baseline_columns(right.table, {c.problem: c.metrics for c in smoke.SMOKE_CASES})
    ]
    path = tmp_path / "adam.csv"
    base.to_csv(path, index=False)
    wrong = optbench.bench(
        "smoke", optimizers=["adam_nobc"], presets=["torch"], baseline=path, save=False
    )
    assert not wrong.ok
    assert wrong.failed == ["adam_nobc"]
    assert (wrong.table["lr_source"] == "baseline").all()  # the settings of the baseline
    # A forgotten bias correction makes Adam *faster* here (bigger early steps): the suite
    # fails on any change beyond the tolerance, not only on a slower optimizer.
    assert any(
        line.startswith("CHANGED (better): adam_nobc (torch) on beale: steps_to_1e-03 317 → 64")
        for line in wrong.failures
    )


@pytest.mark.usefixtures("clean_registry")
def test_a_diverging_optimizer_is_named_even_without_a_baseline(tmp_path):
    @optbench.register_optimizer("ascent", {"lr": 0.1})
    def ascent(theta, grad, state, hp, t):
        for i in range(theta.size):
            theta[i] += hp[0] * grad[i]

    result = invoke(
        "bench",
        "--suite",
        "smoke",
        "-o",
        "ascent",
        "--lr",
        "0.5",
        "--preset",
        "torch",
        "--out",
        tmp_path / "out",
    )
    assert result.exit_code == 1
    assert "DIVERGED: ascent (torch) on bowl at lr 0.5: at step" in result.stderr
    assert "diverged @ 0.5" in result.output


# --- user optimizers: --import, --lr, the search, --update-baseline ----------------------------

USER_MODULE = """
import numpy as np
import optbench

@optbench.register_optimizer("heavy_user", {"lr": 0.01, "mu": 0.5}, checks={"mu": "unit"}, slots=1)
def heavy_user(theta, grad, state, hp, t):
    for i in range(theta.size):
        state[i] = hp[1] * state[i] + grad[i]
        theta[i] -= hp[0] * state[i]
"""


@pytest.mark.usefixtures("clean_registry")
def test_a_user_optimizer_is_imported_searched_baselined_and_checked(tmp_path, monkeypatch):
    (tmp_path / "my_optimizers.py").write_text(textwrap.dedent(USER_MODULE))
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "my_optimizers", raising=False)

    def user_smoke(*args):
        return invoke("bench", "--suite", "smoke", "--import", "my_optimizers", "-o", "heavy_user",
                      "--baseline", "ci/smoke.csv", *args)  # fmt: skip

    first = user_smoke("--update-baseline", "--out", "run1")
    assert first.exit_code == 0, first.output + first.stderr
    assert "learning rates searched for: heavy_user" in first.output
    written = pd.read_csv(tmp_path / "ci" / "smoke.csv")
    assert set(written["optimizer"]) == {"heavy_user"}
    assert len(written) == 2 * len(smoke.SMOKE_CASES)
    assert set(written["lr"]) <= set(smoke.SEARCH_LRS)

    again = user_smoke("--out", "run2")
    assert again.exit_code == 0, again.stderr
    assert "nothing moved" in again.output
    used = pd.read_csv(tmp_path / "run2" / "smoke.csv")
    assert (used["lr_source"] == "baseline").all()

    other_lr = user_smoke("--lr", "bowl=0.02", "--out", "run3")
    assert other_lr.exit_code == 1
    assert "SETTINGS: heavy_user (torch) on bowl: lr" in other_lr.stderr


def test_the_search_picks_the_fastest_lr_that_ends_within_the_goal():
    bowl = smoke.SMOKE_CASES[0]
    planned = [smoke.Planned(bowl, "sgd", "torch", None, "search")]
    done = smoke.run_suite(planned)
    searched = done.runs
    assert sorted(searched["lr"]) == sorted(smoke.SEARCH_LRS)
    ok = searched[(searched["final_gap"] <= 1e-3) & ~searched["diverged"]]
    fastest = ok.sort_values(["steps_to_1e-03", "lr"]).iloc[0]
    assert done.table["lr"].iloc[0] == fastest["lr"]
    assert done.table["converged"].iloc[0]


def test_update_baseline_keeps_the_rows_it_did_not_run(tmp_path):
    path = tmp_path / "b.csv"
    full = optbench.bench(
        "smoke", presets=["torch"], update_baseline=True, baseline=path, save=False
    )
    assert full.baseline_written == path
    before = pd.read_csv(path)
    doctored = before.copy()
    doctored.loc[doctored["optimizer"] == "sgd", "steps_to_1e-03"] = 1
    doctored.to_csv(path, index=False)
    partial = optbench.bench(
        "smoke",
        optimizers=["sgd"],
        presets=["torch"],
        update_baseline=True,
        baseline=path,
        save=False,
    )
    assert partial.ok  # updating reports what moved but does not fail on it
    assert set(partial.moved["optimizer"]) == {"sgd"}
    pd.testing.assert_frame_equal(pd.read_csv(path), before)  # same rows, same order


def test_a_baseline_row_for_an_optimizer_that_is_gone_is_a_failure(tmp_path):
    committed = pd.read_csv(COMMITTED)
    ghost = committed[committed["optimizer"] == "adam"].assign(optimizer="adam_old")
    path = tmp_path / "b.csv"
    pd.concat([committed, ghost]).to_csv(path, index=False)
    result = optbench.bench("smoke", baseline=path, save=False)
    assert result.failed == ["adam_old"]
    assert all(line.startswith("MISSING: adam_old") for line in result.failures)


# --- tolerances ----------------------------------------------------------------------------------


def test_tolerances_as_stated():
    gap = baseline.tolerance_for("final_gap")
    assert gap.within(1e-5, 3e-5) and not gap.within(1e-5, 4e-5)
    assert gap.within(1e-30, 1e-13)  # both below the floor
    assert gap.worse(1e-5, 1e-3) and not gap.worse(1e-5, 1e-7)
    steps = baseline.tolerance_for("steps_to_1e-03")
    assert steps.within(100, 105) and not steps.within(100, 106)
    assert steps.within(3, 4)  # at least one step
    assert not steps.within(100, float("nan")) and steps.worse(100, float("nan"))
    assert not steps.within(float("nan"), 100) and not steps.worse(float("nan"), 100)
    diverged = baseline.tolerance_for("diverged")
    assert diverged.within(False, False) and not diverged.within(False, True)
    with pytest.raises(KeyError):
        baseline.tolerance_for("no_such_metric")


# --- perf and compare ---------------------------------------------------------------------------


def test_the_cluster_benchmark_runs_only_when_named():
    assert "cluster" not in perf.check_selection(2, None)
    assert perf.check_selection(2, ["cluster"]) == ["cluster"]


def _perf_folder(folder: Path, values: dict[str, list[float]], reference: float = 10.0) -> Path:
    rows = [
        {"measure": name, "unit": "steps/s", "better": "higher", "size": 1000, "repeat": i,
         "optbench": v, "reference": reference, "ratio": v / reference}
        for name, samples in values.items()
        for i, v in enumerate(samples)
    ]  # fmt: skip
    folder.mkdir()
    pd.DataFrame(rows).to_csv(folder / perf.PERF_CSV, index=False)
    return folder


def test_compare_flags_a_large_change_and_ignores_noise(tmp_path):
    a = _perf_folder(tmp_path / "a", {
        "engine": [10.0, 10.2, 9.9, 10.1, 10.0],
        "noisy": [10.0, 12.0, 8.0, 11.0, 9.0],
        "tiny": [10.0, 10.01, 10.02, 10.01, 10.0],
    })  # fmt: skip
    b = _perf_folder(tmp_path / "b", {
        "engine": [5.0, 5.1, 4.9, 5.0, 5.05],   # twice as slow: flagged
        "noisy": [10.5, 12.5, 8.5, 11.5, 9.5],  # inside the noise: ignored
        "tiny": [10.2, 10.21, 10.22, 10.2, 10.2],  # disjoint but 2 %: below the threshold
    })  # fmt: skip
    table = optbench.bench_compare(a, b)
    flagged = table[table["significant"]]
    assert list(flagged["measure"]) == ["engine"]
    assert list(flagged["verdict"]) == ["slower"]
    assert flagged["change"].iloc[0] == flagged["ratio change"].iloc[0] == 0.5
    shown = invoke("bench", "compare", a, b)
    assert shown.exit_code == 0
    assert "engine" in shown.output and "slower" in shown.output
    assert "noisy" not in shown.output and "tiny" not in shown.output
    assert "1 changed beyond the noise; 2 within noise" in shown.output
    reverse = optbench.bench_compare(b, a)
    assert list(reverse[reverse["significant"]]["verdict"]) == ["faster"]


def test_compare_calls_a_move_shared_with_the_reference_machine_drift(tmp_path):
    a = _perf_folder(tmp_path / "a", {"engine": [10.0, 10.2, 9.9]}, reference=20.0)
    b = _perf_folder(tmp_path / "b", {"engine": [5.0, 5.1, 4.95]}, reference=10.0)
    table = optbench.bench_compare(a, b)
    assert not table["significant"].any()
    assert list(table["verdict"]) == ["machine drift (ratio unchanged)"]


def test_compare_refuses_figures_of_other_sizes(tmp_path):
    a = _perf_folder(tmp_path / "a", {"engine": [1.0, 1.1]})
    b = tmp_path / "b"
    b.mkdir()
    frame = pd.read_csv(a / perf.PERF_CSV).assign(size=5)
    frame.to_csv(b / perf.PERF_CSV, index=False)
    table = optbench.bench_compare(a, b)
    assert list(table["verdict"]) == ["not comparable (other sizes)"]


def test_the_perf_suite_writes_samples_summary_and_manifest(tmp_path):
    result = optbench.bench(
        "perf", out=tmp_path / "p", repeats=2, only=["engine", "sweep"], quick=True
    )
    samples = pd.read_csv(tmp_path / "p" / perf.PERF_CSV)
    assert list(samples.columns) == perf.COLUMNS
    assert set(samples["measure"]) == {
        "engine_steps_per_s",
        "sweep_runs_per_s",
        "sweep_engine_runs_per_s",
    }
    assert (samples.groupby("measure").size() == 2).all()
    assert (samples["optbench"] > 0).all() and (samples["ratio"] > 0).all()
    assert (samples["same"] == 1).all()  # the references do the same arithmetic
    assert set(result.table["measure"]) == set(samples["measure"])
    assert (tmp_path / "p" / perf.SUMMARY_CSV).is_file()
    assert (tmp_path / "p" / "manifest.json").is_file()
    same = optbench.bench_compare(tmp_path / "p", tmp_path / "p")
    assert not same["significant"].any()


# --- CLI errors: one line, exit 2 -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--suite", "smok"], ["unknown suite 'smok'", "did you mean 'smoke'"]),
        ([], ["choose --suite smoke or --suite perf"]),
        (["--suite", "smoke", "--baseline", "no/such.csv"], ["baseline file", "not found"]),
        (["--suite", "smoke", "-o", "adamm"], ["did you mean 'adam'"]),
        (["--suite", "smoke", "--preset", "jax"], ["unknown preset 'jax'"]),
        (["--suite", "smoke", "--lr", "beal=0.1"], ["unknown smoke problem 'beal'"]),
        (["--suite", "smoke", "--lr", "bowl=fast"], ["'fast' is not a number"]),
        (["--suite", "smoke", "--lr", "bowl=-1"], ["must be > 0"]),
        (
            ["--suite", "smoke", "--import", "no_such_module_xyz"],
            ["--import no_such_module_xyz", "ModuleNotFoundError"],
        ),
        (["--suite", "perf", "--only", "engin"], ["did you mean 'engine'"]),
        (["--suite", "perf", "--repeats", "1"], ["at least 2"]),
    ],
)
def test_bench_errors_are_one_line(args, fragments, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert_one_line_error(invoke("bench", *args), *fragments)
    assert not (tmp_path / "results").exists()  # nothing written before the input is checked


def test_a_malformed_baseline_is_a_one_line_error(tmp_path):
    path = tmp_path / "b.csv"
    path.write_text("optimizer,lr\nadam,0.1\n")
    assert_one_line_error(
        invoke("bench", "--suite", "smoke", "--baseline", path), "is not a smoke baseline"
    )


def test_compare_needs_perf_folders(tmp_path):
    assert_one_line_error(invoke("bench", "compare", tmp_path, tmp_path), "holds no perf.csv")


def test_bench_help():
    for args in (["bench", "--help"], ["bench", "compare", "--help"]):
        result = invoke(*args)
        assert result.exit_code == 0 and "Usage:" in result.output


def test_lr_overrides_resolve_per_problem_and_optimizer():
    cases = smoke.SMOKE_CASES
    got = smoke.parse_lr_overrides({"": 0.1, "rosenbrock": 0.2, "b.beale": 0.3}, ["a", "b"], cases)
    assert got[("bowl", "a")] == 0.1
    assert got[("rosenbrock:b=1", "a")] == got[("rosenbrock:b=1", "b")] == 0.2
    assert got[("beale", "b")] == 0.3 and got[("beale", "a")] == 0.1
    with pytest.raises(OptbenchError, match="'c' is not among"):
        smoke.parse_lr_overrides({"c.bowl": 0.1}, ["a"], cases)


# --- the workflow users copy ---------------------------------------------------------------------


def test_the_github_workflow_is_valid_yaml_that_runs_the_smoke_suite():
    import yaml  # the `test` extra's PyYAML

    workflow = yaml.safe_load(WORKFLOW.read_text())
    assert workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` key as true
    (job,) = workflow["jobs"].values()
    steps = job["steps"]
    runs = "\n".join(step.get("run", "") for step in steps)
    assert "optbench bench --suite smoke" in runs
    assert "--baseline" in runs and "--out optbench-smoke" in runs
    cache = next(s for s in steps if s.get("uses", "").startswith("actions/cache@"))
    assert workflow["env"]["NUMBA_CACHE_DIR"].endswith("/" + cache["with"]["path"])
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["with"]["path"].rstrip("/") == "optbench-smoke"
    assert upload["if"] == "always()"  # the results are wanted most when the suite failed
    order = [s.get("uses", s.get("name")) for s in steps]
    assert order.index(cache["uses"]) < next(
        i for i, s in enumerate(steps) if "optbench bench" in s.get("run", "")
    )


def test_bench_help_imports_no_heavy_library():
    code = (
        "import sys; from click.testing import CliRunner; from optbench.cli import cli\n"
        "for args in (['bench', '--help'], ['bench', 'compare', '--help']):\n"
        "    assert CliRunner().invoke(cli, args).exit_code == 0\n"
        "print(sorted(m for m in ('numba', 'pandas', 'matplotlib') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_mlp_step_flops_count_forward_weight_gradient_and_delta_products():
    from optbench.suites import mlp

    # 2-3-4, batch 5: forward 2·5·(2·3 + 3·4), weight gradients the same, one delta 2·5·(3·4)
    assert mlp.step_flops((2, 3, 4), 5) == 180 + 180 + 120
    assert mlp.step_flops(mlp.NETS[mlp.LARGE][0], 128) == 2 * 128 * (2 * 109_400 + 31_000)


def test_mlp_rows_report_the_large_nets_share_of_the_matmul_peak(monkeypatch):
    from optbench.suites import mlp

    figures = {"optbench": 500.0, "numpy": 250.0, "matmul_peak": 80.0}
    calls = []

    def measured(framework, label):
        calls.append((framework, label))
        return figures[framework]

    monkeypatch.setattr(mlp, "measure_in_subprocess", measured)
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)  # no torch
    rows = perf.mlp_rows(2)
    shares = [r for r in rows if r["measure"] == "mlp_large_share_of_matmul_peak"]
    assert [r["repeat"] for r in shares] == [0, 1]
    gflops = 500.0 * mlp.step_flops(mlp.NETS[mlp.LARGE][0], 128) / 1e9
    assert shares[0]["optbench"] == pytest.approx(gflops)
    assert shares[0]["reference"] == 80.0
    assert shares[0]["ratio"] == pytest.approx(gflops / 80.0)
    assert shares[0]["unit"] == "GFLOP/s"
    assert calls.count(("matmul_peak", mlp.LARGE)) == 2  # beside each of the large net's repeats
    assert not [c for c in calls if c[0] == "matmul_peak" and c[1] != mlp.LARGE]


def test_matmul_peak_is_the_flops_of_the_best_product_over_its_time():
    from optbench.suites import mlp

    gflops = mlp.matmul_peak_gflops(size=64, repeats=2)
    assert 0.0 < gflops < 1e5
