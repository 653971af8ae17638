"""``lightcost schema``: the JSON Schema of the spec format (or of budgets.yaml)."""

from __future__ import annotations

import click


@click.command()
@click.argument("kind", type=click.Choice(["spec", "budgets"]), default="spec")
def schema(kind: str) -> None:
    """Print the JSON Schema (draft 2020-12) of a spec, or of a budgets file.

    For editor validation and completion with yaml-language-server:

    \b
      lightcost schema > lightcost.analysis.schema.json
      # first line of a spec:
      # yaml-language-server: $schema=./lightcost.analysis.schema.json
    """
    from lightcost.analysis.schema import SCHEMAS
    from lightcost.render.escape import json_text  # the version first, as every JSON output

    click.echo(json_text(SCHEMAS[kind]()))
