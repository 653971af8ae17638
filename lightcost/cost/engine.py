"""The cost engine: every layer's cost by its op's rule (``OPS``), and the records they fill.

Conventions (every figure lightcost prints follows these; see README "Conventions"):

* **MAdds**: multiply-adds of convolutions, fully connected layers, the two
  1x1 convs inside squeeze-excite and products of two activations (matmul,
  attention); one multiply plus one add = 1; bias adds are not MAdds. FLOPs = 2
  x MAdds. Batch 1 unless a ``batch`` N is given: then MAdds, other ops, the
  activation part of MAC and activation memory are N times batch 1's, params
  and weight traffic unchanged, latency follows.
* **Other ops**: element-wise operations, per output element: BN 2 (scale,
  shift), bias 1, each activation its own (:mod:`lightcost.ops.activations`),
  add 1 per extra input, mul 1, pooling k*k per output element (global: h*w per
  channel), SE scaling 1. The rules live with their ops in :mod:`lightcost.ops`.
* **Params**, three conventions (:data:`PARAM_CONVENTIONS`): ``trainable``
  (PyTorch: weights, biases, BN gamma and beta), ``weights`` (conv and FC
  weights only: the TF-slim and paper tables), ``deployed`` (BN folded into the
  conv, leaving one bias per output channel). LayerNorm and GroupNorm
  parameters and embeddings (``OpCost.norm``, ``OpCost.embed``) count in
  ``trainable`` and ``deployed``, never in ``weights``.
* **MAC** (memory access cost, ShuffleNetV2 Sec. 2): elements read and written
  by the layer's kernels under an execution model (:mod:`lightcost.cost.memory`;
  ``fused``, the default: one kernel of inputs + output + deployed params).
* **Latency**: with a device profile, a roofline per kernel (:mod:`lightcost.cost.latency`).
"""

# No ``from __future__ import annotations`` here: the records' field types are real
# classes at run time, so help(LayerCost) shows ``name: str``, not ForwardRef('str').
from functools import cached_property
from typing import TYPE_CHECKING, Any, NamedTuple

from lightcost.core.errors import one_line
from lightcost.core.graph import Graph, Node, Shape
from lightcost.cost.memory import (
    DTYPES,
    EXECUTIONS,
    ActivationMemory,
    activation_memory,
    kernels,
)
from lightcost.ops import OPS, Kernel
from lightcost.ops.base import FLOPS_PER_MADD

if TYPE_CHECKING:
    from lightcost.cost.latency import Device

MAX_BATCH = 2**16  # inputs per batch (work figures are exact Python ints at any batch)
PARAM_CONVENTIONS = {
    "trainable": "all trainable parameters as PyTorch counts them (weights, biases, BN gamma+beta)",
    "weights": "conv and FC weights only, no bias, no BN (TF-slim and paper tables)",
    "deployed": "inference parameters with BN folded into the conv bias",
}


class LayerCost(NamedTuple):
    """The cost of one layer under the chosen parameter convention, on the ModelCost's batch
    (``madds``, ``other_ops`` and the activations of ``mac`` for N inputs; params once).

    ``name``, ``op``, ``label`` (``conv 3x3 s2``), ``type`` (``Conv 1x1``) and
    ``block`` (the block instance path) name it; shapes are (channels, height,
    width). ``params`` follows the ModelCost's convention; ``weights``,
    ``biases``, ``bn`` (gamma + beta) are counts. ``madds``: multiply-adds
    (FLOPs = 2 x madds); ``other_ops``: element-wise operations; ``mac``:
    memory access cost in elements, ``mac_bytes`` in bytes; ``kernels``: the
    kernels it runs as; ``latency``: estimated seconds on the ModelCost's device
    (None without one). :meth:`ModelCost.to_records` gives the same as dicts.
    """

    name: str
    op: str
    label: str
    type: str
    block: tuple[str, ...]
    in_shapes: tuple[Shape, ...]
    out_shape: Shape
    params: int
    weights: int
    biases: int
    bn: int
    madds: int
    other_ops: int
    mac: int  # elements, under the ModelCost's execution model
    mac_bytes: int = 0  # mac x bytes per element of the ModelCost's dtype
    kernels: tuple[Kernel, ...] = ()
    latency: float | None = None  # seconds on the ModelCost's device; None without one

    @property
    def path(self) -> tuple[str, ...]:
        """Block instance names followed by the layer name."""
        return (*self.block, self.name)


class Summary(NamedTuple):
    """Figures summed over a group of layers (a block, a layer type, or the model).

    Units as :class:`LayerCost`: counts, ``mac`` in elements, ``mac_bytes`` in
    bytes, ``latency`` in seconds (None unless every layer has one).
    """

    label: str
    op: str
    layers: int
    params: int
    madds: int
    other_ops: int
    mac: int
    out_shape: Shape | None = None
    mac_bytes: int = 0
    latency: float | None = None


SUMMED = ("params", "madds", "other_ops", "mac", "mac_bytes")


def summarize(label: str, op: str, layers: list[LayerCost]) -> Summary:
    """Sum the figures of ``layers``; the output shape is the last layer's.

    The latency is None unless every layer has one (costed with a device).
    """
    sums = {key: sum(getattr(layer, key) for layer in layers) for key in SUMMED}
    latencies = [layer.latency for layer in layers if layer.latency is not None]
    timed = bool(layers) and len(latencies) == len(layers)
    return Summary(
        label,
        op,
        len(layers),
        out_shape=layers[-1].out_shape if layers else None,
        latency=sum(latencies, 0.0) if timed else None,
        **sums,
    )


class ModelCost:
    """Per-layer costs of a graph plus totals and breakdowns (treat as read-only).

    ``execution`` and ``dtype`` are those of the MAC figures and activation
    memory; ``device`` is the profile of the latencies (None: no latency).
    A plain class rather than a dataclass: defining dataclasses costs start-up
    time (benchmarks/startup.py), and totals are cached on first use.
    """

    def __init__(
        self,
        graph: Graph,
        layers: tuple[LayerCost, ...],
        params_convention: str,
        execution: str = "fused",
        dtype: str = "fp32",
        device: "Device | None" = None,
        batch: int = 1,
    ) -> None:
        self.graph = graph
        self.layers = layers
        self.params_convention = params_convention
        self.execution = execution
        self.dtype = dtype
        self.device = device
        self.batch = batch

    @cached_property
    def activations(self) -> ActivationMemory:
        """Live activation bytes per step and their peak (:func:`memory.activation_memory`),
        for the whole batch."""
        return activation_memory(self.graph, DTYPES[self.dtype] * self.batch)

    def __repr__(self) -> str:
        g = self.graph
        total = self.total()
        variant = f" {g.variant}" if g.variant else ""
        latency = f", {total.latency * 1e3:.3f} ms" if total.latency is not None else ""
        return (  # the spec's name on one printable line
            f"<ModelCost {one_line(g.name + variant)} width {g.width:g} input "
            f"{'x'.join(map(str, g.input_shape))}: {len(self.layers)} layers, "
            f"{total.params:,} params ({self.params_convention}), {total.madds:,} MAdds, "
            f"{total.mac:,} MAC ({self.execution}, {self.dtype}){latency}>"
        )

    def _repr_html_(self) -> str:
        """A notebook's view: the totals and the figures per layer type, as an HTML table."""
        import html  # lazy: only notebooks ask

        heads = ("Layer type", "Layers", "Params", "MAdds", "MAC")
        rows = [*self.by_type(), self.total()]
        body = "".join(
            f"<tr><td>{html.escape(row.label)}</td>"
            + "".join(f"<td>{n:,}</td>" for n in (row.layers, row.params, row.madds, row.mac))
            + "</tr>"
            for row in rows
        )
        head = "".join(f"<th>{h}</th>" for h in heads)
        return (
            f"<p>{html.escape(repr(self))}</p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        )

    def to_records(self) -> list[dict[str, Any]]:
        """One plain dict per layer, with the keys and units of the JSON ``layers``."""
        return [layer_record(layer) for layer in self.layers]

    def to_dataframe(self) -> Any:
        """The records as a pandas DataFrame, one row per layer (needs pandas, not a dependency)."""
        from importlib import import_module

        try:
            pandas = import_module("pandas")  # lazy and optional: not a dependency
        except ImportError:
            raise ImportError(
                "ModelCost.to_dataframe needs pandas: pip install pandas "
                "(or use to_records(), plain dicts)"
            ) from None
        return pandas.DataFrame.from_records(self.to_records())

    def total(self) -> Summary:
        """All layers summed."""
        return self._total

    @cached_property
    def _total(self) -> Summary:
        return summarize("total", "", list(self.layers))

    def by_type(self) -> list[Summary]:
        """Figures per layer type (``Conv 1x1``, ``Conv DW 3x3``...), largest MAdds first."""
        groups: dict[str, list[LayerCost]] = {}
        for layer in self.layers:
            groups.setdefault(layer.type, []).append(layer)
        rows = [summarize(kind, kind, members) for kind, members in groups.items()]
        return sorted(rows, key=lambda s: (-s.madds, -s.params, s.label))

    def by_block(self, depth: int | None = None) -> list[Summary]:
        """Rows in execution order with block paths cut to ``depth`` levels and summed.

        ``depth=None`` gives one row per layer; ``depth=1`` one row per top-level
        layer or block instance.
        """
        rows: list[Summary] = []
        run: list[LayerCost] = []
        key: tuple[str, ...] = ()
        for layer in self.layers:
            path = layer.path if depth is None else layer.path[: max(depth, 1)]
            if run and path != key:
                rows.append(self._row(key, run))
                run = []
            key = path
            run.append(layer)
        if run:
            rows.append(self._row(key, run))
        return rows

    def _row(self, path: tuple[str, ...], run: list[LayerCost]) -> Summary:
        """A layer's own row; a block of one layer shows that layer's label (``conv 7x7 s2``)."""
        if len(run) == 1:
            return summarize(
                "_".join(path) if run[0].path != path else run[0].name, run[0].label, run
            )
        return summarize("_".join(path), f"block ({len(run)} layers)", run)


def layer_record(layer: LayerCost) -> dict[str, Any]:
    """One layer as a flat dict: the JSON record (``table --format json``, latency in seconds)."""
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
        "latency": layer.latency,
    }


def work_record(row: LayerCost | Summary) -> dict[str, int]:
    """The work figures of a layer or a summed row: MAdds, FLOPs, other ops, MAC."""
    return {
        "madds": row.madds,
        "flops": FLOPS_PER_MADD * row.madds,
        "other_ops": row.other_ops,
        "mac": row.mac,
        "mac_bytes": row.mac_bytes,
    }


def cost_layer(
    node: Node,
    convention: str,
    execution: str = "fused",
    dtype: str = "fp32",
    device: "Device | None" = None,
    batch: int = 1,
) -> LayerCost:
    """Apply the op's cost rule to one node; its kernels under ``execution``; its latency;
    work on ``batch`` inputs (params once)."""
    op = OPS[node.op]
    cost = op.cost(node)
    run = kernels(node, cost, execution, batch)
    mac = sum((k.mac for k in run), 0)
    latency = None
    if device is not None:
        from lightcost.cost.latency import layer_time  # lazy: only --device needs it

        latency = layer_time(run, device, dtype)
    return LayerCost(
        name=node.name,
        op=node.op,
        label=op.label(node),
        type=op.layer_type(node),
        block=node.block,
        in_shapes=node.in_shapes,
        out_shape=node.out_shape,
        params=cost.params(convention),
        weights=cost.weights,
        biases=cost.biases,
        bn=cost.bn,
        madds=cost.madds * batch,
        other_ops=cost.other_ops * batch,
        mac=mac,
        mac_bytes=mac * DTYPES[dtype],
        kernels=run,
        latency=latency,
    )


def cost_graph(
    graph: Graph,
    convention: str = "trainable",
    execution: str = "fused",
    dtype: str = "fp32",
    device: "Device | None" = None,
    batch: int = 1,
) -> ModelCost:
    """Cost every node of ``graph`` under a parameter convention and an execution model.

    ``dtype`` sets the bytes per element of MAC and activation memory; with a
    ``device`` profile every layer also gets an estimated latency. ``batch`` (1 to
    :data:`MAX_BATCH`) inputs at once: see the module's conventions.
    """
    if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= MAX_BATCH:
        raise ValueError(f"batch must be a whole number from 1 to {MAX_BATCH}, got {batch!r}")
    for value, known, what in (
        (convention, PARAM_CONVENTIONS, "parameter convention"),
        (execution, EXECUTIONS, "execution model"),
        (dtype, DTYPES, "dtype"),
    ):
        if value not in known:
            raise ValueError(f"unknown {what} '{value}' (known: {', '.join(known)})")
    if device is not None:
        device.flops(dtype)  # fail early when the profile has no peak for this dtype
    layers = tuple(
        cost_layer(node, convention, execution, dtype, device, batch) for node in graph.nodes
    )
    timed = device.graph_times(graph, dtype) if device is not None else None
    if timed is not None:  # a measured profile times the graph under the runtime's fusions
        layers = tuple(c._replace(latency=t * batch) for c, t in zip(layers, timed, strict=True))
    return ModelCost(graph, layers, convention, execution, dtype, device, batch)
