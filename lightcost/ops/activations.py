"""Activations: one table of name, other ops per element, ONNX export form and ONNX import.

Each activation is an op of its own (``{op: relu}``) and the value of the ``act``
attribute of conv, dwconv, fc, add and se. Other ops per element: relu 1 (a
max), relu6 2 (max, min), hsigmoid 4 (add, relu6, scale), hswish 5 (hsigmoid,
multiply), sigmoid 4, swish and silu 5 (sigmoid, multiply), tanh 5, hardtanh 2
(max, min: a clamp to [-1, 1]), gelu 9 (the exact erf form x/2 (1 + erf(x/sqrt 2)):
divide 1, erf 5 as tanh, add 1, two multiplies), gelu_tanh 13 (the tanh
approximation x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))): cube 2, multiply-add
2, scale 1, tanh 5, add 1, two multiplies). Export: Relu, Clip(0, 6), HardSwish,
HardSigmoid(1/6, 1/2), Sigmoid, Tanh, Clip(-1, 1); swish and silu as Sigmoid +
Mul; gelu as Div, Erf, Add, Mul, Mul and gelu_tanh as Mul, Mul, Mul, Add, Mul,
Tanh, Add, Mul, Mul (PyTorch's export of both forms). Import: the same ONNX ops;
Clip(0, inf) is relu, Clip(-1, 1) hardtanh; Mul(x, Sigmoid(x)) is swish; the
GELU patterns (:mod:`lightcost.ops.gelu`) and ONNX's Gelu (opset 20) are gelu or
gelu_tanh.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from lightcost.core.graph import AttrValue, Node, elements
from lightcost.ops import gelu
from lightcost.ops.base import OpCost, OpDef, same_shape

if TYPE_CHECKING:
    from lightcost.ops.protocols import Emitter, ImportRule, OnnxNode, Reader

    Form = Callable[[Emitter, str, str], str]


class Activation:
    """One activation: other ops per element, ``(emitter, x, name) -> y``, ONNX import handlers.

    A plain class: a NamedTuple costs ~0.2 ms of start-up to define.
    """

    __slots__ = ("export", "imports", "name", "other_ops")

    def __init__(
        self, name: str, other_ops: int, export: Form, imports: Mapping[str, ImportRule]
    ) -> None:
        self.name = name
        self.other_ops = other_ops
        self.export = export
        self.imports = imports


def _onnx(op_type: str, **attrs: Any) -> Form:
    """The export form of one ONNX node ``op_type(x)``."""

    def form(emitter: Emitter, x: str, name: str) -> str:
        return emitter.emit(op_type, [x], name, emitter.rank(x), **attrs)

    return form


def _as(act: str) -> ImportRule:
    """The import handler of an ONNX node that is the activation ``act``."""

    def handler(reader: Reader, node: OnnxNode) -> None:
        reader.add(node, act, node.input[:1])

    return handler


def _unchanged(emitter: Emitter, x: str, name: str) -> str:
    return x


def _clip_six(emitter: Emitter, x: str, name: str) -> str:
    bounds = [emitter.scalar("lightcost/zero", 0.0), emitter.scalar("lightcost/six", 6.0)]
    return emitter.emit("Clip", [x, *bounds], name, emitter.rank(x))


def _clip_one(emitter: Emitter, x: str, name: str) -> str:
    bounds = [emitter.scalar("lightcost/minus_one", -1.0), emitter.scalar("lightcost/one", 1.0)]
    return emitter.emit("Clip", [x, *bounds], name, emitter.rank(x))


def _times_sigmoid(emitter: Emitter, x: str, name: str) -> str:
    gate = emitter.emit("Sigmoid", [x], f"{name}/sigmoid", emitter.rank(x))
    return emitter.emit("Mul", [x, gate], name, emitter.rank(x))


CLIPS: dict[tuple[float, float | None], str] = {
    (0, 6): "relu6",
    (0, None): "relu",
    (-1, 1): "hardtanh",
}


def _import_clip(reader: Reader, node: OnnxNode) -> None:
    """Clip(0, 6) is relu6, Clip(0, inf) relu; bounds are inputs (opset >= 11) or attributes."""
    bounds = []
    for index, attr_name in ((1, "min"), (2, "max")):
        if len(node.input) > index and node.input[index]:
            value = reader.values(node.input[index])
            if value is None:
                raise reader.fail(node, f"{attr_name} must be a constant")
            bounds.append(float(value[0]))
        else:
            bounds.append(reader.attr(node, attr_name))
    act = CLIPS.get((bounds[0], bounds[1]))
    if act is None:
        raise reader.fail(
            node,
            f"Clip({bounds[0]}, {bounds[1]}): only Clip(0, 6) (relu6), Clip(0, inf) (relu) "
            "and Clip(-1, 1) (hardtanh) are mapped",
        )
    reader.add(node, act, node.input[:1])


def _import_sigmoid(reader: Reader, node: OnnxNode) -> None:
    """Sigmoid, or the gate of swish: Mul(x, Sigmoid(x)) with no other reader."""
    x, gate = node.input[0], node.output[0]
    mul = reader.only_reader(gate)
    if mul is not None and mul.op_type == "Mul" and sorted(mul.input) == sorted([x, gate]):
        reader.absorb(mul)
        reader.add(mul, "swish", [x])
    else:
        reader.add(node, "sigmoid", node.input[:1])


TABLE = (
    Activation("none", 0, _unchanged, {}),
    Activation("relu", 1, _onnx("Relu"), {"Relu": _as("relu")}),
    Activation("relu6", 2, _clip_six, {"Clip": _import_clip}),
    Activation("hswish", 5, _onnx("HardSwish"), {"HardSwish": _as("hswish")}),
    Activation(
        "hsigmoid",
        4,
        _onnx("HardSigmoid", alpha=1.0 / 6.0, beta=0.5),
        {"HardSigmoid": _as("hsigmoid")},
    ),
    Activation("sigmoid", 4, _onnx("Sigmoid"), {"Sigmoid": _import_sigmoid}),
    Activation("swish", 5, _times_sigmoid, {}),  # imported by sigmoid's handler
    Activation("silu", 5, _times_sigmoid, {}),  # swish by another name; imported as swish
    Activation("tanh", 5, _onnx("Tanh"), {"Tanh": _as("tanh")}),
    Activation("hardtanh", 2, _clip_one, {}),  # imported by relu6's Clip handler
    Activation("gelu", 9, gelu.export_erf, {"Erf": gelu.import_erf, "Gelu": gelu.import_gelu}),
    Activation("gelu_tanh", 13, gelu.export_tanh, {}),  # imported by tanh's handler
)
BY_NAME = {act.name: act for act in TABLE}
ACTIVATIONS = tuple(BY_NAME)


def act_ops(act: AttrValue) -> int:
    """Other ops per element of the activation ``act`` (0 for ``none``)."""
    return BY_NAME[str(act)].other_ops


def activate(emitter: Emitter, x: str, act: AttrValue, name: str) -> str:
    """Emit the activation ``act`` on ``x``; its last node is named ``name`` (none: ``x``)."""
    return BY_NAME[str(act)].export(emitter, x, name)


def _cost(node: Node) -> OpCost:
    return OpCost(other_ops=act_ops(node.op) * elements(node.out_shape))


def _export(emitter: Emitter, node: Node) -> str:
    return activate(emitter, emitter.inputs(node)[0], node.op, node.name)


OPDEFS = tuple(
    OpDef(
        name=act.name,
        summary=f"{act.name} activation",
        kind="elementwise",
        shape=same_shape,
        cost=_cost,
        export=_export,
        imports=act.imports,
    )
    for act in TABLE
    if act.name != "none"
)
