"""The course, one lesson per idea: ``optbench lesson NAME`` / ``optbench.lesson(NAME)``.

Each lesson is data (``Lesson``: its name, one line saying what it teaches, its settings and a
smaller budget for tests) and one small function in ``surfaces.py`` or ``networks.py`` that
runs real optbench commands through a ``Workbook`` and says what the numbers show. Light on
import: the lesson's module (and with it numba, pandas, matplotlib) loads when it runs.
"""

from __future__ import annotations

import importlib
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from optbench.errors import OptbenchError, unknown_name


@dataclass(frozen=True)
class Lesson:
    """One idea of the course: what it teaches and the settings its function reads."""

    name: str
    summary: str
    function: str
    """``module:function`` inside ``optbench.lessons``."""
    knobs: Mapping[str, object] = field(default_factory=dict)
    """The lesson's settings (learning rates, steps, epochs ...), overridable by name."""
    quick: Mapping[str, object] = field(default_factory=dict)
    """Smaller budgets for ``quick=True`` (the tests), over ``knobs``."""


LESSONS: tuple[Lesson, ...] = (
    Lesson("perceptron", "a perceptron learns AND, OR and NAND by Rosenblatt's rule",
           "networks:perceptron", {"epochs": 10}),
    Lesson("xor", "XOR: the perceptron fails, two hidden units succeed", "networks:xor",
           {"epochs": 2000, "perceptron_epochs": 20}, {"epochs": 100}),
    Lesson("gradient-descent", "gradient descent steps against the slope of a 1-D cost curve",
           "surfaces:gradient_descent", {"lr": 0.3, "steps": 6}, {"steps": 4}),
    Lesson("learning-rate", "too small crawls, good converges, too large diverges",
           "surfaces:learning_rate", {"lrs": (0.03, 0.3, 1.05), "steps": 8}, {"steps": 4}),
    Lesson("momentum", "momentum on the textbook's bowl, and where it wins",
           "surfaces:momentum", {"steps": 30, "valley_steps": 2000, "valley_lr": 1e-3},
           {"valley_steps": 300}),
    Lesson("adaptive", "AdaGrad, RMSProp and Adam scale each coordinate's step",
           "surfaces:adaptive", {"steps": 10_000}, {"steps": 300}),
    Lesson("conventions", "torch and Keras: the same optimizer names, other defaults",
           "surfaces:conventions", {"steps": 2000}, {"steps": 200}),
    Lesson("backprop", "backprop checked by finite differences; a deep sigmoid net's "
           "vanishing gradient", "networks:backprop",
           {"epochs": 30, "hidden": "16,16,16,16", "lr": 0.1}, {"epochs": 2}),
    Lesson("activations", "sigmoid, tanh, ReLU, leaky ReLU and their slopes",
           "networks:activations", {"epochs": 100}, {"epochs": 3}),
    Lesson("softmax", "three classes through a softmax output and cross-entropy",
           "networks:softmax", {"epochs": 20}, {"epochs": 2}),
    Lesson("batch-size", "SGD with one example, a minibatch and the full batch",
           "networks:batch_size", {"epochs": 50, "batch_sizes": (1, 32, 800), "lr": 0.05},
           {"epochs": 2}),
    Lesson("tuning", "every optimizer has its window of good learning rates", "surfaces:tuning",
           {"lr": "1e-5..10:13", "seeds": 3, "steps": 1000},
           {"lr": "1e-3..1e-1:3", "seeds": 1, "steps": 50}),
    Lesson("overfitting", "train loss falls while test loss rises; L2 holds it back",
           "networks:overfitting", {"epochs": 300, "l2": 0.01}, {"epochs": 20}),
    Lesson("digits", "a real data set: the 8×8 handwritten digits", "networks:digits",
           {"epochs": 20}, {"epochs": 1}),
)  # fmt: skip

BY_NAME = {lesson.name: lesson for lesson in LESSONS}


def get_lesson(name: str) -> Lesson:
    """The lesson called ``name``; an unknown name suggests the closest."""
    if name not in BY_NAME:
        raise unknown_name("lesson", name, BY_NAME)
    return BY_NAME[name]


def lesson(
    name: str,
    *,
    out: str | os.PathLike | None = None,
    quick: bool = False,
    knobs: Mapping[str, object] | None = None,
    echo: Callable[[str], None] | None = None,
    results_root: str | os.PathLike = "results",
):
    """Run lesson ``name`` into ``out`` (default ``results/lessons/NAME/``) and return its
    ``LessonResult``: the commands it ran, the notes saying what to look at (computed from
    its own numbers), its figures.

    ``quick`` runs a small budget (fewer steps and epochs); ``knobs`` override the lesson's
    settings by name (``{"lrs": (0.03, 0.3, 0.9)}``); ``echo`` receives each command line
    as it starts (the CLI prints them).
    """
    from optbench.lessons.workbook import Workbook, lesson_folder

    spec = get_lesson(name)
    settings = dict(spec.knobs)
    if quick:
        settings.update(spec.quick)
    for key, value in (knobs or {}).items():
        if key not in spec.knobs:
            raise unknown_name(f"setting of lesson '{name}'", key, spec.knobs)
        settings[key] = checked_knob(name, key, spec.knobs[key], value)
    folder = lesson_folder(name, out, results_root)
    book = Workbook(name, folder, quick, echo or (lambda line: None))
    module, _, function = spec.function.partition(":")
    run = getattr(importlib.import_module(f"optbench.lessons.{module}"), function)
    run(book, settings)
    if book.result.figure is None:  # every lesson names its figure: a bug if not
        raise RuntimeError(f"lesson '{name}' named no figure to look at")
    return book.result


def checked_knob(lesson_name: str, key: str, default: object, value: object) -> object:
    """``value`` if it is the kind of value ``default`` is (a whole number >= 1 for counts, a
    finite number, a non-empty list of finite numbers, a text); ranges (lr > 0 ...) are
    checked by the runs themselves, as any setting is."""

    def bad(why: str) -> OptbenchError:
        return OptbenchError(f"lesson '{lesson_name}': {key}={value!r} {why}")

    def finite(item: object) -> float:
        if isinstance(item, bool) or not isinstance(item, int | float) or not math.isfinite(item):
            raise bad("must hold finite numbers")
        return float(item)

    if isinstance(default, str):
        if not isinstance(value, str) or not value.strip():
            raise bad("must be a non-empty text")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            raise bad("must be a whole number >= 1")
        if not (math.isfinite(value) and value == int(value) and value >= 1):
            raise bad("must be a whole number >= 1")
        return int(value)
    if isinstance(default, float):
        return finite(value)
    if isinstance(default, Sequence):
        if isinstance(value, str) or not isinstance(value, Sequence) or not value:
            raise bad("must be a non-empty list of numbers")
        return tuple(finite(item) for item in value)
    raise TypeError(f"lesson '{lesson_name}': knob {key} has an unsupported default")


__all__ = ["LESSONS", "Lesson", "get_lesson", "lesson"]
