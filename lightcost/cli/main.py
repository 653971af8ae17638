"""The ``lightcost`` command group. Spec errors print one located line and exit with 2."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from lightcost import __version__
from lightcost.cli.compare import compare
from lightcost.cli.models import models
from lightcost.cli.sweep import sweep_command
from lightcost.cli.table import table
from lightcost.errors import SpecError

EXIT_SPEC_ERROR = 2
EXIT_INTERNAL_ERROR = 3


class Group(click.Group):
    """A click group that turns SpecError into ``error: file:line:col: ...`` and exit 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SpecError as exc:
            if ctx.meta.get("lightcost.debug"):
                raise
            click.echo(f"error: {exc}", err=True)
            ctx.exit(EXIT_SPEC_ERROR)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except BrokenPipeError:  # `lightcost ... | head`: the reader left; stop quietly
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(0)
        except Exception as exc:
            if ctx.meta.get("lightcost.debug"):
                raise
            click.echo(
                f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for a traceback)",
                err=True,
            )
            ctx.exit(EXIT_INTERNAL_ERROR)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lightcost")
@click.option("--debug", is_flag=True, help="Show Python tracebacks on errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """What a neural network costs, from a framework-free YAML spec.

    Params, multiply-adds (MAdds), memory access cost, per layer and in total,
    computed analytically: no framework, no forward pass.
    """
    ctx.meta["lightcost.debug"] = debug


cli.add_command(table)
cli.add_command(models)
cli.add_command(compare)
cli.add_command(sweep_command)


def main() -> None:
    """Console-script entry point."""
    sys.exit(cli.main(prog_name="lightcost"))
