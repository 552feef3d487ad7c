"""``optbench lesson [NAME]``: the course in order, or one lesson run and explained."""

from __future__ import annotations

import click

from optbench.cli.common import CONTEXT


@click.command(context_settings=CONTEXT)
@click.argument("name", required=False)
@click.option("--out", type=click.Path(file_okay=False), help="Folder to write into. "
              "[default: results/lessons/NAME/]")  # fmt: skip
@click.option("--quick", is_flag=True, help="A small budget: fewer steps and epochs.")
def lesson(name, out, quick) -> None:
    """The course, one lesson per idea: without NAME, the lessons in course order.

    A lesson prints each command it runs (vary it and run it yourself), writes its runs and
    figures into results/lessons/NAME/, and says what to look at in its numbers.

    \b
    optbench lesson
    optbench lesson momentum
    """
    from optbench.lessons import LESSONS
    from optbench.lessons import lesson as run_lesson

    if name is None:
        width = max(len(spec.name) for spec in LESSONS)
        for number, spec in enumerate(LESSONS, 1):
            click.echo(f"{number:>2}. {spec.name:<{width}}  {spec.summary}")
        click.echo("\nrun one: optbench lesson NAME")
        return
    result = run_lesson(name, out=out, quick=quick, echo=click.echo)
    click.echo("")
    for note in result.notes:
        click.echo(f"→ {note}")
    click.echo(f"\nlook at {result.figure}; everything is in {result.folder}/")


COMMANDS = [lesson]
