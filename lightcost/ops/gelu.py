"""GELU's ONNX forms: the exact (erf) and tanh patterns PyTorch exports, written and recognized.

``gelu``: Div(x, sqrt 2), Erf, Add 1, Mul x, Mul 0.5. ``gelu_tanh``: Mul(x, x),
Mul x, Mul 0.044715, Add x, Mul sqrt(2/pi), Tanh, Add 1, Mul x, Mul 0.5 (the
constants on either side, checked to 1e-3). ONNX's own Gelu (opset 20,
``approximate`` none or tanh) imports too. The activation table
(:mod:`lightcost.ops.activations`) holds the other ops per element.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lightcost.ops.protocols import Emitter, OnnxNode, Reader

SQRT2, KAPPA, BETA = math.sqrt(2.0), 0.044715, math.sqrt(2.0 / math.pi)
X = "x"  # in a pattern step: the other input is the activation's input
ERF_STEPS = (("Erf", None), ("Add", 1.0), ("Mul", X), ("Mul", 0.5))
TANH_STEPS = (
    ("Mul", X),
    ("Mul", KAPPA),
    ("Add", X),
    ("Mul", BETA),
    ("Tanh", None),
    ("Add", 1.0),
    ("Mul", X),
    ("Mul", 0.5),
)


def _const(emitter: Emitter, value: float) -> str:
    return emitter.scalar(f"lightcost/gelu_{value:.6g}", value)


def export_erf(emitter: Emitter, x: str, name: str) -> str:
    """x / 2 * (1 + erf(x / sqrt 2)) as PyTorch exports it."""
    rank = emitter.rank(x)
    y = emitter.emit("Div", [x, _const(emitter, SQRT2)], f"{name}/div", rank)
    return _emit_steps(emitter, x, y, ERF_STEPS, name)


def export_tanh(emitter: Emitter, x: str, name: str) -> str:
    """x / 2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))) as PyTorch exports it."""
    y = emitter.emit("Mul", [x, x], f"{name}/square", emitter.rank(x))
    return _emit_steps(emitter, x, y, TANH_STEPS, name)


def _emit_steps(
    emitter: Emitter, x: str, y: str, steps: tuple[tuple[str, object], ...], name: str
) -> str:
    rank = emitter.rank(x)
    for index, (op_type, other) in enumerate(steps):
        last = index == len(steps) - 1
        operands = (
            [] if other is None else [x if other == X else _const(emitter, float(str(other)))]
        )
        y = emitter.emit(op_type, [y, *operands], name if last else f"{name}/{index}", rank)
    return y


def _matches(reader: Reader, node: OnnxNode, x: str, tensor: str, other: object) -> bool:
    """Whether ``node`` reads ``tensor`` and, as its other input, ``other`` (x or a constant)."""
    if other is None:
        return list(node.input) == [tensor]
    if len(node.input) != 2 or tensor not in node.input:
        return False
    rest = node.input[1] if node.input[0] == tensor else node.input[0]
    if other == X:
        return rest == x
    dims = reader.const_dims(rest)
    if dims is None or math.prod(dims) != 1:
        return False
    values = reader.values(rest)
    return values is not None and abs(values[0] - float(str(other))) < 1e-3


def _chain(
    reader: Reader, first: OnnxNode, x: str, steps: tuple[tuple[str, object], ...]
) -> list[OnnxNode] | None:
    """The nodes after ``first`` that follow ``steps``, each the only reader of the one before."""
    nodes, tensor = [], first.output[0]
    for op_type, other in steps:
        node = reader.only_reader(tensor)
        if node is None or node.op_type != op_type or not _matches(reader, node, x, tensor, other):
            return None
        nodes.append(node)
        tensor = node.output[0]
    return nodes


def _take(reader: Reader, first: OnnxNode, x: str, act: str, nodes: list[OnnxNode]) -> None:
    for node in nodes:
        reader.absorb(node)
    reader.add(first, act, [x], output=nodes[-1].output[0])


def erf_pattern(reader: Reader, node: OnnxNode) -> bool:
    """Import a Div(x, sqrt 2) that begins an erf GELU as ``gelu``; False when it does not."""
    x = node.input[0]
    if not _matches(reader, node, x, x, SQRT2):
        return False
    nodes = _chain(reader, node, x, ERF_STEPS)
    if nodes is not None:
        _take(reader, node, x, "gelu", nodes)
    return nodes is not None


def tanh_pattern(reader: Reader, node: OnnxNode) -> bool:
    """Import a Mul(x, x) that begins a tanh GELU as ``gelu_tanh``; False when it does not."""
    if len(node.input) != 2 or node.input[0] != node.input[1]:
        return False
    x = node.input[0]
    nodes = _chain(reader, node, x, TANH_STEPS)
    if nodes is not None:
        _take(reader, node, x, "gelu_tanh", nodes)
    return nodes is not None


def import_erf(reader: Reader, node: OnnxNode) -> None:
    """An Erf outside a GELU pattern (the Div before it takes it in one)."""
    raise reader.fail(node, "only Erf inside GELU (Div, Erf, Add, Mul, Mul) is mapped")


def import_gelu(reader: Reader, node: OnnxNode) -> None:
    """ONNX Gelu (opset 20): ``gelu``, or ``gelu_tanh`` when ``approximate`` is tanh."""
    tanh = reader.attr_text(node, "approximate", "none") == "tanh"
    reader.add(node, "gelu_tanh" if tanh else "gelu", node.input[:1])
