"""Each depthwise + pointwise pair against the standard conv it replaces (``table --explain``)."""

from __future__ import annotations

from lightcost.cost.figures import UNITS, value_text
from lightcost.cost.separable import SeparablePair
from lightcost.render.escape import clip
from lightcost.render.text import boxed


def separable_cells(pairs: list[SeparablePair], unit: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the depthwise-separable explanation."""
    name, factor = UNITS[unit]
    head = ["Depthwise", "Dk", "M", "N", "Df", f"standard {name}", f"separable {name}", "ratio",
            "1/N + 1/Dk^2"]  # fmt: skip
    cells = [
        [clip(p.depthwise), str(p.kernel), str(p.channels_in), str(p.channels_out), str(p.size),
         value_text(p.standard_madds * factor), value_text(p.separable_madds * factor),
         f"{float(p.ratio):.6f}", f"{float(p.formula):.6f}"]
        for p in pairs
    ]  # fmt: skip
    return head, cells


SEPARABLE_TITLE = "Depthwise separable vs standard conv (MobileNetV1 eq. 5)"
SEPARABLE_RIGHT = [False] + [True] * 8  # the Depthwise column is left-aligned
NO_PAIRS = "no depthwise + pointwise pairs in this network"


def separable_text(pairs: list[SeparablePair], unit: str, style: bool) -> str:
    """Each depthwise + pointwise pair against the standard conv it replaces."""
    if not pairs:
        return NO_PAIRS
    head, cells = separable_cells(pairs, unit)
    return boxed(SEPARABLE_TITLE, head, cells, SEPARABLE_RIGHT, style, total=False)
