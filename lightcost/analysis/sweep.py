"""Evaluate a spec over a grid of widths and resolutions in one vectorized pass.

Each width is expanded once (at the largest resolution, exact Python integers:
width rules and ``when`` conditions are evaluated per width). Widths whose
graphs have the same structure (nodes, wiring, every attribute but channel
counts) are then stacked: channel counts become int64 column arrays (one row
per width), heights and widths int64 row arrays (one column per resolution),
and the ops' own shape and cost rules (:mod:`lightcost.ops`) run once over
the broadcast arrays. Results equal the scalar path exactly (tests compare
them on samples of every bundled spec); int64 overflow is detected by
repeating the pass in float64 and comparing.
A spec whose expressions read the resolution (``res``, ``in_h``, ``in_w``), or
a group with an invalid configuration, falls back to one scalar expansion per
configuration, and invalid configurations are reported with their error.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lightcost.api import Config, load, profile
from lightcost.core.errors import SpecError
from lightcost.core.graph import INPUT, Graph, Shape
from lightcost.cost.engine import ModelCost
from lightcost.cost.figures import FIGURES
from lightcost.ops import OPS, ShapeError

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class SweepResult:
    """Every configuration of a sweep: figures per (width, resolution), plus failures."""

    spec: str
    variant: str
    figures: tuple[
        str, ...
    ]  # recorded figure names, the keys of every row besides width, resolution
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


def recorded(config: Config) -> tuple[str, ...]:
    """The figures a sweep records: every registered one, latency only with a device."""
    return tuple(n for n, f in FIGURES.items() if not f.device or config.device is not None)


def sweep(
    spec: str,
    widths: Sequence[float],
    resolutions: Sequence[int],
    config: Config | None = None,
    text: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> SweepResult:
    """Figures of every (width, resolution) pair; ``progress(n)`` is called per width.

    ``config`` gives everything but the sizes (its width and resolution are not
    read). A configuration that cannot be built is reported in ``errors``; an
    error of the spec itself (at its own width and resolution) is raised.
    """
    start = time.perf_counter()
    config = config or Config()
    device = profile(config.device)  # a profile file is read once
    config = config._replace(width=None, resolution=None, device=device)
    data, file = load(spec, text)
    config.expand(data, file)  # the spec itself
    ordered = sorted(set(resolutions))
    groups, scalar, chosen = grouped(data, file, widths, ordered, config, progress)
    rows: list[dict[str, Any]] = []
    for members in groups.values():
        try:
            rows += stacked_rows(members, ordered, config)
        except (ShapeError, SpecError):
            scalar += [w for w, _ in members]
    found, errors = scalar_rows(data, file, scalar, ordered, config)
    position = {w: i for i, w in enumerate(widths)}
    rows = sorted(rows + found, key=lambda r: (position[r["width"]], r["resolution"]))
    return SweepResult(
        spec=spec,
        variant=chosen,
        figures=recorded(config),
        widths=tuple(widths),
        resolutions=tuple(dict.fromkeys(resolutions)),  # as given, without repeats
        rows=tuple(rows),
        errors=tuple(errors),
        seconds=time.perf_counter() - start,
    )


Groups = dict[tuple[object, ...], list[tuple[float, Graph]]]


def grouped(
    data: Any,
    file: str,
    widths: Sequence[float],
    ordered: Sequence[int],
    config: Config,
    progress: Callable[[int], None] | None,
) -> tuple[Groups, list[float], str]:
    """Widths expanded at the largest resolution, grouped by :func:`structure`.

    Also the widths to cost one configuration at a time (resolution-dependent or
    failing at the largest resolution) and the variant the spec chose.
    """
    groups: Groups = {}
    scalar: list[float] = []
    chosen = ""
    for width in widths:
        try:
            graph = config._replace(width=width, resolution=ordered[-1]).expand(data, file)
            chosen = graph.variant
            if graph.resolution_dependent:
                scalar.append(width)
            else:
                groups.setdefault(structure(graph), []).append((width, graph))
        except SpecError:
            scalar.append(width)
        if progress is not None:
            progress(len(ordered))
    return groups, scalar, chosen


def stacked_rows(
    members: Sequence[tuple[float, Graph]], ordered: Sequence[int], config: Config
) -> list[dict[str, Any]]:
    """The rows of a group of equally structured widths, from one vectorized pass."""
    figures = stacked_figures([g for _, g in members], ordered, config, recorded(config))
    columns = {name: values.tolist() for name, values in figures.items()}  # exact ints
    return [
        {"width": width, "resolution": res, **{k: c[index][r] for k, c in columns.items()}}
        for index, (width, _) in enumerate(members)
        for r, res in enumerate(ordered)
    ]


def scalar_rows(
    data: Any, file: str, widths: Sequence[float], ordered: Sequence[int], config: Config
) -> tuple[list[dict[str, Any]], list[tuple[float, int, str]]]:
    """The rows of ``widths`` costed one configuration at a time, and the failures."""
    rows: list[dict[str, Any]] = []
    errors: list[tuple[float, int, str]] = []
    names = recorded(config)
    for width in widths:
        for res in ordered:
            try:
                sized = config._replace(width=width, resolution=res)
                cost = sized.cost(sized.expand(data, file))
                rows.append({"width": width, "resolution": res, **scalar_figures(cost, names)})
            except SpecError as exc:
                errors.append((width, res, str(exc)))
    return rows, errors


def scalar_figures(cost: ModelCost, names: Sequence[str]) -> dict[str, int | float]:
    """The named figures of one configuration, exact."""
    return {name: FIGURES[name].get(cost) for name in names}


def structure(graph: Graph) -> tuple[object, ...]:
    """Everything but channel counts (``OpDef.channels``): equal structures can be stacked."""
    return tuple(
        (
            n.name,
            n.op,
            n.inputs,
            *((k, v) for k, v in n.attrs.items() if k not in OPS[n.op].channels),
        )
        for n in graph.nodes
    )


def spatial_sizes(graph: Graph, resolutions: Sequence[int]) -> dict[str, tuple[Any, Any]]:
    """Heights and widths of every tensor as int64 arrays over ``resolutions``.

    Runs the op shape rules (which accept arrays) once; a ShapeError means some
    resolution is too small for the network.
    """
    import numpy as np

    size = np.asarray(resolutions, dtype=np.int64)
    shapes: dict[str, Any] = {INPUT: (graph.input_shape[0], size, size)}
    for node in graph.nodes:
        shapes[node.name] = OPS[node.op].shape(node.attrs, [shapes[t] for t in node.inputs])
    return {name: (shape[1], shape[2]) for name, shape in shapes.items()}


def stacked(graphs: Sequence[Graph], spatial: Mapping[str, tuple[Any, Any]], dtype: Any) -> Graph:
    """One graph whose channels are (widths x 1) arrays and sizes (1 x resolutions) arrays."""
    import numpy as np

    def column(values: list[Any]) -> Any:
        return np.asarray(values, dtype=dtype).reshape(-1, 1)

    def row(name: str) -> tuple[Any, Any]:
        h, w = spatial[name]
        return np.asarray(h, dtype=dtype).reshape(1, -1), np.asarray(w, dtype=dtype).reshape(1, -1)

    def shape(name: str, channels: list[Any]) -> Shape:
        return (column(channels), *row(name))

    first = graphs[0]
    nodes = []
    for index, node in enumerate(first.nodes):
        peers = [g.nodes[index] for g in graphs]
        channels = OPS[node.op].channels
        attrs = {
            key: column([p.attrs[key] for p in peers]) if key in channels else value
            for key, value in node.attrs.items()
        }
        in_shapes = tuple(
            shape(name, [p.in_shapes[i][0] for p in peers]) for i, name in enumerate(node.inputs)
        )
        out_shape = shape(node.name, [p.out_shape[0] for p in peers])
        nodes.append(node._replace(attrs=attrs, in_shapes=in_shapes, out_shape=out_shape))
    input_shape = shape(INPUT, [g.input_shape[0] for g in graphs])
    return first._replace(nodes=tuple(nodes), input_shape=input_shape)


def stacked_figures(
    graphs: Sequence[Graph], resolutions: Sequence[int], config: Config, names: Sequence[str]
) -> dict[str, np.ndarray]:
    """Figures of every graph at every resolution: (widths x resolutions) arrays.

    The pass is repeated in float64; any difference beyond rounding means int64
    overflowed, which raises OverflowError rather than returning a wrong number.
    """
    import numpy as np

    spatial = spatial_sizes(graphs[0], resolutions)
    grid = (len(graphs), len(resolutions))
    exact, approximate = (
        config.cost(stacked(graphs, spatial, kind)) for kind in (np.int64, np.float64)
    )
    figures = {}
    for name in names:
        values = np.broadcast_to(FIGURES[name].get(exact), grid)
        check = np.broadcast_to(FIGURES[name].get(approximate), grid)
        if not np.allclose(values, check, rtol=1e-9, atol=0.5):
            raise OverflowError(f"{name} overflows int64 in this sweep; use smaller sizes")
        figures[name] = values
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
