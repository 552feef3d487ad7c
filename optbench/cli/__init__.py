"""The ``optbench`` command: each command parses, calls the API, prints. Nothing else lives here.

Heavy libraries (numba, pandas, matplotlib) are imported inside commands, so ``--help`` and
``list`` start instantly. Every user error ends as one line on stderr and exit 2; a failed run
exits 1; tracebacks are for bugs only.
"""

from __future__ import annotations

import click

from optbench.cli import bench, catalog, explore, folders, lesson, run, sweep, warmup
from optbench.cli.common import CONTEXT, OneLineErrors


@click.group(cls=OneLineErrors, context_settings=CONTEXT)
@click.version_option(package_name="optbench")
def cli() -> None:
    """Compare gradient-descent optimizers side by side.

    \b
    optbench run --optimizer adam
    optbench run -o sgd -o momentum -o adagrad -o adam --problem bowl
    optbench run --problem spirals -o sgd -o momentum -o adam
    optbench run --problem xor --model perceptron
    optbench sweep -p spirals --activation sigmoid,tanh,relu -o sgd,adam --seeds 3
    optbench list optimizers
    optbench explain rmsprop
    optbench plot results/<run>
    optbench data fetch fashion-mnist
    optbench report results/<run>
    optbench lesson
    optbench explore
    """


for module in (run, sweep, catalog, folders, bench, warmup, lesson, explore):
    for command in module.COMMANDS:
        cli.add_command(command)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="optbench")
