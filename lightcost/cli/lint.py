"""``lightcost lint SPEC``: ShuffleNetV2's guidelines G1-G4 checked with numbers.

Exit status: 0 clean, 1 findings, 2 a spec (or usage) error.
"""

from __future__ import annotations

import click

from lightcost.analysis.lint import RULES, Limits, check_rules, lint, spec_ignores
from lightcost.api import Config
from lightcost.cli.complete import complete_spec
from lightcost.cli.options import execution_option, format_option, pass_config, spec_options
from lightcost.core.errors import SpecError
from lightcost.render.escape import terminal
from lightcost.render.lint import (
    SOURCE,
    findings_github,
    findings_json,
    findings_junit,
    findings_text,
)
from lightcost.render.text import terminal_width

EXIT_FINDINGS = 1
DEFAULTS = Limits()
PIPE_WIDTH = 80  # the text wrap without a terminal or COLUMNS (shutil's fallback)


@click.command("lint")
@click.argument("spec", shell_complete=complete_spec)
@spec_options
@execution_option()
@click.option(
    "--g1-excess",
    type=click.FloatRange(0),
    default=100 * DEFAULTS.g1_excess,
    show_default=True,
    metavar="PCT",
    help="G1: report 1x1 convs whose MAC is more than PCT % above 2*sqrt(hw*B) + B/hw.",
)
@click.option(
    "--g2-overhead",
    type=click.FloatRange(0),
    default=100 * DEFAULTS.g2_overhead,
    show_default=True,
    metavar="PCT",
    help="G2: report group convs whose MAC is more than PCT % above the g=1 conv of equal MAdds.",
)
@click.option(
    "--g3-kernels",
    type=click.IntRange(1),
    default=DEFAULTS.g3_kernels,
    show_default=True,
    metavar="N",
    help="G3: report top-level blocks that launch more than N kernels.",
)
@click.option(
    "--g3-branches",
    type=click.IntRange(1),
    default=DEFAULTS.g3_branches,
    show_default=True,
    metavar="N",
    help="G3: report top-level blocks with more than N parallel branches.",
)
@click.option(
    "--g4-share",
    type=click.FloatRange(0, 100),
    default=100 * DEFAULTS.g4_share,
    show_default=True,
    metavar="PCT",
    help="G4: report when more than PCT % of MAC is in element-wise kernels.",
)
@click.option(
    "--g4-thick",
    type=click.FloatRange(1),
    default=DEFAULTS.g4_thick,
    show_default=True,
    metavar="X",
    help="G4: report element-wise layers on more than X times their block's in/out channels.",
)
@click.option(
    "--select",
    "select",
    multiple=True,
    metavar="RULES",
    help="Check only these rules (comma-separated or repeated, e.g. G1,G2).",
)
@click.option(
    "--ignore",
    "ignore",
    multiple=True,
    metavar="RULES",
    help="Skip these rules (added to the spec's `lint: {ignore: [...]}`).",
)
@format_option("table", "json", "junit", "github", help="table, json, junit (JUnit XML) or github.")
@click.pass_context
@pass_config
def lint_command(
    ctx: click.Context,
    spec: str,
    config: Config,
    g1_excess: float,
    g2_overhead: float,
    g3_kernels: int,
    g3_branches: int,
    g4_share: float,
    g4_thick: float,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    fmt: str,
) -> None:
    """Check SPEC against ShuffleNetV2's guidelines G1-G4, with numbers.

    \b
    G1  1x1 convs with unequal channels: MAC above 2*sqrt(hw*B) + B/hw
    G2  group convs: MAC above the g=1 conv with equal input and MAdds
    G3  fragmentation: kernels and parallel branches per top-level block
    G4  share of MAC in element-wise kernels (activations, BN, add, copies, depthwise)

      and element-wise layers on maps thicker than their block's in/out

    Findings are grouped per rule and stage (output map size): a count and the
    worst instance. A spec turns rules off with `lint: {ignore: [G2]}`.
    Exit status 0 when clean, 1 with findings, 2 on a spec error.

    \b
    Examples:
      lightcost lint shufflenet_v1 --set groups=8
      lightcost lint mobilenet_v2 --select G1 --format github
      lightcost lint mobilenet_v2 --g1-excess 50 --format json
    """
    rules = chosen_rules(select, ignore) - spec_ignores(spec)
    cost = config.analyze(spec)
    limits = Limits(
        g1_excess / 100, g2_overhead / 100, g3_kernels, g3_branches, g4_share / 100, g4_thick
    )
    findings = lint(cost, limits, rules)
    if fmt == "json":
        text = findings_json(cost, limits, findings, rules)
    elif fmt == "junit":
        text = findings_junit(cost, findings, rules)
    elif fmt == "github":
        text = findings_github(findings)
    else:
        text = findings_text(cost, findings, terminal_width() or PIPE_WIDTH)
    if text:  # github: workflow commands only, none when clean; the verdict goes to stderr
        click.echo(text, nl=not text.endswith("\n"))
    if fmt == "github":
        count = f"{len(findings)} finding(s)" if findings else "no findings"
        click.echo(f"lint {terminal(cost.graph.name)}: {count}; {SOURCE}", err=True)
    if findings:
        ctx.exit(EXIT_FINDINGS)


def chosen_rules(select: tuple[str, ...], ignore: tuple[str, ...]) -> set[str]:
    """The rules of ``--select`` (default all) less those of ``--ignore``; an unknown rule is a
    usage error."""

    def read(values: tuple[str, ...], option: str) -> set[str]:
        names = [n for value in values for n in value.split(",") if n.strip()]
        try:
            return check_rules(names, what=f"rule in {option}")
        except SpecError as exc:
            raise click.BadParameter(exc.message, param_hint=option) from None

    return (read(select, "--select") if select else set(RULES)) - read(ignore, "--ignore")
