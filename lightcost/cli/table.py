"""``lightcost table SPEC``: per-layer cost table."""

from __future__ import annotations

import click

from lightcost.cli.options import (
    format_option,
    model_options,
    note_ignored_width,
    settings,
    spec_options,
)
from lightcost.render.table import UNITS, render_table
from lightcost.render.text import use_style


@click.command()
@click.argument("spec")
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
def table(
    spec: str,
    width: float | None,
    res: int | None,
    variant: str | None,
    sets: tuple[str, ...],
    params: str,
    fold_bn: bool,
    fmt: str,
    unit: str,
    depth: int | None,
    by: str,
    explain: bool,
    execution: str | None,
    dtype: str | None,
    device: str | None,
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
    cost = settings(params, fold_bn, sets, variant, execution, dtype, device).analyze(
        spec, width, res
    )
    note_ignored_width(width, cost)
    memory = any(option is not None for option in (execution, dtype, device))
    text = render_table(cost, fmt, unit, by, depth, explain, memory, use_style())
    click.echo(text, nl=False)
