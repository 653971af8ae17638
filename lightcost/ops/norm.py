"""Normalization: ``bn`` (and the BN pass other ops export), ``layernorm``, ``groupnorm``.

BN: gamma and beta per channel (``OpCost.bn``; folded into a conv when deployed),
2 other ops per element (scale, shift). LayerNorm and GroupNorm: gamma and beta
per channel (``OpCost.norm``: their own category, kept when deployed), 6 other
ops per element (mean and variance 2, normalize 2, scale and shift 2).
``layernorm`` normalizes the C channels at each position (a token's D features
on a ``(D, 1, N)`` sequence; ConvNeXt's channels-last LayerNorm on a map);
``groupnorm`` each of ``groups`` groups of C / groups channels over all H x W
positions (``groups: 1`` normalizes the whole tensor, as timm's GroupNorm1).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from lightcost.core.graph import Node, Shape, elements
from lightcost.ops.base import Attr, Attrs, OpCost, OpDef, ShapeError, only_readers, same_shape

if TYPE_CHECKING:
    from lightcost.ops.protocols import Emitter, OnnxNode, Reader

NORM_OPS = 6  # other ops per element of a LayerNorm or GroupNorm
TO_LAST, FROM_LAST = [0, 2, 3, 1], [0, 3, 1, 2]  # channels last and back (ONNX Transpose perm)


def _cost(node: Node) -> OpCost:
    """Gamma and beta per channel (folded: a scale and a shift remain); 2 ops per element."""
    c = node.out_shape[0]
    return OpCost(bn=2 * c, bn_folded=2 * c, other_ops=2 * elements(node.out_shape))


def _norm_cost(node: Node) -> OpCost:
    return OpCost(norm=2 * node.out_shape[0], other_ops=NORM_OPS * elements(node.out_shape))


def _groupnorm_shape(attrs: Attrs, shapes: list[Shape]) -> Shape:
    c, groups = shapes[0][0], int(attrs["groups"])
    if c % groups:
        raise ShapeError(f"groups={groups} must divide the input channels ({c})")
    return shapes[0]


def batchnorm(emitter: Emitter, x: str, channels: int, name: str) -> str:
    """A BatchNormalization node that is the identity: scale 1, shift 0, mean 0, variance 1."""
    inputs = [
        x,
        emitter.filled(f"{name}/scale", channels, 1.0),
        emitter.filled(f"{name}/shift", channels, 0.0),
        emitter.filled(f"{name}/mean", channels, 0.0),
        emitter.filled(f"{name}/var", channels, 1.0),
    ]
    return emitter.emit("BatchNormalization", inputs, name, emitter.rank(x))


def _export(emitter: Emitter, node: Node) -> str:
    return batchnorm(emitter, emitter.inputs(node)[0], node.in_shapes[0][0], node.name)


def _layernorm_export(emitter: Emitter, node: Node) -> str:
    """Transpose to channels last, LayerNormalization over the last axis, Transpose back."""
    name, c = node.name, node.in_shapes[0][0]
    x = emitter.as4d(emitter.inputs(node)[0], node.in_shapes[0])
    last = emitter.emit("Transpose", [x], f"{name}/to_last", 4, perm=TO_LAST)
    scale, shift = emitter.filled(f"{name}/scale", c, 1.0), emitter.filled(f"{name}/B", c, 0.0)
    y = emitter.emit("LayerNormalization", [last, scale, shift], f"{name}/ln", 4, axis=-1)
    return emitter.emit("Transpose", [y], name, 4, perm=FROM_LAST)


def _groupnorm_export(emitter: Emitter, node: Node) -> str:
    """Reshape to [1, G, -1], InstanceNormalization, Reshape back, Mul gamma, Add beta."""
    name, (c, h, w) = node.name, node.in_shapes[0]
    groups = int(node.attrs["groups"])
    x = emitter.as4d(emitter.inputs(node)[0], node.in_shapes[0])
    grouped = emitter.emit(
        "Reshape", [x, emitter.ints(f"{name}/groups", [1, groups, -1])], f"{name}/group", 3
    )
    unit = [emitter.filled(f"{name}/one", groups, 1.0), emitter.filled(f"{name}/zero", groups, 0.0)]
    normed = emitter.emit("InstanceNormalization", [grouped, *unit], f"{name}/in", 3)
    back = emitter.ints(f"{name}/shape", [1, c, h, w])
    y = emitter.emit("Reshape", [normed, back], f"{name}/back", 4)
    scale = emitter.random(f"{name}/scale", [c, 1, 1], 1)
    shift = emitter.random(f"{name}/B", [c, 1, 1], 1)
    y = emitter.emit("Mul", [y, scale], f"{name}/mul", 4)
    return emitter.emit("Add", [y, shift], name, 4)


def _per_channel(reader: Reader, node: OnnxNode, tensor: str, channels: int) -> bool:
    """Whether ``node`` reads ``tensor`` and a constant of ``channels`` values."""
    other = [t for t in node.input if t != tensor]
    dims = reader.const_dims(other[0]) if len(other) == 1 else None
    return dims is not None and math.prod(dims) == channels


def groupnorm_pattern(reader: Reader, node: OnnxNode) -> bool:
    """Import Reshape to [N, G, -1], InstanceNormalization, Reshape back, Mul, Add (per channel)."""
    grouped = reader.dims(node.output[0])
    nodes = only_readers(reader, node, ("InstanceNormalization", "Reshape", "Mul", "Add"))
    if nodes is None or len(grouped) != 3 or not grouped[1]:
        return False
    shape = reader.shape(node.input[0], node)
    back, mul, add = nodes[1:]
    if (
        reader.dims(back.output[0]) != reader.dims(node.input[0])
        or not _per_channel(reader, mul, back.output[0], shape[0])
        or not _per_channel(reader, add, mul.output[0], shape[0])
    ):
        return False
    for after in nodes:
        reader.absorb(after)
    reader.add(node, "groupnorm", node.input[:1], {"groups": int(grouped[1])}, add.output[0])
    return True


def _import_layernorm(reader: Reader, node: OnnxNode) -> None:
    """LayerNormalization over the last axis when that axis is the channels (channels last,
    after a Transpose; or tokens [S, N, D]): ``layernorm``."""
    x = node.input[0]
    axis = int(reader.attr(node, "axis", -1))
    if axis not in (-1, len(reader.dims(x)) - 1) or reader.axis(x, -1) != "c":
        raise reader.fail(node, "only LayerNormalization over the channels alone is mapped")
    reader.add(node, "layernorm", [x])


def _import_instancenorm(reader: Reader, node: OnnxNode) -> None:
    raise reader.fail(
        node, "only InstanceNormalization inside GroupNorm (between Reshapes) is mapped"
    )


def _import(reader: Reader, node: OnnxNode) -> None:
    """A ``bn`` layer; the importer folds it into a conv before it (``bn: true``)."""
    reader.add(node, "bn", node.input[:1])


OPDEFS = (
    OpDef(
        name="bn",
        summary="batch normalization (gamma, beta per channel)",
        kind="elementwise",
        shape=same_shape,
        cost=_cost,
        export=_export,
        imports={"BatchNormalization": _import},
    ),
    OpDef(
        name="layernorm",
        summary="layer normalization over the channels at each position (gamma, beta per channel)",
        kind="elementwise",
        shape=same_shape,
        cost=_norm_cost,
        export=_layernorm_export,
        imports={"LayerNormalization": _import_layernorm},
    ),
    OpDef(
        name="groupnorm",
        summary="group normalization over `groups` channel groups (gamma, beta per channel)",
        kind="elementwise",
        attrs={"groups": Attr("int", 32)},
        shape=_groupnorm_shape,
        cost=_norm_cost,
        export=_groupnorm_export,
        imports={"InstanceNormalization": _import_instancenorm},  # by the Reshape before it
    ),
)
