"""``optbench warmup``: compile ahead, so a first real command does not wait on the compiler."""

from __future__ import annotations

import click

from optbench.cli.common import CONTEXT, names


@click.command(context_settings=CONTEXT)
@click.option(
    "--family",
    "families",
    multiple=True,
    metavar="NAME",
    help="Only this problem family's engine (surface, network; repeatable). [default: all]",
)
def warmup(families) -> None:
    """Compile every family's engine and every optimizer's kernel into numba's cache.

    Later processes of this version of optbench load the machine code instead of compiling
    it. The cache lives in ~/.cache/optbench/numba (or $NUMBA_CACHE_DIR) under a fingerprint of
    the sources: an upgrade or any source change starts a fresh one; another machine can reuse
    it only with the same CPU features, Python and numba versions.
    """
    import time

    from optbench import api

    started = time.perf_counter()
    seconds = api.warmup(names(families) if families else None)
    for what, took in seconds.items():
        click.echo(f"{what:<20} {took:6.1f} s")
    click.echo(f"{'total':<20} {time.perf_counter() - started:6.1f} s")


COMMANDS = [warmup]
