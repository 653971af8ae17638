"""Render a ModelCost as a text table, JSON, CSV or Markdown. Rendering never computes costs.

Every output states its conventions: the compute unit (MAdds, or FLOPs = 2 x
MAdds), the parameter convention and the width rule. JSON and CSV carry every
layer and every figure under stable keys (:data:`LAYER_FIELDS`).
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from lightcost.cost import (
    PARAM_CONVENTIONS,
    LayerCost,
    ModelCost,
    SeparablePair,
    Summary,
    separable_pairs,
)
from lightcost.graph import Shape

UNITS = {"madds": ("MAdds", 1), "flops": ("FLOPs", 2)}
MADDS_DEFINITION = (
    "multiply-adds of conv, FC and SE 1x1 convs (1 multiply + 1 add = 1), batch 1; "
    "bias, BN, activations, pooling and adds are counted separately as other ops"
)
MAC_DEFINITION = "memory access cost in elements: inputs + output + deployed params (fused)"
LAYER_FIELDS = (
    "name",
    "block",
    "op",
    "label",
    "type",
    "in_shapes",
    "out_shape",
    "params",
    "weights",
    "biases",
    "bn",
    "madds",
    "flops",
    "other_ops",
    "mac",
)


def shape_text(shape: Shape | None) -> str:
    """``32x112x112`` (channels x height x width)."""
    return "x".join(map(str, shape)) if shape else ""


def share(part: int, whole: int) -> str:
    """Percentage with two decimals, as the papers print them."""
    return f"{100 * part / whole:.2f}%" if whole else "-"


def conventions(cost: ModelCost, unit: str) -> dict[str, str]:
    """The conventions behind every figure, for footers and machine output."""
    g = cost.graph
    return {
        "unit": UNITS[unit][0] + (" (= 2 x MAdds)" if unit == "flops" else ""),
        "madds": MADDS_DEFINITION,
        "params": f"{cost.params_convention}: {PARAM_CONVENTIONS[cost.params_convention]}",
        "mac": MAC_DEFINITION,
        "width_rule": g.width_rule.describe(),
        "padding": "SAME unless a layer says otherwise: out = ceil(in / stride)",
    }


def config(cost: ModelCost) -> dict[str, Any]:
    """The configuration a cost was computed for."""
    g = cost.graph
    return {
        "model": g.name,
        "file": g.file,
        "variant": g.variant,
        "width": g.width,
        "resolution": g.resolution,
        "input": list(g.input_shape),
        "vars": dict(g.variables),
    }


def layer_record(layer: LayerCost) -> dict[str, Any]:
    """One layer as a flat dict with the keys of :data:`LAYER_FIELDS`."""
    return {
        "name": layer.name,
        "block": "/".join(layer.block),
        "op": layer.op,
        "label": layer.label,
        "type": layer.type,
        "in_shapes": [list(s) for s in layer.in_shapes],
        "out_shape": list(layer.out_shape),
        "params": layer.params,
        "weights": layer.weights,
        "biases": layer.biases,
        "bn": layer.bn,
        "madds": layer.madds,
        "flops": 2 * layer.madds,
        "other_ops": layer.other_ops,
        "mac": layer.mac,
    }


def summary_record(row: Summary) -> dict[str, Any]:
    """A summed row as a dict."""
    return {
        "label": row.label,
        "layers": row.layers,
        "params": row.params,
        "madds": row.madds,
        "flops": 2 * row.madds,
        "other_ops": row.other_ops,
        "mac": row.mac,
    }


def pair_record(pair: SeparablePair) -> dict[str, Any]:
    """A separable pair with its exact ratio and the formula 1/N + 1/Dk^2."""
    return {
        "depthwise": pair.depthwise,
        "pointwise": pair.pointwise,
        "kernel": pair.kernel,
        "channels_in": pair.channels_in,
        "channels_out": pair.channels_out,
        "size": pair.size,
        "standard_madds": pair.standard_madds,
        "separable_madds": pair.separable_madds,
        "ratio": float(pair.ratio),
        "formula": float(pair.formula),
    }


def to_json(cost: ModelCost, unit: str = "madds") -> str:
    """Everything: configuration, conventions, every layer, totals and the type breakdown."""
    document = {
        "config": config(cost),
        "conventions": conventions(cost, unit),
        "layers": [layer_record(layer) for layer in cost.layers],
        "totals": summary_record(cost.total()),
        "by_type": [summary_record(row) for row in cost.by_type()],
        "separable": [pair_record(p) for p in separable_pairs(cost)],
    }
    return json.dumps(document, indent=2)


def to_csv(cost: ModelCost) -> str:
    """One row per layer with every figure; shapes as ``CxHxW`` (inputs joined by ``+``)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=LAYER_FIELDS, lineterminator="\n")
    writer.writeheader()
    for layer in cost.layers:
        record = layer_record(layer)
        record["in_shapes"] = "+".join(shape_text(s) for s in layer.in_shapes)
        record["out_shape"] = shape_text(layer.out_shape)
        writer.writerow(record)
    return buffer.getvalue()


def title(cost: ModelCost) -> str:
    """``mobilenet_v2 1.0x  width 1  input 3x224x224``."""
    g = cost.graph
    variant = f" {g.variant}" if g.variant else ""
    return f"{g.name}{variant}  width {g.width:g}  input {shape_text(g.input_shape)}"


def rows_for(cost: ModelCost, by: str, depth: int | None) -> list[Summary]:
    """The rows a table shows: layers (cut to ``depth``), top-level blocks, or layer types."""
    if by == "op":
        return cost.by_type()
    return cost.by_block(1 if by == "block" else depth)


def table_cells(cost: ModelCost, rows: Sequence[Summary], unit: str, by: str) -> list[list[str]]:
    """The text cells of the main table, one list per row plus the total row last."""
    total = cost.total()
    factor = UNITS[unit][1]

    def cells(row: Summary, first: list[str]) -> list[str]:
        return [
            *first,
            f"{row.params:,}",
            share(row.params, total.params),
            f"{row.madds * factor:,}",
            share(row.madds, total.madds),
        ]

    def lead(row: Summary) -> list[str]:
        if by == "op":
            return [row.label, str(row.layers)]
        return [row.label, row.op, shape_text(row.out_shape)]

    total_lead = lead(total)
    total_lead[:2] = ["total", str(total.layers) if by == "op" else f"{total.layers} layers"]
    return [cells(row, lead(row)) for row in rows] + [cells(total, total_lead)]


def headers(unit: str, by: str) -> list[str]:
    """Column names of the main table."""
    first = ["Layer type", "Layers"] if by == "op" else ["Layer", "Op", "Output"]
    return [*first, "Params", "% params", UNITS[unit][0], f"% {UNITS[unit][0]}"]


def to_markdown(
    cost: ModelCost, unit: str = "madds", by: str = "layer", depth: int | None = None
) -> str:
    """A pipe table with a totals row and the conventions as a footnote."""
    cells = table_cells(cost, rows_for(cost, by, depth), unit, by)
    head = headers(unit, by)
    lines = [
        f"**{title(cost)}**",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "|".join(["---"] * (len(head) - 4) + ["---:"] * 4) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in cells]
    lines += [""] + [f"- {key}: {text}" for key, text in conventions(cost, unit).items()]
    return "\n".join(lines) + "\n"


def print_table(
    cost: ModelCost,
    unit: str = "madds",
    by: str = "layer",
    depth: int | None = None,
    explain: bool = False,
) -> None:
    """Print the cost table, its conventions (and the separable-conv explanation) to stdout."""
    style = use_style()
    rows = rows_for(cost, by, depth)
    left = {"Layer", "Op", "Output", "Layer type"}
    head = headers(unit, by)
    text = boxed(
        title(cost),
        head,
        table_cells(cost, rows, unit, by),
        right=[name not in left for name in head],
        style=style,
    )
    notes = [f"{key}: {line}" for key, line in conventions(cost, unit).items()]
    lines = [text, *(dim(note, style) for note in notes)]
    if explain:
        lines += ["", separable_text(separable_pairs(cost), unit, style)]
    sys.stdout.write("\n".join(lines) + "\n")


def separable_text(pairs: list[SeparablePair], unit: str, style: bool) -> str:
    """Each depthwise + pointwise pair against the standard conv it replaces."""
    if not pairs:
        return "no depthwise + pointwise pairs in this network"
    name, factor = UNITS[unit]
    head = ["Depthwise", "Dk", "M", "N", "Df", f"standard {name}", f"separable {name}", "ratio",
            "1/N + 1/Dk^2"]  # fmt: skip
    cells = [
        [p.depthwise, str(p.kernel), str(p.channels_in), str(p.channels_out), str(p.size),
         f"{p.standard_madds * factor:,}", f"{p.separable_madds * factor:,}",
         f"{float(p.ratio):.6f}", f"{float(p.formula):.6f}"]
        for p in pairs
    ]  # fmt: skip
    title_text = "Depthwise separable vs standard conv (MobileNetV1 eq. 5)"
    return boxed(title_text, head, cells, [i > 0 for i in range(len(head))], style, total=False)


def use_style() -> bool:
    """Bold and dim only on a terminal, and never when NO_COLOR is set (no-color.org)."""
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def dim(text: str, style: bool) -> str:
    """Dimmed text on a styled terminal."""
    return f"\x1b[2m{text}\x1b[0m" if style else text


def bold(text: str, style: bool) -> str:
    """Bold text on a styled terminal."""
    return f"\x1b[1m{text}\x1b[0m" if style else text


def boxed(
    title_text: str,
    head: list[str],
    cells: list[list[str]],
    right: list[bool],
    style: bool,
    total: bool = True,
) -> str:
    """A box-drawn text table; with ``total`` the last row is ruled off and bold.

    Drawn directly rather than with rich's Table, which costs more (about 40 ms
    to import and 50 ms to render MobileNetV1 here) than the whole budget of
    ``lightcost table`` (benchmarks/startup.py).
    """
    widths = [max(len(row[i]) for row in [head, *cells]) for i in range(len(head))]

    def line(row: list[str]) -> str:
        padded = (
            c.rjust(w) if r else c.ljust(w) for c, w, r in zip(row, widths, right, strict=True)
        )
        return "│ " + " │ ".join(padded) + " │"

    def rule(left: str, mid: str, end: str) -> str:
        return left + mid.join("─" * (w + 2) for w in widths) + end

    body = [line(row) for row in cells]
    if total and body:
        body[-1:] = [rule("├", "┼", "┤"), bold(body[-1], style)]
    return "\n".join(
        [
            bold(title_text, style),
            rule("┌", "┬", "┐"),
            bold(line(head), style),
            rule("├", "┼", "┤"),
            *body,
            rule("└", "┴", "┘"),
        ]
    )
