"""``lightcost models``: every bundled spec and variant, with its params and MAdds."""

from __future__ import annotations

import json

import click

from lightcost.api import Config
from lightcost.cli.options import format_option
from lightcost.render.table import boxed, use_style
from lightcost.spec.expand import variants
from lightcost.spec.files import bundled_names, read_spec


def catalogue() -> list[dict[str, object]]:
    """One entry per bundled spec and variant at its defaults (trainable params, MAdds)."""
    entries: list[dict[str, object]] = []
    for name in bundled_names():
        data, _ = read_spec(name)
        described = str(data.get("description", ""))
        for variant, text in (variants(data) or {"": described}).items():
            total = Config(variant=variant or None).analyze(name).total()
            entries.append(
                {
                    "spec": name,
                    "variant": variant,
                    "description": text or described,
                    "params": total.params,
                    "madds": total.madds,
                }
            )
    return entries


@click.command()
@format_option("table", "json")
def models(fmt: str) -> None:
    """List the bundled specs and their variants with params and MAdds at their defaults.

    Use a name with any command: lightcost table NAME [--variant V].
    """
    entries = catalogue()
    if fmt == "json":
        click.echo(json.dumps(entries, indent=2))
        return
    head = ["Spec", "Variant", "Params", "MAdds", "Description"]
    cells = [
        [
            str(e["spec"]),
            str(e["variant"]),
            f"{e['params']:,}",
            f"{e['madds']:,}",
            str(e["description"]),
        ]
        for e in entries
    ]
    right = [False, False, True, True, False]
    title = "Bundled specs (params: trainable, PyTorch convention; MAdds at the spec's input)"
    click.echo(boxed(title, head, cells, right, use_style(), total=False))
