"""optbench: compare gradient-descent optimizers side by side, fast and reproducibly.

    >>> import optbench
    >>> result = optbench.run(["sgd", "momentum", "adam"], "bowl", steps=100)   # doctest: +SKIP
    >>> result.summary()                                                        # doctest: +SKIP

Importing optbench is cheap: numba, pandas and matplotlib load only when a run needs them.
"""

from optbench._version import __version__
from optbench.api import Result, explore, load, plot, report, run, sweep
from optbench.errors import OptbenchError
from optbench.lessons import lesson
from optbench.optimizers import (
    OptimizerSpec,
    all_optimizers,
    get_optimizer,
    register_optimizer,
)
from optbench.optimizers.explain import Explanation, explain
from optbench.problems import PROBLEMS, get_problem, register_problem
from optbench.suites import bench, bench_compare

__all__ = [
    "PROBLEMS",
    "Explanation",
    "OptbenchError",
    "OptimizerSpec",
    "Result",
    "__version__",
    "all_optimizers",
    "bench",
    "bench_compare",
    "explain",
    "explore",
    "get_optimizer",
    "get_problem",
    "lesson",
    "load",
    "plot",
    "register_optimizer",
    "register_problem",
    "report",
    "run",
    "sweep",
]
