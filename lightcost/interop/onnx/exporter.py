"""Export a layer graph to ONNX: a runnable model with random weights.

Conventions (docs/onnx.md):

* Opset :data:`OPSET`, IR version :data:`IR_VERSION`, float32, batch 1: the input
  ``input`` is ``[1, C, H, W]``.
* Node names are the lightcost layer names, so ``lightcost import`` of the file
  names its layers as the spec did. A layer becomes one main ONNX node named
  after it plus helper nodes named ``LAYER/role`` (``conv1/bn``, ``conv1/act``);
  every node's output tensor has the node's name.
* Each layer's nodes are its op's ``export`` (:mod:`lightcost.ops`, written
  against :class:`lightcost.ops.protocols.Emitter`, which this module
  implements). ``conv``/``dwconv``: Conv (explicit ``pads``; ``same`` as
  TensorFlow splits them, the extra row and column at the end) [+
  BatchNormalization] [+ activation]. ``fc``: [Flatten] + Gemm (``transB``).
  ``split``: Slice of its channel range. ``shuffle``: Reshape to ``[1, g, C/g,
  H, W]``, Transpose, Reshape back. ``se``: GlobalAveragePool, 1x1 Conv,
  activation, 1x1 Conv, gate, Mul. Activations: Relu, Clip(0, 6), HardSwish,
  HardSigmoid(1/6, 1/2), Sigmoid, Tanh; swish and silu as Sigmoid + Mul. An op
  without an ONNX form stops the export with ``not supported by export: OP``.
* A tensor is 4-D, except after Flatten and Gemm (``[1, C]``); a 2-D tensor is
  reshaped to ``[1, C, 1, 1]`` where an op needs 4-D.
* Weights: He-normal (std sqrt(2 / fan-in)), biases 0, BN scale 1, shift 0,
  mean 0, variance 1; seeded, so an export is reproducible.

onnx is an optional dependency: importing this module imports it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from lightcost.core.graph import INPUT, Graph, Node, Shape
from lightcost.ops import OPS

OPSET = 17
IR_VERSION = 8


def export_graph(graph: Graph, seed: int = 0) -> onnx.ModelProto:
    """An ONNX model of ``graph`` (see the module docstring for the conventions)."""
    return _Exporter(graph, seed).run()


class _Exporter:
    """The Emitter of lightcost.ops.protocols: ONNX nodes, initializers and tensor ranks."""

    def __init__(self, graph: Graph, seed: int) -> None:
        self.graph = graph
        self.rng = np.random.default_rng(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.weights: list[TensorProto] = []
        self.ranks: dict[str, int] = {INPUT: 4}
        self.tensor: dict[str, str] = {INPUT: INPUT}  # lightcost tensor -> ONNX tensor
        self.scalars: set[str] = set()

    def run(self) -> onnx.ModelProto:
        for node in self.graph.nodes:
            self.tensor[node.name] = OPS[node.op].export(self, node)
        last = self.tensor[self.graph.output]
        c, h, w = self.graph.nodes[-1].out_shape if self.graph.nodes else self.graph.input_shape
        out_dims = [1, c, h, w] if self.ranks[last] == 4 else [1, c]
        body = helper.make_graph(
            self.nodes,
            self.graph.name,
            [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, [1, *self.graph.input_shape])],
            [helper.make_tensor_value_info(last, TensorProto.FLOAT, out_dims)],
            self.weights,
        )
        model = helper.make_model(
            body,
            producer_name="lightcost",
            opset_imports=[helper.make_opsetid("", OPSET)],
        )
        model.ir_version = IR_VERSION
        model.doc_string = f"lightcost export of {self.graph.file} (random weights)"
        return model

    def inputs(self, node: Node) -> list[str]:
        """The tensors a layer reads, all made 4-D when any of them is."""
        tensors = [self.tensor[name] for name in node.inputs]
        if all(self.ranks[t] == self.ranks[tensors[0]] for t in tensors):
            return tensors
        return [self.as4d(t, s) for t, s in zip(tensors, node.in_shapes, strict=True)]

    def rank(self, tensor: str) -> int:
        return self.ranks[tensor]

    def emit(self, op_type: str, inputs: Sequence[str], name: str, rank: int, **attrs: Any) -> str:
        """Append one node whose single output tensor is named after it; returns that name."""
        self.nodes.append(helper.make_node(op_type, list(inputs), [name], name=name, **attrs))
        self.ranks[name] = rank
        return name

    def as4d(self, tensor: str, shape: Shape) -> str:
        """``tensor`` as ``[1, C, H, W]`` (a reshape of a ``[1, C]`` tensor)."""
        if self.ranks[tensor] == 4:
            return tensor
        name = f"{tensor}/4d"
        if name not in self.ranks:  # once per tensor, however many layers read it
            self.emit("Reshape", [tensor, self.ints(f"{name}_shape", [1, *shape])], name, 4)
        return name

    def constant(self, name: str, value: np.ndarray[Any, Any]) -> str:
        self.weights.append(numpy_helper.from_array(value, name))
        return name

    def ints(self, name: str, values: Sequence[int]) -> str:
        return self.constant(name, np.array(values, dtype=np.int64))

    def scalar(self, name: str, value: float) -> str:
        if name not in self.scalars:  # once, however many nodes read it
            self.scalars.add(name)
            self.constant(name, np.array(value, dtype=np.float32))
        return name

    def filled(self, name: str, size: int, value: float) -> str:
        return self.constant(name, np.full(size, value, dtype=np.float32))

    def random(self, name: str, shape: Sequence[int], fan_in: int) -> str:
        values = self.rng.standard_normal(tuple(shape), dtype=np.float32)
        return self.constant(name, values * np.float32(np.sqrt(2.0 / fan_in)))
