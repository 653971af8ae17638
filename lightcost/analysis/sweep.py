"""Evaluate a spec over a grid of widths and resolutions in vectorized passes.

Each width is expanded once (at the largest resolution, exact Python integers:
width rules and ``when`` conditions are evaluated per width; when that fails, at
the largest resolution that expands, found by halving). Widths whose
graphs have the same structure (nodes, wiring, every attribute but channel
counts) are then stacked: channel counts become int64 column arrays (one row
per width), heights and widths int64 row arrays (one column per resolution),
and the ops' own shape and cost rules (:mod:`lightcost.ops`) run once over
the broadcast arrays. Results equal the scalar path exactly (tests compare
them on samples of every bundled spec); int64 overflow is detected by
repeating the pass in float64 and comparing.
A resolution is N (height = width) or a pair (height, width); a sweep with pairs
records ``resolution`` (the height) and ``resolution_w`` (the width), ordered
by area. A spec whose expressions read the resolution (``res``, ``in_h``, ``in_w``), a
width that expands at no resolution, resolutions above a width's largest valid
one, and resolutions at which a pass fails (found by halving the pass) fall back
to one scalar expansion per configuration; invalid configurations are reported
with their error.

Bounds: :data:`MAX_CONFIGS` configurations (callers may allow more: the CLI's
``--max-configs``) and :data:`MAX_WIDTHS` widths, counted from a range's
start, stop and step (:func:`range_count`) before any value is built. Widths are
expanded :data:`WIDTH_BATCH` at a time and passes cover at most :data:`CHUNK`
configurations, so memory is the rows (8 bytes a value, :mod:`.rows`) plus a
few MB: a 10^6-configuration sweep of mobilenet_v2 peaks near 160 MiB.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lightcost.analysis.rows import Rows, RowsBuilder
from lightcost.api import Config, load, profile
from lightcost.core.errors import SpecError, short
from lightcost.core.graph import INPUT, Graph, Shape
from lightcost.cost.engine import ModelCost
from lightcost.cost.figures import FIGURES
from lightcost.ops import OPS, ShapeError
from lightcost.spec.sections import Resolution, sides

if TYPE_CHECKING:
    import numpy as np


MAX_CONFIGS = 1_000_000  # configurations of one sweep, unless the caller allows more
MAX_WIDTHS = 10_000  # widths of one sweep: each is one expansion of the spec (milliseconds)
CHUNK = 4096  # configurations per vectorized pass: its arrays stay a few MB
WIDTH_BATCH = 64  # widths expanded and held at once


@dataclass(frozen=True)
class SweepResult:
    """Every configuration of a sweep: figures per (width, resolution), plus failures."""

    spec: str
    variant: str
    figures: tuple[
        str, ...
    ]  # recorded figure names, the keys of every row besides width, resolution
    widths: tuple[float, ...]
    resolutions: tuple[Resolution, ...]
    rows: Rows  # width, resolution (resolution_w) and one key per figure, held as columns
    errors: tuple[tuple[float, Resolution, str], ...]
    seconds: float
    batch: int = 1  # inputs per batch of every configuration

    @property
    def count(self) -> int:
        """Configurations evaluated (valid and invalid)."""
        return len(self.rows) + len(self.errors)


def range_count(text: str, integer: bool = False, pairs: bool = False) -> float:
    """How many values :func:`parse_range` gives for ``text``, found without building them.

    A whole number (an exact int for an integer range), or inf when a float range has
    more steps than a float holds. Raises ValueError for text that is not a list or a
    range of finite numbers. With ``pairs``, a list may hold ``HxW`` items.
    """
    kind: Callable[[str], float] = int if integer else float
    try:
        if ":" not in text:
            items = [part.lower().split("x") if pairs else [part] for part in text.split(",")]
            return len([[kind(n) for n in item] for item in items if item[0].strip()])
        parts = [kind(p) for p in text.split(":")]
        if len(parts) != 3 or not (integer or all(map(math.isfinite, parts))):
            raise ValueError
        start, stop, step = parts
        if step <= 0 or stop < start:
            raise ValueError
    except ValueError:
        raise ValueError(
            f"{short(text)} is not a list (a,b,c) or a range start:stop:step of finite "
            "numbers with step > 0"
        ) from None
    if integer:
        return int((stop - start) // step) + 1  # exact, whatever the size of the ints
    steps = (stop - start) / step  # inf when it overflows a float
    return round(steps + 1e-9) + 1 if math.isfinite(steps) else math.inf


def parse_range(text: str, integer: bool = False, limit: int = MAX_CONFIGS) -> list[float]:
    """``0.25:2.0:0.05`` (start:stop:step, stop included) or ``1,0.75,0.5`` or ``224``.

    At most ``limit`` values (ValueError beyond, before any is built).
    """
    count = range_count(text, integer)
    if count > limit:
        raise ValueError(
            f"{short(text)} gives {many(count)} values, more than the limit of {limit:,}"
        )
    kind: Callable[[str], float] = int if integer else float
    if ":" not in text:
        return [kind(part) for part in text.split(",") if part.strip()]
    start, _, step = (kind(p) for p in text.split(":"))
    values = (start + i * step for i in range(int(count)))
    return [int(v) if integer else round(v, 10) for v in values]


def area(resolution: Resolution) -> int:
    """Height x width of a resolution."""
    height, width = sides(resolution)
    return height * width


def row_sides(row: Mapping[str, Any]) -> tuple[int, int]:
    """(height, width) of a sweep row (``resolution_w`` is in rows of HxW sweeps only)."""
    return int(row["resolution"]), int(row.get("resolution_w", row["resolution"]))


def many(count: float) -> str:
    """A count as messages show it: ``1,234,567``, or ``over 10^15``."""
    return f"{count:,.0f}" if count < 1e15 else "over 10^15"


FRONT = "mac:min,madds:max"
DEVICE_FRONT = "latency:min,madds:max"
"""The default Pareto fronts (``--front``), :data:`DEVICE_FRONT` with a device profile: for
each memory-traffic (or latency) budget, the configuration doing the most multiply-adds.

MAdds stand for capacity (the MobileNet papers' accuracy grows with them); MAC,
ShuffleNetV2's memory access cost, and latency for speed. Both grow with width and
resolution in different proportions (MAdds ~ alpha^2 rho^2, activation traffic
~ alpha rho^2, weights ~ alpha^2), so the front mixes widths and resolutions. Params
do not depend on resolution: least MAdds for most params always picks the smallest one.
"""


def default_front(config: Config) -> str:
    """:data:`DEVICE_FRONT` when ``config`` has a device profile, else :data:`FRONT`."""
    return DEVICE_FRONT if config.device is not None else FRONT


def recorded(config: Config) -> tuple[str, ...]:
    """The figures a sweep records: every registered one, latency only with a device."""
    return tuple(n for n, f in FIGURES.items() if not f.device or config.device is not None)


def sweep(
    spec: str,
    widths: Sequence[float],
    resolutions: Sequence[Resolution],
    config: Config | None = None,
    text: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> SweepResult:
    """Figures of every (width, resolution) pair; ``progress(n)``: n more configurations done.

    ``config`` gives everything but the sizes (its width and resolution are not
    read). A configuration that cannot be built is reported in ``errors``; an
    error of the spec itself (at its own width and resolution) is raised. Widths
    are expanded :data:`WIDTH_BATCH` at a time and costed :data:`CHUNK`
    configurations per vectorized pass, so memory grows only with the rows kept
    (:class:`~lightcost.analysis.rows.Rows`, 8 bytes a value).
    """
    start = time.perf_counter()
    config = config or Config()
    device = profile(config.device, config.dtype)  # a profile file is read once
    config = config._replace(width=None, resolution=None, device=device)
    data, file = load(spec, text)
    config.expand(data, file)  # the spec itself
    ordered = sorted(set(resolutions), key=lambda r: (area(r), sides(r), isinstance(r, tuple)))
    run = Sweeper(data, file, config, ordered, widths, progress)
    for first in range(0, len(widths), WIDTH_BATCH):
        run.batch(widths[first : first + WIDTH_BATCH])
    return SweepResult(
        spec=spec,
        variant=run.chosen,
        figures=run.names,
        widths=tuple(widths),
        resolutions=tuple(dict.fromkeys(resolutions)),  # as given, without repeats
        rows=run.rows.build(),
        errors=tuple(run.errors),
        seconds=time.perf_counter() - start,
        batch=config.batch,
    )


Groups = dict[tuple[int, tuple[object, ...]], list[tuple[float, Graph]]]


class Sweeper:
    """One sweep under way: the spec, its configuration, the rows so far and the failures."""

    def __init__(
        self,
        data: Any,
        file: str,
        config: Config,
        ordered: Sequence[Resolution],
        widths: Sequence[float],
        progress: Callable[[int], None] | None,
    ) -> None:
        self.data, self.file, self.config, self.ordered = data, file, config, ordered
        self.names = recorded(config)
        position = {w: i for i, w in enumerate(widths)}  # a repeated width: its last place
        capacity = len(widths) * len(ordered)
        self.sizes = ("resolution", "resolution_w")[
            : 1 + any(isinstance(r, tuple) for r in ordered)
        ]
        self.rows = RowsBuilder(("width", *self.sizes, *self.names), position, capacity)
        self.errors: list[tuple[float, Resolution, str]] = []
        self.chosen = ""  # the variant the spec chose
        self.advance = progress or (lambda n: None)

    def batch(self, widths: Sequence[float]) -> None:
        """Every configuration of ``widths``: stacked by structure, the rest one at a time."""
        groups, scalar = self.grouped(widths)
        for (count, _), members in groups.items():
            failed = self.stacked(members, self.ordered[:count])
            self.scalar([w for w, _ in members], failed)
        for width, resolutions in scalar:
            self.scalar([width], resolutions)

    def grouped(
        self, widths: Sequence[float]
    ) -> tuple[Groups, list[tuple[float, list[Resolution]]]]:
        """Widths expanded at their largest valid resolution, grouped by :func:`structure`.

        A group's key is also how many resolutions (the smallest) it stacks. Also the
        (width, resolutions) pairs to cost one configuration at a time: those above a
        width's largest valid resolution, and every one of a resolution-dependent width
        or one that fails even at the smallest resolution.
        """
        groups: Groups = {}
        scalar: list[tuple[float, list[Resolution]]] = []
        for width in widths:
            graph, count = self.largest(width)
            if graph is None or graph.resolution_dependent:
                scalar.append((width, list(self.ordered)))
                continue
            groups.setdefault((count, structure(graph)), []).append((width, graph))
            if count < len(self.ordered):
                scalar.append((width, list(self.ordered[count:])))
        return groups, scalar

    def largest(self, width: float) -> tuple[Graph | None, int]:
        """The width's graph at the largest resolution that expands, and how many are <= it.

        The largest resolution first; when it fails (a layer above the limits), halving
        between the smallest (which must expand) and it: a dozen expansions for 65,536
        resolutions. (None, 0) when the smallest fails too.
        """
        low, high = 0, len(self.ordered) - 1
        graph = self.expanded(width, self.ordered[high])
        if graph is not None:
            return graph, len(self.ordered)
        graph = self.expanded(width, self.ordered[low])
        while graph is not None and high - low > 1:
            middle = (low + high) // 2
            found = self.expanded(width, self.ordered[middle])
            low, high, graph = (middle, high, found) if found is not None else (low, middle, graph)
        return graph, low + 1 if graph is not None else 0

    def expanded(self, width: float, resolution: Resolution) -> Graph | None:
        """The graph at (width, resolution), or None when it does not expand."""
        try:
            graph = self.config._replace(width=width, resolution=resolution).expand(
                self.data, self.file
            )
        except SpecError:
            return None
        self.chosen = graph.variant
        return graph

    def stacked(
        self, members: Sequence[tuple[float, Graph]], ordered: Sequence[Resolution]
    ) -> list[Resolution]:
        """Cost a group at ``ordered`` in vectorized passes of at most :data:`CHUNK` configurations.

        A pass that fails is split in halves until the failing resolutions stand
        alone; those are returned, to be costed one configuration at a time.
        """
        import numpy as np

        graphs, widths = [g for _, g in members], [w for w, _ in members]
        step = max(1, CHUNK // len(members))
        pending = [ordered[i : i + step] for i in range(0, len(ordered), step)][::-1]
        failed: list[Resolution] = []
        while pending:
            part = pending.pop()
            try:
                figures = stacked_figures(graphs, part, self.config, self.names)
            except (ShapeError, SpecError, OverflowError):  # overflow: exact, one at a time
                middle = len(part) // 2
                pending += [part[middle:], part[:middle]] if middle else []
                failed += [] if middle else part
                continue
            heights_widths = np.asarray([sides(r) for r in part]).T
            block = {"width": np.repeat(widths, len(part))}
            for name, values in zip(self.sizes, heights_widths, strict=False):
                block[name] = np.tile(values, len(widths))
            self.rows.add({**block, **figures})
            self.advance(len(widths) * len(part))
        return failed

    def scalar(self, widths: Sequence[float], resolutions: Sequence[Resolution]) -> None:
        """Cost each configuration on its own (expand, then cost); failures go to ``errors``."""
        for width in widths:
            rows: list[dict[str, Any]] = []
            for res in resolutions:
                try:
                    sized = self.config._replace(width=width, resolution=res)
                    cost = sized.cost(sized.expand(self.data, self.file))
                    size = dict(zip(self.sizes, sides(res), strict=False))
                    rows.append({"width": width, **size, **scalar_figures(cost, self.names)})
                except SpecError as exc:
                    self.errors.append((width, res, str(exc)))
            if rows:
                self.rows.add({name: [row[name] for row in rows] for name in self.rows.names})
            self.advance(len(resolutions))


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


def spatial_sizes(graph: Graph, resolutions: Sequence[Resolution]) -> dict[str, tuple[Any, Any]]:
    """Heights and widths of every tensor as int64 arrays over ``resolutions``.

    Runs the op shape rules (which accept arrays) once; a ShapeError means some
    resolution is too small for the network.
    """
    import numpy as np

    heights, widths = np.asarray([sides(r) for r in resolutions], dtype=np.int64).T
    shapes: dict[str, Any] = {INPUT: (graph.input_shape[0], heights, widths)}
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
    graphs: Sequence[Graph],
    resolutions: Sequence[Resolution],
    config: Config,
    names: Sequence[str],
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

    Default: least x (e.g. MAC) for the most y (e.g. MAdds): see :data:`FRONT`. A sweep's
    :class:`~lightcost.analysis.rows.Rows` find it on their columns (same rows).
    """
    if isinstance(rows, Rows):
        return list(rows.front(x, y, x_max, y_max))
    sign_x, sign_y = (-1 if x_max else 1), (-1 if y_max else 1)
    ordered = sorted(rows, key=lambda r: (sign_x * r[x], sign_y * r[y]))
    front: list[Mapping[str, Any]] = []
    for row in ordered:
        if not front or sign_y * row[y] < sign_y * front[-1][y]:
            front.append(row)
    return front
