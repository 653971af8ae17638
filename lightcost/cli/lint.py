"""``lightcost lint SPEC``: ShuffleNetV2's guidelines G1-G4 checked with numbers.

Exit status: 0 clean, 1 findings, 2 a spec (or usage) error.
"""

from __future__ import annotations

import click

from lightcost.analysis.lint import Limits, lint
from lightcost.api import Config
from lightcost.cli.complete import complete_spec
from lightcost.cli.options import execution_option, format_option, pass_config, spec_options
from lightcost.render.lint import findings_json, findings_text
from lightcost.render.text import use_style

EXIT_FINDINGS = 1
DEFAULTS = Limits()


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
@format_option("table", "json")
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
    fmt: str,
) -> None:
    """Check SPEC against ShuffleNetV2's guidelines G1-G4, with numbers.

    \b
    G1  1x1 convs with unequal channels: MAC above 2*sqrt(hw*B) + B/hw
    G2  group convs: MAC above the g=1 conv with equal input and MAdds
    G3  fragmentation: kernels and parallel branches per top-level block
    G4  share of MAC in element-wise kernels (activations, BN, add, copies, depthwise)

    Exit status 0 when clean, 1 with findings, 2 on a spec error.

    \b
    Examples:
      lightcost lint shufflenet_v1 --set groups=8
      lightcost lint mobilenet_v2 --g1-excess 50 --format json
    """
    cost = config.analyze(spec)
    limits = Limits(g1_excess / 100, g2_overhead / 100, g3_kernels, g3_branches, g4_share / 100)
    findings = lint(cost, limits)
    text = (
        findings_json(cost, limits, findings)
        if fmt == "json"
        else findings_text(cost, findings, use_style())
    )
    click.echo(text)
    if findings:
        ctx.exit(EXIT_FINDINGS)
