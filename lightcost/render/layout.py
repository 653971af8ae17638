"""A layered drawing of a layer graph (Sugiyama style), computed in bounded time.

Layers are longest paths from the input; an edge spanning several layers gets a
bend point in each layer it crosses (so a residual or an SE gate is drawn beside
the branch it skips, not through it), shared by the edges from the same source
(a tensor read by many later layers, as in DenseNet, is one column, not many).
Nodes are ordered within their layer by the barycentre of their neighbours
(:data:`SWEEPS` passes down and up) and placed at the mean x of their
predecessors, pushed apart to keep a gap of one column (a merge comes back
between its branches, so a deep network does not drift sideways). Coordinates
are in grid units: x a column (possibly fractional), y the layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from lightcost.core.graph import INPUT, Graph

SWEEPS = 4  # barycentre passes (down then up) per drawing
MAX_BENDS = 100_000  # bend points drawn, over all edges: past this, long edges are straight


class Layout(NamedTuple):
    """Positions of the input (index 0) and every node (index i + 1), and the edges' routes.

    ``edges`` are (source, target, bend points); a point is (x, layer).
    """

    x: tuple[float, ...]
    layer: tuple[int, ...]
    edges: tuple[tuple[int, int, tuple[tuple[float, int], ...]], ...]

    @property
    def depth(self) -> int:
        """Number of layers (the input's included)."""
        return max(self.layer) + 1

    @property
    def columns(self) -> tuple[float, float]:
        """The least and greatest x of the vertices and the bend points."""
        xs = [*self.x, *(x for _, _, bends in self.edges for x, _ in bends)]
        return min(xs), max(xs)


def predecessors(graph: Graph) -> list[list[int]]:
    """For the input (0) and every node (i + 1), the indices of the vertices it reads."""
    index = {INPUT: 0} | {node.name: i + 1 for i, node in enumerate(graph.nodes)}
    return [[]] + [
        sorted({index[name] for name in node.inputs if name in index}) for node in graph.nodes
    ]


def layered(preds: Sequence[Sequence[int]]) -> list[int]:
    """The layer of each vertex: one more than its deepest predecessor (execution order)."""
    layer = [0] * len(preds)
    for v, sources in enumerate(preds):
        layer[v] = 1 + max((layer[u] for u in sources), default=-1)
    return layer


def layout(graph: Graph) -> Layout:
    """The layered drawing of ``graph`` (module docstring)."""
    preds = predecessors(graph)
    layer = layered(preds)
    deepest: dict[int, int] = {}  # a vertex -> the layer of its deepest reader
    for v, sources in enumerate(preds):
        for u in sources:
            deepest[u] = max(deepest.get(u, 0), layer[v])
    spans = (layer[v] - layer[u] - 1 for v, sources in enumerate(preds) for u in sources)
    bend = sum(spans) <= MAX_BENDS
    # vertices: the real ones, then each source's chain of bend points (shared by its edges)
    up: list[list[int]] = [[] for _ in preds]
    level = list(layer)
    chains: dict[int, list[int]] = {}
    for u, bottom in deepest.items():
        chain, last = [], u
        for depth in range(layer[u] + 1, bottom) if bend else ():
            up.append([last])
            level.append(depth)
            last = len(up) - 1
            chain.append(last)
        chains[u] = chain

    def route(u: int, v: int) -> list[int]:
        return chains[u][: layer[v] - layer[u] - 1]

    for v, sources in enumerate(preds):
        up[v] = [(route(u, v) or [u])[-1] for u in sources]
    x = place(up, level)
    edges = tuple(
        (u, v, tuple((x[w], level[w]) for w in route(u, v)))
        for v, sources in enumerate(preds)
        for u in sources
    )
    return Layout(tuple(x[: len(preds)]), tuple(layer), edges)


def place(up: Sequence[Sequence[int]], level: Sequence[int]) -> list[float]:
    """Order each layer by barycentres, then give each vertex its x (module docstring)."""
    down: list[list[int]] = [[] for _ in up]
    for v, sources in enumerate(up):
        for u in sources:
            down[u].append(v)
    rows: list[list[int]] = [[] for _ in range(max(level) + 1)]
    for v, depth in enumerate(level):
        rows[depth].append(v)
    rank = [0.0] * len(up)
    for row in rows:
        for i, v in enumerate(row):
            rank[v] = i
    for sweep in range(SWEEPS):
        ordered = rows[1:] if sweep % 2 == 0 else rows[-2::-1]
        near = up if sweep % 2 == 0 else down
        for row in ordered:
            key = {v: mean([rank[u] for u in near[v]], rank[v]) for v in row}
            row.sort(key=key.__getitem__)
            for i, v in enumerate(row):
                rank[v] = i
    x = [0.0] * len(up)
    for row in rows:
        spread(row, [mean([x[u] for u in up[v]], 0.0) for v in row], x)
    return x


def spread(row: Sequence[int], wanted: Sequence[float], x: list[float]) -> None:
    """Set ``x`` of the vertices of ``row`` (in order) near ``wanted``, at least 1 apart."""
    placed: list[float] = []
    for want in wanted:
        placed.append(max(want, placed[-1] + 1) if placed else want)
    shift = mean([w - p for w, p in zip(wanted, placed, strict=True)], 0.0)
    for v, p in zip(row, placed, strict=True):
        x[v] = p + shift


def mean(values: Sequence[float], default: float) -> float:
    """The mean of ``values``, or ``default`` when there are none."""
    return sum(values) / len(values) if values else default
