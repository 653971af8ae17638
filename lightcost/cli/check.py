"""``lightcost check [SPEC]...``: evaluate architecture budgets; exit 0 (hold), 1 (exceeded), 2."""

from __future__ import annotations

import os

import click

from lightcost.cli.complete import complete_spec
from lightcost.cli.options import format_option
from lightcost.cli.output import cannot_write
from lightcost.render.escape import terminal
from lightcost.render.report import CHECK_FORMATS
from lightcost.render.text import use_style

EXIT_EXCEEDED = 1
EXIT_SPEC_ERROR = 2
STEP_SUMMARY = "GITHUB_STEP_SUMMARY"  # the job summary file GitHub Actions provides


@click.command()
@click.argument("specs", nargs=-1, metavar="[SPEC]...", shell_complete=complete_spec)
@click.option(
    "--budgets",
    "-b",
    "project",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Project budgets file (default: budgets.yaml here or in a folder above, up to the "
    "git repository root).",
)
@format_option(
    "table",
    *CHECK_FORMATS,
    help="table, json, junit (JUnit XML), github (workflow annotations) or markdown.",
)
@click.option(
    "--summary",
    "summary_file",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="FILE",
    help="Also append the Markdown report to FILE (with --format github: default "
    "$GITHUB_STEP_SUMMARY when set).",
)
@click.pass_context
def check(
    ctx: click.Context,
    specs: tuple[str, ...],
    project: str | None,
    fmt: str,
    summary_file: str | None,
) -> None:
    """Check architecture budgets: limits on params, MAdds, memory, latency... of specs.

    Budgets live in a spec's `budget:` section or in budgets.yaml. With SPECs,
    checks their own budgets and the budgets.yaml entries naming them; without,
    every entry of budgets.yaml. A spec that fails is an error of the report and
    the other budgets are still checked. Exit status: 0 all hold, 1 a budget is
    exceeded, 2 a usage or spec error.

    \b
    Examples:
      lightcost check                           # every budget in budgets.yaml
      lightcost check specs/net.yaml            # the spec's own budget: section
      lightcost check --format junit > budgets.xml
      lightcost check --format github           # annotations + the job summary
    """
    from lightcost.analysis.budgets import check as run_check
    from lightcost.analysis.repository import PROJECT_FILE, find_project
    from lightcost.render.report import check_github_log, check_markdown, render_check

    project = project or find_project()
    if not specs and project is None:
        raise click.UsageError(
            f"no SPEC given and no {PROJECT_FILE} in this directory or above it (up to the "
            "git repository root): name the specs to check or a budgets file with --budgets"
        )
    report = run_check(specs, project)
    for error in report.errors:
        click.echo(terminal(f"error: {error.error}"), err=True)
    click.echo(render_check(report, fmt, use_style()), nl=False)
    if fmt == "github":  # stdout holds only workflow commands; the log lines go to stderr
        click.echo(check_github_log(report), nl=False, err=True)
        summary_file = summary_file or os.environ.get(STEP_SUMMARY) or None
    if summary_file:
        append(summary_file, check_markdown(report))
    if report.errors:
        ctx.exit(EXIT_SPEC_ERROR)
    if not report.passed:
        ctx.exit(EXIT_EXCEEDED)


def append(path: str, text: str) -> None:
    """Append ``text`` to the file at ``path`` (a job summary collects every step's)."""
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise cannot_write(path, exc) from None
