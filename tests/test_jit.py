"""numba configuration: the fingerprinted cache folder, and the vectorisable tanh."""

from __future__ import annotations

import math

import numba
import numpy as np

from optbench import _jit
from optbench.families.networks.kernels import activate, fast_tanh


@numba.njit
def _fast_tanh_all(z, out):
    for i in range(z.size):
        out[i] = fast_tanh(z[i])


def test_fast_tanh_is_within_two_ulp_of_libm():
    rng = np.random.default_rng(7)
    z = np.concatenate([
        rng.normal(size=200_000) * 3, rng.normal(size=50_000) * 1e-4,
        rng.uniform(-25, 25, 50_000), np.linspace(0.6, 0.65, 5001), -np.linspace(0.6, 0.65, 5001),
        [0.0, -0.0, 0.625, -0.625, 19.0, 19.1, 40.0, -50.0, 1e-300, -1e-300, 5e-324],
    ])  # fmt: skip
    ours = np.empty_like(z)
    _fast_tanh_all(z, ours)
    exact = np.tanh(z)
    ulp = np.abs(ours - exact) / np.spacing(np.maximum(np.abs(exact), 5e-324))
    assert ulp.max() <= 2.0
    assert math.copysign(1.0, ours[-10]) == -1.0  # tanh(-0) is -0


def test_fast_tanh_keeps_nan_and_saturates_at_infinity():
    z = np.array([np.nan, np.inf, -np.inf])
    out = np.empty(3)
    _fast_tanh_all(z, out)
    assert np.isnan(out[0]) and out[1] == 1.0 and out[2] == -1.0


def test_activate_matches_numpy_for_every_activation():
    z = np.linspace(-6, 6, 1001)
    expected = {
        0: 1 / (1 + np.exp(-z)),
        1: np.tanh(z),
        2: np.maximum(z, 0),
        3: np.where(z > 0, z, 0.01 * z),
    }
    for code, want in expected.items():
        block = z.copy()
        activate(code, block)
        np.testing.assert_allclose(block, want, rtol=1e-15, atol=1e-300)


def test_compiled_code_is_cached_under_the_source_fingerprint():
    folder = _jit.CACHE_FOLDER
    assert folder.name == f"optbench-{_jit.source_fingerprint()}"
    assert numba.config.CACHE_DIR == str(folder)
