"""Problem families: the one seam where 2-D surfaces, networks (and any later family) differ.

A family owns everything that depends on what kind of problem a run is: how a batch of its
runs executes, its result columns and frames, its summary table, the notes under it, the extra
files its figures need, its memory estimate and the module that draws its figures. Every other
module asks ``family_of(configs)`` or ``family_of_runs(runs)`` and calls the family, so none of
them tells families apart. A problem spec names its family (``spec.family``, a string that is
also the value of the ``family`` column of ``runs.csv``); ``get_family`` turns it into the object.

Importing this package imports no numba, numpy or pandas: a family's heavy parts load when it
is first asked to run or to build frames. Adding a family is a folder beside ``surfaces/`` and
``networks/`` whose ``__init__`` defines ``FAMILY``, one line in ``REGISTRY``, and its problem
specs (``catalog``) merged into ``optbench.problems.PROBLEMS``: the catalog sits in a layer
below the families and cannot import them.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

from optbench.errors import OptbenchError

if TYPE_CHECKING:
    import pandas as pd

    from optbench.config import RunConfig
    from optbench.families.output import EngineOutput

REGISTRY: dict[str, str] = {
    "surface": "optbench.families.surfaces",
    "objective": "optbench.families.objectives",
    "network": "optbench.families.networks",
}
"""Family name → the module whose ``FAMILY`` it is; the order is the order problems list in."""

_LOADED: dict[str, Family] = {}


class Family(ABC):
    """What differs between problem families, behind one interface (see the module docstring).

    Subclasses set the class attributes and implement the methods; everything they need that is
    heavy (numba, pandas, data sets) they import inside the methods.
    """

    name: str
    """The family's name: ``spec.family`` of its problems and the ``family`` column of runs."""
    catalog: str
    """``"module:ATTRIBUTE"`` of the family's {name: spec} problem catalog."""
    figure_module: str
    """The module that draws this family's figures (``draw(runs, history, folder, ...)``)."""
    can_animate: bool = False
    """Whether runs trace 2-D paths that ``trajectories.gif`` can draw over a contour."""
    metric_columns: tuple[str, ...] = ()
    """Names of ``EngineOutput.metrics``, one value per run, in the engine's order."""
    target_columns: tuple[str, ...] = ()
    """The runs.csv columns of first hits (steps or epochs to each target), in target order."""

    engine_module: str = ""
    """The module of the family's jitted engine; importing it compiles (or loads) the engine."""
    engine_function: str = ""
    """The jitted batch function in it, whose cache entry says whether a compile is ahead."""
    compile_seconds: float = 0.0
    """What compiling the engine takes, measured in a fresh process with an empty cache on a
    2-core machine: the estimate the compile notice gives."""
    heading: str = ""
    """How ``optbench list problems`` introduces the family's problems."""

    def engine(self) -> ModuleType:
        """The engine module, imported on first use; a one-line notice on stderr first when
        it is about to be compiled rather than loaded from numba's cache."""
        from optbench import _jit

        what = f"the {self.name} engine"
        _jit.announce_compile(self.engine_module, self.engine_function, what, self.compile_seconds)
        return importlib.import_module(self.engine_module)

    def options(self, spec: Any, **given: object) -> object | None:
        """The family's own settings (those of ``optbench.settings`` whose group is the
        family's name), resolved against the problem's defaults and validated; None for a
        family without any. It is ``RunConfig.network`` and part of the run_id."""
        return None

    def describe(self, name: str, spec: Any, width: int) -> list[str]:
        """Lines of ``optbench list problems`` for one of the family's problems."""
        return [f"{name:<{width}}  {spec.summary}"]

    def problems(self) -> Mapping[str, Any]:
        """The family's problem catalog: {name: spec}."""
        module, _, attribute = self.catalog.partition(":")
        return getattr(importlib.import_module(module), attribute)

    has_layers: bool = False
    """Whether the family's models have layers whose gradient norms ``run_batch`` can record
    (``grad_norms``)."""

    @abstractmethod
    def run_batch(
        self,
        configs: Sequence[RunConfig],
        data_dir: str | None = None,
        figures: bool = False,
        grad_norms: bool = False,
    ) -> EngineOutput:
        """Run every config (all of this family), outputs in config order. ``figures``: keep
        what this family's figures need beyond the frames, when that fits in memory;
        ``grad_norms``: record each layer's gradient norm (families with ``has_layers``)."""

    @abstractmethod
    def frames(
        self, configs: Sequence[RunConfig], output: EngineOutput
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(runs, history) frames of ``output``, one runs row per config."""

    def figure_frames(
        self, configs: Sequence[RunConfig], output: EngineOutput, data_dir: str | None = None
    ) -> dict[str, pd.DataFrame]:
        """Extra files (name → frame) the figures redraw from; none unless a family needs them."""
        return {}

    @abstractmethod
    def summary(self, runs: pd.DataFrame) -> pd.DataFrame:
        """The table a reader compares first (printed by the CLI, shown by the report)."""

    def notes(self, runs: pd.DataFrame) -> list[str]:
        """Plain-language lines printed under the summary; none unless a family has some."""
        return []

    @abstractmethod
    def memory_bytes(
        self, configs: Sequence[RunConfig], counts: Sequence[int] | None = None
    ) -> int:
        """An upper estimate of the memory running and keeping ``configs`` takes, from counts
        alone (nothing allocated, no data loaded). ``counts[i]``: how many runs ``configs[i]``
        stands for (runs differing only in their seed need the same memory), 1 each if None."""

    @abstractmethod
    def too_big(
        self,
        configs: Sequence[RunConfig],
        need: int,
        have: float,
        counts: Sequence[int] | None = None,
    ) -> str:
        """The error when ``memory_bytes`` exceeds what is free, saying what to shrink."""

    def __repr__(self) -> str:
        return f"<family {self.name}>"


def get_family(name: str) -> Family:
    """The family called ``name`` (``spec.family``, or the ``family`` column of runs.csv)."""
    if name not in _LOADED:
        if name not in REGISTRY:
            from optbench.errors import unknown_name

            raise unknown_name("problem family", name, REGISTRY)
        _LOADED[name] = importlib.import_module(REGISTRY[name]).FAMILY
    return _LOADED[name]


def families() -> list[Family]:
    """Every registered family, in registry order."""
    return [get_family(name) for name in REGISTRY]


def family_of(configs: Sequence[RunConfig]) -> Family:
    """The one family of ``configs``; a mix is an error (one batch runs one family)."""
    from optbench.problems import get_problem

    names = {get_problem(label).family for label in dict.fromkeys(c.problem for c in configs)}
    if len(names) != 1:
        raise OptbenchError(
            f"one batch takes runs of one problem family, not {', '.join(sorted(names)) or 'none'}"
        )
    return get_family(names.pop())


def family_names(runs: pd.DataFrame) -> pd.Series:
    """Each run's family name: runs.csv's ``family`` column, or (folders written before that
    column existed) the family of its problem."""
    if "family" in runs.columns:
        return runs["family"]
    from optbench.problems import get_problem

    named = {p: get_problem(str(p)).family for p in runs["problem"].unique()}
    return runs["problem"].map(named)


def family_of_runs(runs: pd.DataFrame) -> Family:
    """The one family of a runs frame; a mix is an error (group by ``family_names`` first)."""
    names = set(family_names(runs))
    if len(names) != 1:
        raise OptbenchError(
            f"these runs mix problem families ({', '.join(sorted(map(str, names)))})"
        )
    return get_family(str(names.pop()))


__all__ = ["REGISTRY", "Family", "families", "family_of", "family_of_runs", "get_family"]
