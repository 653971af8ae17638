"""Multi-head self-attention ``attention``: one composite layer, MHA, MQA, GQA, reduced K/V.

The input (C, H, W) holds tokens of C features: ``tokens: hw`` (the default)
attends all H x W positions as one sequence (a ``(D, 1, N)`` token sequence, or
a 2-D map as MobileNetV4's Mobile MQA and EfficientFormer do), ``tokens: w``
attends each of the H rows as its own sequence of W tokens (MobileViT's
unfolded ``(C, P, N)``: P sequences of N tokens). Per sequence of N queries
and Nk keys, with h = ``heads``, d = ``head_dim`` (default C / heads), dv =
``v_dim`` (default d), g = ``kv_heads`` (default h; 1 is multi-query, a divisor
of h grouped-query) and ``out`` output channels (default C):

* MAdds: Q projection N x C x h*d, K and V projections Nk x C x g*(d + dv),
  QK^T h x N x Nk x d, AV h x N x Nk x dv, output projection N x h*dv x out.
* ``kv_stride`` s > 1 reduces K and V first, each by its own depthwise
  ``kv_kernel`` x ``kv_kernel`` conv of stride s (padding same) and a BN, as
  timm's MultiQueryAttention2d: Nk = ceil(H/s) x ceil(W/s) (``tokens: hw`` only);
  ``kv_bn: false`` drops the BN, ``kv_bias: true`` gives the conv a bias (an
  export with the BN folded into it), as a conv's ``bn`` and ``bias``.
* Params: the projections' weights, biases with ``qkv_bias`` (h*d + g*(d + dv))
  and ``out_bias`` (out), the reductions' weights and BN, and ``bias_table``
  learned position biases added to the scores (EfficientFormer's
  attention_biases; ``OpCost.embed``).
* Other ops: bias adds 1 per projected element; per score (h x N x Nk) the
  scale 1, the softmax 5 (:mod:`lightcost.ops.transformer`) and the bias-table
  add 1; the reductions' BN 2 per element.

Export: 1x1 Convs, Reshape and Transpose to (batch, rows, d), MatMul, Mul by
the scale, Softmax, MatMul, back and the output Conv; it imports back as those
layers (conv, reshape, transpose, matmul, softmax) with the same figures. A
``bias_table`` exports as an Add of one bias per head and key (imported as a
``pos_embed``); one of another size is not exported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from lightcost.core.errors import SpecError
from lightcost.core.graph import AttrValue, Node, Shape, count
from lightcost.ops.base import (
    REQUIRED,
    Attr,
    Attrs,
    OpCost,
    OpDef,
    ShapeError,
    check_work,
    label,
    truth,
)
from lightcost.ops.conv import conv_node, pointwise_node
from lightcost.ops.norm import batchnorm
from lightcost.ops.transformer import SOFTMAX_OPS

if TYPE_CHECKING:
    from lightcost.ops.protocols import Emitter


class Dims(NamedTuple):
    """The sizes of one attention layer (ints, or numpy arrays in a sweep)."""

    c: int  # input channels
    heads: int
    d: int  # query and key dim per head
    dv: int  # value dim per head
    kv: int  # key/value heads
    s: int  # sequences
    n: int  # queries per sequence
    nk: int  # keys per sequence
    out: int


def _dims(attrs: Attrs, shape: Shape, out: int) -> Dims:
    c, h, w = shape
    heads = int(attrs["heads"])
    d = count(attrs["head_dim"]) or c // heads
    dv = count(attrs["v_dim"]) or d
    kv = int(attrs["kv_heads"]) or heads
    stride = int(attrs["kv_stride"])
    if attrs["tokens"] == "w":
        return Dims(c, heads, d, dv, kv, h, w, w, out)
    nk = (-(-h // stride)) * (-(-w // stride))
    return Dims(c, heads, d, dv, kv, 1, h * w, nk, out)


def _madds(x: Dims, reduce: bool, k: int) -> int:
    """Projections, QK^T and AV, and the K and V reductions."""
    projections = x.n * x.c * x.heads * x.d + x.nk * x.c * x.kv * (x.d + x.dv)
    products = x.heads * x.n * x.nk * (x.d + x.dv) + x.n * x.heads * x.dv * x.out
    return x.s * (projections + products) + (2 * k * k * x.c * x.nk if reduce else 0)


def _shape(attrs: Attrs, shapes: list[Shape]) -> Shape:
    c, h, w = shapes[0]
    heads, kv = int(attrs["heads"]), int(attrs["kv_heads"]) or int(attrs["heads"])
    if heads % kv:
        raise ShapeError(f"kv_heads={kv} must divide heads ({heads})")
    if truth(c % heads) and not count(attrs["head_dim"]):
        raise ShapeError(f"heads={heads} must divide the channels ({c}) unless head_dim is given")
    if int(attrs["kv_stride"]) > 1 and attrs["tokens"] == "w":
        raise ShapeError("kv_stride reduces a 2-D map: it needs tokens: hw")
    out = count(attrs["out"])
    x = _dims(attrs, shapes[0], out)
    check_work(_madds(x, int(attrs["kv_stride"]) > 1, int(attrs["kv_kernel"])), "attention")
    return (out, h, w)


def _cost(node: Node) -> OpCost:
    a = node.attrs
    x = _dims(a, node.in_shapes[0], node.out_shape[0])
    reduce, k = int(a["kv_stride"]) > 1, int(a["kv_kernel"])
    qkv = x.heads * x.d + x.kv * (x.d + x.dv)
    scores = x.s * x.heads * x.n * x.nk
    qkv_bias, out_bias = bool(a["qkv_bias"]), bool(a["out_bias"])
    table = count(a["bias_table"])
    bias_ops = x.s * (x.n * x.heads * x.d + x.nk * x.kv * (x.d + x.dv)) if qkv_bias else 0
    reduced = 2 * x.c * x.nk if reduce else 0  # elements of the reduced K and V inputs
    kv_bn, kv_bias = reduce and bool(a["kv_bn"]), reduce and bool(a["kv_bias"])
    return OpCost(
        weights=x.c * qkv + x.heads * x.dv * x.out + (2 * k * k * x.c if reduce else 0),
        biases=(qkv if qkv_bias else 0) + (x.out if out_bias else 0) + (2 * x.c if kv_bias else 0),
        bn=4 * x.c if kv_bn else 0,
        bn_folded=2 * x.c if kv_bn and not kv_bias else 0,
        embed=table,
        madds=_madds(x, reduce, k),
        other_ops=bias_ops
        + (x.s * x.n * x.out if out_bias else 0)
        + scores * (1 + SOFTMAX_OPS + (1 if table else 0))
        + reduced * ((2 if kv_bn else 0) + (1 if kv_bias else 0)),
    )


def _label(node: Node) -> str:
    a = node.attrs
    kv = int(a["kv_heads"]) or int(a["heads"])
    parts = [f"h{a['heads']}", *([f"kv{kv}"] if kv != int(a["heads"]) else [])]
    stride = int(a["kv_stride"])
    return label(node, *parts, *([f"s{stride}"] if stride > 1 else []))


def _layer_type(node: Node) -> str:
    return "Attention"


class _Export:
    """The export of one attention layer: tensors [1, C, H, W], batches of matrices."""

    def __init__(self, emitter: Emitter, node: Node) -> None:
        self.e, self.node, self.name = emitter, node, node.name
        self.x = _dims(node.attrs, node.in_shapes[0], node.out_shape[0])

    def reshape(self, t: str, dims: list[int], name: str) -> str:
        shape = self.e.ints(f"{self.name}/{name}_shape", [1, *dims])
        return self.e.emit("Reshape", [t, shape], f"{self.name}/{name}", 4)

    def transpose(self, t: str, perm: list[int], name: str) -> str:
        return self.e.emit("Transpose", [t], f"{self.name}/{name}", 4, perm=perm)

    def project(self, t: str, shape: Shape, out: int, bias: bool, name: str) -> str:
        return pointwise_node(self.e, t, shape, f"{self.name}/{name}", out, bias)

    def heads(self, t: str, per_head: int, heads: int, n: int, name: str) -> str:
        """(heads * per_head) x S x N -> (S * heads, per_head, N): the per-head matrices."""
        x = self.x
        if x.s > 1:
            t = self.transpose(t, [0, 2, 1, 3], f"{name}_first")
        return self.reshape(t, [x.s * heads, per_head, n], f"{name}_heads")

    def run(self) -> str:
        x, a, e = self.x, self.node.attrs, self.e
        c, h, w = self.node.in_shapes[0]
        inp = e.as4d(e.inputs(self.node)[0], self.node.in_shapes[0])
        keys, kv_shape = inp, (c, h, w)
        stride, k = int(a["kv_stride"]), int(a["kv_kernel"])
        q = self.reshape(self.project(inp, (c, h, w), x.heads * x.d, bool(a["qkv_bias"]), "q"),
                         [x.heads * x.d, x.s, x.n], "q_seq")  # fmt: skip
        sources = {}
        for which in ("k", "v"):
            keys = inp
            if stride > 1:
                down: dict[str, AttrValue] = {
                    "k": k,
                    "stride": stride,
                    "dilation": 1,
                    "padding": "same",
                    "bias": bool(a["kv_bias"]),
                }
                keys = conv_node(e, inp, (c, h, w), f"{self.name}/{which}_down", c, c, down)
                if a["kv_bn"]:
                    keys = batchnorm(e, keys, c, f"{self.name}/{which}_norm")
                kv_shape = (c, -(-h // stride), -(-w // stride))
            dim = x.d if which == "k" else x.dv
            proj = self.project(keys, kv_shape, x.kv * dim, bool(a["qkv_bias"]), which)
            sources[which] = self.reshape(proj, [x.kv * dim, x.s, x.nk], f"{which}_seq")
        group = x.heads // x.kv
        q = self.transpose(self.heads(q, x.d, x.heads, x.n, "q"), [0, 1, 3, 2], "q_rows")
        q = self.reshape(q, [x.s * x.kv, group * x.n, x.d], "q_groups")
        key_t = self.heads(sources["k"], x.d, x.kv, x.nk, "k")
        scores = e.emit("MatMul", [q, key_t], f"{self.name}/scores", 4)
        table = count(a["bias_table"])
        if table:  # one bias per head and key position, broadcast over the queries
            biases = e.random(f"{self.name}/biases", [1, x.s * x.kv, 1, table // (x.s * x.kv)], 1)
            scores = e.emit("Add", [scores, biases], f"{self.name}/biased", 4)
        scores = e.emit("Mul", [scores, e.scalar(f"{self.name}/scale", x.d**-0.5)],
                        f"{self.name}/scaled", 4)  # fmt: skip
        probs = e.emit("Softmax", [scores], f"{self.name}/softmax", 4, axis=3)
        values = self.transpose(
            self.heads(sources["v"], x.dv, x.kv, x.nk, "v"), [0, 1, 3, 2], "v_rows"
        )
        mixed = e.emit("MatMul", [probs, values], f"{self.name}/mix", 4)
        mixed = self.reshape(mixed, [x.s * x.heads, x.n, x.dv], "o_heads")
        mixed = self.transpose(mixed, [0, 1, 3, 2], "o_cols")
        mixed = self.reshape(mixed, [x.s, x.heads * x.dv, x.n], "o_seq")
        if x.s > 1:
            mixed = self.transpose(mixed, [0, 2, 1, 3], "o_back")
        mixed = self.reshape(mixed, [x.heads * x.dv, h, w], "o_map")
        return self.project(mixed, (x.heads * x.dv, h, w), x.out, bool(a["out_bias"]), "out")


def _export(emitter: Emitter, node: Node) -> str:
    x = _dims(node.attrs, node.in_shapes[0], node.out_shape[0])
    if count(node.attrs["bias_table"]) not in (0, x.s * x.kv * x.nk):
        raise SpecError(
            f"layer '{node.name}': not supported by export: a bias_table of other than "
            "one bias per head and key"
        )
    return _Export(emitter, node).run()


OPDEFS = (
    OpDef(
        name="attention",
        summary="multi-head self-attention: Q, K, V projections, QK^T, softmax, AV, projection",
        kind="composite",
        attrs={
            "heads": Attr("int", REQUIRED),
            "head_dim": Attr("int", 0, low=0),
            "v_dim": Attr("int", 0, low=0),
            "kv_heads": Attr("int", 0, low=0),
            "kv_stride": Attr("int", 1),
            "kv_kernel": Attr("int", 3),
            "kv_bn": Attr("bool", True),
            "kv_bias": Attr("bool", False),
            "qkv_bias": Attr("bool", True),
            "out_bias": Attr("bool", True),
            "out": Attr("channels", "in"),
            "bias_table": Attr("int", 0, low=0),
            "tokens": Attr("enum", "hw", allowed=("hw", "w")),
        },
        shape=_shape,
        cost=_cost,
        label=_label,
        layer_type=_layer_type,
        export=_export,
        imports={},  # a Softmax's region, found before the walk (interop/onnx/regions.py)
        channels=("out",),
    ),
)
