"""The lines under a text table: peak activation memory and the conventions in one line."""

from __future__ import annotations

import re
from collections.abc import Callable

from lightcost.cost.engine import ModelCost
from lightcost.cost.figures import BYTES, compact_text, value_text
from lightcost.render.escape import clip
from lightcost.render.text import View


def activation_line(cost: ModelCost, compact: bool = False) -> str:
    """``peak activation memory: 4,816,896 B (4.59 MiB, fp32) while Conv2d_1 runs``;
    ``compact``: ``peak activation memory: 4.59 MiB (fp32) while Conv2d_1 runs``."""
    live = cost.activations
    size = compact_text(live.peak, BYTES)
    amount = f"{size} (" if compact else f"{value_text(live.peak, BYTES, True)} ({size}, "
    return f"peak activation memory: {amount}{cost.dtype}) while {clip(live.peak_at)} runs"


def conventions_line(cost: ModelCost, notes: dict[str, str], view: View) -> str:
    """The conventions ``notes`` (:func:`lightcost.render.table.conventions`) in one line that
    fits ``view``: the short form of each entry while they fit (a new entry shows its key
    and first clause), then where the full text is:
    ``MAdds, batch 1, params trainable, ... (all: --conventions)``.
    """
    stored = cost.graph.params_note and cost.params_convention == "trainable"
    known: dict[str, Callable[[str], str]] = {
        "unit": lambda text: text.replace("(= ", "= ").rstrip(")"),
        "madds": lambda text: ", ".join(re.findall(r"batch \d+", text)),
        "params": lambda text: (
            f"params {cost.params_convention}" + (" as stored" if stored else "")
        ),
        "mac": lambda text: f"MAC {cost.execution} {cost.dtype}",
        "activations": lambda text: "",
        "width_rule": lambda text: f"width {text}",
        "padding": lambda text: f"padding {first_clause(text).split(' ', 1)[0]}",
        "latency": lambda text: f"latency {cost.device.name}" if cost.device else "",
    }
    more = " (all: --conventions)"
    parts: list[str] = []
    for key, text in notes.items():
        part = known[key](text) if key in known else f"{key.replace('_', ' ')} {first_clause(text)}"
        if part and view.fits(", ".join([*parts, part]) + more):
            parts.append(part)
    return ", ".join(parts) + more


def first_clause(text: str) -> str:
    """``text`` up to its first ``:``, ``;``, ``,`` or `` (``, cut at 24 characters."""
    for mark in (":", ";", ",", " ("):
        text = text.split(mark, 1)[0]
    return clip(text, 24)
