"""``optbench plot`` and ``optbench report``: figures and a page from a finished folder."""

from __future__ import annotations

import click

from optbench.cli.common import CONTEXT, import_option


@click.command(context_settings=CONTEXT)
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.option("--svg", is_flag=True, help="Also write every figure as SVG.")
@click.option(
    "--smooth",
    default=0.0,
    show_default=True,
    metavar="W",
    help="Networks: EMA weight in [0, 1) smoothing the loss and accuracy curves.",
)
@click.option("--animate", is_flag=True, help="Also redraw trajectories.gif.")
@import_option
def plot(folder, svg, smooth, animate) -> None:
    """Redraw the figures of a finished run folder from its CSVs."""
    from optbench import api

    written = api.plot(folder, svg=svg, smoothing=smooth, animate=animate)
    click.echo(f"wrote {', '.join(str(p) for p in written)}")


@click.command(context_settings=CONTEXT)
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@import_option
def report(folder) -> None:
    """Write FOLDER/report.html, one self-contained page to share.

    Settings, versions, tables, every figure with a caption, and the divergences. Figures and
    styles are embedded, so the page opens offline in any browser and prints.
    """
    from optbench import api

    path = api.report(folder)
    click.echo(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")


COMMANDS = [plot, report]
