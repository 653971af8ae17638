"""Each depthwise + pointwise pair against the standard conv it replaces (``table --explain``)."""

from __future__ import annotations

from lightcost.cost.figures import UNITS, compact_text, value_text
from lightcost.cost.separable import SeparablePair
from lightcost.render.escape import clip
from lightcost.render.text import UNLIMITED, Column, View, fitted


def separable_cells(
    pairs: list[SeparablePair], unit: str, compact: bool = False
) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the depthwise-separable explanation (``compact``: ``25.7M``)."""
    name, factor = UNITS[unit]
    count = compact_text if compact else value_text
    head = ["Depthwise", "Dk", "M", "N", "Df", f"standard {name}", f"separable {name}", "ratio",
            "1/N + 1/Dk^2"]  # fmt: skip
    cells = [
        [clip(p.depthwise), str(p.kernel), str(p.channels_in), str(p.channels_out), str(p.size),
         count(p.standard_madds * factor), count(p.separable_madds * factor),
         f"{float(p.ratio):.6f}", f"{float(p.formula):.6f}"]
        for p in pairs
    ]  # fmt: skip
    return head, cells


SEPARABLE_TITLE = "Depthwise separable vs standard conv (MobileNetV1 eq. 5)"
SEPARABLE_RIGHT = [False] + [True] * 8  # the Depthwise column is left-aligned
NO_PAIRS = "no depthwise + pointwise pairs in this network"


def separable_text(
    pairs: list[SeparablePair], unit: str, style: bool, view: View = UNLIMITED
) -> str:
    """Each depthwise + pointwise pair against the standard conv it replaces, fitted to
    ``view`` (the ratios first, then the sizes of 1/N + 1/Dk^2, then the counts)."""
    if not pairs:
        return NO_PAIRS
    head, _ = separable_cells(pairs, unit)
    keys = ["depthwise", "dk", "m", "n", "df", "standard", "separable", "ratio", "formula"]
    columns = [Column(k, h, r) for k, h, r in zip(keys, head, SEPARABLE_RIGHT, strict=True)]
    rank = ["depthwise", "ratio", "formula", "dk", "n", "standard", "separable", "m", "df"]

    def cells(compact: bool) -> list[list[str]]:
        return separable_cells(pairs, unit, compact)[1]

    return fitted(SEPARABLE_TITLE, columns, cells, view, style, total=False, rank=rank)
