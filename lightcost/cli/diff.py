"""``lightcost diff OLD [NEW]``: per-layer comparison of two specs, configurations or revisions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from lightcost.api import Config
from lightcost.cli.complete import complete_spec
from lightcost.cli.layout import layout_options, read_view
from lightcost.cli.options import (
    RESOLUTION,
    device_option,
    dtype_option,
    execution_option,
    format_option,
    model_options,
    parse_sets,
    pass_config,
    spec_options,
)
from lightcost.render.report import DIFF_COLUMNS, DIFF_FORMATS
from lightcost.render.text import use_style

F = TypeVar("F", bound=Callable[..., Any])
EXIT_GREW = 1
SIDES = ("old", "new")
SIDE_FIELDS = {  # --SIDE-NAME parameter -> the Config field it sets
    "width": "width",
    "res": "resolution",
    "variant": "variant",
    "execution": "execution",
    "dtype": "dtype",
    "device": "device",
}


def side_options(side: str) -> Callable[[F], F]:
    """One side's configuration: --SIDE-width, -res, -variant, -set, -exec, -dtype, -device.

    Sizes, variants and vars are checked by the analysis itself (a bad one is a
    spec error, exit 2); the model options by click, as their shared ones.
    """

    def decorate(func: F) -> F:
        for decorator in reversed([
            click.option(f"--{side}-width", type=float, default=None, metavar="ALPHA",
                         help=f"Width multiplier of {side.upper()} (overrides --width)."),
            click.option(f"--{side}-res", type=RESOLUTION, default=None, metavar="N|HxW",
                         help=f"Input resolution of {side.upper()} (overrides --res)."),
            click.option(f"--{side}-variant", default=None, metavar="NAME",
                         help=f"Variant of {side.upper()} (overrides --variant)."),
            click.option(f"--{side}-set", f"{side}_sets", multiple=True, metavar="NAME=VALUE",
                         help=f"Spec var of {side.upper()}, over --set (repeatable)."),
            execution_option(side),
            dtype_option(side),
            device_option(side),
        ]):  # fmt: skip
            func = decorator(func)
        return func

    return decorate


def side_config(shared: Config, options: dict[str, Any], side: str) -> Config:
    """One side's configuration: its own options over the shared ones (its sets over --set)."""
    own = {field: options[f"{side}_{name}"] for name, field in SIDE_FIELDS.items()}
    overrides = {**shared.overrides, **parse_sets(options[f"{side}_sets"])}
    given = {field: value for field, value in own.items() if value is not None}
    return shared._replace(overrides=overrides, **given)


def parse_percent(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    """``5%``, ``5`` or ``0.5%`` as a number of percent."""
    if value is None:
        return None
    try:
        number = float(value.strip().removesuffix("%"))
    except ValueError:
        number = -1.0
    if not number >= 0:
        raise click.BadParameter(f"'{value}' is not a percentage such as 5% or 0.5%")
    return number


@click.command("diff")
@click.argument("old", shell_complete=complete_spec)
@click.argument("new", required=False, shell_complete=complete_spec)
@spec_options
@model_options
@side_options("old")
@side_options("new")
@click.option(
    "--rev",
    default=None,
    metavar="REV",
    help="Read OLD as it is at this git commit, e.g. HEAD~1, main, a tag (not -...).",
)
@click.option(
    "--fail-above",
    callback=parse_percent,
    default=None,
    metavar="PCT",
    help="Exit 1 when a total grows by more than PCT, e.g. 5%.",
)
@click.option(
    "--changed",
    is_flag=True,
    help="Show only added, removed and changed layers (the totals still cover every layer).",
)
@format_option("table", *DIFF_FORMATS)
@layout_options()
@click.pass_context
@pass_config
def diff(
    ctx: click.Context,
    /,
    old: str,
    new: str | None,
    config: Config,
    rev: str | None,
    fail_above: float | None,
    changed: bool,
    fmt: str,
    wide: bool,
    columns_text: str | None,
    **options: Any,
) -> None:
    """Compare the costs of OLD and NEW layer by layer (NEW defaults to OLD).

    Layers are matched by name; added and removed layers are shown; totals with
    absolute and relative change. --width, --res, --variant, --set, --params,
    --exec, --dtype and --device apply to both sides, --old-* and --new-* to one.

    \b
    Examples:
      lightcost diff mobilenet_v2 --new-width 0.75
      lightcost diff mobilenet_v2 --new-res 192 --changed
      lightcost diff mobilenet_v1 mobilenet_v2 --format markdown
      lightcost diff specs/net.yaml --rev HEAD~1 --fail-above 5%
      lightcost diff mobilenet_v2 --device gtx1080ti --new-dtype fp16
    """
    from lightcost.analysis.diff import compare, git_text
    from lightcost.render.report import grown_text, render_diff
    from lightcost.spec.files import find_spec

    view = read_view(wide, columns_text, [c.key for c in DIFF_COLUMNS])
    configs = {side: side_config(config, options, side) for side in SIDES}
    if rev is None:
        before = configs["old"].analyze(old)
    else:
        text, name = git_text(find_spec(old), rev)
        before = configs["old"].analyze(name, text)
    after = configs["new"].analyze(new or old)
    result = compare(before, after)
    shown = result.changed_only() if changed else result
    click.echo(render_diff(shown, fmt, use_style(), view), nl=False)
    if fail_above is None:
        return
    grown = result.grown(fail_above)
    for total in grown:
        click.echo(grown_text(total, fail_above), err=True)
    if grown:
        ctx.exit(EXIT_GREW)
