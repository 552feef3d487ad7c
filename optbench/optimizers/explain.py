"""``optbench explain NAME``: one optimizer under both conventions, side by side.

It puts together what lives elsewhere, copying none of it: the update rules from
docs/optimizers.md (``rules``), the defaults from the registry spec, and the framework line of a
setting (``frameworks``). A student sees which line of the rule the two libraries write
differently, which defaults differ, and the exact torch.optim / keras.optimizers call that
computes what optbench computes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from optbench.optimizers.frameworks import FrameworkLine, framework_lines
from optbench.optimizers.registry import PRESETS, OptimizerSpec, get_optimizer
from optbench.optimizers.rules import DOC_NAME, Rules, rules_for

MARK = "≠"
"""The margin mark of a rule line, or a default, that differs between the conventions."""


@dataclass(frozen=True)
class Explanation:
    """An optimizer's rules, defaults and framework lines, for a setting (defaults + changes)."""

    spec: OptimizerSpec
    rules: Rules | None
    changes: Mapping[str, float]
    values: Mapping[str, Mapping[str, float]]
    """Per preset, every hyperparameter of the setting (the preset's defaults + ``changes``)."""
    lines: Mapping[str, Mapping[str, FrameworkLine]]
    """Per preset, the framework lines of that preset's setting, by framework."""

    def text(self) -> str:
        """The explanation as the command prints it."""
        spec = self.spec
        out = [f"{spec.name}: {spec.summary}" + (f"  [{spec.paper}]" if spec.paper else "")]
        out += ["", *self._rule_text(), "", *self._defaults_text(), "", *self._code_text()]
        return "\n".join(out)

    def _rule_text(self) -> list[str]:
        if self.rules is None:
            return [f"update rule: not in docs/{DOC_NAME} (an optimizer registered outside it)"]
        rules = self.rules
        if rules.identical:
            head = "both conventions compute the same rule; only the defaults differ"
        else:
            head = f"{MARK} marks the lines the two conventions write differently"
        out = [f"update rule (docs/{DOC_NAME}, section {rules.section})", f"{head}:"]
        titles = {
            "torch": "torch (torch.optim 2.x, the default)",
            "keras": "keras (Keras 3, --preset keras)",
        }
        for convention, lines in rules.lines.items():
            out.append(f"  {titles[convention]}")
            out += [f"  {MARK if line.differs else ' '} {line.text}" for line in lines]
        if rules.differences:
            out += ["how they differ:", rules.differences]
        return out

    def _defaults_text(self) -> list[str]:
        torch, keras = self.values["torch"], self.values["keras"]
        heading = "defaults" if not self.changes else "this setting (defaults with your changes)"
        rows = [("hyperparameter", "torch", "keras", "")]
        for hyper in self.spec.hypers:
            t, k = torch[hyper.name], keras[hyper.name]
            rows.append((hyper.name, f"{t:g}", f"{k:g}", f"{MARK if t != k else ' '} {hyper.doc}"))
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        out = [f"{heading}; {MARK} where the presets differ:"]
        for row in rows:
            cells = [row[0].ljust(widths[0]), row[1].rjust(widths[1]), row[2].rjust(widths[2])]
            out.append(("  " + "  ".join(cells) + "  " + row[3]).rstrip())
        return out

    def _code_text(self) -> list[str]:
        out = ["the same in the frameworks (params: your model's parameters):"]
        for preset in PRESETS:
            lines = self.lines[preset]
            own = lines[preset]
            found = [own, *(line for c, line in lines.items() if c != preset)]
            out.append(f"  what optbench runs with --preset {preset}:")
            if not own.code:
                out.append(f"    ({own.reason})")
            out += [f"    {line.code}" for line in found if line.code]
        return out


def explain(
    name: str, lr: float | None = None, hp: Mapping[str, float] | None = None
) -> Explanation:
    """What ``name`` computes under each convention, and the framework line of a setting.

    ``lr`` and ``hp`` ({name: value}) change the setting on top of each preset's defaults;
    every value is validated as for a run. An unknown name is a one-line error suggesting the
    closest.
    """
    spec = get_optimizer(name)
    changes = dict(hp or {})
    if lr is not None:
        changes["lr"] = lr
    values = {preset: spec.resolve(preset, changes) for preset in PRESETS}
    lines = {preset: framework_lines(spec.name, values[preset]) for preset in PRESETS}
    return Explanation(spec, rules_for(spec.name), changes, values, lines)
