"""The lessons on 2-D surfaces: gradient descent, the learning rate, momentum, the adaptive
methods, torch against Keras, and tuning. Each runs real commands through its ``Workbook`` and
says what the numbers it got show; nothing here states a result it did not compute."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from optbench.api import Result
from optbench.columns import target_column
from optbench.lessons.workbook import Workbook
from optbench.optimizers import get_optimizer
from optbench.plots.lessons import Curve, Descent, Panel, curve_panels, descent_panels
from optbench.plots.style import color_for
from optbench.problems.surface_values import FORMULAS

BOWL_Y = (0.0, 2.0)
"""Start on the bowl's y axis: x stays 0, so the run walks the 1-D curve f(0, y) = y²."""


def paths(result: Result) -> dict[str, pd.DataFrame]:
    """Each run's history (step, loss, gap, x, y) by a label: the optimizer, with its preset
    when the result holds several."""
    runs = result.runs
    several = runs["preset"].nunique() > 1
    out = {}
    for run in runs.itertuples():
        label = f"{run.optimizer} ({run.preset})" if several else run.optimizer
        out[label] = result.history[result.history["run_id"] == run.run_id].reset_index(drop=True)
    return out


def gap_curves(result: Result, style: Mapping[str, str] | None = None) -> tuple[Curve, ...]:
    """One gap-against-step curve per run, in its optimizer's colour."""
    curves = []
    for run in result.runs.itertuples():
        h = result.history[result.history["run_id"] == run.run_id]
        label = f"{run.optimizer}  lr={run.lr:g}"
        dash = (style or {}).get(run.preset, "-")
        if style:
            label += f"  ({run.preset})"
        curves.append(Curve(label, h["step"], h["gap"], color_for(run.optimizer), dash))
    return tuple(curves)


def per_step_factor(gaps: np.ndarray) -> float:
    """The geometric mean factor by which the gap shrank per step over the run's second half."""
    half = gaps.size // 2
    first, last = gaps[half], gaps[-1]
    if not (first > 0 and last > 0 and np.isfinite([first, last]).all()) or gaps.size - 1 == half:
        return float("nan")
    return float((last / first) ** (1.0 / (gaps.size - 1 - half)))


def descent(result: Result, lr: float, title: str) -> Descent:
    """The 1-D picture of an SGD run on the bowl's y axis: the slope each step used is read
    back from the step itself (y_next = y − lr·f′(y)), so the tangents are the run's own."""
    h = result.history
    y = h["y"].to_numpy()
    reach = max(2.5, float(np.nanmax(np.abs(y[np.isfinite(y)]))) * 1.1)
    curve_x = np.linspace(-reach, reach, 601)
    return Descent(
        title=title,
        curve_x=curve_x,
        curve_f=FORMULAS["bowl"](0.0, curve_x),
        points=y,
        values=h["loss"].to_numpy(),
        slopes=(y[:-1] - y[1:]) / lr,
        color=color_for("sgd"),
    )


def gradient_descent(book: Workbook, knobs: Mapping) -> None:
    lr, steps = float(knobs["lr"]), int(knobs["steps"])
    result = book.run("descent", ["sgd"], "bowl", start=BOWL_Y, lr=lr, steps=steps)
    d = descent(result, lr, f"sgd, lr = {lr:g}, {steps} steps from y = {BOWL_Y[1]:g}")
    fig = descent_panels([d], "y  (on the bowl's steep axis, x = 0)", "cost f(0, y) = y²")
    book.figure(fig, "descent.png", main=True)
    f = d.values
    factor = np.exp(np.mean(np.log(np.abs(d.points[1:] / d.points[:-1]))))
    book.note(
        f"descent.png: each step moves y against the tangent's slope, y ← y − {lr:g}·f′(y); "
        f"the cost fell from {f[0]:.3g} to {f[-1]:.3g} in {steps} steps."
    )
    book.note(
        f"Each step multiplied y by {factor:.3g}: as the slope flattens near the minimum the "
        f"steps shrink by themselves (first step {abs(d.points[1] - d.points[0]):.3g}, last "
        f"{abs(d.points[-1] - d.points[-2]):.3g}), with the learning rate unchanged."
    )


def learning_rate(book: Workbook, knobs: Mapping) -> None:
    steps = int(knobs["steps"])
    panels, verdicts = [], []
    for lr in map(float, knobs["lrs"]):
        result = book.run(f"lr-{lr:g}", ["sgd"], "bowl", start=BOWL_Y, lr=lr, steps=steps)
        d = descent(result, lr, "")
        f0, f_end = d.values[0], d.values[-1]
        if result.runs["diverged"].iloc[0] or not f_end < f0:
            verdict = "diverges"
        elif f_end > f0 / 10:
            verdict = "crawls"
        else:
            verdict = "converges"
        factor = d.points[-1] / d.points[-2] if d.points[-2] != 0 else float("nan")
        verdicts.append((lr, verdict, f0, f_end, factor))
        panels.append(Descent(f"lr = {lr:g}: {verdict}", d.curve_x, d.curve_f, d.points,
                              d.values, d.slopes, d.color))  # fmt: skip
    fig = descent_panels(panels, "y  (on the bowl's steep axis, x = 0)", "cost f(0, y) = y²")
    book.figure(fig, "learning_rates.png", main=True)
    book.note(
        f"learning_rates.png, {steps} steps each: "
        + "; ".join(
            f"lr {lr:g} {verdict} (f {f0:.3g} → {f_end:.3g}, y ×{factor:.3g} per step)"
            for lr, verdict, f0, f_end, factor in verdicts
        )
        + "."
    )
    swings = [lr for lr, _, _, _, factor in verdicts if factor < 0]
    if swings:
        book.note(
            f"A negative factor (lr {', '.join(f'{lr:g}' for lr in swings)}) jumps across the "
            "minimum every step; above 1 in size it lands higher each time: f = y² has "
            "slope 2y, so any lr above 1 overshoots by more than it gains."
        )
    else:
        book.note("Every step stayed on its side of the minimum: no lr here overshot it.")


def momentum(book: Workbook, knobs: Mapping) -> None:
    steps = int(knobs["steps"])
    bowl = book.run("textbook", ["sgd", "momentum"], "bowl", start=(-7, 2),
                    lr={"sgd": 0.95, "momentum": 0.1}, steps=steps)  # fmt: skip
    valley_lr, valley_steps = float(knobs["valley_lr"]), int(knobs["valley_steps"])
    valley = book.run("valley", ["sgd", "momentum"], "rosenbrock", lr=valley_lr,
                      steps=valley_steps)  # fmt: skip
    fig = curve_panels([
        Panel(f"bowl x²/20 + y² from (−7, 2): the textbook's {steps} steps", "step",
              "gap to the minimum f − f*", gap_curves(bowl)),
        Panel(f"Rosenbrock's curved valley from (−2, 2), both at lr {valley_lr:g}", "step",
              "gap to the minimum f − f*", gap_curves(valley)),
    ])  # fmt: skip
    book.figure(fig, "momentum.png", main=True)
    gap = {r.optimizer: r.final_gap for r in bowl.runs.itertuples()}
    ahead = "behind" if gap["momentum"] > gap["sgd"] else "ahead of"
    swings = {k: int((np.diff(np.sign(h["x"].to_numpy())) != 0).sum()) for k, h in
              paths(bowl).items()}  # fmt: skip
    book.note(
        f"momentum.png, left: after {steps} steps on the bowl momentum (gap "
        f"{gap['momentum']:.3g}) ends {ahead} SGD (gap {gap['sgd']:.3g}); momentum's path "
        f"crossed the valley's axis x = 0 {times(swings['momentum'])}, SGD's "
        f"{times(swings['sgd'])}. The textbook pits a tuned SGD against an untuned momentum: on "
        "this bowl (curvatures 0.1 and 2) SGD's best lr is 2/(0.1 + 2) ≈ 0.952, so lr 0.95 "
        "is SGD at its best, while momentum 0.9 overshoots and swings back where about "
        "0.4 would damp the swing."
    )
    vgap = {r.optimizer: r.final_gap for r in valley.runs.itertuples()}
    wins = vgap["momentum"] < vgap["sgd"]
    book.note(
        f"Right: in Rosenbrock's long flat valley, both at lr {valley_lr:g} for {valley_steps} "
        f"steps, momentum's gap is {vgap['momentum']:.3g} against SGD's {vgap['sgd']:.3g}"
        + (
            ": momentum wins, its velocity building up along the valley floor where SGD's "
            "steps stay as small as the slope."
            if wins
            else ": SGD is still ahead here; give both more --steps."
        )
    )


def times(n: int) -> str:
    return {0: "never", 1: "once", 2: "twice"}.get(n, f"{n} times")


def path_length_ratio(h: pd.DataFrame) -> float:
    """The length of a path over the straight distance between its ends (1 = a straight line)."""
    xy = h[["x", "y"]].to_numpy()
    xy = xy[np.isfinite(xy).all(axis=1)]
    length = np.linalg.norm(np.diff(xy, axis=0), axis=1).sum()
    straight = np.linalg.norm(xy[-1] - xy[0])
    return float(length / straight) if straight > 0 else float("nan")


def adaptive(book: Workbook, knobs: Mapping) -> None:
    steps = int(knobs["steps"])
    result = book.run("beale", ["adagrad", "rmsprop", "adam"], "beale", steps=steps)
    title = "Beale from (1.5, 1.5), torch's default learning rates"
    fig = curve_panels([Panel(title, "step", "gap to the minimum f − f*", gap_curves(result))])
    book.figure(fig, "adaptive.png", main=True)
    parts = []
    for run in result.runs.itertuples():
        reached = result.runs.loc[run.Index, target_column(1e-3)]
        when = f"gap 1e-3 after {int(reached)} steps" if pd.notna(reached) else "never gap 1e-3"
        parts.append(f"{run.optimizer} (lr {run.lr:g}) ends at gap {run.final_gap:.3g}, {when}")
    book.note(f"adaptive.png, each at its torch default lr for {steps} steps: "
              + "; ".join(parts) + ".")  # fmt: skip
    for label, h in paths(result).items():
        best = h["gap"].idxmin()
        if h["gap"].iloc[-1] > 100 * h["gap"].iloc[best]:
            book.note(
                f"{label} came within {h['gap'].iloc[best]:.2g} of the minimum at step "
                f"{int(h['step'].iloc[best])} and ended at {h['gap'].iloc[-1]:.2g}: a step "
                "divided by the gradient's own scale stays about lr long however small the "
                "gradient, so at a fixed lr it keeps jumping around the minimum."
            )
    ratios = {k: path_length_ratio(h) for k, h in paths(result).items()}
    book.note(
        "beale/trajectories.png: dividing each gradient coordinate by its own running scale "
        "turns the step away from the gradient's direction, and the paths bend: each path is "
        + ", ".join(f"{k} {r:.2f}×" for k, r in ratios.items())
        + " as long as the straight line between its ends."
    )


def conventions(book: Workbook, knobs: Mapping) -> None:
    steps = int(knobs["steps"])
    names = ["adagrad", "rmsprop"]
    results = {
        preset: book.run(preset, names, "rosenbrock", preset=preset, steps=steps)
        for preset in ("torch", "keras")
    }
    both = Result(
        runs=pd.concat([r.runs for r in results.values()], ignore_index=True),
        history=pd.concat([r.history for r in results.values()], ignore_index=True),
        manifest={},
    )
    styles = {"torch": "-", "keras": "--"}
    panels = [
        Panel(f"{name}: torch (solid) and Keras (dashed) defaults", "step",
              "gap to the minimum f − f*",
              tuple(c for c in gap_curves(both, styles) if c.label.startswith(name + " ")))
        for name in names
    ]  # fmt: skip
    book.figure(curve_panels(panels, "Rosenbrock from (−2, 2)"), "conventions.png", main=True)
    for name in names:
        spec = get_optimizer(name)
        torch, keras = spec.resolve("torch", {}), spec.resolve("keras", {})
        flags = {h.name: h.doc for h in spec.hypers if h.check == "flag"}
        differ = [k for k in torch if torch[k] != keras[k] and k not in flags]
        switched = [doc for k, doc in flags.items() if torch[k] != keras[k]]
        end = {
            preset: r.runs.set_index("optimizer").loc[name, "final_gap"]
            for preset, r in results.items()
        }
        book.note(
            f"{name}: torch's defaults ({', '.join(f'{k}={torch[k]:g}' for k in differ)}) "
            f"end {steps} steps at gap {end['torch']:.3g}, Keras' "
            f"({', '.join(f'{k}={keras[k]:g}' for k in differ)}"
            + "".join(f"; {doc}" for doc in switched)
            + f") at {end['keras']:.3g}"
            + (": the same." if end["torch"] == end["keras"] else ".")
        )


def tuning(book: Workbook, knobs: Mapping) -> None:
    result = book.sweep("sweep", shows=True, optimizers=["sgd", "momentum", "adam"],
                        problems=["rosenbrock", "beale"], lr=knobs["lr"],
                        seeds=int(knobs["seeds"]), steps=int(knobs["steps"]))  # fmt: skip
    book.main_figure(result.folder / "lr_sensitivity.png")
    grid = result.runs[result.runs["phase"] == "grid"]
    medians = grid.groupby(["problem", "optimizer", "lr"])["final_gap"].median()
    for problem, by_problem in medians.groupby(level="problem"):
        parts = []
        for (_, optimizer), gaps in by_problem.groupby(level=["problem", "optimizer"]):
            gaps = gaps.droplevel(["problem", "optimizer"]).dropna()
            good = gaps[gaps <= 10 * max(gaps.min(), 1e-12)].index  # a gap of 0 counts as 1e-12
            window = f"lr {min(good):.3g}" + (f"…{max(good):.3g}" if len(good) > 1 else "")
            parts.append(f"{optimizer} best at lr {gaps.idxmin():.3g} (median gap "
                         f"{gaps.min():.3g}), within 10× of it at {window}")  # fmt: skip
        book.note(f"lr_sensitivity.png, {problem}: " + "; ".join(parts) + ".")
    best = medians.groupby(level=["problem", "optimizer"]).idxmin()
    shared = {lr for _, _, lr in best}
    book.note(
        f"{len(shared)} different best learning rates among {len(best)} (problem, optimizer) "
        "pairs: one shared lr would compare the lr, not the methods; tune each (--tune lr)."
    )
