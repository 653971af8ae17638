"""``lightcost check [SPEC]...``: evaluate architecture budgets; exit 0 (hold), 1 (exceeded), 2."""

from __future__ import annotations

import os

import click

from lightcost.cli.complete import complete_spec
from lightcost.cli.options import format_option
from lightcost.core.errors import SpecError
from lightcost.render.report import CHECK_FORMATS
from lightcost.render.text import use_style

EXIT_EXCEEDED = 1


@click.command()
@click.argument("specs", nargs=-1, metavar="[SPEC]...", shell_complete=complete_spec)
@click.option(
    "--budgets",
    "-b",
    "project",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Project budgets file (default: budgets.yaml in the current directory, if any).",
)
@format_option(
    "table",
    *CHECK_FORMATS,
    help="table, json, junit (JUnit XML), github (workflow annotations) or markdown.",
)
@click.pass_context
def check(ctx: click.Context, specs: tuple[str, ...], project: str | None, fmt: str) -> None:
    """Check architecture budgets: limits on params, MAdds, memory, latency... of specs.

    Budgets live in a spec's `budget:` section or in budgets.yaml. With SPECs,
    checks their own budgets and the budgets.yaml entries naming them; without,
    every entry of budgets.yaml. Exit status: 0 all hold, 1 a budget is exceeded,
    2 a usage or spec error.

    \b
    Examples:
      lightcost check                           # every budget in budgets.yaml
      lightcost check specs/net.yaml            # the spec's own budget: section
      lightcost check --format junit > budgets.xml
      lightcost check --format github           # annotations in a GitHub Actions log
    """
    from lightcost.analysis.budgets import PROJECT_FILE
    from lightcost.analysis.budgets import check as run_check
    from lightcost.render.report import check_github_log, github_error, render_check

    if project is None and os.path.isfile(PROJECT_FILE):
        project = PROJECT_FILE
    if not specs and project is None:
        raise click.UsageError(
            f"no SPEC given and no {PROJECT_FILE} in this directory: name the specs to "
            "check or a budgets file with --budgets"
        )
    try:
        report = run_check(specs, project)
    except SpecError as exc:  # also an annotation on the line, then the usual error and exit 2
        if fmt == "github" and exc.loc is not None:
            click.echo(github_error(exc.loc, "lightcost spec error", str(exc)))
        raise
    click.echo(render_check(report, fmt, use_style()), nl=False)
    if fmt == "github":  # stdout holds only workflow commands; the log lines go to stderr
        click.echo(check_github_log(report), nl=False, err=True)
    if not report.passed:
        ctx.exit(EXIT_EXCEEDED)
