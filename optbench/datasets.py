"""Data sets for the network problems: made from a seed, shipped, or read from IDX files.

- Truth tables (and, or, nand, xor): the four rows, trained and tested on the same four rows
  (that is the lesson: can the model represent the table at all?). Bits are standardised to
  −1/+1: with 0/1 inputs a 2-2-1 sigmoid net stuck in XOR's plateau for most seeds (seed 0
  failed with sgd, adam and momentum); with ±1 inputs 8–9 seeds of 10 learn it.
- spirals, moons, circles, blobs: generated from the problem's ``data_seed`` with its ``noise``
  (``--problem spirals:noise=0.2:data_seed=3``). The draws use the SplitMix64 generator of
  ``optbench/rng.py`` (a NumPy twin of it, checked equal in the tests), so a data set is the same
  on every machine and numpy version. The run's own seed sets initial weights and batch order.
- digits: the UCI 8×8 handwritten digits shipped in ``optbench/data`` (see its README).
- mnist, fashion-mnist: the four IDX (.gz or raw) files from ``--data-dir`` or the cache filled
  by ``optbench data fetch``.

Splits are seeded (``data_seed``) permutations; standardisation uses training statistics only —
per feature for points, over all pixels for images (a per-pixel std is ~0 at image borders and
would blow rare pixels up).
"""

from __future__ import annotations

import gzip
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from optbench.errors import OptbenchError
from optbench.problems.networks import IDX_DATASETS, NetworkOptions, held_out_rows, layer_sizes

DATA_FOLDER = Path(__file__).parent / "data"
SAMPLE_STREAM = 10
SPLIT_STREAM = 11
SPIRAL_TURNS = 1.0

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def uniforms(seed: int, stream: int, n: int) -> np.ndarray:
    """The first ``n`` draws of ``rng.uniform`` from ``rng.seed_state(seed, stream)``, vectorised.

    SplitMix64 is counter-based: draw k mixes state₀ + k·golden, so NumPy computes all at once.
    """
    with np.errstate(over="ignore"):
        start = np.array([seed], dtype=np.uint64) * _GOLDEN + np.uint64(stream) * _MIX1 + _MIX2
        z = start + np.arange(1, n + 1, dtype=np.uint64) * _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _MIX1
        z = (z ^ (z >> np.uint64(27))) * _MIX2
        z = z ^ (z >> np.uint64(31))
    return ((z >> np.uint64(11)).astype(np.float64) + 0.5) * (1.0 / 9007199254740992.0)


def normals(seed: int, stream: int, n: int) -> np.ndarray:
    """``n`` draws of ``rng.normal`` (Box–Muller on consecutive uniform pairs)."""
    u = uniforms(seed, stream, 2 * n).reshape(n, 2)
    return np.sqrt(-2.0 * np.log(u[:, 0])) * np.cos(2.0 * np.pi * u[:, 1])


def permutation(seed: int, stream: int, n: int) -> np.ndarray:
    """A seeded permutation of range(n) (argsort of uniforms: ties have probability ~0)."""
    return np.argsort(uniforms(seed, stream, n), kind="stable")


@dataclass
class Dataset:
    """Inputs and integer labels for training and testing, already standardised."""

    name: str
    x_train: np.ndarray
    labels_train: np.ndarray
    x_test: np.ndarray
    labels_test: np.ndarray
    classes: int
    mean: np.ndarray
    std: np.ndarray

    @property
    def features(self) -> int:
        return self.x_train.shape[1]

    def layer_sizes(self, options: NetworkOptions) -> list[int]:
        return layer_sizes(self.features, self.classes, options)

    def targets(self, n_out: int) -> tuple[np.ndarray, np.ndarray]:
        """Target matrices for train and test: one-hot rows, or the 0/1 label in one column."""
        return encode(self.labels_train, n_out), encode(self.labels_test, n_out)

    def standardise(self, x: np.ndarray) -> np.ndarray:
        """Raw inputs (e.g. a plotting grid) mapped the way the training inputs were."""
        return (np.asarray(x, dtype=np.float64) - self.mean) / self.std


def encode(labels: np.ndarray, n_out: int) -> np.ndarray:
    if n_out == 1:
        return labels.astype(np.float64).reshape(-1, 1)
    out = np.zeros((labels.size, n_out))
    out[np.arange(labels.size), labels] = 1.0
    return out


# ---------------------------------------------------------------- generated and shipped data


def truth_table(name: str) -> tuple[np.ndarray, np.ndarray]:
    x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    a, b = x[:, 0].astype(bool), x[:, 1].astype(bool)
    y = {"and": a & b, "or": a | b, "nand": ~(a & b), "xor": a ^ b}[name]
    return x, y.astype(np.int64)


def _class_sizes(n: int, classes: int) -> np.ndarray:
    sizes = np.full(classes, n // classes)
    sizes[: n % classes] += 1
    return sizes


def generate(name: str, n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` labelled points in the plane; Gaussian noise of std ``noise`` on each coordinate."""
    classes = 3 if name == "blobs" else 2
    labels = np.repeat(np.arange(classes), _class_sizes(n, classes))
    u = uniforms(seed, SAMPLE_STREAM, n)
    jitter = noise * normals(seed, SAMPLE_STREAM + 1, 2 * n).reshape(n, 2)
    if name == "spirals":  # two arms, a half turn apart, radius growing from 0 to 1
        radius = np.sqrt(u)  # uniform density along the arm's area
        angle = 2.0 * np.pi * SPIRAL_TURNS * radius + np.pi * labels
        points = radius[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
    elif name == "moons":  # two interleaving half circles (as scikit-learn's make_moons)
        angle = np.pi * u
        upper = np.column_stack([np.cos(angle), np.sin(angle)])
        lower = np.column_stack([1.0 - np.cos(angle), 0.5 - np.sin(angle)])
        points = np.where(labels[:, None] == 0, upper, lower)
    elif name == "circles":  # a ring of radius 1 around a circle of radius 0.5
        angle = 2.0 * np.pi * u
        radius = np.where(labels == 0, 1.0, 0.5)
        points = radius[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
    elif name == "blobs":  # three unit-variance clusters at fixed corners of a triangle
        centers = np.array([[-2.5, -1.5], [2.5, -1.5], [0.0, 2.8]])
        points = centers[labels]
        jitter = jitter + normals(seed, SAMPLE_STREAM + 2, 2 * n).reshape(n, 2)
    else:
        raise ValueError(f"no generator for '{name}'")
    return points + jitter, labels


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """The shipped 8×8 digits: (1797 × 64 float pixels 0..16, labels 0..9)."""
    with np.load(DATA_FOLDER / "digits.npz") as archive:
        return archive["images"].astype(np.float64), archive["labels"].astype(np.int64)


# ---------------------------------------------------------------- IDX files (MNIST family)

_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """An IDX file (gzip-compressed or raw) as an array: magic 0 0 <type> <ndim>, then the
    big-endian dimensions, then the data."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as stream:
            raw = stream.read()
    except (OSError, EOFError) as exc:
        raise OptbenchError(f"cannot read IDX file '{path}': {exc}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise OptbenchError(f"'{path}' is not an IDX file (bad magic number)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise OptbenchError(f"'{path}' is truncated (header)")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    count = int(np.prod(shape)) if shape else 0
    if len(raw) - header != count * dtype.itemsize:
        raise OptbenchError(
            f"'{path}' is truncated or padded: shape {shape} needs "
            f"{count * dtype.itemsize} bytes of data, found {len(raw) - header}"
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)


def _find_idx(folder: Path, stem: str) -> Path | None:
    for candidate in (f"{stem}.gz", stem, stem.replace("-idx", ".idx")):
        if (folder / candidate).is_file():
            return folder / candidate
    return None


def load_idx_dataset(name: str, data_dir: str | os.PathLike | None):
    """(train images, train labels, test images, test labels) of MNIST or Fashion-MNIST."""
    from optbench.fetch import dataset_cache

    folders = [Path(data_dir).expanduser()] if data_dir else [dataset_cache(name)]
    stems = {
        "x_train": "train-images-idx3-ubyte",
        "y_train": "train-labels-idx1-ubyte",
        "x_test": "t10k-images-idx3-ubyte",
        "y_test": "t10k-labels-idx1-ubyte",
    }
    found = {}
    for key, stem in stems.items():
        path = next((p for f in folders if (p := _find_idx(f, stem)) is not None), None)
        if path is None:
            where = folders[0]
            raise OptbenchError(
                f"{name}: '{stem}[.gz]' not found in {where}; pass --data-dir with the four IDX "
                f"files, or run 'optbench data fetch {name}'"
            )
        found[key] = read_idx(path)
    x_train, y_train, x_test, y_test = (found[k] for k in stems)
    for images, labels, part in ((x_train, y_train, "train"), (x_test, y_test, "test")):
        _check_idx(name, part, images, labels)
    return x_train, y_train, x_test, y_test


def _check_idx(name: str, part: str, images: np.ndarray, labels: np.ndarray) -> None:
    """Refuse IDX files the problem cannot learn from, before anything is trained: the
    problem's layer sizes (and the memory check) follow its spec, so images must have its
    pixels and labels must be its classes (a gap or a stray label is refused, not remapped)."""
    from optbench.problems.networks import NETWORKS

    spec = NETWORKS[name]
    side = round(spec.features**0.5)
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise OptbenchError(
            f"{name}: {part} images {images.shape} and labels {labels.shape} do not match"
        )
    if images.shape[0] == 0:
        raise OptbenchError(f"{name}: the {part} files hold no images")
    if images.shape[1] * images.shape[2] != spec.features:
        raise OptbenchError(
            f"{name}: {part} images are {images.shape[1]}×{images.shape[2]}; "
            f"{name} images are {side}×{side}"
        )
    if images.dtype.kind == "f" and not np.isfinite(images).all():
        raise OptbenchError(f"{name}: {part} images hold NaN or infinite pixels")
    whole = labels.dtype.kind in "iu" or (np.isfinite(labels).all() and (labels % 1 == 0).all())
    if not whole or labels.min() < 0 or labels.max() >= spec.classes:
        bad = labels[~np.isin(labels, np.arange(spec.classes))][0].item()
        raise OptbenchError(
            f"{name}: {part} label {bad!r} is not a class; {name} labels are the whole numbers "
            f"0…{spec.classes - 1} (labels are refused, not remapped)"
        )


# ---------------------------------------------------------------- one entry point


def _standardise(x_train, x_test, per_feature: bool):
    if per_feature:
        mean = x_train.mean(axis=0)
        std = x_train.std(axis=0)
        std[std < 1e-12] = 1.0
    else:
        mean = np.full(x_train.shape[1], x_train.mean())
        std = np.full(x_train.shape[1], max(float(x_train.std()), 1e-12))
    return (x_train - mean) / std, (x_test - mean) / std, mean, std


def _split(x, labels, fraction: float, seed: int):
    order = permutation(seed, SPLIT_STREAM, labels.size)
    n_test = held_out_rows(labels.size, fraction)
    test, train = order[:n_test], order[n_test:]
    return x[train], labels[train], x[test], labels[test]


def load_dataset(spec, data_dir: str | os.PathLike | None = None) -> Dataset:
    """The data set of a network problem spec, split and standardised, as float64 arrays."""
    p = spec.params
    if spec.is_truth_table:  # standardised bits: 0/1 → −1/+1 (mean ½, std ½ per column)
        x, labels = truth_table(spec.dataset)
        mean, std = np.full(2, 0.5), np.full(2, 0.5)
        x = (x - mean) / std
        return Dataset(spec.name, x, labels, x.copy(), labels.copy(), 2, mean, std)
    if spec.dataset in IDX_DATASETS:
        x_train, y_train, x_test, y_test = load_idx_dataset(spec.dataset, data_dir)
        limit = int(p.get("n", 0))
        if limit > 0:
            x_train, y_train = x_train[:limit], y_train[:limit]
        per_feature = False
        x_train = x_train.reshape(len(x_train), -1).astype(np.float64)
        x_test = x_test.reshape(len(x_test), -1).astype(np.float64)
        labels_train, labels_test = y_train.astype(np.int64), y_test.astype(np.int64)
    else:
        seed = int(p["data_seed"])
        if spec.dataset == "digits":
            x, labels = load_digits()
            per_feature = False
        else:
            x, labels = generate(spec.dataset, int(p["n"]), float(p["noise"]), seed)
            per_feature = True
        x_train, labels_train, x_test, labels_test = _split(x, labels, p["test_fraction"], seed)
    present = np.unique(labels_train)
    if present.size < 2:  # a classifier's loss means nothing on one class (cross-entropy < 0)
        hint = " (more rows, or a smaller test_fraction)" if "test_fraction" in p else ""
        raise OptbenchError(
            f"{spec.label}: the training set holds one class ({present[0]}) in "
            f"{labels_train.size} row(s); a classifier needs at least two{hint}"
        )
    x_train, x_test, mean, std = _standardise(x_train, x_test, per_feature)
    classes = int(max(labels_train.max(), labels_test.max())) + 1
    return Dataset(
        spec.name,
        np.ascontiguousarray(x_train),
        np.ascontiguousarray(labels_train),
        np.ascontiguousarray(x_test),
        np.ascontiguousarray(labels_test),
        classes,
        mean,
        std,
    )
