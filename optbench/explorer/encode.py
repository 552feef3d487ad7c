"""Packing the paths into the page: quantised, delta-encoded, gzip-compressed, base64 text.

Each coordinate is rounded to a decimal quantum (``theta_quantum``, about 1/10,000 of the
window: far finer than a pixel) and each loss to 1e-4 of a decade (a relative error below
0.012 %). Along a path consecutive values differ little, so the differences, as zigzag
varints, are mostly one or two bytes, and gzip shrinks them further; the browser inflates them
with its own ``DecompressionStream``, so the page needs no library. The page states both
precisions, and the browser test holds it to them.
"""

from __future__ import annotations

import base64
import gzip
import math

import numpy as np

LOSS_QUANTUM = 1e-4
"""Losses are kept as round(log10|v| / LOSS_QUANTUM): 1e-4 of a decade."""
LOSS_FLOOR = 1e-300
"""|v| below this (an exact zero) is kept as this."""
LOSS_OFFSET = round(-math.log10(LOSS_FLOOR) / LOSS_QUANTUM) + 1
"""Added to a loss code so that every code is >= 1 and its sign can carry the value's sign."""
COORD_LIMIT = 1e12
"""Coordinates of a diverging path beyond ±this (in quanta: far past any window) are clipped."""
ACCURACY_QUANTUM = 1e-4
"""Accuracies are kept as round(accuracy / ACCURACY_QUANTUM)."""


def theta_quantum(window: tuple[tuple[float, float], tuple[float, float]]) -> float:
    """The decimal quantum of the coordinates: a power of ten near 1/5,000 to 1/50,000 of the
    window's larger side."""
    (x0, x1), (y0, y1) = window
    span = max(x1 - x0, y1 - y0)
    return 10.0 ** math.floor(math.log10(span / 5000))


def quantise_theta(values: np.ndarray, quantum: float) -> np.ndarray:
    return np.round(np.clip(values / quantum, -COORD_LIMIT, COORD_LIMIT)).astype(np.int64)


def quantise_loss(values: np.ndarray) -> np.ndarray:
    """Signed log-codes: sign(v)·(round(log10|v| / LOSS_QUANTUM) + LOSS_OFFSET)."""
    size = np.clip(np.abs(values), LOSS_FLOOR, 1e300)
    codes = np.round(np.log10(size) / LOSS_QUANTUM).astype(np.int64) + LOSS_OFFSET
    return np.where(values < 0, -codes, codes)


def dequantise_loss(codes: np.ndarray) -> np.ndarray:
    """The inverse the page computes, for tests."""
    size = 10.0 ** ((np.abs(codes) - LOSS_OFFSET) * LOSS_QUANTUM)
    return np.where(codes < 0, -size, size)


def path_deltas(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Each path's first value, then its differences (paths concatenated, ``counts`` each)."""
    deltas = np.diff(values, prepend=np.int64(0))
    firsts = np.cumsum(counts) - counts
    firsts = firsts[counts > 0]
    deltas[firsts] = values[firsts]
    return deltas


def varints(values: np.ndarray) -> bytes:
    """Signed integers as zigzag LEB128 varints (7 bits a byte, high bit: more follows)."""
    signed = np.asarray(values, dtype=np.int64)
    u = ((signed << 1) ^ (signed >> 63)).astype(np.uint64)
    groups = np.ones(u.size, dtype=np.int64)
    rest = u >> np.uint64(7)
    while rest.any():
        groups += rest > 0
        rest >>= np.uint64(7)
    out = np.empty(int(groups.sum()), dtype=np.uint8)
    offsets = np.cumsum(groups) - groups
    for k in range(int(groups.max(initial=0))):
        sel = groups > k
        byte = (u[sel] >> np.uint64(7 * k)) & np.uint64(0x7F)
        more = (groups[sel] > k + 1).astype(np.uint64) << np.uint64(7)
        out[offsets[sel] + k] = (byte | more).astype(np.uint8)
    return out.tobytes()


def pack(streams: dict[str, bytes]) -> tuple[str, list[list]]:
    """Streams joined, gzip-compressed and base64-encoded, and their [name, byte length]s."""
    raw = b"".join(streams.values())
    packed = gzip.compress(raw, compresslevel=9, mtime=0)
    return base64.b64encode(packed).decode("ascii"), [[k, len(v)] for k, v in streams.items()]


def path_streams(counts: np.ndarray, diverged: np.ndarray, **values: np.ndarray) -> dict:
    """The varint streams of a set of paths: each path's length and divergence, then each
    named series as differences along its path (``values`` already integer codes)."""
    streams = {"counts": varints(counts), "diverged": varints(np.asarray(diverged) + 1)}
    for name, codes in values.items():
        streams[name] = varints(path_deltas(codes, counts))
    return streams


def encode_paths(
    counts: np.ndarray,
    diverged: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    loss: np.ndarray,
    quantum: float,
) -> tuple[str, list[list]]:
    """Surface paths: θ in quanta, loss as log-codes (``diverged`` is stored + 1: 0 is never)."""
    return pack(
        path_streams(
            counts,
            diverged,
            x=quantise_theta(x, quantum),
            y=quantise_theta(y, quantum),
            loss=quantise_loss(loss),
        )
    )
