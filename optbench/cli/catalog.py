"""``optbench list`` and ``optbench data``: what can be run, and the data sets to fetch."""

from __future__ import annotations

import click

from optbench.cli.common import CONTEXT, InputError, assignments, import_option


@click.group(name="list", context_settings=CONTEXT, invoke_without_command=True)
@click.pass_context
def list_(ctx: click.Context) -> None:
    """List optimizers, problems or schedules, with defaults and one-line docs."""
    if ctx.invoked_subcommand is None:
        raise InputError(
            "say what to list: 'optbench list optimizers', 'optbench list problems' or "
            "'optbench list schedules'"
        )


@list_.command(name="optimizers")
@import_option
def list_optimizers() -> None:
    """Every optimizer: summary, paper, defaults (torch) and what the keras preset changes."""
    from optbench.optimizers import all_optimizers

    specs = all_optimizers()
    width = max(map(len, specs))
    for name, spec in specs.items():
        torch, keras = spec.defaults["torch"], spec.defaults["keras"]
        click.echo(f"{name:<{width}}  {spec.summary}" + (f"  [{spec.paper}]" if spec.paper else ""))
        click.echo(f"{'':<{width}}    torch: " + " ".join(f"{k}={v:g}" for k, v in torch.items()))
        changed = {k: v for k, v in keras.items() if torch[k] != v}
        click.echo(
            f"{'':<{width}}    keras: "
            + (" ".join(f"{k}={v:g}" for k, v in changed.items()) or "same")
        )


@list_.command(name="schedules")
def list_schedules() -> None:
    """Every learning-rate schedule: formula, torch and Keras names, defaults per preset."""
    from optbench.schedules import SCHEDULES

    width = max(map(len, SCHEDULES))
    pad = " " * (width + 4)
    click.echo("lr(e): the lr of an update after e updates (e = t − 1); T: the run's updates")
    for name, spec in SCHEDULES.items():
        click.echo(f"{name:<{width}}  {spec.summary}")
        click.echo(f"{pad}lr(e) = {spec.formula}")
        click.echo(f"{pad}torch: {spec.torch}")
        click.echo(f"{pad}keras: {spec.keras}")
        shown = {
            preset: " ".join(f"{k}={_default(v)}" for k, v in values.items())
            for preset, values in spec.defaults.items()
        }
        if shown["torch"] == shown["keras"] and shown["torch"]:
            click.echo(f"{pad}defaults: {shown['torch']}")
        elif shown["torch"]:
            click.echo(f"{pad}defaults: torch {shown['torch']}; keras {shown['keras']}")
        if spec.differs:
            click.echo(f"{pad}differs: {spec.differs}")


def _default(value: object) -> str:
    """A default as the list shows it: a number, or how it follows from the run's T updates."""
    return f"{value:g}" if isinstance(value, float) else str(value)


@list_.command(name="problems")
@import_option
def list_problems() -> None:
    """Every problem, by family: formula or data, plot window, start, minima and f*."""
    from optbench.families import families

    for number, family in enumerate(families()):
        specs = family.problems()
        width = max(map(len, specs))
        click.echo(("\n" if number else "") + f"{family.heading}:")
        for name, spec in specs.items():
            for line in family.describe(name, spec, width):
                click.echo(line)


@click.command(context_settings=CONTEXT)
@click.argument("name")
@click.option("--lr", metavar="LR", help="A learning rate for the framework lines.")
@click.option(
    "--hp",
    multiple=True,
    metavar="NAME=VALUE",
    help="Another hyperparameter for the framework lines (repeatable), e.g. --hp beta1=0.95.",
)
def explain(name, lr, hp) -> None:
    """NAME's update rule under torch and Keras, the differing lines marked, both default sets,
    and the torch.optim / keras.optimizers line computing the same.

    \b
    optbench explain rmsprop
    optbench explain adam --lr 0.0316 --hp beta1=0.95
    """
    from optbench.optimizers.explain import explain as explained

    changes = assignments(hp, "--hp", plain=False) if hp else {}
    click.echo(explained(name, lr=lr, hp=changes).text())


@click.group(context_settings=CONTEXT)
def data() -> None:
    """Data sets for the network problems: download MNIST / Fashion-MNIST once."""


@data.command(name="fetch")
@click.argument("name")
@click.option(
    "--url",
    metavar="URL",
    help="Folder URL to download the four IDX files from (a mirror). "
    "[default: $OPTBENCH_DATA_URL, else the publisher's]",
)
def data_fetch(name, url) -> None:
    """Download NAME (mnist, fashion-mnist), verify SHA-256 checksums, keep it in the cache.

    \b
    optbench data fetch fashion-mnist
    optbench run --problem fashion-mnist
    """
    from optbench.fetch import fetch

    folder = fetch(name, url, progress=lambda f: click.echo(f"  downloaded and verified {f}"))
    click.echo(f"{name}: four IDX files verified in {folder}")
    click.echo(f"next: optbench run --problem {name}")


@data.command(name="path")
@click.argument("name")
def data_path(name) -> None:
    """Print the cache folder where 'data fetch NAME' stores NAME."""
    from optbench.errors import unknown_name
    from optbench.fetch import SOURCES, dataset_cache

    if name not in SOURCES:
        raise unknown_name("data set", name, SOURCES)
    click.echo(dataset_cache(name))


COMMANDS = [list_, explain, data]
