"""``lightcost compare``: a configuration against the baseline, a grid, or several specs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import click

from lightcost.analysis.compare import (
    MAX_GRID,
    default_figures,
    side_by_side,
    split_variant,
    versus,
    winners,
)
from lightcost.analysis.sweep import sweep
from lightcost.api import Config
from lightcost.cli.complete import complete_spec
from lightcost.cli.layout import layout_options, read_view
from lightcost.cli.options import (
    config_options,
    format_option,
    max_configs_option,
    model_options,
    note_ignored_width,
    pass_config,
    sizes,
)
from lightcost.cost.figures import FIGURES
from lightcost.render.text import View, use_style
from lightcost.render.tradeoffs import (
    grid_text,
    rows_json,
    side_by_side_json,
    side_by_side_text,
    versus_json,
    versus_text,
)
from lightcost.spec.sections import Resolution

DEFAULT_SPEC = "mobilenet_v1"
T = TypeVar("T")


def figure_list(text: str | None, chosen: Config) -> list[str]:
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


@click.command()
@click.argument("specs", nargs=-1, shell_complete=complete_spec)
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
@max_configs_option(MAX_GRID, "a grid")
@layout_options(columns=False)
@pass_config
def compare(
    specs: tuple[str, ...],
    width_text: str | None,
    res_text: str | None,
    config: Config,
    figures_text: str | None,
    fmt: str,
    max_configs: int,
    wide: bool,
) -> None:
    """Compare costs: SPEC at --width/--res against its baseline, a grid, or several SPECS.

    \b
    With no SPEC, MobileNetV1. One width and resolution: the configuration beside
    the baseline (width 1.0 at the spec's input), with ratios and the alpha^2 rho^2
    prediction. Lists of widths or resolutions: grids of MAdds and params, like
    MobileNetV1 Tables 6 and 7. Several SPECS (NAME or NAME@VARIANT):
    one column per model, best value of each row starred.

    \b
    Examples:
      lightcost compare --width 0.75 --res 160
      lightcost compare --width 1,0.75,0.5,0.25 --res 224,192,160,128
      lightcost compare mobilenet_v2 shufflenet_v2@1.5x mobilenet_v3_small
    """
    figures = figure_list(figures_text, config)
    widths, resolutions = sizes(width_text, res_text, max_configs, "compare")
    view = read_view(wide)
    names = list(specs) or [DEFAULT_SPEC]
    grid = len(widths) > 1 or len(resolutions) > 1
    if len(names) > 1:
        if grid:
            raise click.UsageError("several specs are compared at one width and one resolution")
        compare_specs(names, at(config, widths, resolutions), figures, fmt, view)
        return
    name, variant = split_variant(names[0])
    config = config._replace(variant=variant or config.variant)
    if grid:
        compare_grid(name, widths, resolutions, config, figures, fmt, view)
    else:
        compare_versus(name, at(config, widths, resolutions), figures, fmt, view)


def compare_specs(
    names: list[str], config: Config, figures: list[str], fmt: str, view: View
) -> None:
    """Several specs side by side at one configuration, the best of each figure starred."""
    columns = side_by_side(names, config, figures)
    best = winners(columns, figures)
    style = use_style()
    text = (
        side_by_side_json(columns, best)
        if fmt == "json"
        else side_by_side_text(columns, best, style, view)
    )
    click.echo(text)


def compare_grid(
    name: str,
    widths: list[float],
    resolutions: list[Resolution],
    config: Config,
    figures: list[str],
    fmt: str,
    view: View,
) -> None:
    """A grid of widths x resolutions (missing ones: width 1.0, the spec's input)."""
    height, width = config.analyze(name).graph.input_shape[1:]
    own: Resolution = height if height == width else (height, width)
    grid = sweep(name, widths or [1.0], resolutions or [own], config)
    style = use_style()
    click.echo(rows_json(grid) if fmt == "json" else grid_text(grid, figures, style, view))


def compare_versus(name: str, config: Config, figures: list[str], fmt: str, view: View) -> None:
    """One configuration against the spec's baseline, with the alpha^2 rho^2 prediction."""
    result = versus(name, config, figures)
    note_ignored_width(config.width, result.config)
    style = use_style()
    click.echo(versus_json(result) if fmt == "json" else versus_text(result, style, view))


def at(config: Config, widths: Sequence[float], resolutions: Sequence[Resolution]) -> Config:
    """``config`` at the single width and resolution given (or the spec's own)."""
    return config._replace(width=first(widths), resolution=first(resolutions))


def first(found: Sequence[T]) -> T | None:
    """The single value given, or None."""
    return found[0] if found else None
