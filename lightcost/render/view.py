"""``lightcost view``: one self-contained HTML page of a cost, the layer graph drawn as SVG.

The page needs no network: its CSS and JavaScript (``assets/``) are inlined, the
graph is inline SVG laid out here (:mod:`lightcost.render.layout`). Each node is
coloured, and carries a bar, by its share of the largest layer's figure
(:data:`FIGURES`); hovering a node or a table row shows the layer's JSON record
(the keys of ``lightcost table --format json``). Totals and conventions head the
page; the table sorts by any column. Text from the spec is escaped for HTML
(:func:`~lightcost.render.escape.html_text`) and, in the embedded data, for a
script element (:func:`~lightcost.render.escape.script_json`); the page's script
writes text only through ``textContent``.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

from lightcost.core.errors import SpecError
from lightcost.cost.engine import LayerCost, ModelCost, layer_record
from lightcost.cost.figures import BYTES, MICROSECONDS, SECONDS, value_text
from lightcost.cost.figures import FIGURES as ALL_FIGURES
from lightcost.render.escape import clip, html_text, script_json
from lightcost.render.layout import Layout, layout
from lightcost.render.table import conventions, shape_text, title

MAX_VIEW_LAYERS = 5_000  # layers the graph view draws (a larger model: lightcost table)
ASSETS = Path(__file__).with_name("assets")
VIEW_FIGURES = ("madds", "params", "mac", "latency")  # per layer: what colours a node
FIGURES = {key: ALL_FIGURES[key].short_label for key in VIEW_FIGURES}  # key -> label
BOX_W, BOX_H, PITCH_X, PITCH_Y, MARGIN = 170, 34, 196, 60, 16
LABEL_CHARS = 26  # characters of a label or name inside a node (the full text on hover)


def figure(layer: LayerCost, by: str) -> float:
    """The figure ``by`` of a layer (a latency of None counts 0)."""
    value: float | None = getattr(layer, by)
    return value or 0


def heat(share: float) -> str:
    """A fill from pale blue (0) to deep orange (1), by the square root of a share."""
    t = max(0.0, min(1.0, share)) ** 0.5
    low, high = (232, 240, 250), (235, 120, 40)
    r, g, b = (round(a + (c - a) * t) for a, c in zip(low, high, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def view_html(cost: ModelCost, by: str = "madds") -> str:
    """The whole page for ``cost``, nodes coloured by figure ``by`` (a key of :data:`FIGURES`)."""
    count = len(cost.layers)
    if count > MAX_VIEW_LAYERS:
        raise SpecError(
            f"{cost.graph.file}: {count:,} layers, more than the {MAX_VIEW_LAYERS:,} the graph "
            "view draws (lightcost table lists every layer)"
        )
    data = {"by": by, "layers": [layer_record(layer) for layer in cost.layers]}
    heading = html_text(title(cost))
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{heading}</title>",
            "<script>window.onerror = function (message) { var root = document.documentElement;"
            ' root.setAttribute("data-errors", (root.getAttribute("data-errors") || "")'
            ' + String(message) + "\\n"); };</script>',
            f"<style>{(ASSETS / 'view.css').read_text(encoding='utf-8')}</style>",
            "</head><body>",
            header(cost, by, heading),
            '<main><div id="lc-graph">',
            svg(cost, layout(cost.graph), by),
            '</div><aside id="lc-side"><b>Hover a layer</b> <span id="lc-which"></span>',
            '<div id="lc-detail"></div></aside>',
            "</main>",
            table(cost),
            f'<script type="application/json" id="lc-data">{script_json(data)}</script>',
            f"<script>{(ASSETS / 'view.js').read_text(encoding='utf-8')}</script>",
            "</body></html>",
            "",
        ]
    )


def header(cost: ModelCost, by: str, heading: str) -> str:
    """The title, the totals, what the colours mean, and the conventions (folded)."""
    total = cost.total()
    totals = [
        ("Params", value_text(total.params)),
        ("MAdds", value_text(total.madds)),
        ("MAC", value_text(total.mac)),
        ("MAC bytes", value_text(total.mac_bytes, BYTES, symbol=True)),
        ("Peak activations", value_text(cost.activations.peak, BYTES, symbol=True)),
        ("Layers", f"{len(cost.layers):,}"),
    ]
    if total.latency is not None:
        totals.append(("Latency", value_text(total.latency, SECONDS)))
    spans = "".join(f"<span><b>{name}</b> {value}</span>" for name, value in totals)
    items = "".join(
        f"<li><b>{html_text(key)}</b>: {html_text(text)}</li>"
        for key, text in conventions(cost, "madds").items()
    )
    return (
        f"<header><h1>{heading}</h1><div class='totals'>{spans}</div>"
        f"<div>Colour and bar: each layer's share of the largest layer's {FIGURES[by]}."
        " Hover a node or a row for its figures; click a column head to sort.</div>"
        f"<details><summary>Conventions</summary><ul>{items}</ul></details></header>"
    )


def svg(cost: ModelCost, drawing: Layout, by: str) -> str:
    """The graph: edges first (beneath), then the input and one group per layer."""
    low, high = drawing.columns
    width = round((high - low) * PITCH_X + BOX_W + 2 * MARGIN)
    height = drawing.depth * PITCH_Y + MARGIN
    top = max((figure(layer, by) for layer in cost.layers), default=0) or 1

    def at(x: float, layer: int) -> tuple[float, float]:
        return (x - low) * PITCH_X + MARGIN + BOX_W / 2, layer * PITCH_Y + MARGIN

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">']
    for u, v, bends in drawing.edges:
        points = [at(drawing.x[u], drawing.layer[u])]
        points[0] = (points[0][0], points[0][1] + BOX_H)
        for x, depth in bends:
            bend = at(x, depth)
            points += [bend, (bend[0], bend[1] + BOX_H)]
        points.append(at(drawing.x[v], drawing.layer[v]))
        parts.append(f'<path class="e" d="{curve(points)}"/>')
    g = cost.graph
    parts.append(box(at(drawing.x[0], 0), "input", shape_text(g.input_shape), "", -1, "#ffffff"))
    for i, layer in enumerate(cost.layers):
        share = figure(layer, by) / top
        tip = f"{layer.name}: {layer.label} -> {shape_text(layer.out_shape)}"
        position = at(drawing.x[i + 1], drawing.layer[i + 1])
        parts.append(box(position, layer.label, layer.name, tip, i, heat(share), share))
    parts.append("</svg>")
    return "\n".join(parts)


def curve(points: list[tuple[float, float]]) -> str:
    """An SVG path through ``points``: vertical-tangent cubic segments."""
    path = [f"M{points[0][0]:.1f},{points[0][1]:.1f}"]
    for (x1, y1), (x2, y2) in pairwise(points):
        middle = (y1 + y2) / 2
        path.append(f"C{x1:.1f},{middle:.1f} {x2:.1f},{middle:.1f} {x2:.1f},{y2:.1f}")
    return " ".join(path)


def box(
    centre: tuple[float, float],
    label: str,
    name: str,
    tip: str,
    index: int,
    fill: str,
    share: float = 0.0,
) -> str:
    """One node: a box, its bar (the share), its label and name, and a native tooltip."""
    x, y = centre[0] - BOX_W / 2, centre[1]
    bar = round(share * (BOX_W - 2), 1)
    return (
        f'<g class="n" data-i="{index}"><title>{html_text(tip or name)}</title>'
        f'<rect class="box" x="{x:.1f}" y="{y:.1f}" width="{BOX_W}" height="{BOX_H}" rx="4"'
        f' style="fill:{fill}"/>'
        f'<rect x="{x + 1:.1f}" y="{y + BOX_H - 4:.1f}" width="{bar}" height="3"'
        ' style="fill:#bf4a1f"/>'
        f'<text x="{x + 6:.1f}" y="{y + 13:.1f}">{html_text(clip(label, LABEL_CHARS))}</text>'
        f'<text class="name" x="{x + 6:.1f}" y="{y + 26:.1f}">'
        f"{html_text(clip(name, LABEL_CHARS))}</text></g>"
    )


def table(cost: ModelCost) -> str:
    """Every layer, sortable: each cell carries its raw value in ``data-v``."""
    timed = cost.device is not None
    heads = ["#", "Layer", "Block", "Op", "Output", "Params", "MAdds", "MAC"]
    heads += ["Latency µs"] if timed else []
    numeric = {"#", "Params", "MAdds", "MAC", "Latency µs"}
    head = "".join(f'<th class="{"num" if h in numeric else "text"}">{h}</th>' for h in heads)
    rows = []
    for i, layer in enumerate(cost.layers):
        cells: list[tuple[str | int | float, str, bool]] = [
            (i, str(i + 1), True),
            (layer.name, clip(layer.name), False),
            ("/".join(layer.block), clip("/".join(layer.block)), False),
            (layer.label, layer.label, False),
            (shape_text(layer.out_shape), shape_text(layer.out_shape), False),
            (layer.params, value_text(layer.params), True),
            (layer.madds, value_text(layer.madds), True),
            (layer.mac, value_text(layer.mac), True),
        ]
        if timed:
            cells.append((layer.latency or 0, MICROSECONDS.text(layer.latency or 0), True))
        tds = "".join(
            f'<td class="{"num" if number else "text"}" data-v="{html_text(str(raw))}">'
            f"{html_text(text)}</td>"
            for raw, text, number in cells
        )
        rows.append(f'<tr data-i="{i}">{tds}</tr>')
    return (
        f'<table id="lc-table"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )
