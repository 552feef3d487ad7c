"""A tiny counter-based random generator for jitted loops (SplitMix64 + Box–Muller).

Each run draws from its own generator seeded by its seed alone, so a run's numbers do not
depend on which thread ran it, on how many runs share the batch, or on numpy's version.
Runs with the same seed see the same noise (common random numbers: fairer comparisons).
"""

from __future__ import annotations

import numpy as np

from optbench._jit import jit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


@jit(inline="always")
def seed_state(seed, stream):
    """The starting state for ``seed`` and an independent ``stream`` number (noise, batches...)."""
    return np.uint64(seed) * _GOLDEN + np.uint64(stream) * _MIX1 + _MIX2


@jit(inline="always")
def next_u64(state):
    """Advance ``state`` (a 1-element uint64 array) and return 64 random bits."""
    state[0] += _GOLDEN
    z = state[0]
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


@jit(inline="always")
def uniform(state):
    """A float64 in (0, 1): 53 random bits, never exactly 0 so log() is safe."""
    return (np.float64(next_u64(state) >> np.uint64(11)) + 0.5) * (1.0 / 9007199254740992.0)


@jit(inline="always")
def normal(state):
    """A standard normal draw (Box–Muller, one of the pair)."""
    return np.sqrt(-2.0 * np.log(uniform(state))) * np.cos(2.0 * np.pi * uniform(state))


@jit(inline="always")
def below(state, n):
    """An integer in [0, n) (for shuffles); the modulo bias is below 2⁻⁴⁰ for n < 2²⁴."""
    return np.int64(next_u64(state) % np.uint64(n))
