"""Batch normalization: ``bn``, and the BN pass other ops emit when exported."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lightcost.core.graph import Node, elements
from lightcost.ops.base import OpCost, OpDef, same_shape

if TYPE_CHECKING:
    from lightcost.ops.protocols import Emitter, OnnxNode, Reader


def _cost(node: Node) -> OpCost:
    """Gamma and beta per channel (folded: a scale and a shift remain); 2 ops per element."""
    c = node.out_shape[0]
    return OpCost(bn=2 * c, bn_folded=2 * c, other_ops=2 * elements(node.out_shape))


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
)
