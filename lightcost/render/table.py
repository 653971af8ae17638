"""Render a ModelCost as a text table, JSON, CSV or Markdown. Rendering never computes costs.

Every output states its conventions: the compute unit (MAdds, or FLOPs = 2 x
MAdds), the parameter convention, the width rule, the execution model and dtype
of memory access cost, and the latency model. JSON and CSV carry every layer and
every figure under stable keys (:data:`LAYER_FIELDS`), latency in seconds. The text
table fits the terminal (:func:`lightcost.render.text.fitted`): exact values
(:func:`lightcost.cost.figures.value_text`, per-layer latency in µs) when they fit,
else compact ones (``4.23M``, ``302 µs``) and the columns of :data:`RANK` that fit;
its footer states the conventions in one line (every one in full on request).
Names and other text from the spec are escaped for each format
(:mod:`lightcost.render.escape`); text tables cut names at
:data:`~lightcost.render.escape.NAME_LIMIT` characters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lightcost.core.graph import Graph, Shape
from lightcost.cost.engine import (
    PARAM_CONVENTIONS,
    ModelCost,
    Summary,
    layer_record,
    work_record,
)
from lightcost.cost.figures import (
    BYTES,
    MICROSECONDS,
    SECONDS,
    UNITS,
    compact_text,
    value_text,
)
from lightcost.cost.memory import DTYPES, EXECUTIONS
from lightcost.cost.separable import SeparablePair, separable_pairs
from lightcost.render.escape import clip, csv_cell, json_text, markdown, terminal
from lightcost.render.notes import activation_line, conventions_line
from lightcost.render.separable import (
    NO_PAIRS,
    SEPARABLE_RIGHT,
    SEPARABLE_TITLE,
    separable_cells,
    separable_text,
)
from lightcost.render.text import UNLIMITED, Column, View, dim, fitted, markdown_table
from lightcost.spec.sections import PADDINGS

MADDS_DEFINITION = (
    "multiply-adds of conv, FC, SE 1x1 convs and products of two activations (matmul, "
    "attention) (1 multiply + 1 add = 1), batch {batch}; "
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
    "latency",
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
        "madds": MADDS_DEFINITION.format(batch=batch_text(cost)),
        "params": f"{cost.params_convention}: {params_definition(cost)}",
        "mac": (
            f"memory access cost: inputs + output + weights of every kernel, in elements; "
            f"{cost.execution}: {EXECUTIONS[cost.execution].description}; bytes = elements x "
            f"{DTYPES[cost.dtype]} ({cost.dtype}, activations and weights)"
        ),
        "activations": ACTIVATIONS_DEFINITION,
        "width_rule": g.width_rule.describe(),
        "padding": f"{g.padding}: {PADDINGS[g.padding]}",
    } | (
        {"latency": f"{cost.device.method(cost.batch)}; {cost.device.describe(cost.dtype)}"}
        if cost.device
        else {}
    )


def batch_text(cost: ModelCost) -> str:
    """``1``, or ``8 (params and weight traffic once, the rest x 8)``."""
    n = cost.batch
    return "1" if n == 1 else f"{n} (params and weight traffic once, the rest x {n})"


def resolution_record(g: Graph) -> int | list[int]:
    """The input resolution in JSON: one number when square, else ``[height, width]``."""
    height, width = g.input_shape[1:]
    return height if height == width else [height, width]


def config(cost: ModelCost) -> dict[str, Any]:
    """The configuration a cost was computed for."""
    g = cost.graph
    return {
        "model": g.name,
        "file": g.file,
        "variant": g.variant,
        "width": g.width,
        "resolution": resolution_record(g),
        "input": list(g.input_shape),
        "batch": cost.batch,
        "vars": dict(g.variables),
        "execution": cost.execution,
        "dtype": cost.dtype,
        "device": cost.device.name if cost.device else None,
    }


def summary_record(row: Summary) -> dict[str, Any]:
    """A summed row as a dict."""
    return {
        "label": row.label,
        "layers": row.layers,
        "params": row.params,
        **work_record(row),
        "latency": row.latency,
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
    batch = f"  batch {cost.batch}" if cost.batch != 1 else ""
    return f"{clip(g.name)}{variant}  width {g.width:g}  input {shape_text(g.input_shape)}{batch}"


def rows_for(cost: ModelCost, by: str, depth: int | None) -> list[Summary]:
    """The rows a table shows: layers (cut to ``depth``), top-level blocks, or layer types."""
    if by == "op":
        return cost.by_type()
    return cost.by_block(1 if by == "block" else depth)


RANK = ("layer", "type", "params", "madds", "flops", "latency", "output", "layers", "op",
        "madds_pct", "flops_pct", "mac", "latency_pct", "params_pct")  # fmt: skip
"""The columns of :func:`table_columns` from the most to the least important (compact layout)."""


def table_columns(unit: str, by: str, memory: bool = False, timed: bool = False) -> list[Column]:
    """The columns of the main table (``memory``: MAC bytes; ``timed``: latency too).

    Keys (for ``--columns``): ``layer op output`` (``type layers`` with ``--by op``),
    ``params params_pct``, the unit (``madds`` or ``flops``) and ``_pct``, ``mac``,
    ``latency latency_pct``.
    """
    first = (
        [Column("type", "Layer type", False), Column("layers", "Layers")]
        if by == "op"
        else [Column("layer", "Layer", False), Column("op", "Op", False),
              Column("output", "Output", False)]
    )  # fmt: skip
    name = UNITS[unit][0]
    extra = [Column("mac", "MAC bytes", short="MAC")] if memory or timed else []
    if timed:
        extra += [
            Column("latency", f"Latency{MICROSECONDS.suffix}", short="Latency"),
            Column("latency_pct", "% latency"),
        ]
    return [*first, Column("params", "Params"), Column("params_pct", "% params"),
            Column(unit, name), Column(f"{unit}_pct", f"% {name}"), *extra]  # fmt: skip


def table_cells(
    cost: ModelCost,
    rows: Sequence[Summary],
    unit: str,
    by: str,
    memory: bool = False,
    compact: bool = False,
) -> list[list[str]]:
    """The text cells of the main table, one list per row plus the total row last.

    ``memory`` adds MAC in bytes; a cost with a device adds latency (in microseconds,
    :data:`~lightcost.cost.figures.MICROSECONDS`, or with its unit when ``compact``).
    ``compact`` shows counts as :func:`~lightcost.cost.figures.compact_text`.
    """
    total = cost.total()
    factor = UNITS[unit][1]
    count = compact_text if compact else value_text

    def cells(row: Summary, first: list[str]) -> list[str]:
        extra = [count(row.mac_bytes, BYTES)] if memory or cost.device else []
        if cost.device:
            seconds = row.latency or 0
            shown = compact_text(seconds, SECONDS) if compact else MICROSECONDS.text(seconds)
            extra += [shown, share(seconds, total.latency or 0)]
        return [
            *first,
            count(row.params),
            share(row.params, total.params),
            count(row.madds * factor),
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
    """Column names of the main table (:func:`table_columns`)."""
    return [c.head for c in table_columns(unit, by, memory, timed)]


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
    view: View = UNLIMITED,
    notes: bool = False,
) -> str:
    """The box-drawn table fitted to ``view``, the peak activation memory and the
    conventions (dim when styled): one line (:func:`conventions_line`), every entry
    in full with ``notes``.

    ``memory`` adds a MAC bytes column; ``explain`` the separable-conv comparison.
    """
    rows = rows_for(cost, by, depth)
    text = fitted(
        title(cost),
        table_columns(unit, by, memory, cost.device is not None),
        lambda compact: table_cells(cost, rows, unit, by, memory, compact),
        view,
        style,
        rank=RANK,
    )
    peak = activation_line(cost)
    lines = [text, terminal(peak if view.fits(peak) else activation_line(cost, compact=True))]
    if notes:
        full = conventions(cost, unit).items()
        lines += [dim(terminal(f"{key}: {line}"), style) for key, line in full]
    else:
        notes_line = conventions_line(cost, conventions(cost, unit), view)
        lines.append(dim(terminal(notes_line), style))
    if explain:
        lines += ["", separable_text(separable_pairs(cost), unit, style, view)]
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
    view: View = UNLIMITED,
    notes: bool = False,
) -> str:
    """``lightcost table`` in ``fmt`` (table, json, csv or markdown), ending with a newline.

    JSON and CSV carry every layer and figure whatever the row options; JSON and
    Markdown every convention; ``view`` and ``notes`` lay out the text table.
    """
    if fmt == "json":
        return to_json(cost, unit) + "\n"
    if fmt == "csv":
        return to_csv(cost)
    if fmt == "markdown":
        return to_markdown(cost, unit, by, depth, memory, explain)
    return table_text(cost, unit, by, depth, explain, memory, style, view, notes)
