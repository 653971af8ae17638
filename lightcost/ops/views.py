"""Views: ``flatten``, ``dropout`` (at inference) and ``identity``.

A view runs no kernel and moves no data: it costs nothing and aliases its input
in activation memory.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lightcost.core.graph import Node, Shape
from lightcost.ops.base import Attrs, OpCost, OpDef, same_shape

if TYPE_CHECKING:
    from lightcost.ops.protocols import Emitter, OnnxNode, Reader


def _flatten_shape(attrs: Attrs, shapes: list[Shape]) -> Shape:
    c, h, w = shapes[0]
    return (c * h * w, 1, 1)


def free(node: Node) -> OpCost:
    """The cost of a view: nothing."""
    return OpCost()


def _flatten_export(emitter: Emitter, node: Node) -> str:
    return emitter.emit("Flatten", emitter.inputs(node)[:1], node.name, 2, axis=1)


def _same_export(emitter: Emitter, node: Node) -> str:
    """Identity or Dropout: the ONNX op of the same name."""
    x = emitter.inputs(node)[0]
    return emitter.emit(node.op.capitalize(), [x], node.name, emitter.rank(x))


def import_view(reader: Reader, node: OnnxNode) -> None:
    """Flatten, Reshape, Squeeze, Unsqueeze: no layer when the lightcost shape is kept or
    only an fc reads the result (it flattens anyway); else a ``flatten`` layer."""
    x, y = node.input[0], node.output[0]
    before, after, dims = reader.shape(x, node), reader.shape(y, node), reader.dims(y)
    consumer = reader.only_reader(y)
    if after == before or (
        len(dims) == 2 and consumer is not None and consumer.op_type in ("Gemm", "MatMul")
    ):
        reader.alias(y, x, node)
    elif len(dims) == 2 and after[0] == before[0] * before[1] * before[2]:
        reader.add(node, "flatten", [x])
    else:
        raise reader.fail(node, f"reshape {list(before)} -> {dims} is not a view lightcost maps")


def _import_same(reader: Reader, node: OnnxNode) -> None:
    """Identity or Dropout: the op of the same name."""
    reader.add(node, node.op_type.lower(), node.input[:1])


def _view(name: str, summary: str) -> OpDef:
    return OpDef(
        name=name,
        summary=summary,
        kind="view",
        shape=same_shape,
        cost=free,
        export=_same_export,
        imports={name.capitalize(): _import_same},
    )


OPDEFS = (
    OpDef(
        name="flatten",
        summary="reshape to a vector (no cost)",
        kind="view",
        shape=_flatten_shape,
        cost=free,
        export=_flatten_export,
        imports={"Flatten": import_view, "Squeeze": import_view, "Unsqueeze": import_view},
    ),
    _view("dropout", "dropout (no cost at inference)"),
    _view("identity", "pass-through (no cost)"),
)
