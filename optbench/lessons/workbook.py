"""What every lesson shares: its folder, running real commands (and printing them), notes,
figures and tables.

A lesson is a small function that calls ``Workbook.run`` / ``Workbook.sweep`` (the public API,
with the equivalent ``optbench`` command line printed first, so a student can vary it), reads the
numbers those runs produced and says what they show with ``Workbook.note``. Everything the
lesson makes goes into one folder, ``results/lessons/NAME/``.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from optbench import api
from optbench.errors import OptbenchError
from optbench.results import atomic_write_text, write_csv
from optbench.settings import BY_NAME, canonical

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

MARKER = "lesson.json"
"""Marks a folder a lesson wrote, so running the lesson again may replace it (and nothing else)."""


@dataclass
class LessonResult:
    """What a lesson did: the commands it ran, what it says to look at, the files it wrote."""

    name: str
    folder: Path
    commands: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    figures: list[Path] = field(default_factory=list)
    figure: Path | None = None
    """The lesson's one figure to look at first (the one the README shows)."""
    results: dict[str, api.Result] = field(default_factory=dict)
    """Each run or sweep by its label (the subfolder it wrote)."""


def number(value: object) -> str:
    """A value as a flag spells it: ``0.001``, ``1e-05``, ``32``, ``relu``."""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


SPELLED = {"optimizers": "-o", "problems": "--problem"}
"""Flags the CLI spells other than ``--name`` (it takes them one name at a time, or a list)."""


def command_line(
    command: str,
    optimizers: Sequence[str] | None,
    problem: str | None,
    settings: Mapping[str, object],
    out: Path,
    flags: Sequence[str] = (),
) -> str:
    """The ``optbench`` command line doing what ``api.run`` / ``api.sweep`` is called with."""
    parts = ["optbench", command]
    if optimizers:
        parts += ["-o", ",".join(optimizers)]
    if problem:
        parts += ["--problem", problem]
    for name, value in settings.items():
        name = canonical(name)
        flag = SPELLED.get(name, BY_NAME[name].flag)
        if isinstance(value, Mapping):
            for key, item in value.items():
                parts += [flag, f"{key}={number(item)}"]
        elif isinstance(value, list | tuple):
            parts += [flag, ",".join(map(number, value))]
        else:
            parts += [flag, number(value)]
    return shlex.join([*parts, *flags, "--out", str(out)])


class Workbook:
    """One lesson's folder, its echo and what it produced so far."""

    def __init__(self, name: str, folder: Path, quick: bool, echo: Callable[[str], None]):
        self.name = name
        self.folder = folder
        self.quick = quick
        """A small budget (fewer steps, epochs, grid points): the tests' setting."""
        self.echo = echo
        self.result = LessonResult(name, folder)

    def run(
        self,
        label: str,
        optimizers: Sequence[str] | None,
        problem: str,
        grad_norms: bool = False,
        shows: bool = False,
        **settings: object,
    ) -> api.Result:
        """``optbench run`` into ``FOLDER/label``, its command line printed first. ``shows``:
        the lesson's figure is one of this run's (else a quick lesson skips its figures)."""
        out = self.folder / label
        plots = shows or not self.quick
        flags = ["--grad-norms"] if grad_norms else []
        flags += [] if plots else ["--no-plots"]
        line = command_line("run", optimizers, problem, settings, out, flags)
        self._say_command(line)
        result = api.run(
            optimizers, problem, out=out, grad_norms=grad_norms, plots=plots, **settings
        )
        return self._keep(label, result)

    def sweep(self, label: str, shows: bool = False, **settings: object) -> api.Result:
        """``optbench sweep`` into ``FOLDER/label``, its command line printed first."""
        out = self.folder / label
        plots = shows or not self.quick
        flags = [] if plots else ["--no-plots"]
        self._say_command(command_line("sweep", None, None, settings, out, flags))
        return self._keep(label, api.sweep(out=out, plots=plots, **settings))

    def _say_command(self, line: str) -> None:
        self.result.commands.append(line)
        self.echo(f"$ {line}")

    def _keep(self, label: str, result: api.Result) -> api.Result:
        self.result.results[label] = result
        self.result.figures += result.figures
        return result

    def note(self, text: str) -> None:
        """A line saying what to look at: computed from this lesson's numbers by the caller."""
        self.result.notes.append(text)

    def figure(self, fig: Figure, name: str, main: bool = False) -> Path:
        """Save a lesson figure as ``FOLDER/name`` (PNG); ``main``: the one to look at first."""
        from optbench.plots.style import save_figure

        path = save_figure(fig, self.folder / name)[0]
        self.result.figures.append(path)
        if main:
            self.result.figure = path
        return path

    def main_figure(self, path: Path) -> None:
        """Name one of the runs' own figures as the lesson's figure to look at first."""
        self.result.figure = path

    def table(self, frame: pd.DataFrame, name: str, every: int = 1) -> Path:
        """Write ``frame`` as ``FOLDER/name`` (CSV, atomically) and print it (every k-th row)."""
        path = self.folder / name
        write_csv(frame, path)
        self.echo(frame.iloc[::every].to_string(index=False))
        return path


def lesson_folder(
    name: str, out: str | os.PathLike | None, results_root: str | os.PathLike
) -> Path:
    """The folder a lesson writes: ``out``, or ``results/lessons/NAME``. A folder an earlier run
    of this lesson wrote is replaced; any other non-empty folder is refused (never deleted)."""
    folder = Path(out) if out is not None else Path(results_root) / "lessons" / name
    folder = folder.expanduser()
    if folder.exists() and not folder.is_dir():
        raise OptbenchError(f"'{folder}' is a file, not a folder for lesson '{name}'")
    if folder.is_dir() and any(folder.iterdir()):
        if _written_by(folder) != name:
            raise OptbenchError(
                f"'{folder}' holds other files; choose another --out (or delete that folder)"
            )
        shutil.rmtree(folder)  # an earlier run of this very lesson: the lesson writes it anew
    try:
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_text(folder / MARKER, json.dumps({"lesson": name}) + "\n")
    except OSError as exc:
        raise OptbenchError(f"cannot write to '{folder}': {exc.strerror or exc}") from None
    return folder


def _written_by(folder: Path) -> str | None:
    """The lesson whose marker ``folder`` holds, or None."""
    try:
        return json.loads((folder / MARKER).read_text()).get("lesson")
    except (OSError, ValueError, AttributeError):
        return None
