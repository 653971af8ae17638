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

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper

from lightcost.core.errors import SpecError
from lightcost.core.graph import INPUT, Graph, Node, Shape
from lightcost.ops import OPS

OPSET = 17
IR_VERSION = 8
MAX_VALUES = 2**26  # weight values of an export (256 MiB of float32), checked before making them


def export_graph(graph: Graph, seed: int = 0) -> onnx.ModelProto:
    """An ONNX model of ``graph`` (see the module docstring for the conventions).

    At most :data:`MAX_VALUES` weight values: a graph with more is a SpecError
    naming the layer that would pass the limit, raised before its weights are made.
    """
    return _Exporter(graph, seed).run()


class _Exporter:
    """The Emitter of lightcost.ops.protocols: ONNX nodes, initializers and tensor ranks.

    The model is built in place (weights are never copied between messages).
    """

    def __init__(self, graph: Graph, seed: int) -> None:
        self.graph = graph
        self.rng = np.random.default_rng(seed)
        self.model = onnx.ModelProto()
        self.values = 0  # weight values made so far
        self.layer = ""  # the layer being exported
        self.ranks: dict[str, int] = {INPUT: 4}
        self.tensor: dict[str, str] = {INPUT: INPUT}  # lightcost tensor -> ONNX tensor
        self.scalars: set[str] = set()

    def run(self) -> onnx.ModelProto:
        for node in self.graph.nodes:
            self.layer = node.name
            self.tensor[node.name] = OPS[node.op].export(self, node)
        last = self.tensor[self.graph.output]
        c, h, w = self.graph.nodes[-1].out_shape if self.graph.nodes else self.graph.input_shape
        out_dims = [1, c, h, w] if self.ranks[last] == 4 else [1, c]
        body = self.model.graph
        body.name = self.graph.name
        body.input.append(
            helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, [1, *self.graph.input_shape])
        )
        body.output.append(helper.make_tensor_value_info(last, TensorProto.FLOAT, out_dims))
        self.model.opset_import.append(helper.make_opsetid("", OPSET))
        self.model.ir_version = IR_VERSION
        self.model.producer_name = "lightcost"
        self.model.doc_string = f"lightcost export of {self.graph.file} (random weights)"
        return self.model

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
        self.model.graph.node.append(
            helper.make_node(op_type, list(inputs), [name], name=name, **attrs)
        )
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
        """An initializer of ``value``, made in place; ``value`` is dropped once in bytes, so
        a tensor's data is held at most twice (the bytes, then the message's copy)."""
        tensor = self.model.graph.initializer.add()
        tensor.name = name
        tensor.data_type = helper.np_dtype_to_tensor_dtype(value.dtype)
        tensor.dims.extend(value.shape)
        data = value.tobytes()
        del value
        tensor.raw_data = data
        return name

    def reserve(self, count: int) -> None:
        """Count ``count`` more weight values, or raise when they pass :data:`MAX_VALUES`."""
        self.values += count
        if self.values > MAX_VALUES:
            raise SpecError(
                f"{self.graph.file}: layer '{self.layer}': the ONNX export would hold more "
                f"than {MAX_VALUES:,} weight values ({MAX_VALUES * 4 // 2**20} MiB of float32); "
                "export a narrower or smaller model (--width, --res)"
            )

    def ints(self, name: str, values: Sequence[int]) -> str:
        self.reserve(len(values))
        return self.constant(name, np.array(values, dtype=np.int64))

    def scalar(self, name: str, value: float) -> str:
        if name not in self.scalars:  # once, however many nodes read it
            self.scalars.add(name)
            self.reserve(1)
            self.constant(name, np.array(value, dtype=np.float32))
        return name

    def filled(self, name: str, size: int, value: float) -> str:
        self.reserve(size)
        return self.constant(name, np.full(size, value, dtype=np.float32))

    def random(self, name: str, shape: Sequence[int], fan_in: int) -> str:
        self.reserve(math.prod(shape))
        return self.constant(name, self.normal(shape, fan_in))

    def normal(self, shape: Sequence[int], fan_in: int) -> np.ndarray[Any, Any]:
        """He-normal values (std sqrt(2 / fan_in)), scaled in place."""
        values = self.rng.standard_normal(tuple(shape), dtype=np.float32)
        values *= np.float32(np.sqrt(2.0 / fan_in))
        return values
