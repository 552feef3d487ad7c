"""Network problems: a dataset plus a model to train on it (no numba, no data loaded here).

A ``NetworkSpec`` is what the problem registry holds for the network family: which dataset, its
parameters (``spirals:noise=0.3:n=600``, set the same way as surface parameters), and the model
and training defaults that make ``optbench run --problem NAME`` do something sensible. The user's
choices (hidden sizes, activation, epochs...) become a frozen ``NetworkOptions`` inside the
``RunConfig``, so a run's id covers them.

The integer codes below are how activations, losses and initialisations travel into the one
jitted engine: it dispatches on them by index instead of compiling one specialisation per choice.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from optbench.columns import ACCURACY_TARGETS, accuracy_column  # noqa: F401 (re-exported)
from optbench.problems.labels import param_text

ACTIVATIONS = {"sigmoid": 0, "tanh": 1, "relu": 2, "leaky_relu": 3}
"""Hidden-layer activations → kernel code (leaky_relu has slope 0.01 below zero)."""

LOSSES = {"cross_entropy": 0, "bce": 1, "mse": 2}
"""Output + loss pairs → kernel code: softmax + cross-entropy, sigmoid + binary cross-entropy
(averaged over outputs), identity + mean squared error (averaged over outputs)."""

PERCEPTRON_LOSS = 3
"""The perceptron's step output with the 0/1 error as its loss (not a user choice: a model)."""

LOSS_ALIASES = {"ce": "cross_entropy", "softmax": "cross_entropy", "binary_cross_entropy": "bce"}

INITS = {"xavier": 0, "he": 1, "normal": 2}
"""Weight initialisations (biases start at zero): Glorot-uniform U(±√(6/(fan_in+fan_out))),
He-normal N(0, 2/fan_in), or N(0, 0.1²)."""

MODELS = ("mlp", "perceptron")

TRUTH_TABLES = ("and", "or", "nand", "xor")
GENERATED = ("spirals", "moons", "circles", "blobs")
IDX_DATASETS = ("mnist", "fashion-mnist")
IDX_TRAIN_ROWS, IDX_TEST_ROWS = 60000, 10000  # images in MNIST's (and Fashion-MNIST's) files
DIGITS_ROWS = 1797  # images in the shipped digits set (optbench/data/digits.npz)


@dataclass(frozen=True)
class NetworkOptions:
    """How a network is built and trained: part of ``RunConfig`` (and so of its run_id)."""

    model: str = "mlp"
    hidden: tuple[int, ...] = (16, 16)
    activation: str = "tanh"
    loss: str = "cross_entropy"
    init: str = "xavier"
    l2: float = 0.0
    epochs: int = 100
    batch_size: int = 32


@dataclass(frozen=True)
class NetworkSpec:
    """A dataset to learn, with the defaults ``optbench run --problem NAME`` uses."""

    name: str
    dataset: str
    summary: str
    classes: int
    features: int
    params: Mapping[str, float] = field(default_factory=dict)
    hidden: tuple[int, ...] = (16, 16)
    activation: str = "tanh"
    loss: str = "cross_entropy"
    init: str = "xavier"
    epochs: int = 100
    batch_size: int = 32

    family = "network"
    fstar = None
    parameter_rules = MappingProxyType(
        {
            "n": (
                lambda v, name: v.is_integer() and (v >= 10 or (v == 0 and name in IDX_DATASETS)),
                "must be a whole number >= 10 (0 for all images of an IDX data set)",
            ),
            "noise": (lambda v, name: v >= 0, "must be >= 0"),
            "test_fraction": (lambda v, name: 0 < v < 1, "must be between 0 and 1, both excluded"),
            "data_seed": (  # a parameter is a float: whole numbers are exact up to 2^53
                lambda v, name: v.is_integer() and 0 <= v < 2**53,
                "must be a whole number from 0 to 2^53 - 1 = 9,007,199,254,740,991",
            ),
        }
    )
    """Parameter → (accepts(value, problem name), what it must be), for ``name:key=value``."""

    @property
    def label(self) -> str:
        """The name with any non-default parameters, as typed: ``spirals:noise=0.3``."""
        base = NETWORKS[self.name].params
        changed = [f"{k}={param_text(v)}" for k, v in self.params.items() if base.get(k) != v]
        return ":".join([self.name, *changed])

    @property
    def is_truth_table(self) -> bool:
        return self.dataset in TRUTH_TABLES

    @property
    def two_d(self) -> bool:
        """Inputs are points in the plane (decision-boundary figures make sense)."""
        return self.features == 2

    def train_size(self) -> int:
        """Rows of the training set, known without loading any data (it sets ``steps``)."""
        if self.is_truth_table:
            return 4
        if self.dataset in IDX_DATASETS:
            limit = int(self.params.get("n", 0))
            return min(limit, IDX_TRAIN_ROWS) if limit > 0 else IDX_TRAIN_ROWS
        n = DIGITS_ROWS if self.dataset == "digits" else int(self.params["n"])
        return n - held_out_rows(n, self.params["test_fraction"])

    def data_rows(self) -> int:
        """Rows of the whole data set, training and test, known without loading it (the memory
        check sizes a data set from its parameters before anything is made)."""
        if self.is_truth_table:
            return 8  # the four rows, tested on themselves
        if self.dataset in IDX_DATASETS:
            return self.train_size() + IDX_TEST_ROWS
        return DIGITS_ROWS if self.dataset == "digits" else int(self.params["n"])

    def gap(self, loss: float) -> float:
        return math.nan

    def n_params(self, options: NetworkOptions) -> int:
        """Length of θ (weights and biases), known without loading any data."""
        sizes = layer_sizes(self.features, self.classes, options)
        return sum(a * b + b for a, b in itertools.pairwise(sizes))

    def steps(self, options: NetworkOptions) -> int:
        """Updates a run makes: epochs × batches per epoch (the perceptron: one per example)."""
        n = self.train_size()
        per_epoch = n if options.model == "perceptron" else math.ceil(n / options.batch_size)
        return options.epochs * per_epoch

    def defaults(self) -> NetworkOptions:
        return NetworkOptions(
            model="mlp",
            hidden=self.hidden,
            activation=self.activation,
            loss=self.loss,
            init=self.init,
            epochs=self.epochs,
            batch_size=self.batch_size,
        )


def layer_sizes(features: int, classes: int, options: NetworkOptions) -> list[int]:
    """[inputs, hidden..., outputs]: one output per class, except a single unit for the
    perceptron and for two classes with a sigmoid (BCE) or MSE output."""
    if options.model == "perceptron":
        return [features, 1]
    single = options.loss != "cross_entropy" and classes == 2
    return [features, *options.hidden, 1 if single else classes]


def held_out_rows(n: int, fraction: float) -> int:
    """Rows held out for testing: at least one, at most n − 1."""
    return min(max(round(n * fraction), 1), n - 1)


def _truth(name: str, summary: str) -> NetworkSpec:
    return NetworkSpec(
        name,
        name,
        summary,
        classes=2,
        features=2,
        hidden=(2,),
        activation="sigmoid",
        loss="bce",
        epochs=2000,
        batch_size=4,
    )


def _idx(name: str, what: str) -> NetworkSpec:
    """An IDX data set (MNIST-style, 60,000 + 10,000 images of 28×28, ten classes)."""
    return NetworkSpec(
        name,
        name,
        f"{what} (IDX files: --data-dir or 'optbench data fetch')",
        classes=10,
        features=784,
        params={"n": 0.0},
        hidden=(100,),
        activation="relu",
        init="he",
        epochs=5,
        batch_size=128,
    )


def _generated(name: str, summary: str, classes: int, noise: float, **extra) -> NetworkSpec:
    params = {"n": 1000.0, "noise": noise, "test_fraction": 0.2, "data_seed": 0.0}
    return NetworkSpec(name, name, summary, classes=classes, features=2, params=params, **extra)


_list = [
    _truth("and", "logical AND of two bits: linearly separable (a perceptron learns it)"),
    _truth("or", "logical OR of two bits: linearly separable (a perceptron learns it)"),
    _truth("nand", "logical NAND of two bits: linearly separable (a perceptron learns it)"),
    _truth("xor", "exclusive OR: not linearly separable; needs a hidden layer"),
    _generated(
        "spirals",
        "two interleaved spiral arms (one turn each): needs a non-linear boundary",
        2,
        0.08,
        epochs=200,
    ),
    _generated("moons", "two interleaving half circles", 2, 0.15, epochs=50),
    _generated("circles", "a ring around a disc", 2, 0.08, epochs=50),
    _generated("blobs", "Gaussian clusters, one per class", 3, 1.0, epochs=20),
    NetworkSpec(
        "digits",
        "digits",
        "8×8 handwritten digits (UCI, 1,797 images, CC BY 4.0; shipped)",
        classes=10,
        features=64,
        params={"test_fraction": 0.2, "data_seed": 0.0},
        hidden=(100,),
        activation="relu",
        init="he",
        epochs=20,
        batch_size=32,
    ),
    _idx("mnist", "MNIST 28×28 handwritten digits"),
    _idx("fashion-mnist", "Fashion-MNIST 28×28 clothing images"),
]

NETWORKS: dict[str, NetworkSpec] = {spec.name: spec for spec in _list}


def _choose(kind: str, value: str, known) -> str:
    from optbench.errors import unknown_name

    if value not in known:
        raise unknown_name(kind, value, known)
    return value


def parse_hidden(value: str | int | tuple[int, ...] | list[int]) -> tuple[int, ...]:
    """``"100"``, ``"64,32"``, ``"64x32"`` or a sequence → hidden sizes (``0``: no hidden layer)."""
    from optbench.errors import OptbenchError

    if isinstance(value, int):
        items: list = [value]
    elif isinstance(value, str):
        items = value.replace("x", ",").replace(" ", "").split(",")
        if not all(items):
            raise OptbenchError(f"--hidden '{value}': an empty layer size (e.g. --hidden 64,32)")
    else:
        items = list(value)
    sizes = []
    for item in items:
        try:
            number = float(item)
        except (TypeError, ValueError):
            number = math.nan
        if not number.is_integer() or not 0 <= number <= 100_000:
            raise OptbenchError(
                f"--hidden '{value}': layer sizes must be whole numbers ≥ 1, e.g. --hidden 64,32"
            )
        sizes.append(int(number))
    if sizes == [0]:
        return ()
    if any(n == 0 for n in sizes):
        raise OptbenchError(f"--hidden '{value}': a layer needs at least one unit")
    return tuple(sizes)


def resolve_network(
    spec: NetworkSpec,
    *,
    model: str | None = None,
    hidden=None,
    activation: str | None = None,
    loss: str | None = None,
    init: str | None = None,
    l2: float | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
) -> NetworkOptions:
    """The problem's defaults updated with the user's choices, every value validated."""
    from optbench.errors import OptbenchError

    base = spec.defaults()
    model = _choose("model", model or "mlp", MODELS)
    if model == "perceptron":
        if spec.classes != 2:
            raise OptbenchError(
                f"the perceptron separates two classes; '{spec.name}' has {spec.classes} "
                "(use --model mlp)"
            )
        given = {
            "--hidden": hidden,
            "--activation": activation,
            "--loss": loss,
        }
        extra = [flag for flag, v in given.items() if v is not None]
        if extra:
            raise OptbenchError(
                f"{', '.join(extra)} do not apply to the perceptron (a step unit, no hidden layer)"
            )
    loss = LOSS_ALIASES.get(loss, loss) if loss else base.loss
    # the perceptron settles a truth table within a few epochs; 2000 would be a flat line
    default_epochs = 20 if model == "perceptron" and spec.is_truth_table else base.epochs
    options = NetworkOptions(
        model=model,
        hidden=()
        if model == "perceptron"
        else (base.hidden if hidden is None else parse_hidden(hidden)),
        activation=_choose("activation", activation or base.activation, ACTIVATIONS),
        loss="perceptron" if model == "perceptron" else _choose("loss", loss, LOSSES),
        init=_choose("init", init or base.init, INITS),
        l2=0.0 if l2 is None else float(l2),
        epochs=_whole("epochs", epochs) if epochs is not None else default_epochs,
        batch_size=1
        if model == "perceptron"
        else (base.batch_size if batch_size is None else _whole("batch_size", batch_size)),
    )
    if not math.isfinite(options.l2) or options.l2 < 0:
        raise OptbenchError(f"l2={l2} must be a finite number >= 0")
    if options.loss == "cross_entropy" and spec.classes < 2:
        raise OptbenchError("cross-entropy needs at least two classes")
    return options


def _whole(name: str, value) -> int:
    from optbench.errors import OptbenchError

    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not number.is_integer() or number < 1:
        raise OptbenchError(f"{name}={value!r} must be a whole number >= 1")
    return int(number)
