"""``optbench run``: one problem, a few optimizers, a summary table and figures."""

from __future__ import annotations

import click

from optbench.cli.common import (
    CONTEXT,
    given_settings,
    import_option,
    output_options,
    setting_options,
    table,
)


@click.command(context_settings=CONTEXT)
@setting_options("run")
@output_options
@import_option
@click.option(
    "--animate",
    is_flag=True,
    help="Also write trajectories.gif: the paths growing over the contour.",
)
@click.option(
    "--grad-norms",
    is_flag=True,
    help="Networks: also record each layer's gradient norm per epoch in history.csv.",
)
def run(out, svg, no_plots, animate, grad_norms, **values) -> None:
    """Run optimizers on one problem: summary table, CSVs, trajectory and loss figures.

    Network problems (and, or, nand, xor, spirals, moons, circles, blobs, digits, mnist,
    fashion-mnist) train a network with the same optimizers: loss/accuracy curves, decision
    regions (2-D data) and the weight-space path.

    \b
    optbench run --optimizer adam
    optbench run -o sgd -o momentum -o adagrad -o adam --problem bowl --start -7,2 --steps 30 \\
        --lr sgd=0.95 --lr momentum=0.1 --lr adagrad=1.5 --lr adam=0.3
    optbench run -o adam --preset keras --hp beta1=0.95 --problem rosenbrock --lr 0.01
    optbench run --problem xor --model perceptron
    optbench run --problem xor --model mlp --hidden 2 --activation sigmoid -o sgd -o adam
    optbench run --problem digits --hidden 100 --activation relu --optimizer adam --epochs 20
    """
    from optbench.plots.ahead import figures_ahead

    with figures_ahead(not no_plots):  # matplotlib gets ready in a child while the runs compute
        from optbench import api

        result = api.run(
            out=out,
            plots=not no_plots,
            svg=svg,
            animate=animate,
            grad_norms=grad_norms,
            **given_settings(values),
        )
    click.echo(table(result.summary()))
    for line in result.verdicts():
        click.echo(line)
    figures = ", ".join(p.name for p in result.figures) or "no figures"
    click.echo(f"\nwrote {result.folder}/ ({figures})")


COMMANDS = [run]
