"""``lightcost sweep SPEC``: every (width, resolution) pair, vectorized, with its Pareto front."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import click

from lightcost.analysis.sweep import (
    MAX_CONFIGS,
    SweepResult,
    default_front,
    pareto,
    recorded,
    sweep,
)
from lightcost.api import Config
from lightcost.cli.complete import complete_spec
from lightcost.cli.layout import plot_options
from lightcost.cli.options import (
    config_options,
    max_configs_option,
    model_options,
    pass_config,
    sizes,
    writable_file,
)
from lightcost.cli.output import output_file
from lightcost.cost.figures import FIGURES
from lightcost.render.escape import terminal
from lightcost.render.plot import (
    PLOT_FORMATS,
    PlotStyle,
    plot_title,
    save_plot,
    terminal_scatter,
)
from lightcost.render.text import View, use_style
from lightcost.render.tradeoffs import (
    front_text,
    sweep_problems,
    sweep_summary,
    write_rows_csv,
    write_rows_json,
)

EXIT_NOTHING_VALID = 2


def front_axes(text: str, chosen: Config) -> tuple[str, bool, str, bool]:
    """``madds,params`` or ``madds:min,params:max`` -> (x, x_max, y, y_max); y defaults to max."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 2:
        raise click.BadParameter("give two figures, e.g. madds,params", param_hint="--front")
    known = recorded(chosen)
    axes: list[tuple[str, bool]] = []
    for index, part in enumerate(parts):
        name, _, goal = part.partition(":")
        if name not in known or goal not in ("", "min", "max"):
            raise click.BadParameter(
                f"'{part}': use FIGURE[:min|max] with a figure from {', '.join(known)}"
                + ("" if name not in FIGURES or name in known else f" ({name} needs --device)"),
                param_hint="--front",
            )
        axes.append((name, goal == "max" or (goal == "" and index == 1)))
    (x, x_max), (y, y_max) = axes
    return x, x_max, y, y_max


def plot_target(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """``--plot``: the terminal (``-``) or a writable .png/.svg/.pdf file, checked up front."""
    if value in (None, "-"):
        return value
    if not value.lower().endswith(PLOT_FORMATS):
        raise click.BadParameter(
            f"'{value}': a plot file ends with {', '.join(PLOT_FORMATS)}", param_hint="--plot"
        )
    return writable_file(ctx, param, value)


@contextmanager
def progress_bar(
    total: int, enabled: bool, doing: str = "sweeping", unit: str = "configurations"
) -> Iterator[Callable[[int], None]]:
    """A rich progress bar on stderr (only on a terminal); yields an ``advance(n)`` callback.

    It shows ``unit`` done of ``total``, their rate per second and the time left.
    """
    if not enabled or not sys.stderr.isatty():
        yield lambda n: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (
        TextColumn(doing),
        BarColumn(),
        TextColumn("{task.completed:,.0f}/{task.total:,.0f} " + unit),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(doing, total=total, rate="")

        def advance(n: int) -> None:
            speed = bar.tasks[task].speed
            bar.update(task, advance=n, rate=f"{speed:,.0f}/s" if speed else "")

        yield advance


@click.command(name="sweep")
@click.argument("spec", shell_complete=complete_spec)
@click.option(
    "--width",
    "-w",
    "width_text",
    default="0.25:2.0:0.05",
    show_default=True,
    metavar="RANGE",
    help="Widths: start:stop:step (stop included) or a list a,b,c.",
)
@click.option(
    "--res",
    "-r",
    "res_text",
    default="96:320:16",
    show_default=True,
    metavar="RANGE",
    help="Resolutions: start:stop:step or a list.",
)
@config_options
@model_options
@click.option(
    "--output",
    "-o",
    callback=writable_file,
    help="Write every configuration to this file (.csv or .json).",
)
@click.option(
    "--front",
    "front_text_",
    default=None,
    metavar="X,Y",
    help="Pareto front axes as FIGURE[:min|max] (y defaults to max) [default: "
    "mac:min,madds:max; latency:min,madds:max with --device].",
)
@click.option(
    "--plot",
    "plot",
    is_flag=False,
    flag_value="-",
    default=None,
    metavar="[FILE]",
    callback=plot_target,
    help="Draw the sweep and its front: to FILE (.png, .svg, .pdf; needs "
    "lightcost[plot]) or, with no FILE, in the terminal.",
)
@plot_options
@max_configs_option(MAX_CONFIGS, "a sweep")
@click.option(
    "--progress/--no-progress",
    default=True,
    show_default=True,
    help="Progress bar on stderr for long sweeps (terminal only).",
)
@pass_config
def sweep_command(
    spec: str,
    width_text: str,
    res_text: str,
    config: Config,
    output: str | None,
    front_text_: str | None,
    plot: str | None,
    max_configs: int,
    progress: bool,
    plot_style: PlotStyle,
) -> None:
    """Evaluate SPEC at every width x resolution and print the Pareto front.

    \b
    The sweep is vectorized: the spec is expanded once per width and all
    resolutions go through the cost rules as numpy arrays; results equal
    `lightcost table` exactly. The default front is the most MAdds (capacity)
    for the least memory access cost (MAC; latency with --device): for each
    memory-traffic budget, the configuration doing the most work. Params do not
    depend on resolution, so a params front always picks the smallest one.

    \b
    Examples:
      lightcost sweep mobilenet_v2
      lightcost sweep mobilenet_v1 --width 0.25:1.0:0.25 --res 128:224:32 -o grid.csv
      lightcost sweep mobilenet_v2 --front madds,mac:min --plot front.png
      lightcost sweep mobilenet_v2 --plot front.svg --size 1600x1000 --log xy
    """
    x, x_max, y, y_max = front_axes(front_text_ or default_front(config), config)
    widths, resolutions = sizes(width_text, res_text, max_configs, "sweep")
    with progress_bar(len(widths) * len(set(resolutions)), progress) as advance:
        result = sweep(spec, widths, resolutions, config, progress=advance)
    if not result.rows:
        click.echo("\n".join(sweep_problems(result)), err=True)
        sys.exit(EXIT_NOTHING_VALID)
    front = pareto(result.rows, x, y, x_max, y_max)
    if output:
        write = write_rows_json if output.endswith(".json") else write_rows_csv
        with output_file(output) as handle:
            write(result, handle)
    click.echo(sweep_summary(result, output))
    click.echo(front_text(front, x, y, use_style(), View.auto()))
    for line in sweep_problems(result):
        click.echo(line, err=True)
    if plot:
        draw(plot, result, front, (x, y), plot_style)


def draw(
    plot: str,
    result: SweepResult,
    front: list[Mapping[str, Any]],
    axes: tuple[str, str],
    style: PlotStyle,
) -> None:
    """The sweep and its front, in the terminal (``plot`` is ``-``) or to a file."""
    x, y = axes
    if plot == "-":
        click.echo(terminal_scatter(result.rows, front, x, y))
        return
    try:
        save_plot(plot, result.rows, front, x, y, plot_title(result.spec, x, y), style)
    except ImportError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(terminal(f"plot written to {plot}"))
