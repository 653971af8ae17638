"""Evaluate a spec over a grid of widths and resolutions, vectorized over resolution.

For each width the spec is expanded once, at the largest resolution, with exact
Python integers. The graph's heights and widths are then replaced by numpy
int64 arrays holding every resolution of the sweep, and the same shape rules
(:mod:`lightcost.ops`) and cost rules (:mod:`lightcost.cost`) run once over
the arrays. Results equal the scalar path exactly: the figures at the largest
resolution are checked against the exact integers, which also rules out int64
overflow (every figure grows with resolution, so the largest resolution bounds
all others). A spec whose expressions read the resolution (``res``, ``in_h``,
``in_w``), or a configuration that is invalid somewhere in the grid, falls back
to one scalar expansion per configuration, and invalid configurations are
reported with their error instead of a number.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from lightcost.cost import ModelCost, cost_graph
from lightcost.errors import SpecError
from lightcost.expand import expand
from lightcost.expr import Value
from lightcost.figures import FIGURES
from lightcost.graph import INPUT, Graph, Shape
from lightcost.loader import parse_yaml, read_spec
from lightcost.ops import OPS, ShapeError

if TYPE_CHECKING:
    import numpy as np

SWEPT = ("params", "madds", "flops", "other_ops", "mac")  # figures a sweep records


@dataclass(frozen=True)
class SweepResult:
    """Every configuration of a sweep: figures per (width, resolution), plus failures."""

    spec: str
    variant: str
    widths: tuple[float, ...]
    resolutions: tuple[int, ...]
    rows: tuple[dict[str, Any], ...]  # width, resolution and one key per figure
    errors: tuple[tuple[float, int, str], ...]
    seconds: float

    @property
    def count(self) -> int:
        """Configurations evaluated (valid and invalid)."""
        return len(self.rows) + len(self.errors)


def parse_range(text: str, integer: bool = False) -> list[float]:
    """``0.25:2.0:0.05`` (start:stop:step, stop included) or ``1,0.75,0.5`` or ``224``."""
    kind: Callable[[str], float] = int if integer else float
    try:
        if ":" not in text:
            return [kind(part) for part in text.split(",") if part.strip()]
        parts = [kind(p) for p in text.split(":")]
        if len(parts) != 3 or parts[2] <= 0 or parts[1] < parts[0]:
            raise ValueError
    except ValueError:
        raise ValueError(
            f"'{text}' is not a list (a,b,c) or a range start:stop:step with step > 0"
        ) from None
    start, stop, step = parts
    count = round((stop - start) / step + 1e-9) + 1
    values = [start + i * step for i in range(count)]
    return [int(v) if integer else round(v, 10) for v in values]


def sweep(
    spec: str,
    widths: Sequence[float],
    resolutions: Sequence[int],
    params: str = "trainable",
    overrides: Mapping[str, Value] | None = None,
    variant: str | None = None,
    text: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> SweepResult:
    """Figures of every (width, resolution) pair; ``progress(n)`` is called per width."""
    start = time.perf_counter()
    data, file = (parse_yaml(text, spec), spec) if text is not None else read_spec(spec)
    ordered = sorted(set(resolutions))
    rows: list[dict[str, Any]] = []
    errors: list[tuple[float, int, str]] = []
    chosen = ""
    layouts: dict[tuple[object, ...], Spatial] = {}
    for width in widths:
        try:
            graph = expand(data, file, width, ordered[-1], overrides, variant)
            chosen = graph.variant
            if graph.resolution_dependent:
                raise ShapeError("expressions read the resolution")
            key = layout(graph)
            if key not in layouts:
                layouts[key] = spatial_sizes(graph, ordered)
            figures = vector_figures(graph, ordered, params, layouts[key])
            rows += [
                {"width": width, "resolution": r, **{k: int(v[i]) for k, v in figures.items()}}
                for i, r in enumerate(ordered)
            ]
        except (SpecError, ShapeError):
            for res in ordered:
                try:
                    cost = cost_graph(expand(data, file, width, res, overrides, variant), params)
                    rows.append({"width": width, "resolution": res, **scalar_figures(cost)})
                except SpecError as exc:
                    errors.append((width, res, str(exc)))
        if progress is not None:
            progress(len(ordered))
    return SweepResult(
        spec=spec,
        variant=chosen,
        widths=tuple(widths),
        resolutions=tuple(dict.fromkeys(resolutions)),  # as given, without repeats
        rows=tuple(rows),
        errors=tuple(errors),
        seconds=time.perf_counter() - start,
    )


def scalar_figures(cost: ModelCost) -> dict[str, int]:
    """Every registered figure of one configuration, as exact integers."""
    return {name: int(FIGURES[name].get(cost)) for name in SWEPT}


Spatial = dict[str, tuple[Any, Any]]  # tensor name -> (heights, widths) over the resolutions
SPATIAL_ATTRS = ("k", "stride", "padding", "dilation", "global")


def layout(graph: Graph) -> tuple[object, ...]:
    """What spatial sizes depend on: the wiring and the window attributes of every node."""
    return tuple(
        (n.name, n.op, n.inputs, *(n.attrs.get(a) for a in SPATIAL_ATTRS)) for n in graph.nodes
    )


def spatial_sizes(graph: Graph, resolutions: Sequence[int]) -> Spatial:
    """Heights and widths of every tensor as int64 arrays over ``resolutions``.

    Runs the op shape rules (which accept arrays) once; channels are carried
    along only because the rules need a complete shape.
    """
    import numpy as np

    size = np.asarray(resolutions, dtype=np.int64)
    shapes: dict[str, Any] = {INPUT: (graph.input_shape[0], size, size)}
    for node in graph.nodes:
        shapes[node.name] = OPS[node.op].shape(node.attrs, [shapes[t] for t in node.inputs])
    return {name: (shape[1], shape[2]) for name, shape in shapes.items()}


def at_resolutions(graph: Graph, spatial: Spatial) -> Graph:
    """The same graph with heights and widths replaced by the arrays of ``spatial``.

    Channels and attributes do not change with resolution (the caller checks
    that no expression read it).
    """

    def shape(name: str, channels: int) -> Shape:
        return (channels, *spatial[name])

    nodes = tuple(
        replace(
            node,
            in_shapes=tuple(
                shape(t, s[0]) for t, s in zip(node.inputs, node.in_shapes, strict=True)
            ),
            out_shape=shape(node.name, node.out_shape[0]),
        )
        for node in graph.nodes
    )
    return replace(graph, nodes=nodes, input_shape=shape(INPUT, graph.input_shape[0]))


def vector_figures(
    graph: Graph, resolutions: Sequence[int], params: str, spatial: Spatial
) -> dict[str, np.ndarray]:
    """Figures over all ``resolutions`` at once; exactness is checked at the largest."""
    import numpy as np

    cost = cost_graph(at_resolutions(graph, spatial), params)
    exact = scalar_figures(cost_graph(graph, params))
    figures = {
        name: np.broadcast_to(
            np.asarray(FIGURES[name].get(cost), dtype=np.int64), (len(resolutions),)
        )
        for name in SWEPT
    }
    for name, values in figures.items():
        if int(values[-1]) != exact[name]:
            raise OverflowError(
                f"vectorized {name} {int(values[-1])} differs from the exact {exact[name]}: "
                "int64 overflow"
            )
    return figures


def pareto(
    rows: Sequence[Mapping[str, Any]], x: str, y: str, x_max: bool = False, y_max: bool = True
) -> list[Mapping[str, Any]]:
    """Rows not dominated on (x, y); ``*_max`` says which axis is maximized.

    Default: least x (e.g. MAdds) for the most y (e.g. params): for every
    compute budget, the configuration with the largest capacity.
    """
    sign_x, sign_y = (-1 if x_max else 1), (-1 if y_max else 1)
    ordered = sorted(rows, key=lambda r: (sign_x * r[x], sign_y * r[y]))
    front: list[Mapping[str, Any]] = []
    for row in ordered:
        if not front or sign_y * row[y] < sign_y * front[-1][y]:
            front.append(row)
    return front
