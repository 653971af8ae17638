"""``lightcost view SPEC -o model.html``: the layer graph and its costs as one HTML page."""

from __future__ import annotations

import click

from lightcost.api import Config
from lightcost.cli.complete import complete_spec
from lightcost.cli.options import (
    model_options,
    note_ignored_width,
    pass_config,
    spec_options,
    text_output_option,
)
from lightcost.cli.output import output_file
from lightcost.render.escape import terminal
from lightcost.render.view import FIGURES, view_html


@click.command()
@click.argument("spec", shell_complete=complete_spec)
@spec_options
@click.option(
    "--by",
    type=click.Choice(list(FIGURES)),
    default="madds",
    show_default=True,
    help="The figure that colours each node (latency needs --device).",
)
@model_options
@text_output_option("HTML")
@pass_config
def view(spec: str, config: Config, by: str, output: str) -> None:
    """Write the layer graph of SPEC as one self-contained HTML page.

    The page draws every layer with its branches and merges, coloured by a
    figure, with hover details, the totals and conventions, and a sortable
    table. It needs no network (no CDN): open it in any browser.

    \b
    Examples:
      lightcost view shufflenet_v2 -o shufflenet_v2.html
      lightcost view mobilenet_v2 --by mac --exec unfused -o mbv2.html
      lightcost view model.onnx --device gtx1080ti --by latency -o model.html
    """
    if by == "latency" and config.device is None:
        raise click.BadParameter("--by latency needs --device NAME|FILE", param_hint="--by")
    cost = config.analyze(spec)
    note_ignored_width(config.width, cost)
    page = view_html(cost, by)
    with output_file(output) as handle:
        handle.write(page)
    if output != "-":
        click.echo(terminal(f"wrote {output}: {len(cost.layers)} layers, by {by}"), err=True)
