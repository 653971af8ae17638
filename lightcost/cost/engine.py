"""The cost engine: a registry of pure per-op cost rules and the records they fill.

Conventions (every figure lightcost prints follows these; see README "Conventions"):

* **MAdds**: multiply-adds of convolutions, fully connected layers and the two
  1x1 convs inside squeeze-excite; one multiply plus one add = 1; bias adds are
  not MAdds. FLOPs = 2 x MAdds. Batch 1.
* **Other ops**: element-wise operations, per output element: BN 2 (scale,
  shift), bias 1, each activation :data:`ACT_OPS`, add 1 per extra input, mul 1,
  pooling k*k per output element (global: h*w per channel), SE scaling 1.
* **Params**, three conventions (:data:`PARAM_CONVENTIONS`): ``trainable``
  (PyTorch: weights, biases, BN gamma and beta), ``weights`` (conv and FC
  weights only: the TF-slim and paper tables), ``deployed`` (BN folded into the
  conv, leaving one bias per output channel).
* **MAC** (memory access cost, ShuffleNetV2 Sec. 2): elements read and written
  by the layer's kernels under an execution model (:mod:`lightcost.cost.memory`;
  ``fused``, the default: one kernel of inputs + output + deployed params).
* **Latency**: with a device profile, a roofline per kernel (:mod:`lightcost.cost.latency`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from itertools import pairwise
from typing import TYPE_CHECKING, NamedTuple

from lightcost.core.graph import Graph, Node, Shape, count, elements, readers
from lightcost.cost.memory import (
    DTYPES,
    EXECUTIONS,
    ActivationMemory,
    Kernel,
    activation_memory,
    kernels,
)
from lightcost.ops import truth

if TYPE_CHECKING:
    from fractions import Fraction

    from lightcost.cost.latency import Device

ACT_OPS = {
    "none": 0,
    "relu": 1,
    "relu6": 2,
    "hsigmoid": 4,
    "hswish": 5,
    "sigmoid": 4,
    "swish": 5,
    "silu": 5,
    "tanh": 5,
}
PARAM_CONVENTIONS = {
    "trainable": "all trainable parameters as PyTorch counts them (weights, biases, BN gamma+beta)",
    "weights": "conv and FC weights only, no bias, no BN (TF-slim and paper tables)",
    "deployed": "inference parameters with BN folded into the conv bias",
}


class OpCost(NamedTuple):
    """What one layer costs, before a parameter convention is chosen."""

    weights: int = 0
    biases: int = 0
    bn: int = 0
    bn_folded: int = 0
    madds: int = 0
    other_ops: int = 0
    reads: int | None = None  # input elements read, when not all of every input

    def params(self, convention: str) -> int:
        """Parameter count under one of :data:`PARAM_CONVENTIONS`."""
        if convention == "weights":
            return self.weights
        if convention == "deployed":
            return self.weights + self.biases + self.bn_folded
        return self.weights + self.biases + self.bn


def _conv_like(node: Node, cin: int, groups: int) -> OpCost:
    c_out, h, w = node.out_shape
    a = node.attrs
    k = int(a["k"])
    weights = k * k * (cin // groups) * c_out
    out = elements(node.out_shape)
    has_bn, has_bias = bool(a["bn"]), bool(a["bias"])
    return OpCost(
        weights=weights,
        biases=c_out if has_bias else 0,
        bn=2 * c_out if has_bn else 0,
        bn_folded=c_out if has_bn and not has_bias else 0,
        madds=weights * h * w,
        other_ops=out * ((2 if has_bn else 0) + (1 if has_bias else 0) + ACT_OPS[str(a["act"])]),
    )


def _conv(node: Node) -> OpCost:
    return _conv_like(node, node.in_shapes[0][0], int(node.attrs["groups"]))


def _dwconv(node: Node) -> OpCost:
    cin = node.in_shapes[0][0]
    return _conv_like(node, cin, cin)


def _fc(node: Node) -> OpCost:
    features, out = elements(node.in_shapes[0]), node.out_shape[0]
    bias = bool(node.attrs["bias"])
    return OpCost(
        weights=features * out,
        biases=out if bias else 0,
        madds=features * out,
        other_ops=out * ((1 if bias else 0) + ACT_OPS[str(node.attrs["act"])]),
    )


def _bn(node: Node) -> OpCost:
    c = node.out_shape[0]
    return OpCost(bn=2 * c, bn_folded=2 * c, other_ops=2 * elements(node.out_shape))


def _activation(node: Node) -> OpCost:
    return OpCost(other_ops=ACT_OPS[node.op] * elements(node.out_shape))


def _pool(node: Node) -> OpCost:
    if node.attrs["global"]:
        return OpCost(other_ops=elements(node.in_shapes[0]))
    k = int(node.attrs["k"])
    return OpCost(other_ops=k * k * elements(node.out_shape))


def _add(node: Node) -> OpCost:
    per_element = len(node.inputs) - 1 + ACT_OPS[str(node.attrs["act"])]
    return OpCost(other_ops=per_element * elements(node.out_shape))


def _mul(node: Node) -> OpCost:
    return OpCost(other_ops=elements(node.out_shape))


def _se(node: Node) -> OpCost:
    c, squeeze = node.out_shape[0], count(node.attrs["squeeze"])
    bias = bool(node.attrs["bias"])
    pooled_and_scaled = 2 * elements(node.out_shape)
    activations = squeeze * ACT_OPS[str(node.attrs["act"])] + c * ACT_OPS[str(node.attrs["gate"])]
    return OpCost(
        weights=2 * c * squeeze,
        biases=squeeze + c if bias else 0,
        madds=2 * c * squeeze,
        other_ops=pooled_and_scaled + activations + (squeeze + c if bias else 0),
    )


def _free(node: Node) -> OpCost:
    """Data movement only (concat, split, shuffle, flatten, dropout, identity): no ops."""
    return OpCost()


def _split(node: Node) -> OpCost:
    """A channel split reads only its own part of the input."""
    return OpCost(reads=elements(node.out_shape))


COST_RULES: dict[str, Callable[[Node], OpCost]] = {
    "conv": _conv,
    "dwconv": _dwconv,
    "fc": _fc,
    "bn": _bn,
    "avgpool": _pool,
    "maxpool": _pool,
    "add": _add,
    "mul": _mul,
    "se": _se,
    "concat": _free,
    "split": _split,
    "shuffle": _free,
    "flatten": _free,
    "dropout": _free,
    "identity": _free,
    **{act: _activation for act in ACT_OPS if act != "none"},
}


def layer_type(node: Node) -> str:
    """The layer type used by ``--by op`` (MobileNetV1 paper Table 2 names)."""
    a = node.attrs
    groups = int(a["groups"]) if node.op == "conv" else 1
    cin, cout = node.in_shapes[0][0], node.out_shape[0]
    if node.op == "dwconv" or (groups > 1 and truth(cin == groups) and truth(cout == groups)):
        return f"Conv DW {a['k']}x{a['k']}"
    if node.op == "conv":
        return f"Conv {a['k']}x{a['k']}" + (" group" if groups > 1 else "")
    if node.op == "fc":
        return "Fully Connected"
    if node.op == "se":
        return "Squeeze-Excite"
    return node.op


def describe(node: Node) -> str:
    """A short label for a layer: ``conv 3x3 s2 relu6``, ``dwconv 3x3``, ``add``..."""
    a = node.attrs
    parts = [node.op]
    if node.op in ("conv", "dwconv") or (node.op.endswith("pool") and not a["global"]):
        parts.append(f"{a['k']}x{a['k']}")
        stride = a["stride"] or a["k"]
        if int(stride) != 1:
            parts.append(f"s{stride}")
    if node.op.endswith("pool") and a["global"]:
        parts.append("global")
    if node.op == "conv" and int(a["groups"]) > 1:
        parts.append(f"g{a['groups']}")
    if node.op in ("split", "shuffle"):
        parts.append(
            f"{a.get('index', '')}/{a['parts']}" if node.op == "split" else f"g{a['groups']}"
        )
    act = str(a.get("act", "none"))
    if act != "none":
        parts.append(act)
    return " ".join(parts)


class LayerCost(NamedTuple):
    """The cost of one layer under the chosen parameter convention."""

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
    """Figures summed over a group of layers (a block, a layer type, or the model)."""

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
        device: Device | None = None,
    ) -> None:
        self.graph = graph
        self.layers = layers
        self.params_convention = params_convention
        self.execution = execution
        self.dtype = dtype
        self.device = device

    @cached_property
    def activations(self) -> ActivationMemory:
        """Live activation bytes per step and their peak (:func:`memory.activation_memory`)."""
        return activation_memory(self.graph, DTYPES[self.dtype])

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
        if len(run) == 1 and run[0].path == path:
            return summarize(run[0].name, run[0].label, run)
        return summarize("_".join(path), f"block ({len(run)} layers)", run)


def cost_layer(
    node: Node,
    convention: str,
    execution: str = "fused",
    dtype: str = "fp32",
    device: Device | None = None,
) -> LayerCost:
    """Apply the op's cost rule to one node; its kernels under ``execution``; its latency."""
    cost = COST_RULES[node.op](node)
    run = kernels(node, cost, execution)
    mac = sum((k.mac for k in run), 0)
    latency = None
    if device is not None:
        from lightcost.cost.latency import layer_time  # lazy: only --device needs it

        latency = layer_time(run, device, dtype)
    return LayerCost(
        name=node.name,
        op=node.op,
        label=describe(node),
        type=layer_type(node),
        block=node.block,
        in_shapes=node.in_shapes,
        out_shape=node.out_shape,
        params=cost.params(convention),
        weights=cost.weights,
        biases=cost.biases,
        bn=cost.bn,
        madds=cost.madds,
        other_ops=cost.other_ops,
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
    device: Device | None = None,
) -> ModelCost:
    """Cost every node of ``graph`` under a parameter convention and an execution model.

    ``dtype`` sets the bytes per element of MAC and activation memory; with a
    ``device`` profile every layer also gets an estimated latency.
    """
    for value, known, what in (
        (convention, PARAM_CONVENTIONS, "parameter convention"),
        (execution, EXECUTIONS, "execution model"),
        (dtype, DTYPES, "dtype"),
    ):
        if value not in known:
            raise ValueError(f"unknown {what} '{value}' (known: {', '.join(known)})")
    if device is not None:
        device.flops(dtype)  # fail early when the profile has no peak for this dtype
    layers = tuple(cost_layer(node, convention, execution, dtype, device) for node in graph.nodes)
    return ModelCost(graph, layers, convention, execution, dtype, device)


class SeparablePair(NamedTuple):
    """A depthwise + pointwise pair against the standard conv it replaces (MobileNetV1 Sec. 3.1).

    ``ratio`` is separable / standard MAdds, exactly ``1/N + 1/Dk^2``.
    """

    depthwise: str
    pointwise: str
    kernel: int
    channels_in: int
    channels_out: int
    size: int
    standard_madds: int
    separable_madds: int

    @property
    def ratio(self) -> Fraction:
        """Separable over standard MAdds."""
        from fractions import Fraction  # lazy: fractions imports decimal (4 ms of start-up)

        return Fraction(self.separable_madds, self.standard_madds)

    @property
    def formula(self) -> Fraction:
        """``1/N + 1/Dk^2``."""
        from fractions import Fraction

        return Fraction(1, self.channels_out) + Fraction(1, self.kernel**2)


def separable_pairs(cost: ModelCost) -> list[SeparablePair]:
    """Every depthwise conv (multiplier 1) read only by a following 1x1 ungrouped conv."""
    nodes = cost.graph.nodes
    madds = {layer.name: layer.madds for layer in cost.layers}
    read = readers(nodes)
    pairs = []
    for dw, pw in pairwise(nodes):
        if (
            dw.op == "dwconv"
            and int(dw.attrs["multiplier"]) == 1
            and pw.op == "conv"
            and pw.inputs == (dw.name,)
            and read[dw.name] == 1
            and int(pw.attrs["k"]) == 1
            and int(pw.attrs["groups"]) == 1
            and int(pw.attrs["stride"]) == 1
        ):
            k, m, (n, h, w) = int(dw.attrs["k"]), dw.in_shapes[0][0], pw.out_shape
            pairs.append(
                SeparablePair(
                    dw.name,
                    pw.name,
                    k,
                    m,
                    n,
                    h,
                    k * k * m * n * h * w,
                    madds[dw.name] + madds[pw.name],
                )
            )
    return pairs
