"""Squeeze-excite ``se``: global pool, 1x1 conv to ``squeeze``, act, 1x1 conv back, gate, scale.

Weights and MAdds 2 x C x squeeze; other ops: pooling and scaling 1 per element
each, the activations, and the biases. Fused it is one kernel; unfused, six
(pool, conv, act, conv, gate, scale).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lightcost.core.graph import Node, count, elements
from lightcost.ops.activations import act_ops, activate
from lightcost.ops.base import Attr, Kernel, OpCost, OpDef, same_shape
from lightcost.ops.conv import pointwise_node

if TYPE_CHECKING:
    from lightcost.ops.protocols import Emitter


def _cost(node: Node) -> OpCost:
    c, squeeze = node.out_shape[0], count(node.attrs["squeeze"])
    bias = bool(node.attrs["bias"])
    pooled_and_scaled = 2 * elements(node.out_shape)
    activations = squeeze * act_ops(node.attrs["act"]) + c * act_ops(node.attrs["gate"])
    return OpCost(
        weights=2 * c * squeeze,
        biases=squeeze + c if bias else 0,
        madds=2 * c * squeeze,
        other_ops=pooled_and_scaled + activations + (squeeze + c if bias else 0),
    )


def _unfused(node: Node) -> tuple[Kernel, ...]:
    """Six kernels: pool, 1x1 conv, act, 1x1 conv, gate, scale."""
    x = elements(node.out_shape)
    c, squeeze = node.out_shape[0], count(node.attrs["squeeze"])
    bias = bool(node.attrs["bias"])
    reduce = c * squeeze + (squeeze if bias else 0)  # weights and bias of each 1x1 conv
    expand = c * squeeze + (c if bias else 0)
    return (
        Kernel("avgpool", 0, x + c),
        Kernel("conv", c * squeeze, c + squeeze + reduce, reduce),
        Kernel(str(node.attrs["act"]), 0, 2 * squeeze),
        Kernel("conv", c * squeeze, squeeze + c + expand, expand),
        Kernel(str(node.attrs["gate"]), 0, 2 * c),
        Kernel("mul", 0, 2 * x + c),
    )


def _layer_type(node: Node) -> str:
    return "Squeeze-Excite"


def _export(emitter: Emitter, node: Node) -> str:
    """GlobalAveragePool, 1x1 Conv, act, 1x1 Conv, gate, Mul."""
    a, name, shape = node.attrs, node.name, node.in_shapes[0]
    x = emitter.as4d(emitter.inputs(node)[0], shape)
    c, squeeze = shape[0], int(a["squeeze"])
    pooled = emitter.emit("GlobalAveragePool", [x], f"{name}/pool", 4)
    reduced = pointwise_node(emitter, pooled, (c, 1, 1), f"{name}/reduce", squeeze, a["bias"])
    reduced = activate(emitter, reduced, a["act"], f"{name}/act")
    expanded = pointwise_node(emitter, reduced, (squeeze, 1, 1), f"{name}/expand", c, a["bias"])
    gate = activate(emitter, expanded, a["gate"], f"{name}/gate")
    return emitter.emit("Mul", [x, gate], name, 4)


OPDEFS = (
    OpDef(
        name="se",
        summary=(
            "squeeze-excite: global pool, 1x1 conv to `squeeze`, act, 1x1 conv back, gate, scale"
        ),
        kind="composite",
        attrs={
            "squeeze": Attr("int", "div(in / 4)"),
            "act": Attr("act", "relu"),
            "gate": Attr("act", "sigmoid"),
            "bias": Attr("bool", True),
        },
        shape=same_shape,
        cost=_cost,
        layer_type=_layer_type,
        export=_export,
        imports={},  # a framework's SE imports as its layers (docs/onnx.md)
        channels=("squeeze",),
        unfused=_unfused,
    ),
)
