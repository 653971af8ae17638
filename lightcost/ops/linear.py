"""The fully connected layer ``fc``: over the flattened input, with optional bias and activation.

Weights and MAdds features x out; other ops per output: bias 1, the activation's.
``out`` is an ``int``, never width-scaled (the classes of a classifier).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lightcost.core.graph import AttrValue, Node, Shape, elements
from lightcost.ops.activations import act_ops, activate
from lightcost.ops.base import REQUIRED, Attr, Attrs, OpCost, OpDef
from lightcost.ops.transformer import import_matmul

if TYPE_CHECKING:
    from lightcost.ops.protocols import Emitter, OnnxNode, Reader


def _shape(attrs: Attrs, shapes: list[Shape]) -> Shape:
    return (int(attrs["out"]), 1, 1)


def _cost(node: Node) -> OpCost:
    features, out = elements(node.in_shapes[0]), node.out_shape[0]
    bias = bool(node.attrs["bias"])
    return OpCost(
        weights=features * out,
        biases=out if bias else 0,
        madds=features * out,
        other_ops=out * ((1 if bias else 0) + act_ops(node.attrs["act"])),
    )


def _layer_type(node: Node) -> str:
    return "Fully Connected"


def _export(emitter: Emitter, node: Node) -> str:
    """[Flatten +] Gemm (``transB``) [+ the activation]."""
    a, name = node.attrs, node.name
    x = emitter.inputs(node)[0]
    if emitter.rank(x) == 4:
        x = emitter.emit("Flatten", [x], f"{name}/flatten", 2, axis=1)
    features, out = elements(node.in_shapes[0]), node.out_shape[0]
    inputs = [x, emitter.random(f"{name}/W", [out, features], features)]
    if a["bias"]:
        inputs.append(emitter.filled(f"{name}/B", out, 0.0))
    y = emitter.emit("Gemm", inputs, name, 2, transB=1)
    return activate(emitter, y, a["act"], f"{name}/act")


def _add_fc(
    reader: Reader, node: OnnxNode, out: int, features: int, bias: bool, output: str
) -> None:
    x = node.input[0]
    c, h, w = reader.shape(x, node)
    if c * h * w != features:
        raise reader.fail(node, f"weight reads {features} features, the input has {c * h * w}")
    reader.add(node, "fc", [x], {"out": out, "bias": bias}, output)


def _import_gemm(reader: Reader, node: OnnxNode) -> None:
    weight = reader.const_dims(node.input[1])
    if weight is None or len(weight) != 2 or reader.attr(node, "transA", 0):
        raise reader.fail(node, "B must be a 2-D initializer and A not transposed")
    rows, cols = weight
    out, features = (rows, cols) if reader.attr(node, "transB", 0) else (cols, rows)
    bias = len(node.input) > 2 and node.input[2] != ""
    _add_fc(reader, node, out, features, bias, node.output[0])


def _import_matmul(reader: Reader, node: OnnxNode) -> None:
    """MatMul by a 2-D constant, with the Add of a constant bias after it if any; of two
    activations, a ``matmul``."""
    weight = reader.const_dims(node.input[1])
    if weight is None and reader.const_dims(node.input[0]) is None:
        import_matmul(reader, node)
        return
    per_token = reader.axis(node.input[0], -1) == "c" and len(reader.dims(node.input[0])) > 2
    if (
        weight is None
        or len(weight) != 2
        or not (per_token or len(reader.dims(node.input[0])) == 2)
    ):
        raise reader.fail(
            node, "only [N, features] or channels-last tokens x 2-D initializer (a linear layer)"
        )
    features, out = weight
    output, bias = node.output[0], False
    add = reader.only_reader(output)
    if add is not None and add.op_type == "Add":
        other = [t for t in add.input if t != output]
        if len(other) == 1 and reader.const_dims(other[0]) is not None:
            reader.absorb(add)
            output, bias = add.output[0], True
    if per_token:
        if reader.shape(node.input[0], node)[0] != features:
            raise reader.fail(node, f"weight reads {features} features per token")
        attrs: dict[str, AttrValue] = {"out": out, "k": 1, "bias": bias, "bn": False}
        reader.add(node, "conv", node.input[:1], attrs, output)
        return
    _add_fc(reader, node, out, features, bias, output)


OPDEFS = (
    OpDef(
        name="fc",
        summary="fully connected layer over the flattened input; out is never width-scaled",
        kind="dense",
        attrs={
            "out": Attr("int", REQUIRED),
            "bias": Attr("bool", True),
            "act": Attr("act", "none"),
        },
        shape=_shape,
        cost=_cost,
        layer_type=_layer_type,
        export=_export,
        imports={"Gemm": _import_gemm, "MatMul": _import_matmul},
        channels=("out",),
    ),
)
