"""``lightcost table SPEC``: per-layer cost table."""

from __future__ import annotations

import click

from lightcost.api import Config
from lightcost.cli.complete import complete_spec
from lightcost.cli.options import (
    format_option,
    model_options,
    model_options_given,
    note_ignored_width,
    pass_config,
    spec_options,
)
from lightcost.render.table import UNITS, render_table
from lightcost.render.text import use_style


@click.command()
@click.argument("spec", shell_complete=complete_spec)
@spec_options
@format_option("table", "json", "csv", "markdown")
@click.option(
    "--unit",
    type=click.Choice(list(UNITS)),
    default="madds",
    show_default=True,
    help="Compute unit: multiply-adds, or FLOPs = 2 x MAdds.",
)
@click.option(
    "--depth",
    "-d",
    type=click.IntRange(1),
    default=None,
    help="Collapse layers inside blocks deeper than this many levels into one row.",
)
@click.option(
    "--by",
    type=click.Choice(["layer", "block", "op"]),
    default="layer",
    show_default=True,
    help="Rows per layer, per top-level block, or per layer type (paper Table 2).",
)
@click.option(
    "--explain",
    is_flag=True,
    help="Also show each depthwise+pointwise pair against the standard conv it "
    "replaces (ratio 1/N + 1/Dk^2).",
)
@model_options
@pass_config
def table(
    spec: str, config: Config, fmt: str, unit: str, depth: int | None, by: str, explain: bool
) -> None:
    """Cost table of SPEC (a YAML file, or a bundled spec name such as mobilenet_v1).

    \b
    Examples:
      lightcost table mobilenet_v1
      lightcost table mobilenet_v1 --width 0.75 --res 128 --params weights
      lightcost table my_net.yaml --format json > costs.json
      lightcost table mobilenet_v1 --by op --params weights   # paper Table 2
      lightcost table mobilenet_v2 --device gtx1080ti --dtype fp16 --exec unfused
    """
    if depth is not None and by != "layer":
        raise click.BadParameter(f"applies to --by layer only, not --by {by}", param_hint="--depth")
    cost = config.analyze(spec)
    note_ignored_width(config.width, cost)
    memory = model_options_given()
    click.echo(render_table(cost, fmt, unit, by, depth, explain, memory, use_style()), nl=False)
