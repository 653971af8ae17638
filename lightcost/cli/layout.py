"""Options for how a command lays out its output: text tables (``--wide``, ``--columns``,
``--conventions``) and plot files (``--size``, ``--dpi``, ``--log``)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, cast

import click

from lightcost.cli.options import F, apply
from lightcost.core.errors import did_you_mean, short
from lightcost.render.text import View, terminal_width


def layout_options(columns: bool = True, notes: bool = False) -> Callable[[F], F]:
    """``--wide`` (and ``--columns LIST``, ``--conventions``): how a text table is laid out."""
    decorators: list[Callable[[Any], Any]] = [
        click.option(
            "--wide",
            is_flag=True,
            help="Full precision and every column, whatever the terminal's width (the "
            "default when it fits or the output is not a terminal).",
        )
    ]
    if columns:
        decorators.append(
            click.option(
                "--columns",
                "columns_text",
                default=None,
                metavar="A,B,...",
                help="Show these columns, in this order (an unknown one lists the choices).",
            )
        )
    if notes:
        decorators.append(
            click.option(
                "--conventions",
                "notes",
                is_flag=True,
                help="State every convention in full under the table (default: one line).",
            )
        )
    return lambda func: apply(decorators, func)


def plot_size(ctx: click.Context, param: click.Parameter, value: str) -> tuple[int, int]:
    """``--size WxH`` in pixels, each side within :data:`~lightcost.render.plot.SIZE_LIMITS`."""
    from lightcost.render.plot import SIZE_LIMITS

    low, high = SIZE_LIMITS
    width, sep, height = value.lower().partition("x")
    if not (sep and width.strip().isdigit() and height.strip().isdigit()):
        raise click.BadParameter(f"{short(value)} is not WIDTHxHEIGHT in pixels, e.g. 1200x750")
    size = int(width), int(height)
    if not all(low <= side <= high for side in size):
        raise click.BadParameter(f"{short(value)}: each side must be {low} to {high:,} pixels")
    return size


def plot_options(func: F) -> F:
    """``--size WxH``, ``--dpi N``, ``--log``: how a plot file is drawn (a ``plot_style``).

    The plot module is imported here, not on the start-up path of every command.
    """
    from lightcost.render.plot import DPI_LIMITS, LOG_CHOICES, LOG_SPAN, PlotStyle

    default = PlotStyle()
    decorators: list[Callable[[Any], Any]] = [
        click.option(
            "--size",
            "plot_size",
            default="x".join(map(str, default.size)),
            show_default=True,
            metavar="WxH",
            callback=plot_size,
            help="Plot file size in pixels (an SVG or PDF is WxH / dpi inches).",
        ),
        click.option(
            "--dpi",
            type=click.IntRange(*DPI_LIMITS),
            default=default.dpi,
            show_default=True,
            help="Dots per inch of the plot file (text size: larger dpi, larger text).",
        ),
        click.option(
            "--log",
            "log",
            type=click.Choice(LOG_CHOICES),
            default=default.log,
            show_default=True,
            help=f"Log-scale axes of the plot file (auto: an axis spanning over {LOG_SPAN}x).",
        ),
    ]

    def wrapped(func: F) -> F:
        @functools.wraps(func)
        def command(*args: Any, plot_size: tuple[int, int], dpi: int, log: str, **rest: Any) -> Any:
            return func(*args, plot_style=PlotStyle(plot_size, dpi, log), **rest)

        return apply(decorators, cast(F, command))

    return wrapped(func)


def read_view(wide: bool, columns_text: str | None = None, known: Sequence[str] = ()) -> View:
    """The layout the options give: the terminal's width, ``--wide``, ``--columns`` checked
    against the ``known`` column keys (an unknown one: a usage error with a suggestion)."""
    chosen = tuple(c.strip() for c in (columns_text or "").split(",") if c.strip())
    for name in chosen:
        if name not in known:
            raise click.BadParameter(
                f"unknown column {short(name)}{did_you_mean(name, known)} "
                f"(columns: {', '.join(known)})",
                param_hint="--columns",
            )
    if columns_text is not None and not chosen:
        raise click.BadParameter("give at least one column", param_hint="--columns")
    return View(terminal_width(), wide, chosen)
