"""Options shared by every command that costs a spec."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

import click
import yaml

from lightcost.api import Settings
from lightcost.cost.engine import PARAM_CONVENTIONS, ModelCost
from lightcost.cost.memory import DTYPES, EXECUTIONS
from lightcost.ops import MAX_SIZE
from lightcost.spec.expr import Value

F = TypeVar("F", bound=Callable[..., Any])


def parse_sets(pairs: tuple[str, ...]) -> dict[str, Value]:
    """``--set classes=1001`` pairs as a dict; values are read as YAML scalars."""
    out: dict[str, Value] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"'{pair}' is not NAME=VALUE", param_hint="--set")
        try:
            value = yaml.safe_load(text) if text.strip() else ""
        except yaml.YAMLError:
            message = f"'{pair}': the value is not valid YAML"
            raise click.BadParameter(message, param_hint="--set") from None
        value = number_text(value) if isinstance(value, str) else value
        if not isinstance(value, int | float | str):
            raise click.BadParameter(
                f"'{pair}': value must be a number or text", param_hint="--set"
            )
        out[key.strip()] = value
    return out


def number_text(text: str) -> int | float | str:
    """YAML 1.1 reads ``1e3`` as text: take such text as the number it spells."""
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() else number


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
            type=click.FloatRange(0, 16, min_open=True),
            default=None,
            help="Width multiplier alpha (default 1.0), rounded by the spec's width rule.",
        ),
        click.option(
            "--res",
            "-r",
            type=click.IntRange(1, MAX_SIZE),
            default=None,
            help="Input resolution (height = width); default: the spec's input.",
        ),
    ]
    return apply(decorators, func)


def config_options(func: F) -> F:
    """--variant, --set, --params, --fold-bn."""
    decorators: list[Callable[[Any], Any]] = [
        click.option(
            "--variant",
            "-V",
            default=None,
            metavar="NAME",
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
    ]
    return apply(decorators, func)


execution_option = click.option(
    "--exec",
    "execution",
    type=click.Choice(list(EXECUTIONS)),
    default=None,
    help="Execution model of memory access cost: fused (default: conv+BN+activation one "
    "kernel) or unfused (every op its own kernel).",
)
dtype_option = click.option(
    "--dtype",
    type=click.Choice(list(DTYPES)),
    default=None,
    help="Bytes per element of MAC and activation memory (default fp32).",
)
device_option = click.option(
    "--device",
    metavar="NAME|FILE",
    default=None,
    help="Device profile (bundled: gtx1080ti, snapdragon810_a57; or a YAML file, see "
    "lightcost calibrate): adds estimated latency per layer and in total.",
)


def model_options(func: F) -> F:
    """--exec, --dtype, --device: how memory access and latency are estimated."""
    return apply([execution_option, dtype_option, device_option], func)


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
            f"note: {cost.graph.name} has a fixed width rule, so --width {requested:g} has "
            "no effect (its family members are variants: see lightcost models)",
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


def settings(
    params: str,
    fold_bn: bool,
    sets: tuple[str, ...],
    variant: str | None,
    execution: str | None = None,
    dtype: str | None = None,
    device: str | None = None,
) -> Settings:
    """The analysis settings from the shared options (config_options, model_options)."""
    return Settings(
        params_convention(params, fold_bn),
        parse_sets(sets),
        variant,
        execution or "fused",
        dtype or "fp32",
        device,
    )


def spec_options(func: F) -> F:
    """--width, --res, --variant, --set, --params, --fold-bn."""
    return size_options(config_options(func))


def apply(decorators: list[Callable[[Any], Any]], func: F) -> F:
    """Apply click option decorators so that they show in list order in --help."""
    for decorator in reversed(decorators):
        func = decorator(func)
    return func
