"""Jitted N-dimensional built-in problems, each a ``value_and_grad(theta, grad, params) -> loss``
of the one problem signature (``_jit.PROBLEM_SIGNATURE``), so the surface engine takes any of
them, or a user's, as a first-class function and is compiled once.

The chained Rosenbrock, Rastrigin, Ackley and Styblinski–Tang are written so that at d = 2 they
do the 2-D kernels' arithmetic in the same order: their results at d = 2 equal the 2-D surfaces'
bit for bit (tested). ``params`` is what the spec's ``kernel_params`` builds: the parameter
values, or data (eigenvalues and rotation angles, a data set) for the others.
"""

from __future__ import annotations

import numpy as np

from optbench._jit import PROBLEM_SIGNATURE, jit

TWO_PI = 2.0 * np.pi


@jit(signature=PROBLEM_SIGNATURE)
def rosenbrock(theta, grad, params):
    """Σᵢ (a − xᵢ)² + b(xᵢ₊₁ − xᵢ²)², the chained form (d ≥ 2)."""
    a = params[0]
    b = params[1]
    n = theta.size
    total = 0.0
    carry = 0.0  # 2b·rᵢ₋₁: the previous term's pull on this coordinate
    for i in range(n - 1):
        x = theta[i]
        r = theta[i + 1] - x * x
        g = -2.0 * (a - x) - 4.0 * b * x * r
        if i > 0:
            g += carry
        grad[i] = g
        carry = 2.0 * b * r
        total += (a - x) ** 2 + b * r * r
    grad[n - 1] = carry
    return total


@jit(signature=PROBLEM_SIGNATURE)
def rastrigin(theta, grad, params):
    """10d + Σᵢ (xᵢ² − 10 cos 2πxᵢ)."""
    n = theta.size
    total = 10.0 * n
    for i in range(n):
        x = theta[i]
        grad[i] = 2.0 * x + 10.0 * TWO_PI * np.sin(TWO_PI * x)
        total = total + x * x - 10.0 * np.cos(TWO_PI * x)
    return total


@jit(signature=PROBLEM_SIGNATURE)
def ackley(theta, grad, params):
    """−20 exp(−0.2 √(Σxᵢ²/d)) − exp(Σ cos 2πxᵢ / d) + e + 20; gradient 0 at the tip."""
    n = theta.size
    squares = 0.0
    cosines = 0.0
    for i in range(n):
        squares += theta[i] * theta[i]
        cosines += np.cos(TWO_PI * theta[i])
    r = np.sqrt((1.0 / n) * squares)
    e1 = np.exp(-0.2 * r)
    e2 = np.exp((1.0 / n) * cosines)
    for i in range(n):
        if r > 0.0:
            x = theta[i]
            grad[i] = (4.0 / n) * e1 * x / r + (TWO_PI / n) * e2 * np.sin(TWO_PI * x)
        else:  # the cone's tip: no gradient exists, the minimum is here
            grad[i] = 0.0
    return -20.0 * e1 - e2 + np.e + 20.0


@jit(signature=PROBLEM_SIGNATURE)
def styblinski_tang(theta, grad, params):
    """½ Σᵢ (xᵢ⁴ − 16xᵢ² + 5xᵢ)."""
    total = 0.0
    for i in range(theta.size):
        x = theta[i]
        grad[i] = 2.0 * x**3 - 16.0 * x + 2.5
        total = total + x**4 - 16.0 * x * x + 5.0 * x
    return 0.5 * total


@jit(inline="always")
def _rotate_layer(v, params, layer, n, transpose):
    """Apply layer ``layer`` of the butterfly rotation (or its transpose) to ``v`` in place:
    disjoint Givens rotations of the pairs (i, i + stride), stride 2^(layer mod bits), walked
    block by block so no index is tested."""
    bits = int(params[1])
    stride = 1 << (layer % bits)
    base = 2 + n + layer * 2 * n
    cosines = params[base : base + n]
    sines = params[base + n : base + 2 * n]
    sign = -1.0 if transpose else 1.0
    for block in range(0, n, 2 * stride):
        for i in range(block, min(block + stride, n - stride)):
            c = cosines[i]
            s = sign * sines[i]
            u = v[i]
            w = v[i + stride]
            v[i] = c * u - s * w
            v[i + stride] = s * u + c * w


@jit(signature=PROBLEM_SIGNATURE)
def rotated_quadratic(theta, grad, params):
    """½ θᵀ Q Λ Qᵀ θ: eigenvalues Λ (``params[2:2+d]``) in a rotation Q made of ``params[0]``
    butterfly layers of Givens rotations (angles after them), so applying it costs O(d log d)
    and no d × d matrix is ever stored. ``grad`` is the work vector: z = Qᵀθ, then Q Λ z."""
    n = theta.size
    layers = int(params[0])
    for i in range(n):
        grad[i] = theta[i]
    for layer in range(layers):
        _rotate_layer(grad, params, layer, n, True)
    total = 0.0
    for i in range(n):
        z = grad[i]
        w = params[2 + i] * z
        total += z * w
        grad[i] = w
    for layer in range(layers - 1, -1, -1):
        _rotate_layer(grad, params, layer, n, False)
    return 0.5 * total


@jit(signature=PROBLEM_SIGNATURE)
def diagonal_quadratic(theta, grad, params):
    """½ Σᵢ hᵢ θᵢ² with the curvatures h = ``params`` (the noisy quadratic model's loss)."""
    total = 0.0
    for i in range(theta.size):
        w = params[i] * theta[i]
        total += theta[i] * w
        grad[i] = w
    return 0.5 * total


@jit(signature=PROBLEM_SIGNATURE)
def logistic(theta, grad, params):
    """Mean cross-entropy of a logistic regression + (λ/2)‖w‖² (the bias is not decayed).

    ``params`` = [N, F, λ, X (N × F, row-major), y (N, 0 or 1)]; θ = (w₁ … w_F, bias)."""
    rows = int(params[0])
    features = int(params[1])
    l2 = params[2]
    y_at = 3 + rows * features
    for j in range(features + 1):
        grad[j] = 0.0
    total = 0.0
    for k in range(rows):
        x_at = 3 + k * features
        z = theta[features]
        for j in range(features):
            z += params[x_at + j] * theta[j]
        if z > 0.0:  # softplus(z) and σ(z) without overflow on either side
            e = np.exp(-z)
            softplus = z + np.log1p(e)
            p = 1.0 / (1.0 + e)
        else:
            e = np.exp(z)
            softplus = np.log1p(e)
            p = e / (1.0 + e)
        label = params[y_at + k]
        total += softplus - label * z
        residual = p - label
        for j in range(features):
            grad[j] += residual * params[x_at + j]
        grad[features] += residual
    decay = 0.0
    for j in range(features):
        grad[j] = grad[j] / rows + l2 * theta[j]
        decay += theta[j] * theta[j]
    grad[features] = grad[features] / rows
    return total / rows + 0.5 * l2 * decay
