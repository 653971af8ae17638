"""Axis moves: ``reshape`` (a view) and ``transpose`` (a copy), and Transpose's ONNX import.

``reshape`` views the elements as (C, ``h``, ``w``), C = elements / (h x w): no
cost. ``transpose`` permutes the axes (``perm``, the output's axes named by the
input's: ``cwh`` swaps H and W): a copy. Both move sizes between channels and H,
W, so a sweep costs a spec using them one configuration at a time
(``OpDef.stacks``). ONNX: Reshape and Transpose; a Transpose to channels last
[N, H, W, C] and back is no layer, only a change of the tensor's layout.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lightcost.core.graph import Node, Shape, count, elements
from lightcost.ops.base import REQUIRED, Attr, Attrs, OpDef, ShapeError, dims, truth
from lightcost.ops.norm import FROM_LAST, TO_LAST
from lightcost.ops.views import free

if TYPE_CHECKING:
    from lightcost.ops.protocols import Emitter, OnnxNode, Reader

AXES = "chw"
PERMS = ("cwh", "hcw", "hwc", "wch", "whc")


def _import_transpose(reader: Reader, node: OnnxNode) -> None:
    """Transpose: to channels last [N, H, W, C] and back are views (the layout changes, the
    lightcost shape does not); another permutation of C, H, W is a ``transpose``."""
    x, perm = node.input[0], list(reader.attr(node, "perm", []))
    last = reader.order(x) == "nhwc"
    if perm == TO_LAST and not last and len(reader.dims(x)) == 4:
        reader.alias(node.output[0], x, node, last=True)
        return
    if perm == FROM_LAST and last:
        reader.alias(node.output[0], x, node, last=False)
        return
    if (
        last
        or len(perm) != 4
        or perm[0] != 0
        or sorted(perm) != [0, 1, 2, 3]
        or perm == [0, 1, 2, 3]
    ):
        raise reader.fail(node, f"Transpose perm {perm}: only permutations of C, H, W are mapped")
    reader.add(node, "transpose", node.input[:1], {"perm": "".join(AXES[i - 1] for i in perm[1:])})


def reshape_pattern(reader: Reader, node: OnnxNode) -> bool:
    """Import a Reshape to a 4-D tensor of another lightcost shape as ``reshape``; False
    for any other Reshape (a view, patches, a GroupNorm: :mod:`lightcost.ops.tokens`)."""
    out = reader.shape(node.output[0], node) if len(reader.dims(node.output[0])) == 4 else None
    if out is None or out == reader.shape(node.input[0], node):
        return False
    reader.add(node, "reshape", node.input[:1], {"h": out[1], "w": out[2]})
    return True


def _reshape_shape(attrs: Attrs, shapes: list[Shape]) -> Shape:
    h, w = count(attrs["h"]), count(attrs["w"])
    size = elements(shapes[0])
    if truth(size % (h * w)):
        raise ShapeError(
            f"reshape of {dims(shapes[0])} to (C, {h}, {w}): "
            f"{size} elements are no multiple of {h * w}"
        )
    return (size // (h * w), h, w)


def _reshape_export(emitter: Emitter, node: Node) -> str:
    x = emitter.as4d(emitter.inputs(node)[0], node.in_shapes[0])
    return emitter.emit(
        "Reshape", [x, emitter.ints(f"{node.name}/shape", [1, *node.out_shape])], node.name, 4
    )


def _transpose_shape(attrs: Attrs, shapes: list[Shape]) -> Shape:
    shape = shapes[0]
    c, h, w = (shape[AXES.index(axis)] for axis in str(attrs["perm"]))
    return (c, h, w)


def _transpose_export(emitter: Emitter, node: Node) -> str:
    x = emitter.as4d(emitter.inputs(node)[0], node.in_shapes[0])
    perm = [0, *(1 + AXES.index(axis) for axis in str(node.attrs["perm"]))]
    return emitter.emit("Transpose", [x], node.name, 4, perm=perm)


OPDEFS = (
    OpDef(
        name="reshape",
        summary="the same elements viewed as (C, h, w), C inferred (no cost)",
        kind="view",
        attrs={"h": Attr("int", REQUIRED), "w": Attr("int", REQUIRED)},
        shape=_reshape_shape,
        cost=free,
        export=_reshape_export,
        imports={},  # by the Reshape handler (shuffle's), through reshape_pattern
        stacks=False,
    ),
    OpDef(
        name="transpose",
        summary="axes permuted (`perm`: the output's axes by input name, cwh swaps H and W)",
        kind="copy",
        attrs={"perm": Attr("enum", "cwh", allowed=PERMS)},
        shape=_transpose_shape,
        cost=free,  # no arithmetic: the kind (copy) gives its memory traffic
        export=_transpose_export,
        imports={"Transpose": _import_transpose},
        stacks=False,
    ),
)
