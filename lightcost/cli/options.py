"""Options shared by every command that costs a spec."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar, cast

import click

from lightcost.api import Config
from lightcost.cli.complete import complete_device, complete_variant
from lightcost.core.errors import SpecError, short
from lightcost.cost.engine import MAX_BATCH, PARAM_CONVENTIONS, ModelCost
from lightcost.cost.memory import DTYPES, EXECUTIONS
from lightcost.ops import MAX_SIZE
from lightcost.render.escape import terminal
from lightcost.spec.expand import MAX_WIDTH
from lightcost.spec.expr import Value
from lightcost.spec.located import parse_yaml
from lightcost.spec.sections import Resolution, parse_resolution

F = TypeVar("F", bound=Callable[..., Any])
MAX_CONFIGS_CEILING = 10**8  # the most --max-configs allows: its rows alone take 8 GB


def parse_sets(pairs: tuple[str, ...]) -> dict[str, Value]:
    """``--set classes=1001`` pairs as a dict; each value is read as a spec's YAML scalar is
    (YAML 1.2 numbers of at most 30 digits, booleans, text; docs/spec-language.md, "Limits").
    """
    out: dict[str, Value] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{short(pair)} is not NAME=VALUE", param_hint="--set")
        try:
            value = parse_yaml(text, "--set") if text.strip() else ""
        except SpecError as exc:
            message = f"{short(key.strip())}: {exc.message}"
            raise click.BadParameter(message, param_hint="--set") from None
        if not isinstance(value, int | float | str):
            raise click.BadParameter(
                f"{short(pair)}: value must be a number or text", param_hint="--set"
            )
        out[key.strip()] = value
    return out


class ResolutionType(click.ParamType):  # type: ignore[type-arg]
    """A ``--res`` value: ``224`` or ``160x128`` (:func:`parse_resolution`)."""

    name = "N|HxW"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return parse_resolution(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


RESOLUTION = ResolutionType()


def size_list(text: str | None, integer: bool, hint: str) -> list[float]:
    """The values of a --width/--res list or range, or [] when not given (counted by ``sizes``).

    Widths must be in (0, 16], resolutions in 1..2**16 (the expander's limits).
    """
    from lightcost.analysis.sweep import MAX_WIDTHS, parse_range  # lazy: only grids need it

    if text is None:
        return []
    try:  # more resolutions than MAX_SIZE are never all valid
        found = parse_range(text, integer, limit=MAX_SIZE if integer else MAX_WIDTHS)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=hint) from None
    high = MAX_SIZE if integer else MAX_WIDTH
    if not found or not all(0 < v <= high for v in found):  # also false for nan
        message = f"{short(text)} must give values in (0, {high:g}]"
        raise click.BadParameter(message, param_hint=hint)
    return found


def sizes(
    width_text: str | None, res_text: str | None, limit: int, command: str
) -> tuple[list[float], list[Resolution]]:
    """The widths and resolutions of --width and --res lists or ranges (see size_list).

    Resolutions are N or ``HxW`` items of a list; a range (``start:stop:step``) is of N.

    Counted before any is built: at most :data:`~lightcost.analysis.sweep.MAX_WIDTHS`
    widths (each is one expansion of the spec), and at most ``limit`` configurations
    (widths x resolutions; ``--max-configs`` of ``command`` raises it).
    """
    from lightcost.analysis.sweep import MAX_WIDTHS, many, range_count

    counts = []
    for text, integer, hint in ((width_text, False, "--width"), (res_text, True, "--res")):
        try:
            counts.append(1 if text is None else range_count(text, integer, pairs=integer))
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint=hint) from None
    if counts[0] > MAX_WIDTHS:
        raise click.BadParameter(
            f"{many(counts[0])} widths, more than the limit of {MAX_WIDTHS:,} (each width is "
            "one expansion of the spec)",
            param_hint="--width",
        )
    if counts[0] * counts[1] > limit:
        raise click.BadParameter(
            f"{many(counts[0] * counts[1])} configurations (widths x resolutions), more than "
            f"the limit of {limit:,} of {command} (raise it with --max-configs)",
            param_hint="--width/--res",
        )
    widths = size_list(width_text, False, "--width")
    if res_text is not None and "x" in res_text.lower():  # a list with HxW items
        try:
            return widths, [parse_resolution(p) for p in res_text.split(",") if p.strip()]
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--res") from None
    return widths, [int(r) for r in size_list(res_text, True, "--res")]


def max_configs_option(default: int, what: str) -> Callable[[F], F]:
    """``--max-configs N``: the most configurations ``what`` evaluates (``default``)."""
    option: Callable[[F], F] = click.option(
        "--max-configs",
        type=click.IntRange(1, MAX_CONFIGS_CEILING),
        default=default,
        show_default=True,
        metavar="N",
        help=f"Refuse {what} of more than N configurations (widths x resolutions), "
        "counted before any is evaluated.",
    )
    return option


def params_convention(params: str, fold_bn: bool) -> str:
    """``--fold-bn`` is shorthand for ``--params deployed``."""
    if fold_bn and params not in ("trainable", "deployed"):
        raise click.BadParameter("--fold-bn contradicts --params " + params, param_hint="--fold-bn")
    return "deployed" if fold_bn else params


def size_options(func: F) -> F:
    """--width and --res, one value each."""
    decorators: list[Callable[[Any], Any]] = [
        click.option(
            "--width",
            "-w",
            type=click.FloatRange(0, MAX_WIDTH, min_open=True),
            default=None,
            help="Width multiplier alpha (default: the spec's alpha, else 1.0), rounded by the "
            "spec's width rule.",
        ),
        click.option(
            "--res",
            "-r",
            type=RESOLUTION,
            default=None,
            help="Input resolution: N (height = width; a spec whose input is not square "
            "needs both) or HxW, e.g. 160x128; default: the spec's input.",
        ),
    ]
    return apply(decorators, func)


def config_options(func: F) -> F:
    """--variant, --set, --params, --fold-bn, --batch."""
    decorators: list[Callable[[Any], Any]] = [
        click.option(
            "--variant",
            "-V",
            default=None,
            metavar="NAME",
            shell_complete=complete_variant,
            help="Family member of the spec, e.g. --variant 1.5x (see lightcost models).",
        ),
        click.option(
            "--set",
            "sets",
            multiple=True,
            metavar="NAME=VALUE",
            help="Override a spec var, e.g. --set classes=1001 (repeatable).",
        ),
        click.option(
            "--params",
            "params",
            type=click.Choice(list(PARAM_CONVENTIONS)),
            default="trainable",
            show_default=True,
            help="Parameter convention: trainable (PyTorch), weights (conv/FC weights "
            "only, as the papers' tables), deployed (BN folded).",
        ),
        click.option(
            "--fold-bn",
            is_flag=True,
            help="Count parameters with BN folded into the conv (= --params deployed).",
        ),
        click.option(
            "--batch",
            type=click.IntRange(1, MAX_BATCH),
            default=None,
            metavar="N",
            help="Inputs per batch (default 1): MAdds, other ops, activation traffic and "
            "memory x N; params and weight traffic once.",
        ),
    ]
    return apply(decorators, func)


def sided(side: str, flag: str, dest: str, what: str, help: str, **attrs: Any) -> Callable[[F], F]:
    """``--FLAG`` with ``help``; with a ``side`` (a diff's old or new), ``--SIDE-FLAG``.

    A side's option (parameter ``SIDE_DEST``) is ``what`` of that side only, over ``--FLAG``.
    """
    if side:
        own = f"{what} of {side.upper()} (overrides --{flag})."
        option: Callable[[F], F] = click.option(
            f"--{side}-{flag}", f"{side}_{dest}", help=own, **attrs
        )
    else:
        option = click.option(f"--{flag}", dest, help=help, **attrs)
    return option


def execution_option(side: str = "") -> Callable[[F], F]:
    """--exec (or --SIDE-exec): the execution model of memory access cost."""
    return sided(
        side,
        "exec",
        "execution",
        "Execution model",
        "Execution model of memory access cost: fused (default: conv+BN+activation one "
        "kernel) or unfused (every op its own kernel).",
        type=click.Choice(list(EXECUTIONS)),
        default=None,
    )


def dtype_option(side: str = "") -> Callable[[F], F]:
    """--dtype (or --SIDE-dtype): bytes per element of the memory figures."""
    return sided(
        side,
        "dtype",
        "dtype",
        "Dtype",
        "Bytes per element of MAC and activation memory (default fp32).",
        type=click.Choice(list(DTYPES)),
        default=None,
    )


def device_option(side: str = "") -> Callable[[F], F]:
    """--device (or --SIDE-device): a device profile, for latency."""
    return sided(
        side,
        "device",
        "device",
        "Device profile",
        "Device profile (bundled: gtx1080ti, snapdragon810_a57; or a YAML file, see "
        "lightcost calibrate): adds estimated latency per layer and in total.",
        metavar="NAME|FILE",
        default=None,
        shell_complete=complete_device,
    )


def model_options(func: F) -> F:
    """--exec, --dtype, --device: how memory access and latency are estimated."""
    return apply([execution_option(), dtype_option(), device_option()], func)


MODEL_OPTIONS = ("execution", "dtype", "device")  # parameters of model_options, as Config fields


def format_option(*choices: str, help: str = "Output format.") -> Callable[[F], F]:
    """``--format/-f`` with ``choices``, the first being the default."""
    option: Callable[[F], F] = click.option(
        "--format",
        "-f",
        "fmt",
        type=click.Choice(list(choices)),
        default=choices[0],
        show_default=True,
        help=help,
    )
    return option


def note_ignored_width(requested: float | None, cost: ModelCost) -> None:
    """Say on stderr when a spec's fixed width rule made --width a no-op."""
    if requested is not None and requested != cost.graph.width:
        click.echo(
            f"note: {terminal(cost.graph.name)} has a fixed width rule, so --width "
            f"{requested:g} has no effect (its family members are variants: see lightcost models)",
            err=True,
        )


def writable_file(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Check an output path before any work: its folder exists and is writable (- passes)."""
    if value is None or value == "-":
        return value
    folder = os.path.dirname(os.path.abspath(value))
    if os.path.isdir(value):
        raise click.BadParameter(f"'{value}' is a directory")
    if not os.path.isdir(folder):
        raise click.BadParameter(f"'{value}': the folder {folder} does not exist")
    if not os.access(folder, os.W_OK) or (os.path.exists(value) and not os.access(value, os.W_OK)):
        raise click.BadParameter(f"'{value}' is not writable")
    return value


def text_output_option(what: str) -> Callable[[F], F]:
    """``--output/-o FILE`` for a text result, standard output by default."""
    option: Callable[[F], F] = click.option(
        "--output",
        "-o",
        callback=writable_file,
        default="-",
        show_default=True,
        help=f"{what} file to write (- for standard output).",
    )
    return option


def read_config(options: dict[str, Any]) -> Config:
    """The configuration the shared options give; their values are taken out of ``options``.

    ``options`` are a command's keyword arguments (size, config and model
    options); an option the command does not have leaves its Config default.
    """
    fields = {
        "width": options.pop("width", None),
        "resolution": options.pop("res", None),
        "params": params_convention(
            options.pop("params", "trainable"), options.pop("fold_bn", False)
        ),
        "overrides": parse_sets(options.pop("sets", ())),
        "variant": options.pop("variant", None),
        "batch": options.pop("batch", None),
        **{name: options.pop(name, None) for name in MODEL_OPTIONS},
    }
    return Config(**{field: value for field, value in fields.items() if value is not None})


def pass_config(func: F) -> F:
    """Call the command with one ``config`` (:func:`read_config`) for its shared options.

    Goes below the options (just above ``def``), so they decorate what it returns.
    """

    @functools.wraps(func)
    def command(*args: Any, **options: Any) -> Any:
        return func(*args, config=read_config(options), **options)

    return cast(F, command)


def model_options_given() -> bool:
    """Whether --exec, --dtype or --device was given to the running command."""
    given = click.get_current_context().params
    return any(given.get(name) is not None for name in MODEL_OPTIONS)


def spec_options(func: F) -> F:
    """--width, --res, --variant, --set, --params, --fold-bn, --batch."""
    return size_options(config_options(func))


def apply(decorators: list[Callable[[Any], Any]], func: F) -> F:
    """Apply click option decorators so that they show in list order in --help."""
    for decorator in reversed(decorators):
        func = decorator(func)
    return func
