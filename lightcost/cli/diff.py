"""``lightcost diff OLD [NEW]``: per-layer comparison of two specs, configurations or revisions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from lightcost.cli.options import format_option, params_convention, parse_sets, spec_options
from lightcost.render.report import DIFF_FORMATS
from lightcost.render.text import use_style

F = TypeVar("F", bound=Callable[..., Any])
EXIT_GREW = 1
SIDES = ("old", "new")


def side_options(side: str) -> Callable[[F], F]:
    """--SIDE-width, --SIDE-res, --SIDE-variant, --SIDE-set: one side's configuration.

    Values are checked by the analysis itself (a bad one is a spec error, exit 2).
    """

    def decorate(func: F) -> F:
        for decorator in reversed([
            click.option(f"--{side}-width", type=float, default=None, metavar="ALPHA",
                         help=f"Width multiplier of {side.upper()} (overrides --width)."),
            click.option(f"--{side}-res", type=int, default=None, metavar="PIXELS",
                         help=f"Input resolution of {side.upper()} (overrides --res)."),
            click.option(f"--{side}-variant", default=None, metavar="NAME",
                         help=f"Variant of {side.upper()} (overrides --variant)."),
            click.option(f"--{side}-set", f"{side}_sets", multiple=True, metavar="NAME=VALUE",
                         help=f"Spec var of {side.upper()}, over --set (repeatable)."),
        ]):  # fmt: skip
            func = decorator(func)
        return func

    return decorate


def side_config(options: dict[str, Any], side: str) -> dict[str, Any]:
    """analyze() keywords of one side: its own options over the shared ones."""

    def pick(name: str) -> Any:
        own = options[f"{side}_{name}"]
        return options[name] if own is None else own

    sets = {**parse_sets(options["sets"]), **parse_sets(options[f"{side}_sets"])}
    return {
        "width": pick("width"),
        "resolution": pick("res"),
        "variant": pick("variant"),
        "overrides": sets,
        "params": params_convention(options["params"], options["fold_bn"]),
    }


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
@click.argument("old")
@click.argument("new", required=False)
@spec_options
@side_options("old")
@side_options("new")
@click.option(
    "--rev",
    default=None,
    metavar="REV",
    help="Read OLD from this git revision (git show REV:OLD), e.g. HEAD~1, main.",
)
@click.option(
    "--fail-above",
    callback=parse_percent,
    default=None,
    metavar="PCT",
    help="Exit 1 when a total grows by more than PCT, e.g. 5%.",
)
@format_option("table", *DIFF_FORMATS)
@click.pass_context
def diff(
    ctx: click.Context,
    /,
    old: str,
    new: str | None,
    rev: str | None,
    fail_above: float | None,
    fmt: str,
    **options: Any,
) -> None:
    """Compare the costs of OLD and NEW layer by layer (NEW defaults to OLD).

    Layers are matched by name; added and removed layers are shown; totals with
    absolute and relative change. --width, --res, --variant, --set and --params
    apply to both sides, --old-* and --new-* to one.

    \b
    Examples:
      lightcost diff mobilenet_v2 --new-width 0.75
      lightcost diff mobilenet_v1 mobilenet_v2 --format markdown
      lightcost diff specs/net.yaml --rev HEAD~1 --fail-above 5%
    """
    from lightcost.analysis.diff import compare, git_text
    from lightcost.api import analyze
    from lightcost.render.report import grown_text, render_diff
    from lightcost.spec.files import find_spec

    configs = {side: side_config(options, side) for side in SIDES}
    if rev is None:
        before = analyze(old, **configs["old"])
    else:
        text, name = git_text(find_spec(old), rev)
        before = analyze(name, text=text, **configs["old"])
    after = analyze(new or old, **configs["new"])
    result = compare(before, after)
    click.echo(render_diff(result, fmt, use_style()), nl=False)
    if fail_above is None:
        return
    grown = result.grown(fail_above)
    for total in grown:
        click.echo(grown_text(total, fail_above), err=True)
    if grown:
        ctx.exit(EXIT_GREW)
