"""What every command shares: one-line errors, the options made from the settings, tables.

The options of ``run`` and ``sweep`` are generated from ``optbench.settings`` and turned back
into settings by ``given_settings``: the only parser of ``NAME=VALUE`` flags. Values stay the
text the user typed; ``optbench.config`` parses and validates them, as it does a TOML file.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any

import click

from optbench.errors import OptbenchError
from optbench.settings import BY_NAME, Setting, for_command

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class InputError(click.ClickException):
    """Bad usage: printed as one line, exit 2."""

    exit_code = 2


class OneLineErrors(click.Group):
    """A group whose errors, click's own included, print as one line instead of usage + error."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as exc:
            where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
            click.echo(f"Error: {exc.format_message()}{where}", err=True)
            sys.exit(2)
        except click.ClickException as exc:
            click.echo(f"Error: {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        except OptbenchError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(2)
        except (click.Abort, KeyboardInterrupt):
            click.echo("Interrupted.", err=True)
            sys.exit(130)
        sys.exit(code if isinstance(code, int) else 0)


def _import_first(ctx: click.Context, param: click.Parameter, names: tuple[str, ...]) -> None:
    if names:
        from optbench.suites import import_modules

        import_modules(list(names))


import_option = click.option(
    "--import",
    "imports",
    multiple=True,
    metavar="MODULE|FILE.py",
    expose_value=False,
    callback=_import_first,
    help="Import this first, so the optimizers and problems it registers exist (repeatable).",
)
"""``--import``: a user's module (or .py file) whose ``register_problem`` /
``register_optimizer`` calls run before the command looks any name up."""


FLAGS = {"problems": ("-p", "--problem"), "optimizers": ("-o", "--optimizer")}
"""Spellings that differ from ``--name``: the singular, as users type one at a time."""


def _option(setting: Setting) -> Callable:
    flags = FLAGS.get(setting.name, (setting.flag,))
    return click.option(
        *flags,
        setting.name,
        multiple=setting.repeat,
        metavar=setting.metavar,
        help=setting.help,
    )


def setting_options(command: str) -> Callable:
    """Decorate a click command with an option per setting ``command`` takes (and ``--seed``,
    the explicit-seeds spelling of ``--seeds``)."""

    def decorate(function: Callable) -> Callable:
        function = click.option(
            "--seed",
            "seed",
            multiple=True,
            metavar="S",
            help="Run this seed (repeatable; --seeds N counts instead).",
        )(function)
        for setting in reversed(for_command(command)):
            function = _option(setting)(function)
        return function

    return decorate


def given_settings(values: Mapping[str, Any]) -> dict[str, object]:
    """The settings a command's options hold (those given), by setting name.

    Repeated and comma-separated names become lists; ``--lr`` / ``--hp`` assignments become
    {name: value} tables (``--lr 0.1`` stays one value for all); everything else is passed on
    as typed, for ``optbench.config`` to parse like a TOML value.
    """
    given: dict[str, object] = {}
    for name, value in values.items():
        if name == "seed":
            if value:
                given["seeds"] = list(value)
            continue
        if name not in BY_NAME or value is None or value == ():
            continue
        setting = BY_NAME[name]
        if setting.kind == "names" and setting.repeat:
            given[name] = names(value)
        elif setting.kind in ("rates", "assignments"):
            given[name] = assignments(value, setting.flag, plain=setting.kind == "rates")
        elif setting.repeat:  # a repeated flag is an axis of its values
            given[name] = value[0] if len(value) == 1 else list(value)
        else:
            given[name] = value
    if "seed" in values and values["seed"] and values.get("seeds") is not None:
        raise InputError("--seed names seeds, --seeds counts them: give one of the two")
    return given


def names(values: tuple[str, ...]) -> list[str]:
    """Repeated and comma-separated names: ``-o sgd -o momentum,adam``; an empty one is an error."""
    found = [name.strip() for value in values for name in value.split(",")]
    if "" in found:
        raise InputError("an empty name was given: name at least one, e.g. -o adam")
    return found


def assignments(values: tuple[str, ...], flag: str, plain: bool) -> str | dict[str, str]:
    """``("beta1=0.8,0.9", "adam.lr=1e-4..1:9")`` → {"beta1": "0.8,0.9", ...}; with ``plain``,
    one value without a name (``--lr 0.1``) is for every optimizer."""
    named = [v for v in values if "=" in v]
    if plain and not named:
        if len(values) > 1:
            raise InputError(f"{flag} takes either one value for all, or NAME=VALUE per optimizer")
        return values[0]
    if named and len(named) != len(values) and plain:
        raise InputError(f"{flag} takes either one value for all, or NAME=VALUE per optimizer")
    parsed = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise InputError(f"{flag} '{item}' must look like name=value, e.g. {flag} beta1=0.95")
        parsed[key.strip()] = value.strip()
    return parsed


def output_options(function: Callable) -> Callable:
    """``--out``, ``--svg``, ``--no-plots``: where results go and which figures are drawn."""
    function = click.option("--no-plots", is_flag=True, help="Write CSVs and manifest only.")(
        function
    )
    function = click.option("--svg", is_flag=True, help="Also write every figure as SVG.")(function)
    return click.option(
        "--out",
        type=click.Path(file_okay=False),
        help="Folder to write. [default: a new folder in results/]",
    )(function)


def count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def table(frame: Any) -> str:
    """A frame as aligned text: floats to 3 significant digits, missing values as —."""
    return (
        frame.astype(object)
        .where(frame.notna(), "—")
        .to_string(
            index=False, formatters={c: _fmt for c in frame.columns if frame[c].dtype.kind == "f"}
        )
    )


def _fmt(value: Any) -> str:
    return value if isinstance(value, str) else f"{value:.3g}"
