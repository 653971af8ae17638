"""Attention regions: an exporter's self-attention, found around each Softmax, as one layer.

PyTorch exports attention as dozens of nodes (projections, Reshape, Transpose,
Split or Gather of a packed QKV, a scale, MatMul, Softmax, MatMul, the output
projection). :func:`find_regions` finds, before the walk, every Softmax whose
input is QK^T (a MatMul of two activations, through a scalar Mul or Div and a
constant bias Add) and whose output only an AV MatMul reads, traces Q, K and V
back through views and scalar scales to their projections (a MatMul by a
constant [+ Add bias], a Gemm or a 1x1 Conv) and to the one tensor they read,
and AV forward through views to the output projection and the views after it,
up to a tensor of the input's lightcost shape. A region becomes one
``attention`` layer (:mod:`lightcost.ops.attention`) when nothing outside it
reads a tensor inside it and its MAdds equal the region's MatMul, Gemm and Conv
multiply-adds; anything else is left to the walk, which names what it cannot map.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from lightcost.core.graph import AttrValue, Node
from lightcost.ops import OPS

if TYPE_CHECKING:
    import onnx

    from lightcost.interop.onnx.model import OnnxModel

VIEWS = frozenset(
    {"Reshape", "Transpose", "Squeeze", "Unsqueeze", "Gather", "Split", "Slice", "Identity"}
)
PASS = frozenset({"Dropout", "Identity"})  # between Softmax and AV
MAX_TRAIL = 64  # nodes followed from one tensor to its projection (bounded walks)


class Projection(NamedTuple):
    """A linear layer: its nodes, the tensor it reads, its output, features and bias."""

    nodes: tuple[onnx.NodeProto, ...]
    source: str
    output: str
    features: int
    bias: bool


class Reduction(NamedTuple):
    """K and V reductions: the attention attributes they give, and their nodes."""

    attrs: dict[str, AttrValue]
    nodes: tuple[onnx.NodeProto, ...]


class Region(NamedTuple):
    """One attention layer: its nodes, input, output, attributes, and the node naming it."""

    nodes: tuple[onnx.NodeProto, ...]
    x: str
    output: str
    attrs: dict[str, AttrValue]
    anchor: onnx.NodeProto


class _Finder:
    def __init__(self, model: OnnxModel) -> None:
        self.m = model
        self.producer = {out: node for node in model.nodes for out in node.output}

    def data(self, node: onnx.NodeProto) -> list[str]:
        """The inputs of ``node`` that are activations, not constants."""
        return [t for t in node.input if t and self.m.const_dims(t) is None]

    def scalar_op(self, node: onnx.NodeProto) -> bool:
        """A Mul or Div by a one-value constant (an attention scale)."""
        consts = [dims for t in node.input if (dims := self.m.const_dims(t)) is not None]
        return (
            node.op_type in ("Mul", "Div")
            and len(consts) == 1
            and math.prod(consts[0]) == 1
            and len(self.data(node)) == 1
        )

    def projection(self, node: onnx.NodeProto | None) -> Projection | None:
        """The linear layer ending at ``node``: MatMul by a 2-D constant [+ Add of a constant],
        Gemm with a constant weight, or a 1x1 Conv of one group."""
        if node is None:
            return None
        if node.op_type == "Add" and len(self.data(node)) == 1 and len(node.input) == 2:
            matmul = self.producer.get(self.data(node)[0])  # one level: no walk up Add chains
            inner = self.projection(matmul) if matmul and matmul.op_type == "MatMul" else None
            if inner is None:
                return None
            return Projection(
                (*inner.nodes, node), inner.source, node.output[0], inner.features, True
            )
        weight = self.m.const_dims(node.input[1]) if len(node.input) > 1 else None
        if weight is None or len(self.data(node)) != 1:
            return None
        bias = len(node.input) > 2 and bool(node.input[2])
        if node.op_type == "MatMul" and len(weight) == 2:
            return Projection((node,), node.input[0], node.output[0], weight[1], False)
        if node.op_type == "Gemm" and len(weight) == 2 and not self.m.attr(node, "transA", 0):
            features = weight[0] if self.m.attr(node, "transB", 0) else weight[1]
            return Projection((node,), node.input[0], node.output[0], features, bias)
        one = list(self.m.attr(node, "kernel_shape", weight[2:])) == [1, 1]
        if (
            node.op_type == "Conv"
            and len(weight) == 4
            and one
            and self.m.attr(node, "group", 1) == 1
        ):
            return Projection((node,), node.input[0], node.output[0], weight[0], bias)
        return None

    def back(self, tensor: str, trail: list[onnx.NodeProto]) -> Projection | None:
        """The projection ``tensor`` comes from, through views and scalar scales."""
        for _ in range(MAX_TRAIL):
            node = self.producer.get(tensor)
            if node is None:
                return None
            found = self.projection(node)
            if found is not None:
                return found
            if not (node.op_type in VIEWS or self.scalar_op(node)) or len(self.data(node)) != 1:
                return None
            trail.append(node)
            tensor = self.data(node)[0]
        return None

    def origin(self, tensor: str, trail: list[onnx.NodeProto]) -> str:
        """The tensor a projection's input is a view of, when only the projection reads it."""
        for _ in range(MAX_TRAIL):
            node = self.producer.get(tensor)
            if (
                node is None
                or node.op_type not in VIEWS
                or len(self.m.readers.get(tensor, [])) != 1
            ):
                return tensor
            trail.append(node)
            tensor = self.data(node)[0]
        return tensor

    def forward(
        self, tensor: str, trail: list[onnx.NodeProto], until: Callable[[str], bool] | None = None
    ) -> str:
        """Follow views from ``tensor`` (each the only reader) while ``until(t)`` is false."""
        for _ in range(MAX_TRAIL):
            if until is not None and until(tensor):
                return tensor
            node = self.m.only_reader(tensor)
            if node is None or node.op_type not in VIEWS or len(node.output) != 1:
                return tensor
            trail.append(node)
            tensor = node.output[0]
        return tensor

    def scores(self, softmax: onnx.NodeProto, trail: list[onnx.NodeProto]) -> tuple[str, int]:
        """QK^T's output before the scale and bias, and the bias table's size (0: none)."""
        tensor, table = softmax.input[0], 0
        for _ in range(MAX_TRAIL):
            node = self.producer.get(tensor)
            if node is None:
                break
            if self.scalar_op(node):
                trail.append(node)
                tensor = self.data(node)[0]
            elif node.op_type == "Add" and len(node.input) == 2 and not table:
                table, tensor = self.bias(node, trail)
                if not table:
                    break
            else:
                break
        return tensor, table

    def bias(self, add: onnx.NodeProto, trail: list[onnx.NodeProto]) -> tuple[int, str]:
        """Learned biases added to the scores: a constant, or a Gather of a constant table by
        constant indices (EfficientFormer); its size and the scores' tensor (0: none)."""
        for index, tensor in enumerate(add.input):
            other = add.input[1 - index]
            table = self.m.const_dims(tensor)
            gather = self.producer.get(tensor)
            if (
                table is None
                and gather is not None
                and gather.op_type == "Gather"
                and not self.data(gather)
                and self.m.readers.get(tensor) == [add]
            ):
                table = self.m.const_dims(gather.input[0])
                trail.append(gather)
            if table is not None and self.m.const_dims(other) is None:
                trail.append(add)
                return math.prod(table), other
        return 0, add.input[0]

    def region(self, softmax: onnx.NodeProto) -> Region | None:
        trail: list[onnx.NodeProto] = [softmax]
        scores, table = self.scores(softmax, trail)
        qk = self.producer.get(scores)
        probs = softmax.output[0]
        av = self.m.only_reader(probs)
        for _ in range(MAX_TRAIL):
            if av is None or av.op_type not in PASS:
                break
            trail.append(av)
            probs = av.output[0]
            av = self.m.only_reader(probs)
        if qk is None or av is None or qk.op_type != "MatMul" or av.op_type != "MatMul":
            return None
        if len(self.data(qk)) != 2 or len(self.data(av)) != 2 or av.input[0] != probs:
            return None
        trail += [qk, av]
        q, k, v = (self.back(t, trail) for t in (qk.input[0], qk.input[1], av.input[1]))
        after = self.forward(av.output[0], trail)
        out = self.projection(self.m.only_reader(after))
        if out is not None and out.nodes[-1].op_type == "MatMul":
            out = self.projection(self.m.only_reader(out.output)) or out
        if q is None or k is None or v is None or out is None:
            return None
        x = self.origin(q.source, trail)
        reduced = self.reduced(x, (k, v), trail)
        if reduced is None:
            return None
        shape = self.m.shape(x, softmax)
        end = self.forward(out.output, trail, lambda t: self.m.shape(t, softmax) == shape)
        nodes = {id(n): n for n in (*trail, *q.nodes, *k.nodes, *v.nodes, *out.nodes)}
        nodes.update((id(n), n) for n in reduced.nodes)
        attrs = self.attrs(x, (q, k, v, out), (qk, av), table, reduced)
        if attrs is None or not self.closed(nodes, end):
            return None
        return Region(tuple(nodes.values()), x, end, attrs, softmax)

    def reduced(
        self, x: str, kv: tuple[Projection, Projection], trail: list[onnx.NodeProto]
    ) -> Reduction | None:
        """How K and V reach ``x``: directly, or each through its own depthwise strided Conv
        [+ BatchNormalization] (timm's MultiQueryAttention2d); None: otherwise."""
        sources = [self.origin(p.source, trail) for p in kv]
        if sources == [x, x]:
            return Reduction({}, ())
        found = [self.reduction(t, x) for t in sources]
        if found[0] is None or found[1] is None or found[0].attrs != found[1].attrs:
            return None
        return Reduction(found[0].attrs, found[0].nodes + found[1].nodes)

    def reduction(self, tensor: str, x: str) -> Reduction | None:
        node, nodes = self.producer.get(tensor), []
        bn = node is not None and node.op_type == "BatchNormalization"
        if node is not None and bn:
            nodes.append(node)
            node = self.producer.get(node.input[0])
        if node is None or node.op_type != "Conv" or self.data(node) != [x]:
            return None
        weight = self.m.const_dims(node.input[1]) or []
        strides = list(self.m.attr(node, "strides", [1, 1]))
        group = int(self.m.attr(node, "group", 1))
        square = len(weight) == 4 and weight[2] == weight[3] and len(set(strides)) == 1
        if not square or weight[1] != 1 or group != weight[0] or strides[0] < 2:
            return None
        attrs: dict[str, AttrValue] = {
            "kv_stride": int(strides[0]),
            "kv_kernel": weight[2],
            "kv_bn": bn,
            "kv_bias": len(node.input) > 2 and bool(node.input[2]),
        }
        return Reduction(attrs, (*nodes, node))

    def attrs(
        self,
        x: str,
        projections: tuple[Projection, Projection, Projection, Projection],
        products: tuple[onnx.NodeProto, onnx.NodeProto],
        table: int,
        reduced: Reduction,
    ) -> dict[str, AttrValue] | None:
        """The attention attributes, or None when its MAdds are not the region's."""
        q, k, v, out = projections
        qk, av = products
        c, s, n = self.m.shape(x, qk)
        scores = [int(d or 0) for d in self.m.dims(qk.output[0])]
        rows = s > 1 and (  # a sequence per row
            self.m.order(x) == "hwc" or (scores[-1] == n and not reduced.attrs)
        )
        seqs = s if rows else 1
        d, dv = int(self.m.dims(qk.input[0])[-1] or 0), int(self.m.dims(av.input[1])[-1] or 0)
        packed = q.nodes[0] is k.nodes[0]
        # batches of the scores: sequences x heads (or x K/V heads, queries grouped as rows)
        heads = math.prod(scores[:-2]) // max(seqs, 1) if packed or not d else q.features // d
        if not heads or not d or not dv:
            return None
        kv = (q.features - heads * d) // (d + dv) if packed else k.features // d
        attrs: dict[str, AttrValue] = {"heads": heads}
        optional: dict[str, AttrValue] = {
            "head_dim": d if c % heads or d != c // heads else 0,
            "v_dim": dv if dv != d else 0,
            "kv_heads": kv if kv != heads else 0,
            "qkv_bias": q.bias or k.bias or v.bias,
            "out_bias": out.bias,
            "bias_table": table,
            "tokens": "w" if seqs > 1 else "hw",
            **reduced.attrs,
        }
        defaults = {name: attr.default for name, attr in OPS["attention"].attrs.items()}
        attrs.update({key: value for key, value in optional.items() if value != defaults[key]})
        if out.features != c:
            attrs["out"] = out.features
        convs = [n for n in reduced.nodes if n.op_type == "Conv"]
        return attrs if self.madds(x, attrs, products, projections, convs) else None

    def madds(
        self,
        x: str,
        attrs: dict[str, AttrValue],
        products: tuple[onnx.NodeProto, onnx.NodeProto],
        projections: tuple[Projection, ...],
        convs: list[onnx.NodeProto],
    ) -> bool:
        """Whether the layer's MAdds equal the region's products', projections' and the
        K and V reductions'."""
        opdef = OPS["attention"]
        full = {name: attr.default for name, attr in opdef.attrs.items()} | attrs
        shape = self.m.shape(x, products[0])
        full.setdefault("out", shape[0])
        if full["out"] == "in":
            full["out"] = shape[0]
        try:
            out = opdef.shape(full, [shape])
        except ValueError:
            return False
        layer = Node("attention", "attention", full, (x,), (shape,), out)
        counted = sum(self.product(node) for node in products)
        unique = {id(p.nodes[0]): p for p in projections}
        counted += sum(self.linear(p) for p in unique.values())
        counted += sum(self.linear(Projection((c,), "", "", 1, False)) for c in convs)
        return opdef.cost(layer).madds == counted

    def product(self, node: onnx.NodeProto) -> int:
        """Multiply-adds of a MatMul of two activations: output elements x the inner size."""
        out = [int(d or 0) for d in self.m.dims(node.output[0])]
        return math.prod(out) * int(self.m.dims(node.input[0])[-1] or 0)

    def linear(self, projection: Projection) -> int:
        """Multiply-adds of a projection: output elements x its input features."""
        node = projection.nodes[0]
        weight = self.m.const_dims(node.input[1]) or [0]
        out = math.prod(int(d or 0) for d in self.m.dims(node.output[0]))
        fan_in = (
            math.prod(weight[1:])
            if node.op_type == "Conv"
            else math.prod(weight) // projection.features
        )
        return out * fan_in

    def closed(self, nodes: dict[int, onnx.NodeProto], end: str) -> bool:
        """Whether only region nodes read the tensors the region makes, but its output."""
        made = {t for node in nodes.values() for t in node.output if t != end}
        return not any(
            id(reader) not in nodes for t in made for reader in self.m.readers.get(t, [])
        ) and not (made & self.m.outputs)


def find_regions(model: OnnxModel) -> dict[int, Region]:
    """The attention regions of ``model``, by the id of their first node in the walk."""
    finder = _Finder(model)
    order = {id(node): index for index, node in enumerate(model.nodes)}
    regions: dict[int, Region] = {}
    taken: set[int] = set()
    for node in model.nodes:
        if node.op_type != "Softmax":
            continue
        try:
            region = finder.region(node)
        except Exception:  # a malformed node inside: the walk reports it
            region = None
        ids = {id(n) for n in region.nodes} if region is not None else set()
        if region is not None and not ids & taken:
            taken |= ids
            regions[min(ids, key=order.__getitem__)] = region
    return regions
