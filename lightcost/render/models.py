"""Render the catalogue of bundled specs (``lightcost models``): a text table or JSON."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict

from lightcost.cost.figures import value_text
from lightcost.render.escape import clip, json_text
from lightcost.render.text import boxed

HEAD = ["Spec", "Variant", "Params", "MAdds", "Description"]
RIGHT = [False, False, True, True, False]
TITLE = "Bundled specs (params: trainable, PyTorch convention; MAdds at the spec's input)"


class Entry(TypedDict):
    """One bundled spec and variant at its defaults, as the JSON output lists it."""

    spec: str
    variant: str
    description: str
    params: int
    madds: int


def models_text(entries: Sequence[Entry], style: bool) -> str:
    """One row per spec and variant; counts exact with separators; names cut (``clip``)."""
    cells = [
        [
            clip(e["spec"]),
            clip(e["variant"]),
            value_text(e["params"]),
            value_text(e["madds"]),
            e["description"],
        ]
        for e in entries
    ]
    return boxed(TITLE, HEAD, cells, RIGHT, style, total=False)


def models_json(entries: Sequence[Entry]) -> str:
    """Every entry as an object in the JSON list ``models``."""
    return json_text({"models": list(entries)})
