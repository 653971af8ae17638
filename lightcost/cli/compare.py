"""``lightcost compare``: a configuration against the baseline, a grid, or several specs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import click

from lightcost.analysis.compare import default_figures, side_by_side, split_variant, versus, winners
from lightcost.analysis.sweep import parse_range, sweep
from lightcost.api import Settings
from lightcost.cli.options import (
    config_options,
    format_option,
    model_options,
    note_ignored_width,
    settings,
)
from lightcost.cost.figures import FIGURES
from lightcost.ops import MAX_SIZE
from lightcost.render.text import use_style
from lightcost.render.tradeoffs import (
    grid_text,
    rows_json,
    side_by_side_json,
    side_by_side_text,
    versus_json,
    versus_text,
)
from lightcost.spec.expand import MAX_WIDTH

DEFAULT_SPEC = "mobilenet_v1"
T = TypeVar("T")


def figure_list(text: str | None, chosen: Settings) -> list[str]:
    """``params,madds`` checked against the figure registry; None: the default figures."""
    if text is None:
        return list(default_figures(chosen))
    names = [name.strip() for name in text.split(",") if name.strip()]
    for name in names:
        if name not in FIGURES:
            raise click.BadParameter(
                f"unknown figure '{name}' (figures: {', '.join(FIGURES)})", param_hint="--figures"
            )
        if FIGURES[name].device and chosen.device is None:
            raise click.BadParameter(f"'{name}' needs --device", param_hint="--figures")
    return names


def values(text: str | None, integer: bool, hint: str) -> list[float]:
    """The values of a --width/--res list or range, or [] when not given.

    Widths must be in (0, 16], resolutions in 1..2**16 (the expander's limits).
    """
    if text is None:
        return []
    try:
        found = parse_range(text, integer)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=hint) from None
    high = MAX_SIZE if integer else MAX_WIDTH
    if not found or not all(0 < v <= high for v in found):  # also false for nan
        raise click.BadParameter(f"'{text}' must give values in (0, {high:g}]", param_hint=hint)
    return found


@click.command()
@click.argument("specs", nargs=-1)
@click.option(
    "--width",
    "-w",
    "width_text",
    metavar="LIST",
    help="Width multiplier, or a list (1,0.75,0.5) or range (0.25:1.0:0.25) for a grid.",
)
@click.option(
    "--res",
    "-r",
    "res_text",
    metavar="LIST",
    help="Resolution, or a list (224,192,160) or range (96:224:32) for a grid.",
)
@config_options
@model_options
@click.option(
    "--figures",
    "figures_text",
    default=None,
    help=f"Figures to compare, from: {', '.join(FIGURES)} "
    "[default: params, madds, mac, peak_activation, other_ops; latency with --device].",
)
@format_option("table", "json")
def compare(
    specs: tuple[str, ...],
    width_text: str | None,
    res_text: str | None,
    variant: str | None,
    sets: tuple[str, ...],
    params: str,
    fold_bn: bool,
    execution: str | None,
    dtype: str | None,
    device: str | None,
    figures_text: str | None,
    fmt: str,
) -> None:
    """Compare costs: SPEC at --width/--res against its baseline, a grid, or several SPECS.

    \b
    With no SPEC, MobileNetV1. One width and resolution: the configuration beside
    the baseline (width 1.0 at the spec's input), with ratios and the alpha^2 rho^2
    prediction. Lists of widths or resolutions: grids of MAdds and params in
    millions, like MobileNetV1 Tables 6 and 7. Several SPECS (NAME or NAME@VARIANT):
    one column per model, best value of each row starred.

    \b
    Examples:
      lightcost compare --width 0.75 --res 160
      lightcost compare --width 1,0.75,0.5,0.25 --res 224,192,160,128
      lightcost compare mobilenet_v2 shufflenet_v2@1.5x mobilenet_v3_small
    """
    chosen = settings(params, fold_bn, sets, variant, execution, dtype, device)
    figures = figure_list(figures_text, chosen)
    widths = values(width_text, False, "--width")
    resolutions = [int(r) for r in values(res_text, True, "--res")]
    style = use_style()
    names = list(specs) or [DEFAULT_SPEC]
    if len(names) > 1:
        if len(widths) > 1 or len(resolutions) > 1:
            raise click.UsageError("several specs are compared at one width and one resolution")
        columns = side_by_side(names, first(widths), first(resolutions), chosen, figures)
        best = winners(columns, figures)
        text = (
            side_by_side_json(columns, best)
            if fmt == "json"
            else side_by_side_text(columns, best, style)
        )
        click.echo(text)
        return
    name, variant_here = split_variant(names[0])
    chosen = chosen._replace(variant=variant_here or chosen.variant)
    if len(widths) > 1 or len(resolutions) > 1:
        grid = sweep(
            name,
            widths or [1.0],
            resolutions or [chosen.analyze(name).graph.resolution],
            chosen,
        )
        click.echo(rows_json(grid) if fmt == "json" else grid_text(grid, figures, style))
        return
    result = versus(name, first(widths), first(resolutions), chosen, figures)
    note_ignored_width(first(widths), result.config)
    click.echo(versus_json(result) if fmt == "json" else versus_text(result, style))


def first(found: Sequence[T]) -> T | None:
    """The single value given, or None."""
    return found[0] if found else None
