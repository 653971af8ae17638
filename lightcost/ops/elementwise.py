"""Element-wise merges: ``add`` (residual sums, optional activation after), ``sub`` and ``mul``.

Other ops per output element: add 1 per extra input plus the activation's, sub 1, mul 1.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from lightcost.core.graph import Node, Shape, elements
from lightcost.ops import gelu, tokens, transformer
from lightcost.ops.activations import act_ops, activate
from lightcost.ops.base import (
    Attr,
    Attrs,
    OpCost,
    OpDef,
    ShapeError,
    dims,
    same,
)

if TYPE_CHECKING:
    from lightcost.ops.protocols import Emitter, OnnxNode, Reader


def _equal_shapes(op: str, sign: str) -> Callable[[Attrs, list[Shape]], Shape]:
    def shape(attrs: Attrs, shapes: list[Shape]) -> Shape:
        if not all(same(s, shapes[0]) for s in shapes):
            raise ShapeError(f"{op} needs equal shapes, got {sign.join(map(dims, shapes))}")
        return shapes[0]

    return shape


def _mul_shape(attrs: Attrs, shapes: list[Shape]) -> Shape:
    x, gate = shapes
    if not (same(gate, x) or same(gate, (x[0], 1, 1))):
        swap = " (the gate goes second in 'from')" if same(x, (gate[0], 1, 1)) else ""
        raise ShapeError(
            f"mul of {dims(x)} needs a second input of {dims(x)} or {x[0]}x1x1, "
            f"got {dims(gate)}{swap}"
        )
    return x


def _add_cost(node: Node) -> OpCost:
    per_element = len(node.inputs) - 1 + act_ops(node.attrs["act"])
    return OpCost(other_ops=per_element * elements(node.out_shape))


def _mul_cost(node: Node) -> OpCost:
    return OpCost(other_ops=elements(node.out_shape))


def _add_export(emitter: Emitter, node: Node) -> str:
    """Add (two inputs) or Sum [+ the activation]."""
    tensors = emitter.inputs(node)
    op_type = "Add" if len(tensors) == 2 else "Sum"
    y = emitter.emit(op_type, tensors, node.name, emitter.rank(tensors[0]))
    return activate(emitter, y, node.attrs["act"], f"{node.name}/act")


def _sub_export(emitter: Emitter, node: Node) -> str:
    tensors = emitter.inputs(node)
    return emitter.emit("Sub", tensors, node.name, emitter.rank(tensors[0]))


def _sub_import(reader: Reader, node: OnnxNode) -> None:
    """Sub of two equal-shaped activations (EfficientFormer's pool(x) - x): ``sub``."""
    if any(reader.const_dims(t) is not None for t in node.input):
        raise reader.fail(node, "a difference with a constant is not mapped")
    if reader.shape(node.input[0], node) != reader.shape(node.input[1], node):
        raise reader.fail(node, "inputs of different shapes (broadcasting)")
    reader.add(node, "sub", node.input[:2])


def _mul_export(emitter: Emitter, node: Node) -> str:
    tensors = emitter.inputs(node)
    return emitter.emit("Mul", tensors, node.name, emitter.rank(tensors[0]))


def _add_import(reader: Reader, node: OnnxNode) -> None:
    if tokens.positional(reader, node):  # a learned positional embedding (ops.tokens)
        return
    if any(reader.const_dims(t) is not None for t in node.input):
        raise reader.fail(node, "a sum with a constant is not mapped (only a MatMul bias)")
    shapes = {reader.shape(t, node) for t in node.input}
    if len(shapes) > 1:
        raise reader.fail(node, f"inputs of different shapes {sorted(shapes)} (broadcasting)")
    reader.add(node, "add", node.input)


def _mul_import(reader: Reader, node: OnnxNode) -> None:
    """Element-wise product; the full-size input first, a C x 1 x 1 gate second.

    Before it: a tanh GELU, a scale before a softmax, a layer scale (by a constant).
    """
    for pattern in (gelu.tanh_pattern, transformer.scaled_softmax, transformer.layer_scale):
        if pattern(reader, node):
            return
    if any(reader.const_dims(t) is not None for t in node.input):
        raise reader.fail(node, "a product with a constant is not mapped (only x * gate)")
    a, b = node.input[0], node.input[1]
    if reader.shape(a, node)[1:] == (1, 1) and reader.shape(b, node)[1:] != (1, 1):
        a, b = b, a
    reader.add(node, "mul", [a, b])


OPDEFS = (
    OpDef(
        name="add",
        summary="elementwise sum of equal-shaped tensors (residual), optional activation after",
        kind="elementwise",
        attrs={"act": Attr("act", "none")},
        shape=_equal_shapes("add", " + "),
        cost=_add_cost,
        export=_add_export,
        imports={"Add": _add_import, "Sum": _add_import},
        min_inputs=2,
        max_inputs=None,
    ),
    OpDef(
        name="sub",
        summary="elementwise difference of two equal-shaped tensors (first minus second)",
        kind="elementwise",
        shape=_equal_shapes("sub", " - "),
        cost=_mul_cost,
        export=_sub_export,
        imports={"Sub": _sub_import},
        min_inputs=2,
        max_inputs=2,
    ),
    OpDef(
        name="mul",
        summary="elementwise product; the second input may be a C x 1 x 1 gate",
        kind="elementwise",
        shape=_mul_shape,
        cost=_mul_cost,
        export=_mul_export,
        imports={"Mul": _mul_import},
        min_inputs=2,
        max_inputs=2,
    ),
)
