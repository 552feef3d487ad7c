"""``optbench explore``: one offline page where lr, a second hyperparameter, the start and the
step are sliders over paths computed in advance."""

from __future__ import annotations

import click

from optbench.cli.common import CONTEXT, assignments, names


@click.command(context_settings=CONTEXT)
@click.argument("folder", required=False, type=click.Path(file_okay=False))
@click.option(
    "-p", "--problem", metavar="NAME", help="A 2-D surface or a network problem. [default: bowl]"
)
@click.option(
    "-o",
    "--optimizer",
    "optimizers",
    multiple=True,
    metavar="NAME[,NAME…]",
    help="Optimizers (repeatable, comma-separated). [default: sgd,momentum,adagrad,rmsprop,adam]",
)
@click.option(
    "--lr",
    metavar="GRID",
    help="Learning rates of the lr slider, e.g. 1e-4..1:25. [default: 1e-3..3:15]",
)
@click.option(
    "--hp",
    multiple=True,
    metavar="[OPT.]NAME=VALUES",
    help="The second slider: one hyperparameter's values, e.g. momentum=0,0.5,0.9,0.99 "
    "(repeatable, one name per optimizer). [default: momentum.momentum and adam.beta1 = "
    "0,0.5,0.9,0.99]",
)
@click.option("--steps", metavar="N", help="Updates per path, every one recorded. [default: 60]")
@click.option(
    "--starts", metavar="COLSxROWS", help="Grid of start points over the window. [default: 7x7]"
)
@click.option(
    "--epochs",
    metavar="N",
    help="Networks: epochs per run, every one recorded. [default: the problem's]",
)
@click.option("--preset", metavar="torch|keras", help="Conventions. [default: torch]")
@click.option("--bound", metavar="B", help="A path has diverged once |θ| exceeds this.")
@click.option(
    "--max-mb",
    type=float,
    metavar="MB",
    help="Size budget of the page; a bigger grid is refused before computing. [default: 3]",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    help="The page to write. [default: results/explore-<problem>.html, or FOLDER/explore.html]",
)
def explore(folder, problem, optimizers, lr, hp, steps, starts, epochs, preset, bound, max_mb, out):
    """Write one self-contained HTML page to explore optimizers with sliders: learning rate, a
    second hyperparameter, the start point (click the contour) and the step (or play).

    Every path is computed in advance by the engine `run` uses; the page opens offline in any
    browser. Network problems (--problem spirals) show loss and accuracy curves and the
    decision regions at a few epochs. FOLDER: build the page from a finished run or sweep
    folder of a 2-D surface instead, when its history.csv holds every step (--record-every 1).

    \b
    optbench explore
    optbench explore --problem rosenbrock -o sgd,momentum,adam --lr 1e-4..1:25 \\
        --hp momentum=0,0.5,0.9,0.99 --starts 4x4 --steps 100 --out rosen.html
    optbench explore --problem spirals -o sgd,adam --lr 1e-3..1:13
    optbench explore results/<run>
    """
    from optbench import api

    settings = {
        "problem": problem,
        "optimizers": names(optimizers) if optimizers else None,
        "lr": lr,
        "hp": assignments(hp, "--hp", plain=False) if hp else None,
        "steps": steps,
        "starts": starts,
        "epochs": epochs,
        "preset": preset,
        "bound": bound,
    }
    path = api.explore(folder, out=out, max_mb=max_mb, **settings)
    size = path.stat().st_size
    click.echo(f"wrote {path} ({size / 1e6:.2f} MB): open it in any browser, offline")


COMMANDS = [explore]
