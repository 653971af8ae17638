"""Transformer arithmetic: ``softmax``, ``matmul`` of two activations, layer ``scale``.

``softmax`` runs along one axis of the (C, H, W) triple (``axis``: ``c``, ``h``
or ``w``, default ``w``: the keys of a (heads, queries, keys) score tensor);
other ops 5 per element (max, subtract, exp, sum, divide), 1 more with
``scale: true`` (a constant factor first: attention's 1/sqrt(head_dim)).
``matmul`` multiplies two activations as C batches of matrices: (C, M, K) x
(C, K, N) -> (C, M, N), a batch of 1 broadcast to the other's C (ONNX MatMul on
[1, C, H, W]); ``transpose_b`` reads the second as (C, N, K). MAdds C x M x K x
N, no params, no other ops. ``scale`` is layer scale: a learned multiply per
channel, C params (``OpCost.embed``), 1 other op per element; ``learned: false`` a
multiply by a constant (no params: EfficientFormer's average of two heads).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from lightcost.core.graph import AttrValue, Node, Shape, elements
from lightcost.ops import gelu
from lightcost.ops.base import (
    Attr,
    Attrs,
    OpCost,
    OpDef,
    ShapeError,
    check_work,
    dims,
    same_shape,
    truth,
)

if TYPE_CHECKING:
    from lightcost.ops.protocols import Emitter, OnnxNode, Reader

SOFTMAX_OPS = 5  # other ops per element of a softmax: max, subtract, exp, sum, divide
AXES = ("c", "h", "w")


def _matmul_shape(attrs: Attrs, shapes: list[Shape]) -> Shape:
    (ca, m, k), (cb, kb, n) = shapes
    if attrs["transpose_b"]:
        kb, n = n, kb
    if truth(k != kb) or (truth(ca != cb) and truth(ca != 1) and truth(cb != 1)):
        raise ShapeError(
            f"matmul of {dims(shapes[0])} and {dims(shapes[1])}"
            f"{' (transposed)' if attrs['transpose_b'] else ''} needs (C, M, K) x (C, K, N) "
            "with equal C or one of them 1"
        )
    c = ca if truth(cb == 1) else cb
    check_work(c * m * k * n, "matmul")
    return (c, m, n)


def _matmul_cost(node: Node) -> OpCost:
    c, m, n = node.out_shape
    return OpCost(madds=c * m * n * node.in_shapes[0][2])


def _matmul_export(emitter: Emitter, node: Node) -> str:
    a, b = (emitter.as4d(t, s) for t, s in zip(emitter.inputs(node), node.in_shapes, strict=True))
    if node.attrs["transpose_b"]:
        b = emitter.emit("Transpose", [b], f"{node.name}/transpose", 4, perm=[0, 1, 3, 2])
    return emitter.emit("MatMul", [a, b], node.name, 4)


def import_matmul(reader: Reader, node: OnnxNode) -> None:
    """MatMul of two activations of rank 4 (or 3): ``matmul``."""
    if any(reader.const_dims(t) is not None for t in node.input):
        raise reader.fail(node, "a product with a constant of this shape is not mapped")
    reader.add(node, "matmul", node.input[:2])


def _softmax_cost(node: Node) -> OpCost:
    per_element = SOFTMAX_OPS + (1 if node.attrs["scale"] else 0)
    return OpCost(other_ops=per_element * elements(node.out_shape))


def _softmax_export(emitter: Emitter, node: Node) -> str:
    """[Mul by 1/8 +] Softmax along the axis (1, 2 or 3 of [1, C, H, W])."""
    x = emitter.as4d(emitter.inputs(node)[0], node.in_shapes[0])
    if node.attrs["scale"]:
        x = emitter.emit(
            "Mul", [x, emitter.scalar("lightcost/eighth", 0.125)], f"{node.name}/scale", 4
        )
    axis = 1 + AXES.index(str(node.attrs["axis"]))
    return emitter.emit("Softmax", [x], node.name, 4, axis=axis)


def _softmax_attrs(reader: Reader, node: OnnxNode, x: str) -> dict[str, AttrValue]:
    """``axis`` of a Softmax on [N, C, H, W] (or [N, C]); ONNX's default is the last."""
    axis = reader.axis(x, int(reader.attr(node, "axis", -1)))
    if axis not in AXES:
        raise reader.fail(node, "softmax along the batch axis is not mapped")
    return {"axis": axis}


def _import_softmax(reader: Reader, node: OnnxNode) -> None:
    reader.add(node, "softmax", node.input[:1], _softmax_attrs(reader, node, node.input[0]))


def _scalar(reader: Reader, tensor: str) -> bool:
    """Whether ``tensor`` is a constant of one value."""
    dims = reader.const_dims(tensor)
    return dims is not None and math.prod(dims) == 1


def scaled_softmax(reader: Reader, node: OnnxNode) -> bool:
    """Import Mul or Div by a scalar constant that only a Softmax reads: ``softmax, scale``."""
    softmax = reader.only_reader(node.output[0])
    if softmax is None or softmax.op_type != "Softmax" or len(node.input) != 2:
        return False
    scalars = [t for t in node.input if _scalar(reader, t)]
    data = [t for t in node.input if t not in scalars]
    if len(scalars) != 1 or len(data) != 1 or (node.op_type == "Div" and node.input[0] != data[0]):
        return False
    reader.absorb(softmax)
    attrs = {**_softmax_attrs(reader, softmax, data[0]), "scale": True}
    reader.add(node, "softmax", data, attrs, softmax.output[0])
    return True


def _import_div(reader: Reader, node: OnnxNode) -> None:
    """Div: the start of an erf GELU, a scale before a Softmax, or by one constant."""
    patterns = (gelu.erf_pattern, scaled_softmax, layer_scale)
    if not any(pattern(reader, node) for pattern in patterns):
        raise reader.fail(node, "only Div by one constant (or in GELU) is mapped")


def _scale_cost(node: Node) -> OpCost:
    learned = node.out_shape[0] if node.attrs["learned"] else 0
    return OpCost(embed=learned, other_ops=elements(node.out_shape))


def _scale_export(emitter: Emitter, node: Node) -> str:
    """Mul by a [C, 1, 1] constant (a learned per-channel factor), or by one constant."""
    c = node.in_shapes[0][0]
    x = emitter.as4d(emitter.inputs(node)[0], node.in_shapes[0])
    if node.attrs["learned"]:
        gamma = emitter.random(f"{node.name}/gamma", [c, 1, 1], 1)
    else:
        gamma = emitter.scalar("lightcost/half", 0.5)
    return emitter.emit("Mul", [x, gamma], node.name, 4)


def layer_scale(reader: Reader, node: OnnxNode) -> bool:
    """Import Mul(x, a constant of C values, [C], [C, 1, 1] or [1, C, 1, 1]) as ``scale``;
    by one constant (or Div by one), as ``scale, learned: false``."""
    sizes = [reader.const_dims(t) for t in node.input]
    data = [t for t, dims in zip(node.input, sizes, strict=True) if dims is None]
    consts = [dims for dims in sizes if dims is not None]
    if len(data) != 1 or len(consts) != 1:
        return False
    c, _, _ = reader.shape(data[0], node)
    if math.prod(consts[0]) == 1 and (node.op_type == "Mul" or node.input[0] == data[0]):
        reader.add(node, "scale", data, {"learned": False})
        return True
    if math.prod(consts[0]) != c or node.op_type != "Mul":
        return False
    reader.add(node, "scale", data)
    return True


OPDEFS = (
    OpDef(
        name="softmax",
        summary="softmax along `axis` (c, h or w); `scale` multiplies by a constant first",
        kind="elementwise",
        attrs={"axis": Attr("enum", "w", allowed=AXES), "scale": Attr("bool", False)},
        shape=same_shape,
        cost=_softmax_cost,
        export=_softmax_export,
        imports={"Softmax": _import_softmax, "Div": _import_div},
    ),
    OpDef(
        name="matmul",
        summary="product of two activations: (C, M, K) x (C, K, N) -> (C, M, N), C batches",
        kind="dense",
        attrs={"transpose_b": Attr("bool", False)},
        shape=_matmul_shape,
        cost=_matmul_cost,
        export=_matmul_export,
        imports={},  # MatMul of two activations, by fc's MatMul handler
        min_inputs=2,
        max_inputs=2,
    ),
    OpDef(
        name="scale",
        summary="layer scale: a learned multiply per channel (C params), or by a constant",
        kind="elementwise",
        attrs={"learned": Attr("bool", True)},
        shape=same_shape,
        cost=_scale_cost,
        export=_scale_export,
        imports={},  # Mul by a per-channel constant, by mul's handler
    ),
)
