"""Every setting a user can give, declared once.

The click options of ``run`` and ``sweep``, the keys of a TOML sweep file, the keywords of
``optbench.run`` / ``optbench.sweep`` and the names in ``runs.csv`` and the manifest all come
from ``SETTINGS``: adding a setting is one entry here plus the code that uses its value.
Values arrive as the user wrote them (a flag's text, a TOML value, a Python object) and are
parsed and validated in one place, ``optbench.config``; a setting with ``axis=True`` may hold
several values (a list, ``"a,b"``, ``"1e-4..1:9"``), which makes it an axis of a sweep.
No numba, pandas or problem catalogue here: the CLI imports this to build its options.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_PROBLEM = "beale"  # the surface of the classic optimizer animations
DEFAULT_STEPS = 10_000  # enough for every default lr to show where it is going on Beale
DEFAULT_BOUND = 1e6


@dataclass(frozen=True)
class Setting:
    """One setting: its name (TOML key and API keyword), how the CLI spells it, its help."""

    name: str
    help: str
    metavar: str = "VALUE"
    kind: str = "text"
    """How the value is read (``optbench.config.PARSERS``): ``names`` (words, comma-separated
    or a list), ``numbers`` (a number, a list or a grid such as ``1e-4..1:13``), ``whole``
    (whole numbers >= 1), ``seeds`` (a count or a list), ``architectures`` (hidden layer sizes),
    ``point`` (x,y), ``milestones`` (update numbers), ``rates`` (one value or grid for all,
    or NAME=VALUE per optimizer), ``assignments`` (NAME=VALUE), ``text``."""
    group: str = "grid"
    """``grid``: what runs; a problem family's name (``network``): a setting only that family's
    problems take (how a network is built and trained); ``schedule``: a parameter of the
    learning-rate schedule (also accepted as ``--hp NAME=VALUE``); ``protocol``: how a sweep
    compares (sweeps only); ``execution``: where runs execute (kept out of a sweep's identity)."""
    axis: bool = True
    """Whether several values make a sweep axis (``run`` takes one value of each)."""
    commands: tuple[str, ...] = ("run", "sweep")
    short: str | None = None
    alias: str | None = None
    """A singular spelling accepted as a keyword and TOML key (``optimizer`` for ``optimizers``)."""
    repeat: bool = False
    """The flag may be given several times (``-o sgd -o adam``, ``--lr adam=0.3 --lr sgd=1``)."""
    default: object = None
    """Shown in ``--help``; None means "decided by the problem or optimizer"."""

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


GRID = "0.1 | 0.01,0.1 | 1e-4..1:13 (13 log-spaced)"

SCHEDULE_HELP = {
    "step_size": "updates per decay of step, exponential, inverse_time",
    "gamma": "factor per decay of step, multistep, exponential",
    "milestones": "updates where multistep multiplies by gamma, e.g. 500,800 (repeat the flag "
    "for an axis of lists)",
    "staircase": "1: exponential and inverse_time decay in whole steps",
    "decay_rate": "inverse_time: lr / (1 + decay_rate·e/step_size)",
    "decay_steps": "horizon of polynomial, cosine (after the warm-up of warmup_cosine) and "
    "onecycle",
    "power": "exponent of polynomial",
    "min_lr": "the lr polynomial, cosine, warmup_cosine and cosine_restarts decay to",
    "warmup": "updates of linear warm-up of warmup_cosine",
    "start_factor": "warmup_cosine starts at start_factor × lr",
    "period": "first period of cosine_restarts",
    "t_mult": "cosine_restarts: each period is t_mult times the last",
    "m_mul": "cosine_restarts: each restart's peak is m_mul times the last",
    "pct_start": "onecycle: fraction of the run spent rising",
    "div_factor": "onecycle starts at lr / div_factor",
    "final_div_factor": "onecycle ends at lr / (div_factor × final_div_factor)",
    "cycle_momentum": "1: onecycle cycles momentum (or beta1) opposite to the lr",
    "base_momentum": "onecycle's lowest momentum",
    "max_momentum": "onecycle's highest momentum",
}
"""One line per schedule parameter (``optbench.schedules.specs.PARAMETERS``); defaults per
schedule and preset are in ``optbench list schedules``."""

SCHEDULE_SETTINGS = tuple(
    Setting(name, f"Schedule: {text}. [default: the schedule's, see 'optbench list schedules']",
            "N[,N…]" if name != "milestones" else "M,M…", group="schedule",
            repeat=name == "milestones", kind="milestones" if name == "milestones" else "numbers")
    for name, text in SCHEDULE_HELP.items()
)  # fmt: skip

SETTINGS: tuple[Setting, ...] = (
    Setting("problems", f"Problems (see 'optbench list problems'), parameters as rosenbrock:b=1; "
            f"repeatable, comma-separated. [default: {DEFAULT_PROBLEM}]",
            "NAME[,NAME…]", short="-p", alias="problem", repeat=True, kind="names"),
    Setting("optimizers", "Optimizers to compare (see 'optbench list optimizers'); repeatable, "
            "comma-separated. [default: adam]", "NAME[,NAME…]", short="-o", alias="optimizer",
            repeat=True, kind="names"),
    Setting("lr", f"Learning rate for all, or NAME=VALUE per optimizer (repeatable); a grid in "
            f"sweeps: {GRID}. [default: each optimizer's]", "LR|NAME=LR", repeat=True,
            kind="rates"),
    Setting("hp", "Another hyperparameter, e.g. beta1=0.95 or adam.eps=1e-7 (repeatable; grids "
            "as --lr in sweeps).", "[OPT.]NAME=VALUE", repeat=True, kind="assignments"),
    Setting("preset", "Formulas and defaults of torch.optim or of Keras 3 (torch,keras compares "
            "both). [default: torch]", "torch|keras", kind="names"),
    Setting("schedule", "Learning-rate schedule (see 'optbench list schedules'): constant, step, "
            "multistep, exponential, inverse_time, polynomial, cosine, warmup_cosine, "
            "cosine_restarts, onecycle; comma-separated for an axis. [default: constant]",
            "NAME[,NAME…]", kind="names"),
    *SCHEDULE_SETTINGS,
    Setting("steps", f"Updates per run (surfaces; networks train for --epochs). "
            f"[default: {DEFAULT_STEPS}]", "N[,N…]", kind="whole"),
    Setting("seeds", "Seeds: a count N (seeds 0 … N−1) or a list. [default: 1, seed 0]",
            "N|S,S…", alias="seed", kind="seeds"),
    Setting("noise", "Standard deviation of Gaussian noise added to every gradient (surfaces). "
            "[default: 0]", "SIGMA[,SIGMA…]", kind="numbers"),
    Setting("start", "Start point of 2-D surfaces. [default: each problem's classic start]",
            "X,Y", axis=False, kind="point"),
    Setting("record_every", "Keep every K-th step (networks: epoch) in history.csv, the last "
            "always. [default: about 1000 rows per run, 100 in sweeps]", "K", axis=False,
            kind="whole"),
    Setting("bound", f"A run has diverged once any |parameter| exceeds this. "
            f"[default: {DEFAULT_BOUND:g}]", "B", axis=False, kind="numbers"),
    Setting("model", "Networks: mlp or perceptron (Rosenblatt's rule). [default: mlp]",
            "mlp|perceptron", group="network", kind="names"),
    Setting("hidden", "Networks: hidden layer sizes, e.g. 100 or 64,32 (0: none); repeat the "
            "flag for an axis of architectures. [default: the problem's]", "SIZES",
            group="network", repeat=True, kind="architectures"),
    Setting("activation", "Networks: hidden activation: sigmoid, tanh, relu, leaky_relu. "
            "[default: the problem's]", "NAME[,NAME…]", group="network", kind="names"),
    Setting("loss", "Networks: output + loss: cross_entropy (softmax), bce (sigmoid), mse.",
            "NAME[,NAME…]", group="network", kind="names"),
    Setting("init", "Networks: weight init: xavier, he, normal.", "NAME[,NAME…]",
            group="network", kind="names"),
    Setting("l2", "Networks: L2 penalty λ, adds ½λΣw² to the loss. [default: 0]", "L[,L…]",
            group="network", kind="numbers"),
    Setting("epochs", "Networks: passes over the training set. [default: the problem's]",
            "N[,N…]", group="network", kind="whole"),
    Setting("batch_size", "Networks: examples per minibatch. [default: the problem's]",
            "N[,N…]", group="network", kind="whole"),
    Setting("tune", "Fair comparison: pick the best grid point per cell on the seeds, then "
            "rerun it on fresh seeds.", "NAME[,NAME]", group="protocol", axis=False,
            commands=("sweep",), kind="names"),
    Setting("final_seeds", "Fresh seeds for the tuned reruns. [default: as many as --seeds]",
            "N", group="protocol", axis=False, commands=("sweep",), kind="seeds"),
    Setting("executor", "Run chunks in this process (local) or on a Dask cluster. "
            "[default: local]", "local|dask", group="execution", axis=False,
            commands=("sweep",), kind="text"),
    Setting("scheduler", "Dask scheduler, e.g. tcp://host:8786. [default: "
            "$OPTBENCH_DASK_SCHEDULER, else a local cluster]", "ADDRESS", group="execution",
            axis=False, commands=("sweep",), kind="text"),
    Setting("workers", "Threads (local) or worker processes (Dask). [default: all cores]", "N",
            group="execution", axis=False, commands=("sweep",), kind="whole"),
    Setting("data_dir", "MNIST / Fashion-MNIST: folder with the four IDX files. [default: the "
            "fetch cache]", "DIR", group="execution", axis=False, kind="text"),
)  # fmt: skip

BY_NAME = {s.name: s for s in SETTINGS}
ALIASES = {s.alias: s.name for s in SETTINGS if s.alias}
EXECUTION = tuple(s.name for s in SETTINGS if s.group == "execution")
PLAN = tuple(s.name for s in SETTINGS if s.group != "execution")
"""The settings that make a sweep's identity (its sha256, its runs)."""


SCHEDULE = tuple(s.name for s in SETTINGS if s.group == "schedule")
"""The schedule's parameters, each a setting (``--gamma``) that ``--hp gamma=...`` also sets."""


def of_family(family: str) -> tuple[str, ...]:
    """The settings only ``family``'s problems take (none for 2-D surfaces)."""
    return tuple(s.name for s in SETTINGS if s.group == family)


NETWORK = of_family("network")
"""The network family's settings, which a sweep file may also write under ``[network]``."""


def canonical(name: str) -> str:
    """The setting's own name for an alias (``optimizer`` → ``optimizers``)."""
    return ALIASES.get(name, name)


def for_command(command: str) -> tuple[Setting, ...]:
    return tuple(s for s in SETTINGS if command in s.commands)
