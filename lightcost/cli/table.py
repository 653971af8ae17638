"""``lightcost table SPEC``: per-layer cost table."""

from __future__ import annotations

import click

from lightcost.api import Config
from lightcost.cli.complete import complete_spec
from lightcost.cli.layout import layout_options, read_view
from lightcost.cli.options import (
    format_option,
    model_options,
    model_options_given,
    note_ignored_width,
    pass_config,
    spec_options,
)
from lightcost.cost.figures import UNITS
from lightcost.render.table import render_table, table_columns
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
@layout_options(notes=True)
@pass_config
def table(
    spec: str,
    config: Config,
    fmt: str,
    unit: str,
    depth: int | None,
    by: str,
    explain: bool,
    wide: bool,
    columns_text: str | None,
    notes: bool,
) -> None:
    """Cost table of SPEC (a YAML file, or a bundled spec name such as mobilenet_v1).

    \b
    Examples:
      lightcost table mobilenet_v1
      lightcost table mobilenet_v1 --width 0.75 --res 128 --params weights
      lightcost table my_net.yaml --format json > costs.json
      lightcost table mobilenet_v1 --by op --params weights   # paper Table 2
      lightcost table mobilenet_v2 --device gtx1080ti --dtype fp16 --exec unfused
      lightcost table mobilenet_v2 --columns layer,params,madds --conventions

    \b
    The text table fits the terminal: exact values when they fit (or with --wide),
    else compact ones (4.23M, 2.11 MiB, 302 µs) and the most important columns.
    """
    if depth is not None and by != "layer":
        raise click.BadParameter(f"applies to --by layer only, not --by {by}", param_hint="--depth")
    memory = model_options_given()
    known = [c.key for c in table_columns(unit, by, memory, config.device is not None)]
    view = read_view(wide, columns_text, known)
    cost = config.analyze(spec)
    note_ignored_width(config.width, cost)
    text = render_table(cost, fmt, unit, by, depth, explain, memory, use_style(), view, notes)
    click.echo(text, nl=False)
