"""The ``lightcost`` command group. Spec errors print one located line and exit with 2."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from lightcost import __version__
from lightcost.cli.interrupt import install
from lightcost.cli.output import setup_streams
from lightcost.core.errors import SpecError
from lightcost.render.escape import terminal

EXIT_SPEC_ERROR = 2
EXIT_INTERNAL_ERROR = 3
COMPLETE_VAR = "_LIGHTCOST_COMPLETE"  # click's shell completion variable for `lightcost`

# name -> "module:attribute"; a command's module is imported only when it runs (or for --help),
# so `lightcost table` does not pay for the imports of sweep, lint or check.
COMMANDS = {
    "table": "lightcost.cli.table:table",
    "models": "lightcost.cli.models:models",
    "compare": "lightcost.cli.compare:compare",
    "sweep": "lightcost.cli.sweep:sweep_command",
    "lint": "lightcost.cli.lint:lint_command",
    "check": "lightcost.cli.check:check",
    "diff": "lightcost.cli.diff:diff",
    "view": "lightcost.cli.view:view",
    "schema": "lightcost.cli.schema:schema",
    "calibrate": "lightcost.cli.calibrate:calibrate",
    "import": "lightcost.cli.onnx:import_command",
    "export": "lightcost.cli.onnx:export_command",
}


class Group(click.Group):
    """A click group with lazily imported commands that turns SpecError into exit 2.

    A spec error prints ``error: file:line:col: path: problem``; any other
    exception prints one line and exits 3, unless ``--debug`` asks for the traceback.
    Every message is one printable line (:func:`~lightcost.render.escape.terminal`),
    click's usage errors too: an option's value or a file name may hold anything.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, _, attribute = target.partition(":")
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """The command ``args`` name; an unknown one is a usage error with a did-you-mean."""
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            from lightcost.core.errors import did_you_mean, short

            ctx.fail(f"no command {short(name)}{did_you_mean(name, COMMANDS)}")
        return super().resolve_command(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SpecError as exc:
            if ctx.meta.get("lightcost.debug"):
                raise
            click.echo(terminal(f"error: {exc}"), err=True)
            ctx.exit(EXIT_SPEC_ERROR)
        except click.ClickException as exc:
            exc.message = terminal(exc.message)  # type: ignore[misc]  # Final in click's stubs
            raise
        except (click.exceptions.Exit, click.Abort):
            raise
        except BrokenPipeError:  # `lightcost ... | head`: the reader left; stop quietly
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(0)
        except Exception as exc:
            if ctx.meta.get("lightcost.debug"):
                raise
            click.echo(
                terminal(
                    f"internal error: {type(exc).__name__}: {exc} "
                    "(rerun with --debug for a traceback)"
                ),
                err=True,
            )
            ctx.exit(EXIT_INTERNAL_ERROR)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lightcost")
@click.option("--debug", is_flag=True, help="Show Python tracebacks on errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """What a neural network costs, from a framework-free YAML spec or an ONNX file.

    Params, multiply-adds (MAdds), memory access cost, activation memory and
    estimated latency, per layer and in total, computed analytically: no
    framework, no forward pass.
    """
    ctx.meta["lightcost.debug"] = debug


def main() -> None:
    """Console-script entry point: quiet Ctrl-C (exit 130), guarded standard streams, the group.

    ``lightcost.__main__`` installs the Ctrl-C handler earlier, before these imports.
    Shell completion (:data:`COMPLETE_VAR` set by the shell's script) writes bytes to
    the plain standard output, which the guarded streams do not take.
    """
    install()
    if COMPLETE_VAR not in os.environ:
        setup_streams()
    sys.exit(cli.main(prog_name="lightcost"))
