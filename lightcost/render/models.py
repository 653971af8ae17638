"""Render the catalogue of bundled specs (``lightcost models``): a text table or JSON."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict

from lightcost.cost.figures import compact_text, value_text
from lightcost.render.escape import clip, json_text
from lightcost.render.text import UNLIMITED, Column, View, fitted, table_width, widths

COLUMNS = [
    Column("spec", "Spec", False),
    Column("variant", "Variant", False),
    Column("params", "Params"),
    Column("madds", "MAdds"),
    Column("description", "Description", False),
]
TITLE = "Bundled specs (params: trainable, PyTorch convention; MAdds at the spec's input)"


class Entry(TypedDict):
    """One bundled spec and variant at its defaults, as the JSON output lists it."""

    spec: str
    variant: str
    description: str
    params: int
    madds: int


def models_text(entries: Sequence[Entry], style: bool, view: View = UNLIMITED) -> str:
    """One row per spec and variant, fitted to ``view``: counts exact with separators, or
    compact (``3.50M``) with the description cut to the width left; names cut (``clip``)."""

    def cells(compact: bool) -> list[list[str]]:
        count = compact_text if compact else value_text
        rows = [
            [clip(e["spec"]), clip(e["variant"]), count(e["params"]), count(e["madds"]),
             e["description"]]
            for e in entries
        ]  # fmt: skip
        if compact and view.width:
            heads = [c.head for c in COLUMNS]
            room = max(12, view.width - 3 - table_width(widths(rows, heads, range(4))))
            for row in rows:
                row[4] = clip(row[4], room)
        return rows

    return fitted(TITLE, COLUMNS, cells, view, style, total=False)


def models_json(entries: Sequence[Entry]) -> str:
    """Every entry as an object in the JSON list ``models``."""
    return json_text({"models": list(entries)})
