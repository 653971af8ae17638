"""``lightcost import MODEL.onnx`` and ``lightcost export SPEC``: ONNX interop (needs onnx)."""

from __future__ import annotations

import click

from lightcost.api import Config
from lightcost.cli.complete import complete_spec
from lightcost.cli.options import pass_config, size_options, text_output_option, writable_file
from lightcost.cli.output import output_file
from lightcost.core.errors import SpecError
from lightcost.interop.onnx.importer import INSTALL_HINT
from lightcost.render.escape import terminal

MAX_SEED = 2**64 - 1  # numpy's generators take any non-negative seed; 64 bits are plenty


@click.command("import")
@click.argument("model", type=click.Path(dir_okay=False))
@text_output_option("Spec")
def import_command(model: str, output: str) -> None:
    """Write the lightcost spec of an ONNX MODEL (layers named after the ONNX nodes).

    Every command that takes a spec also reads MODEL.onnx directly; this shows
    the spec it costs, to read or edit.

    \b
    Examples:
      lightcost import model.onnx -o model.yaml
      lightcost table model.onnx
    """
    from lightcost.interop.onnx.importer import onnx_spec_text

    text = onnx_spec_text(model)
    graph = Config().build(model, text)  # the spec must expand before it is written
    with output_file(output) as handle:
        handle.write(text)
    if output != "-":
        click.echo(terminal(f"wrote {output}: {len(graph.nodes)} layers from {model}"), err=True)


@click.command("export")
@click.argument("spec", shell_complete=complete_spec)
@click.option(
    "--output",
    "-o",
    required=True,
    callback=writable_file,
    help="ONNX file to write.",
)
@size_options
@click.option("--variant", "-V", default=None, metavar="NAME", help="Family member of the spec.")
@click.option(
    "--set", "sets", multiple=True, metavar="NAME=VALUE", help="Override a spec var (repeatable)."
)
@click.option(
    "--seed",
    type=click.IntRange(0, MAX_SEED),
    default=0,
    show_default=True,
    help="Seed of the random weights (0 to 2^64 - 1).",
)
@pass_config
def export_command(spec: str, config: Config, output: str, seed: int) -> None:
    """Write SPEC as an ONNX model with random weights (opset 17, batch 1, float32).

    Run it with any ONNX runtime to measure what lightcost estimates; importing
    it back gives the same params and MAdds.

    \b
    Examples:
      lightcost export mobilenet_v2 -o mobilenet_v2.onnx
      lightcost export shufflenet_v2 --variant 0.5x --res 160 -o small.onnx
    """
    graph = config.build(spec)
    try:
        import onnx

        from lightcost.interop.onnx.exporter import export_graph
    except ImportError:
        raise SpecError(f"{output}: writing ONNX needs the onnx package: {INSTALL_HINT}") from None
    model = export_graph(graph, seed)
    onnx.checker.check_model(model)
    with output_file(output, binary=True) as handle:
        handle.write(model.SerializeToString())
    click.echo(
        terminal(f"wrote {output}: {len(model.graph.node)} ONNX nodes from {graph.name}"), err=True
    )
