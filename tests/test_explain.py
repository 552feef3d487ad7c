"""``optbench explain``: rules read from docs/optimizers.md, and framework lines that reproduce.

The framework lines are checked against a reading of torch.optim and keras.optimizers written
here, apart from ``optbench/optimizers/frameworks.py``: which formula each class hard-codes and
what each argument means. A line is right when, read back this way, it gives exactly the
hyperparameters optbench ran with, and running those reproduces best.csv's numbers.
"""

from __future__ import annotations

import ast

import pandas as pd
import pytest
from click.testing import CliRunner

import optbench
from optbench.cli import cli
from optbench.errors import OptbenchError
from optbench.optimizers import PRESETS, get_optimizer, registry
from optbench.optimizers.frameworks import framework_lines
from optbench.optimizers.rules import all_rules, parse_rules

BUILTINS = [
    "sgd",
    "momentum",
    "nesterov",
    "adagrad",
    "rmsprop",
    "adam",
    "amsgrad",
    "adamw",
    "nadam",
    "adamax",
    "adadelta",
    "lion",
]

# What each framework class hard-codes, in optbench's formula flags (docs/optimizers.md).
CLASS_FLAGS = {
    "torch.optim.SGD": {"keras_form": 0.0},
    "torch.optim.Adagrad": {"eps_inside": 0.0},
    "torch.optim.RMSprop": {"eps_inside": 0.0},
    "torch.optim.Adam": {"eps_hat": 0.0, "decoupled": 0.0},
    "torch.optim.AdamW": {"eps_hat": 0.0, "decoupled": 1.0},
    "torch.optim.NAdam": {},
    "torch.optim.Adamax": {"eps_in_max": 1.0},
    "torch.optim.Adadelta": {},
    "keras.optimizers.SGD": {"keras_form": 1.0, "dampening": 0.0},
    "keras.optimizers.Adagrad": {"eps_inside": 1.0, "lr_decay": 0.0},
    "keras.optimizers.RMSprop": {"eps_inside": 1.0},
    "keras.optimizers.Adam": {"eps_hat": 1.0, "decoupled": 0.0},
    "keras.optimizers.AdamW": {"eps_hat": 1.0, "decoupled": 1.0},
    "keras.optimizers.Nadam": {"momentum_decay": 1.0},
    "keras.optimizers.Adamax": {"eps_in_max": 0.0},
    "keras.optimizers.Adadelta": {},
    "keras.optimizers.Lion": {},
}
# Framework argument -> optbench hyperparameter; keras's rho is RMSprop's alpha.
TORCH_ARGS = {"initial_accumulator_value": "initial_accumulator"}
KERAS_ARGS = {
    "learning_rate": "lr",
    "epsilon": "eps",
    "beta_1": "beta1",
    "beta_2": "beta2",
    "initial_accumulator_value": "initial_accumulator",
}
# An argument left out takes the framework's default, which for these is 0 / False.
OFF_BY_DEFAULT = {
    "momentum",
    "dampening",
    "nesterov",
    "weight_decay",
    "lr_decay",
    "initial_accumulator",
    "centered",
    "amsgrad",
}


def read_back(code: str) -> tuple[str, dict[str, float]]:
    """A framework line → (its class, optbench hyperparameters it fixes or implies)."""
    call = ast.parse(code, mode="eval").body
    assert isinstance(call, ast.Call)
    cls = ast.unparse(call.func)
    torch = cls.startswith("torch.")
    if torch:
        assert ast.unparse(call.args[0]) == "params" and len(call.args) == 1
    else:
        assert not call.args
    values = dict(CLASS_FLAGS[cls])
    for keyword in call.keywords:
        value = ast.literal_eval(keyword.value)
        name = keyword.arg
        if name == "betas":
            values["beta1"], values["beta2"] = map(float, value)
            continue
        if not torch and name == "rho" and cls.endswith("RMSprop"):
            name = "alpha"
        name = (TORCH_ARGS if torch else KERAS_ARGS).get(name, name)
        values[name] = float(value)
    return cls, values


def implied(code: str, optimizer: str) -> dict[str, float]:
    """Every hyperparameter of ``optimizer`` as ``code`` sets it (off-by-default ones 0)."""
    _, values = read_back(code)
    names = get_optimizer(optimizer).hyper_names
    extra = set(values) - set(names)
    assert not extra, f"{code} sets {extra}, which {optimizer} does not have"
    return {n: values[n] if n in values else _off(n, code) for n in names}


def _off(name: str, code: str) -> float:
    assert name in OFF_BY_DEFAULT, f"{code} leaves out '{name}', which has no off default"
    return 0.0


# ── the rules come from docs/optimizers.md ────────────────────────────────────────────────


def test_the_page_documents_every_builtin_with_both_blocks():
    rules = all_rules()
    assert list(rules) == BUILTINS
    for name, rule in rules.items():
        assert rule.lines["torch"] and rule.lines["keras"], name
    identical = {name for name, rule in rules.items() if rule.identical}
    assert identical == {"sgd", "adadelta", "lion"}  # only their defaults differ


def test_each_section_says_how_the_conventions_differ_in_plain_text():
    rules = all_rules()
    for name, rule in rules.items():
        assert rule.differences, name
        assert not any(mark in rule.differences for mark in ("**", "`", "](#")), name
    assert "the same sequence" in rules["momentum"].differences
    assert "  - Where ε sits. Outside the root" in rules["adagrad"].differences


def test_the_differing_lines_are_the_ones_written_differently():
    rmsprop = all_rules()["rmsprop"]
    differs = [line.text for line in rmsprop.lines["keras"] if line.differs]
    assert all("√(ṽ + ε)" in text for text in differs) and len(differs) == 2
    assert not any(line.differs for line in rmsprop.lines["torch"][:4])


PAGE = """
| name | in one line | section |
|---|---|---|
| `foo` | a rule | [Foo](#foo) |

## Foo

```torch
a ← 1
b  ←  2
```

```keras
a ← 1
b ← 3
c ← 4
```
"""


def test_parse_marks_lines_ignoring_spacing():
    rule = parse_rules(PAGE)["foo"]
    assert [line.differs for line in rule.lines["torch"]] == [False, True]
    assert [line.differs for line in rule.lines["keras"]] == [False, True, True]
    same = PAGE.replace("b ← 3\nc ← 4", "b ← 2")
    assert parse_rules(same)["foo"].identical


@pytest.mark.parametrize(
    "broken",
    [
        PAGE.replace("```keras", "```"),  # no keras block
        PAGE.replace("```keras", "```torch"),  # two torch blocks
        PAGE.replace("## Foo", "## Bar"),  # the index points nowhere
    ],
)
def test_a_broken_page_is_an_error_naming_the_optimizer(broken):
    with pytest.raises(OptbenchError, match=r"[Ff]oo"):
        parse_rules(broken)


# ── framework lines ───────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("name", BUILTINS)
@pytest.mark.parametrize("preset", PRESETS)
def test_the_framework_line_of_each_preset_reads_back_to_its_defaults(name, preset):
    spec = get_optimizer(name)
    values = spec.resolve(preset)
    line = framework_lines(name, values)[preset]
    if name == "lion" and preset == "torch":
        assert line.code is None and "no 'lion'" in line.reason  # not in torch.optim
        return
    assert line.code is not None, line.reason
    assert implied(line.code, name) == values


@pytest.mark.parametrize(
    ("name", "changes", "torch", "keras"),
    [
        ("adam", {"eps_hat": 1.0}, None, "keras.optimizers.Adam("),
        ("adam", {"decoupled": 1.0, "weight_decay": 0.1}, "torch.optim.AdamW(", None),
        ("sgd", {"weight_decay": 0.1}, "torch.optim.SGD(", None),
        ("nadam", {"momentum_decay": 1.0}, "torch.optim.NAdam(", "keras.optimizers.Nadam("),
        ("rmsprop", {"centered": 1.0, "momentum": 0.5}, "torch.optim.RMSprop(", None),
        ("adagrad", {"lr_decay": 0.1, "eps_inside": 1.0}, None, None),
    ],
)
def test_a_setting_gets_a_line_exactly_where_a_framework_computes_it(name, changes, torch, keras):
    values = get_optimizer(name).resolve("torch", changes)
    lines = framework_lines(name, values)
    for convention, expected in (("torch", torch), ("keras", keras)):
        line = lines[convention]
        if expected is None:
            assert line.code is None and line.reason.startswith("no "), line
        else:
            assert line.code.startswith(expected)
            assert implied(line.code, name) == values


@pytest.fixture
def own_registry():
    """Registrations made by a test vanish after it."""
    optbench.all_optimizers()
    before = dict(registry._REGISTRY)
    yield
    registry._REGISTRY.clear()
    registry._REGISTRY.update(before)


def test_a_user_optimizer_is_explained_without_rule_or_line(own_registry):
    @optbench.register_optimizer("my_sign_sgd", {"lr": 0.1}, summary="step along sign(g)")
    def my_sign_sgd(theta, grad, state, hp, t):
        theta -= hp[0]

    explained = optbench.explain("my_sign_sgd")
    assert explained.rules is None
    assert all(line.code is None for lines in explained.lines.values() for line in lines.values())
    assert "update rule: not in docs/optimizers.md" in explained.text()
    assert "torch.optim has no 'my_sign_sgd'" in explained.text()


# ── the command ───────────────────────────────────────────────────────────────────────────


def test_explain_prints_rules_defaults_and_lines():
    result = CliRunner().invoke(cli, ["explain", "rmsprop"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "section RMSProp" in out
    assert "≠ without momentum:   θ ← θ − lr·g / √(ṽ + ε)" in out
    assert "    v ← αv + (1 − α)·g²" in out  # the same in both: unmarked
    assert "torch.optim.RMSprop(params, lr=0.01, alpha=0.99, eps=1e-08)" in out
    assert "keras.optimizers.RMSprop(learning_rate=0.001, rho=0.9, epsilon=1e-07)" in out
    alpha = next(line for line in out.splitlines() if line.strip().startswith("alpha "))
    assert alpha.split()[1:4] == ["0.99", "0.9", "≠"]


def test_explain_a_setting():
    result = CliRunner().invoke(cli, ["explain", "adam", "--lr", "0.0316", "--hp", "beta1=0.95"])
    assert result.exit_code == 0, result.output
    assert "torch.optim.Adam(params, lr=0.0316, betas=(0.95, 0.999), eps=1e-08)" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["adamm"], "did you mean 'adam'"),
        (["adam", "--lr", "nan"], "lr=nan must be > 0"),
        (["adam", "--lr", "-1"], "lr=-1 must be > 0"),
        (["adam", "--lr", "1e400"], "lr=inf must be > 0"),
        (["adam", "--lr", "fast"], "is not a number"),
        (["adam", "--hp", "beta1=1.5"], "beta1=1.5 must be in [0, 1)"),
        (["adam", "--hp", "betta1=0.9"], "did you mean 'beta1'"),
        (["adam", "--hp", "beta1"], "must look like name=value"),
    ],
)
def test_explain_bad_input_is_one_line_and_exit_2(args, message):
    result = CliRunner().invoke(cli, ["explain", *args])
    assert result.exit_code == 2
    assert message in result.output and len(result.output.strip().splitlines()) == 1


# ── a tuned sweep's winners carry their lines, and the lines reproduce them ─────────────


def test_best_csv_lines_rerun_to_the_same_numbers(tmp_path):
    """Every optimizer under both presets: the winner's framework line, read back, is a setting
    that reruns to best.csv's median gap exactly (lion at the torch preset has only Keras's)."""
    result = optbench.sweep(
        optimizers=BUILTINS,
        problems=["beale"],
        preset=["torch", "keras"],
        lr="1e-3,1e-2",
        seeds=2,
        steps=40,
        noise=0.1,
        tune="lr",
        out=tmp_path / "sweep",
        plots=False,
    )
    best = pd.read_csv(tmp_path / "sweep" / "best.csv")
    finals = result.runs[result.runs["phase"] == "final"]
    assert len(best) == 2 * len(BUILTINS) and len(finals) == 2 * len(best)
    seeds = sorted(set(finals["seed"]))
    assert all(sorted(g["seed"]) == seeds for _, g in finals.groupby(["optimizer", "preset"]))
    for preset, rows in best.groupby("preset"):
        lr, hp = {}, {}
        for row in rows.to_dict("records"):
            name = row["optimizer"]
            own, other = (row[f"{c}_code"] for c in sorted(PRESETS, key=lambda c: c != preset))
            assert isinstance(own, str) or (name, preset) == ("lion", "torch"), row
            values = implied(own if isinstance(own, str) else other, name)
            lr[name] = values.pop("lr")
            hp |= {f"{name}.{key}": value for key, value in values.items()}
        # every hyperparameter of every optimizer given: the preset here changes nothing
        rerun = optbench.run(list(lr), "beale", lr=lr, hp=hp, preset="torch", seed=seeds,
                             steps=40, noise=0.1, save=False)  # fmt: skip
        medians = rerun.runs.groupby("optimizer")["final_gap"].median()
        assert medians.to_dict() == dict(
            zip(rows["optimizer"], rows["final_gap_median"], strict=True)
        )
    html = optbench.report(tmp_path / "sweep").read_text()
    assert "in torch.optim" in html and "keras.optimizers.Adam(learning_rate=" in html


def test_the_readme_shows_what_explain_prints():
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    block = readme.split("$ optbench explain rmsprop\n", 1)[1].split("\n```", 1)[0]
    printed = CliRunner().invoke(cli, ["explain", "rmsprop"]).output
    assert block.strip("\n") == printed.strip("\n")
