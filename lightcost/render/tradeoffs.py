"""Render comparisons and sweeps (:mod:`lightcost.analysis.compare`, `.sweep`).

Text tables are fitted to the terminal (:func:`lightcost.render.text.fitted`) and
show values with :meth:`lightcost.cost.figures.Figure.text`, exact or compact;
JSON and CSV carry exact raw values (latency in seconds). Names from
spec files are escaped and cut as :mod:`lightcost.render.escape` says.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from typing import IO, Any

from lightcost.analysis.compare import Column as Model
from lightcost.analysis.compare import Versus, resolution_ratio
from lightcost.analysis.sweep import SweepResult, row_sides
from lightcost.cost.figures import FIGURES
from lightcost.render.escape import clip, json_text, terminal
from lightcost.render.table import resolution_record
from lightcost.render.text import UNLIMITED, Column, View, fitted
from lightcost.spec.sections import Resolution, resolution_text, sides


def config_label(cost_graph_width: float, resolution: int | str, variant: str) -> str:
    """``(0.75, 160)``, ``1.5x (1, 224)`` or ``(1, 160x128)``."""
    return (f"{clip(variant)} " if variant else "") + f"({cost_graph_width:g}, {resolution})"


def versus_text(result: Versus, style: bool, view: View = UNLIMITED) -> str:
    """Baseline and configuration side by side, with ratios and the alpha^2 rho^2 prediction."""
    b, c = result.baseline.graph, result.config.graph
    base = config_label(b.width, b.size, b.variant)
    columns = [
        Column("figure", "Figure", False),
        Column("baseline", f"baseline {base}", short=f"base {base}"),
        Column("config", config_label(c.width, c.size, c.variant)),
        Column("ratio", "ratio"),
        Column("predicted", "predicted"),
        Column("actual_predicted", "actual / predicted"),
    ]

    def cells(compact: bool) -> list[list[str]]:
        return [
            [
                label(r.figure, compact),
                FIGURES[r.figure].text(r.baseline, compact=compact),
                FIGURES[r.figure].text(r.value, compact=compact),
                f"{r.ratio:.4f}",
                "-" if r.predicted is None else f"{r.predicted:.4f}",
                "-" if r.predicted is None else f"{r.ratio / r.predicted:.4f}",
            ]
            for r in result.rows
        ]

    alpha, rho = c.width / b.width, resolution_ratio(b, c)
    batch = f", batch {result.config.batch}" if result.config.batch != 1 else ""
    title = f"{clip(b.name)}: alpha = {alpha:g}, rho = {rho:.4g}{batch}"
    table = fitted(title, columns, cells, view, style, total=False)
    return f"{table}\npredicted: MAdds alpha^2 rho^2, params alpha^2 (other figures: -)"


def label(figure: str, compact: bool) -> str:
    """A figure's label, or its short label in a compact layout."""
    return FIGURES[figure].short_label if compact else FIGURES[figure].label


def versus_json(result: Versus) -> str:
    """The comparison as JSON."""
    b, c = result.baseline.graph, result.config.graph
    return json_text(
        {
            "spec": b.name,
            "baseline": {
                "width": b.width,
                "resolution": resolution_record(b),
                "variant": b.variant,
            },
            "config": {"width": c.width, "resolution": resolution_record(c), "variant": c.variant},
            "batch": result.config.batch,
            "figures": {
                r.figure: {
                    "baseline": r.baseline,
                    "value": r.value,
                    "ratio": r.ratio,
                    "predicted": r.predicted,
                }
                for r in result.rows
            },
        }
    )


def grid_text(
    result: SweepResult, figures: Sequence[str], style: bool, view: View = UNLIMITED
) -> str:
    """One table per figure: rows are widths, columns resolutions, fitted to ``view``
    (exact values, or compact ones such as ``569M``, ``1.72 MiB``, ``302 µs``)."""
    cells_by = {(r["width"], row_sides(r)): r for r in result.rows}
    failed = {(w, sides(res)) for w, res, _ in result.errors}
    variant = f" {result.variant}" if result.variant else ""
    columns = [Column("width", "width \\ res", False)]
    columns += [Column(resolution_text(res), resolution_text(res)) for res in result.resolutions]
    parts = []
    for name in figures:

        def cells(compact: bool, name: str = name) -> list[list[str]]:
            text = FIGURES[name].text
            return [
                [f"{w:g}"]
                + [
                    "error"
                    if (w, sides(res)) in failed
                    else text(cells_by[(w, sides(res))][name], compact=compact)
                    for res in result.resolutions
                ]
                for w in result.widths
            ]

        title = f"{result.spec}{variant}: {FIGURES[name].label}"
        parts.append(fitted(title, columns, cells, view, style, total=False))
    parts += [terminal(f"error at {failure(*error)}") for error in result.errors]
    return "\n\n".join(parts)


def failure(width: float, resolution: Resolution, message: str) -> str:
    """``width 0.5, resolution 4: <why the configuration is invalid>``."""
    return f"width {width:g}, resolution {resolution_text(resolution)}: {message}"


def sweep_summary(result: SweepResult, output: str | None) -> str:
    """``mobilenet_v2: 9 configurations (0 invalid) in 0.012 s, 750 per second``."""
    rate = result.count / result.seconds if result.seconds else float("inf")
    variant = f" {result.variant}" if result.variant else ""
    return terminal(
        f"{result.spec}{variant}: {result.count:,} configurations ({len(result.errors):,} "
        f"invalid) in {result.seconds:.3f} s, {rate:,.0f} per second"
        + (f"; all written to {output}" if output else "")
    )


def sweep_problems(result: SweepResult, shown: int = 5) -> list[str]:
    """Lines for stderr: why nothing is valid, or the first ``shown`` invalid configurations."""
    if not result.rows:
        return [terminal(f"error: no valid configuration; at {failure(*result.errors[0])}")]
    return [terminal(f"invalid: {failure(*error)}") for error in result.errors[:shown]]


def rows_json(result: SweepResult, extra: Mapping[str, Any] | None = None) -> str:
    """Every configuration with exact figures, and the invalid ones with their error."""
    buffer = io.StringIO()
    write_rows_json(result, buffer, extra)
    return buffer.getvalue()


def rows_csv(result: SweepResult) -> str:
    """Every valid configuration, one CSV row each."""
    buffer = io.StringIO()
    write_rows_csv(result, buffer)
    return buffer.getvalue()


def write_rows_csv(result: SweepResult, handle: IO[str]) -> None:
    """:func:`rows_csv` written to ``handle`` a block of rows at a time (memory stays flat)."""
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(result.rows.names)  # width, resolution, then the recorded figures
    for block in result.rows.chunks():
        writer.writerows(zip(*block, strict=True))


def write_rows_json(
    result: SweepResult, handle: IO[str], extra: Mapping[str, Any] | None = None
) -> None:
    """:func:`rows_json` written to ``handle`` a block of rows at a time.

    The text equals ``json.dumps(..., indent=2)`` of the whole document: the document
    without its configurations is dumped, and they are written in its ``[]``.
    """
    errors = [{"width": w, "resolution": r, "error": e} for w, r, e in result.errors]
    document = {
        "spec": result.spec,
        "variant": result.variant,
        "batch": result.batch,
        "configurations": [],
    }
    text = json_text({**document, "errors": errors, **(extra or {})})
    empty = '\n  "configurations": []'  # unique: a string's quotes and newlines are escaped
    head, _, tail = text.partition(empty)
    if not result.rows:
        handle.write(text)
        return
    entry = ",\n".join(f"      {json.dumps(name)}: {{}}" for name in result.rows.names)
    template = "    {{\n" + entry + "\n    }}"
    handle.write(head + empty[:-1])
    separator = "\n"
    for block in result.rows.chunks():
        rows = (template.format(*map(json_number, values)) for values in zip(*block, strict=True))
        handle.write(separator + ",\n".join(rows))
        separator = ",\n"
    handle.write("\n  ]" + tail)


def json_number(value: float) -> str:
    """A number as ``json.dumps`` writes it (``repr``; NaN and Infinity spelled its way)."""
    if type(value) is int or (type(value) is float and math.isfinite(value)):
        return repr(value)
    return json.dumps(value)


def front_text(
    front: Sequence[Mapping[str, Any]], x: str, y: str, style: bool, view: View = UNLIMITED
) -> str:
    """The Pareto front as a table, ordered along x, fitted to ``view``."""
    columns = [Column("width", "width", False), Column("res", "res"),
               Column(x, FIGURES[x].label, short=FIGURES[x].short_label),
               Column(y, FIGURES[y].label, short=FIGURES[y].short_label)]  # fmt: skip

    def cells(compact: bool) -> list[list[str]]:
        return [
            [f"{r['width']:g}", resolution_text(row_sides(r)),
             FIGURES[x].text(r[x], compact=compact), FIGURES[y].text(r[y], compact=compact)]
            for r in front
        ]  # fmt: skip

    return fitted(f"Pareto front ({len(front)} configurations)", columns, cells, view, style, False)


def side_by_side_text(
    columns: Sequence[Model], best: Mapping[str, list[int]], style: bool, view: View = UNLIMITED
) -> str:
    """One column per model, fitted to ``view``; the best value of each row is starred."""
    heads = [Column("figure", "Figure", False)]
    heads += [Column(str(i), c.label) for i, c in enumerate(columns)]

    def cells(compact: bool) -> list[list[str]]:
        rows = []
        for name, winners in best.items():
            row = [label(name, compact)]
            for index, column in enumerate(columns):
                text = FIGURES[name].text(column.values[name], compact=compact)
                row.append(text + (" *" if index in winners else "  "))
            rows.append(row)
        return rows

    first, device_profile = columns[0].cost.graph, columns[0].cost.device
    device = f", device {device_profile.name}" if device_profile is not None else ""
    device += f", batch {columns[0].cost.batch}" if columns[0].cost.batch != 1 else ""
    title = f"width {first.width:g}, input {first.size}{device}; * = best (lowest)"
    return fitted(title, heads, cells, view, style, total=False)


def side_by_side_json(columns: Sequence[Model], best: Mapping[str, list[int]]) -> str:
    """The side-by-side comparison as JSON."""
    return json_text(
        {
            "models": [
                {
                    "label": c.label,
                    "width": c.cost.graph.width,
                    "resolution": resolution_record(c.cost.graph),
                    "batch": c.cost.batch,
                    **c.values,
                }
                for c in columns
            ],
            "best": {name: [columns[i].label for i in idx] for name, idx in best.items()},
        }
    )
