"""Render a ModelCost as a text table, JSON, CSV or Markdown. Rendering never computes costs.

Every output states its conventions: the compute unit (MAdds, or FLOPs = 2 x
MAdds), the parameter convention, the width rule, the execution model and dtype
of memory access cost, and the latency model. JSON and CSV carry every layer and
every figure under stable keys (:data:`LAYER_FIELDS`), latency in seconds. Text
shows values with :func:`lightcost.cost.figures.value_text`, per-layer latency in µs.
Names and other text from the spec are escaped for each format
(:mod:`lightcost.render.escape`); text tables cut names at
:data:`~lightcost.render.escape.NAME_LIMIT` characters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lightcost.core.graph import Shape
from lightcost.cost.engine import PARAM_CONVENTIONS, LayerCost, ModelCost, Summary
from lightcost.cost.figures import BYTES, MICROSECONDS, value_text
from lightcost.cost.memory import DTYPES, EXECUTIONS
from lightcost.cost.separable import SeparablePair, separable_pairs
from lightcost.render.escape import clip, csv_cell, json_text, markdown, terminal
from lightcost.render.text import boxed, dim, markdown_table

UNITS = {"madds": ("MAdds", 1), "flops": ("FLOPs", 2)}
MADDS_DEFINITION = (
    "multiply-adds of conv, FC and SE 1x1 convs (1 multiply + 1 add = 1), batch 1; "
    "bias, BN, activations, pooling and adds are counted separately as other ops"
)
ACTIVATIONS_DEFINITION = (
    "live activation bytes while each layer runs, in execution order: a tensor lives until "
    "its last reader has run (the input included, the output kept); every op writes a new "
    "buffer, flatten/dropout/identity are views"
)
LEFT = {"Layer", "Op", "Output", "Layer type"}  # left-aligned columns
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
    "mac_bytes",
    "kernels",
    "latency_s",
)


def shape_text(shape: Shape | None) -> str:
    """``32x112x112`` (channels x height x width)."""
    return "x".join(map(str, shape)) if shape else ""


def share(part: float, whole: float) -> str:
    """Percentage with two decimals, as the papers print them."""
    return f"{100 * part / whole:.2f}%" if whole else "-"


def params_definition(cost: ModelCost) -> str:
    """What the params figure counts: the convention's definition, or for ``trainable`` the
    model's own note when it has one (an ONNX file whose exporter folded BN, docs/onnx.md)."""
    if cost.params_convention == "trainable" and cost.graph.params_note:
        return cost.graph.params_note
    return PARAM_CONVENTIONS[cost.params_convention]


def conventions(cost: ModelCost, unit: str) -> dict[str, str]:
    """The conventions behind every figure, for footers and machine output."""
    g = cost.graph
    return {
        "unit": UNITS[unit][0] + (" (= 2 x MAdds)" if unit == "flops" else ""),
        "madds": MADDS_DEFINITION,
        "params": f"{cost.params_convention}: {params_definition(cost)}",
        "mac": (
            f"memory access cost: inputs + output + weights of every kernel, in elements; "
            f"{cost.execution}: {EXECUTIONS[cost.execution].description}; bytes = elements x "
            f"{DTYPES[cost.dtype]} ({cost.dtype}, activations and weights)"
        ),
        "activations": ACTIVATIONS_DEFINITION,
        "width_rule": g.width_rule.describe(),
        "padding": "SAME unless a layer says otherwise: out = ceil(in / stride)",
    } | (
        {"latency": f"{cost.device.method}; {cost.device.describe(cost.dtype)}"}
        if cost.device
        else {}
    )


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
        "execution": cost.execution,
        "dtype": cost.dtype,
        "device": cost.device.name if cost.device else None,
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
        **work_record(layer),
        "kernels": len(layer.kernels),
        "latency_s": layer.latency,
    }


def work_record(row: LayerCost | Summary) -> dict[str, int]:
    """The work figures of a layer or a summed row: MAdds, FLOPs, other ops, MAC."""
    return {
        "madds": row.madds,
        "flops": 2 * row.madds,
        "other_ops": row.other_ops,
        "mac": row.mac,
        "mac_bytes": row.mac_bytes,
    }


def summary_record(row: Summary) -> dict[str, Any]:
    """A summed row as a dict."""
    return {
        "label": row.label,
        "layers": row.layers,
        "params": row.params,
        **work_record(row),
        "latency_s": row.latency,
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
    live = cost.activations
    device = cost.device
    document = {
        "config": config(cost),
        "conventions": conventions(cost, unit),
        "layers": [layer_record(layer) for layer in cost.layers],
        "totals": summary_record(cost.total()) | {"peak_activation_bytes": live.peak},
        "by_type": [summary_record(row) for row in cost.by_type()],
        "separable": [pair_record(p) for p in separable_pairs(cost)],
        "activation_memory": {
            "peak_bytes": live.peak,
            "peak_at": live.peak_at,
            "steps": [
                {"name": name, "live_bytes": size}
                for name, size in zip(live.names, live.live, strict=True)
            ],
        },
        "device": None,
    }
    from dataclasses import asdict  # lazy: dataclasses costs a millisecond of start-up

    document["device"] = asdict(device) if device else None

    return json_text(document)


def to_csv(cost: ModelCost) -> str:
    """One row per layer with every figure; shapes as ``CxHxW`` (inputs joined by ``+``).

    Text cells are guarded against formulas (:func:`~lightcost.render.escape.csv_cell`).
    """
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=LAYER_FIELDS, lineterminator="\n")
    writer.writeheader()
    for layer in cost.layers:
        record = layer_record(layer)
        record["in_shapes"] = "+".join(shape_text(s) for s in layer.in_shapes)
        record["out_shape"] = shape_text(layer.out_shape)
        writer.writerow({key: csv_cell(value) for key, value in record.items()})
    return buffer.getvalue()


def title(cost: ModelCost) -> str:
    """``mobilenet_v2 1.0x  width 1  input 3x224x224`` (name and variant cut: ``clip``)."""
    g = cost.graph
    variant = f" {clip(g.variant)}" if g.variant else ""
    return f"{clip(g.name)}{variant}  width {g.width:g}  input {shape_text(g.input_shape)}"


def rows_for(cost: ModelCost, by: str, depth: int | None) -> list[Summary]:
    """The rows a table shows: layers (cut to ``depth``), top-level blocks, or layer types."""
    if by == "op":
        return cost.by_type()
    return cost.by_block(1 if by == "block" else depth)


def table_cells(
    cost: ModelCost, rows: Sequence[Summary], unit: str, by: str, memory: bool = False
) -> list[list[str]]:
    """The text cells of the main table, one list per row plus the total row last.

    ``memory`` adds MAC in bytes; a cost with a device adds latency in microseconds
    (:data:`~lightcost.cost.figures.MICROSECONDS`).
    """
    total = cost.total()
    factor = UNITS[unit][1]

    def cells(row: Summary, first: list[str]) -> list[str]:
        extra = [value_text(row.mac_bytes, BYTES)] if memory or cost.device else []
        if cost.device:
            extra += [
                MICROSECONDS.text(row.latency or 0),
                share(row.latency or 0, total.latency or 0),
            ]
        return [
            *first,
            value_text(row.params),
            share(row.params, total.params),
            value_text(row.madds * factor),
            share(row.madds, total.madds),
            *extra,
        ]

    def lead(row: Summary) -> list[str]:
        if by == "op":
            return [row.label, str(row.layers)]
        return [clip(row.label), row.op, shape_text(row.out_shape)]

    total_lead = lead(total)
    total_lead[:2] = ["total", str(total.layers) if by == "op" else f"{total.layers} layers"]
    return [cells(row, lead(row)) for row in rows] + [cells(total, total_lead)]


def headers(unit: str, by: str, memory: bool = False, timed: bool = False) -> list[str]:
    """Column names of the main table (``memory``: MAC bytes; ``timed``: latency too)."""
    first = ["Layer type", "Layers"] if by == "op" else ["Layer", "Op", "Output"]
    extra = ["MAC bytes"] if memory or timed else []
    extra += [f"Latency {MICROSECONDS.short}", "% latency"] if timed else []
    return [*first, "Params", "% params", UNITS[unit][0], f"% {UNITS[unit][0]}", *extra]


def activation_line(cost: ModelCost) -> str:
    """``peak activation memory: 4,816,896 bytes (4.59 MiB, fp32) while Conv2d_1 runs``."""
    live = cost.activations
    return (
        f"peak activation memory: {live.peak:,} bytes ({live.peak / 2**20:.2f} MiB, "
        f"{cost.dtype}) while {clip(live.peak_at)} runs"
    )


def to_markdown(
    cost: ModelCost,
    unit: str = "madds",
    by: str = "layer",
    depth: int | None = None,
    memory: bool = False,
    explain: bool = False,
) -> str:
    """A pipe table with a totals row, the peak activation memory and the conventions.

    With ``explain``, the depthwise-separable pairs follow as a second table.
    """
    cells = table_cells(cost, rows_for(cost, by, depth), unit, by, memory)
    head = headers(unit, by, memory, cost.device is not None)
    right = [name not in LEFT for name in head]
    lines = [f"**{markdown(title(cost))}**", "", *markdown_table(head, cells, right)]
    lines += ["", markdown(activation_line(cost)), ""]
    lines += [f"- {key}: {markdown(text)}" for key, text in conventions(cost, unit).items()]
    if explain:
        pairs = separable_pairs(cost)
        lines += ["", f"**{SEPARABLE_TITLE}**", ""]
        pair_head, pair_cells = separable_cells(pairs, unit)
        lines += markdown_table(pair_head, pair_cells, SEPARABLE_RIGHT) if pairs else [NO_PAIRS]
    return "\n".join(lines) + "\n"


def table_text(
    cost: ModelCost,
    unit: str = "madds",
    by: str = "layer",
    depth: int | None = None,
    explain: bool = False,
    memory: bool = False,
    style: bool = False,
) -> str:
    """The box-drawn table, the peak activation memory and the conventions (dim when styled).

    ``memory`` adds a MAC bytes column; ``explain`` the separable-conv comparison.
    """
    rows = rows_for(cost, by, depth)
    head = headers(unit, by, memory, cost.device is not None)
    text = boxed(
        title(cost),
        head,
        table_cells(cost, rows, unit, by, memory),
        right=[name not in LEFT for name in head],
        style=style,
    )
    notes = [f"{key}: {terminal(line)}" for key, line in conventions(cost, unit).items()]
    lines = [text, terminal(activation_line(cost)), *(dim(note, style) for note in notes)]
    if explain:
        lines += ["", separable_text(separable_pairs(cost), unit, style)]
    return "\n".join(lines) + "\n"


def render_table(
    cost: ModelCost,
    fmt: str,
    unit: str = "madds",
    by: str = "layer",
    depth: int | None = None,
    explain: bool = False,
    memory: bool = False,
    style: bool = False,
) -> str:
    """``lightcost table`` in ``fmt`` (table, json, csv or markdown), ending with a newline.

    JSON and CSV carry every layer and figure whatever the row options.
    """
    if fmt == "json":
        return to_json(cost, unit) + "\n"
    if fmt == "csv":
        return to_csv(cost)
    if fmt == "markdown":
        return to_markdown(cost, unit, by, depth, memory, explain)
    return table_text(cost, unit, by, depth, explain, memory, style)


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
