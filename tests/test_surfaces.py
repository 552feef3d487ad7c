"""Every surface: analytic gradient against central differences, minima, f*, and the spec."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optbench.errors import OptbenchError
from optbench.families.surfaces.kernels import grid_values, value_and_grad
from optbench.problems import PROBLEMS, get_problem

SURFACES = sorted(n for n, spec in PROBLEMS.items() if spec.family == "surface")


def evaluate(spec, point):
    grad = np.empty(2)
    loss = value_and_grad(spec.index, np.asarray(spec.param_vector), np.asarray(point, float), grad)
    return loss, grad


def central_difference(spec, point, h=1e-6):
    grad = np.empty(2)
    for i in range(2):
        up, down = np.array(point, float), np.array(point, float)
        up[i] += h
        down[i] -= h
        grad[i] = (evaluate(spec, up)[0] - evaluate(spec, down)[0]) / (2 * h)
    return grad


unit = st.floats(0.0, 1.0, allow_nan=False)


@pytest.mark.parametrize("name", SURFACES)
@settings(max_examples=60, deadline=None)
@given(u=unit, v=unit)
def test_gradient_matches_central_differences(name, u, v):
    spec = PROBLEMS[name]
    (x0, x1), (y0, y1) = spec.window
    point = (x0 + u * (x1 - x0), y0 + v * (y1 - y0))
    if name == "ackley" and math.hypot(*point) < 1e-3:
        point = (1e-3, 2e-3)  # the cone tip has no gradient; test right next to it instead
    loss, grad = evaluate(spec, point)
    expected = central_difference(spec, point)
    scale = max(1.0, abs(loss), np.abs(expected).max())
    np.testing.assert_allclose(grad, expected, rtol=1e-6, atol=1e-6 * scale)


@pytest.mark.parametrize("name", [n for n in SURFACES if PROBLEMS[n].fstar is not None])
def test_minima_reach_fstar_with_zero_gradient(name):
    spec = PROBLEMS[name]
    for point in spec.minima:
        loss, grad = evaluate(spec, point)
        assert loss == pytest.approx(spec.fstar, abs=1e-9)
        assert np.abs(grad).max() < 1e-4


def test_ackley_gradient_is_zero_at_the_tip_and_finite_next_to_it():
    spec = PROBLEMS["ackley"]
    loss, grad = evaluate(spec, (0.0, 0.0))
    assert loss == pytest.approx(0.0, abs=1e-12)
    assert np.all(grad == 0.0)
    _, near = evaluate(spec, (1e-9, -1e-9))
    assert np.all(np.isfinite(near))


def test_known_values():
    assert evaluate(PROBLEMS["goldstein_price"], (0, -1))[0] == pytest.approx(3.0)
    assert PROBLEMS["styblinski_tang"].fstar == pytest.approx(-78.33233, abs=1e-5)
    assert evaluate(PROBLEMS["saddle"], (1.0, 2.0))[0] == -3.0
    assert evaluate(PROBLEMS["rosenbrock"], (-2.0, 2.0))[0] == pytest.approx(409.0)


def test_rosenbrock_parameters_move_the_minimum():
    spec = get_problem("rosenbrock:a=2:b=1")
    assert spec.minima == ((2.0, 4.0),)
    assert spec.label == "rosenbrock:a=2:b=1"
    loss, grad = evaluate(spec, (2.0, 4.0))
    assert loss == 0.0 and np.all(grad == 0.0)
    assert get_problem("rosenbrock").label == "rosenbrock"


@pytest.mark.parametrize(
    "text, message",
    [
        ("rosenbrok", "did you mean 'rosenbrock'"),
        ("rosenbrock:c=1", "parameter of rosenbrock 'c'"),
        ("rosenbrock:b", "must look like key=value"),
        ("rosenbrock:b=x", "is not a number"),
        ("beale:a=1", "takes no parameters"),
    ],
)
def test_bad_problem_names_and_parameters(text, message):
    with pytest.raises(OptbenchError, match=message):
        get_problem(text)


def test_grid_values_match_pointwise_evaluation():
    spec = PROBLEMS["himmelblau"]
    xs, ys = np.linspace(-5, 5, 7), np.linspace(-5, 5, 5)
    grid = grid_values(spec.index, np.asarray(spec.param_vector), xs, ys)
    assert grid.shape == (5, 7)
    assert grid[3, 2] == evaluate(spec, (xs[2], ys[3]))[0]


@pytest.mark.parametrize("name", SURFACES)
def test_spec_is_complete(name):
    spec = PROBLEMS[name]
    (x0, x1), (y0, y1) = spec.window
    assert x0 < x1 and y0 < y1
    assert x0 <= spec.start[0] <= x1 and y0 <= spec.start[1] <= y1
    assert spec.summary and spec.formula
