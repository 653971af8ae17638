"""``lightcost models``: every bundled spec and variant, with its params and MAdds."""

from __future__ import annotations

import click

from lightcost.api import Config
from lightcost.cli.layout import layout_options, read_view
from lightcost.cli.options import format_option
from lightcost.render.models import COLUMNS, Entry, models_json, models_text
from lightcost.render.text import use_style
from lightcost.spec.expand import variants
from lightcost.spec.files import bundled_names, read_spec


def catalogue() -> list[Entry]:
    """One entry per bundled spec and variant at its defaults (trainable params, MAdds)."""
    entries: list[Entry] = []
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
@layout_options()
def models(fmt: str, wide: bool, columns_text: str | None) -> None:
    """List the bundled specs and their variants with params and MAdds at their defaults.

    Use a name with any command: lightcost table NAME [--variant V].
    """
    view = read_view(wide, columns_text, [c.key for c in COLUMNS])
    entries = catalogue()
    text = models_json(entries) if fmt == "json" else models_text(entries, use_style(), view)
    click.echo(text)
