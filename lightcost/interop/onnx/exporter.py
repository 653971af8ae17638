"""Export a layer graph to ONNX: a runnable model with random weights.

Conventions (docs/onnx.md):

* Opset :data:`OPSET`, IR version :data:`IR_VERSION`, float32, batch 1: the input
  ``input`` is ``[1, C, H, W]``.
* Node names are the lightcost layer names, so ``lightcost import`` of the file
  names its layers as the spec did. A layer becomes one main ONNX node named
  after it plus helper nodes named ``LAYER/role`` (``conv1/bn``, ``conv1/act``);
  every node's output tensor has the node's name.
* ``conv``/``dwconv``: Conv (explicit ``pads``; ``same`` as TensorFlow splits
  them, the extra row and column at the end) [+ BatchNormalization] [+ activation].
  ``fc``: [Flatten] + Gemm (``transB``). ``split``: Slice of its channel range.
  ``shuffle``: Reshape to ``[1, g, C/g, H, W]``, Transpose, Reshape back.
  ``se``: GlobalAveragePool, 1x1 Conv, activation, 1x1 Conv, gate, Mul.
  Activations: Relu, Clip(0, 6), HardSwish, HardSigmoid(1/6, 1/2), Sigmoid,
  Tanh; swish and silu as Sigmoid + Mul.
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

OPSET = 17
IR_VERSION = 8

_CLIP_SIX = "lightcost/six"
_CLIP_ZERO = "lightcost/zero"


def same_pads(size: int, k: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow SAME padding of one axis: (begin, end), the odd pixel at the end."""
    k_eff = dilation * (k - 1) + 1
    out = -(-size // stride)
    total = max((out - 1) * stride + k_eff - size, 0)
    return total // 2, total - total // 2


def pads(padding: object, shape: Shape, k: int, stride: int, dilation: int) -> list[int]:
    """ONNX ``pads`` ``[top, left, bottom, right]`` of a lightcost padding on an input."""
    if padding == "same":
        (top, bottom), (left, right) = (same_pads(size, k, stride, dilation) for size in shape[1:])
        return [top, left, bottom, right]
    p = 0 if padding == "valid" else int(str(padding))
    return [p, p, p, p]


def export_graph(graph: Graph, seed: int = 0) -> onnx.ModelProto:
    """An ONNX model of ``graph`` (see the module docstring for the conventions)."""
    return _Exporter(graph, seed).run()


class _Exporter:
    def __init__(self, graph: Graph, seed: int) -> None:
        self.graph = graph
        self.rng = np.random.default_rng(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.weights: list[TensorProto] = []
        self.rank: dict[str, int] = {INPUT: 4}
        self.shape: dict[str, Shape] = {INPUT: graph.input_shape}
        self.tensor: dict[str, str] = {INPUT: INPUT}  # lightcost tensor -> ONNX tensor
        self.clip_bounds = False  # whether Clip's 0 and 6 are initializers yet

    def run(self) -> onnx.ModelProto:
        for node in self.graph.nodes:
            self.tensor[node.name] = self.layer(node)
            self.shape[node.name] = node.out_shape
        last = self.tensor[self.graph.output]
        c, h, w = self.shape[self.graph.output]
        out_dims = [1, c, h, w] if self.rank[last] == 4 else [1, c]
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

    # -- building blocks -----------------------------------------------------------------------

    def emit(self, op: str, inputs: Sequence[str], name: str, rank: int, **attrs: Any) -> str:
        """Append one node whose single output tensor is named after it; returns that name."""
        self.nodes.append(helper.make_node(op, list(inputs), [name], name=name, **attrs))
        self.rank[name] = rank
        return name

    def constant(self, name: str, value: np.ndarray[Any, Any]) -> str:
        self.weights.append(numpy_helper.from_array(value, name))
        return name

    def random(self, name: str, shape: Sequence[int], fan_in: int) -> str:
        values = self.rng.standard_normal(tuple(shape), dtype=np.float32)
        return self.constant(name, values * np.float32(np.sqrt(2.0 / fan_in)))

    def filled(self, name: str, size: int, value: float) -> str:
        return self.constant(name, np.full(size, value, dtype=np.float32))

    def ints(self, name: str, values: Sequence[int]) -> str:
        return self.constant(name, np.array(values, dtype=np.int64))

    def as4d(self, tensor: str, shape: Shape) -> str:
        """``tensor`` as ``[1, C, H, W]`` (a reshape of a ``[1, C]`` tensor)."""
        if self.rank[tensor] == 4:
            return tensor
        name = f"{tensor}/4d"
        if name not in self.rank:  # once per tensor, however many layers read it
            self.emit("Reshape", [tensor, self.ints(f"{name}_shape", [1, *shape])], name, 4)
        return name

    def same_rank(self, node: Node) -> list[str]:
        """The node's inputs, all made 4-D when any of them is."""
        tensors = [self.tensor[name] for name in node.inputs]
        if all(self.rank[t] == self.rank[tensors[0]] for t in tensors):
            return tensors
        return [self.as4d(t, s) for t, s in zip(tensors, node.in_shapes, strict=True)]

    def activation(self, x: str, act: str, name: str) -> str:
        """Apply a lightcost activation to ``x``; the last node is named ``name``."""
        rank = self.rank[x]
        if act == "none":
            return x
        if act in ("swish", "silu"):
            gate = self.emit("Sigmoid", [x], f"{name}/sigmoid", rank)
            return self.emit("Mul", [x, gate], name, rank)
        if act == "relu6":
            if not self.clip_bounds:
                self.constant(_CLIP_ZERO, np.array(0.0, dtype=np.float32))
                self.constant(_CLIP_SIX, np.array(6.0, dtype=np.float32))
                self.clip_bounds = True
            return self.emit("Clip", [x, _CLIP_ZERO, _CLIP_SIX], name, rank)
        if act == "hsigmoid":
            return self.emit("HardSigmoid", [x], name, rank, alpha=1.0 / 6.0, beta=0.5)
        simple = {"relu": "Relu", "hswish": "HardSwish", "sigmoid": "Sigmoid", "tanh": "Tanh"}
        return self.emit(simple[act], [x], name, rank)

    def batchnorm(self, x: str, channels: int, name: str) -> str:
        inputs = [
            x,
            self.filled(f"{name}/scale", channels, 1.0),
            self.filled(f"{name}/shift", channels, 0.0),
            self.filled(f"{name}/mean", channels, 0.0),
            self.filled(f"{name}/var", channels, 1.0),
        ]
        return self.emit("BatchNormalization", inputs, name, self.rank[x])

    def conv(
        self,
        x: str,
        in_shape: Shape,
        name: str,
        out: int,
        groups: int,
        attrs: dict[str, Any],
    ) -> str:
        """A Conv node with weights (and a zero bias when ``attrs['bias']``)."""
        k, stride, dilation = int(attrs["k"]), int(attrs["stride"]), int(attrs["dilation"])
        fan_in = k * k * in_shape[0] // groups
        inputs = [x, self.random(f"{name}/W", [out, in_shape[0] // groups, k, k], fan_in)]
        if attrs["bias"]:
            inputs.append(self.filled(f"{name}/B", out, 0.0))
        return self.emit(
            "Conv",
            inputs,
            name,
            4,
            kernel_shape=[k, k],
            strides=[stride, stride],
            dilations=[dilation, dilation],
            group=groups,
            pads=pads(attrs["padding"], in_shape, k, stride, dilation),
        )

    # -- one layer -----------------------------------------------------------------------------

    def layer(self, node: Node) -> str:  # noqa: C901, PLR0912 (to be split per op: issue 11)
        """Emit the ONNX nodes of one layer; returns its output tensor."""
        a, name, x_shape = dict(node.attrs), node.name, node.in_shapes[0]
        tensors = self.same_rank(node)
        x = tensors[0]
        op = node.op
        if op in ("conv", "dwconv"):
            groups = int(a["groups"]) if op == "conv" else x_shape[0]
            y = self.conv(self.as4d(x, x_shape), x_shape, name, node.out_shape[0], groups, a)
            if a["bn"]:
                y = self.batchnorm(y, node.out_shape[0], f"{name}/bn")
            return self.activation(y, str(a["act"]), f"{name}/act")
        if op == "fc":
            if self.rank[x] == 4:
                x = self.emit("Flatten", [x], f"{name}/flatten", 2, axis=1)
            features, out = x_shape[0] * x_shape[1] * x_shape[2], node.out_shape[0]
            inputs = [x, self.random(f"{name}/W", [out, features], features)]
            if a["bias"]:
                inputs.append(self.filled(f"{name}/B", out, 0.0))
            y = self.emit("Gemm", inputs, name, 2, transB=1)
            return self.activation(y, str(a["act"]), f"{name}/act")
        if op == "bn":
            return self.batchnorm(x, x_shape[0], name)
        if op in ("avgpool", "maxpool"):
            return self.pool(node, self.as4d(x, x_shape))
        if op == "add":
            y = self.emit("Add" if len(tensors) == 2 else "Sum", tensors, name, self.rank[x])
            return self.activation(y, str(a["act"]), f"{name}/act")
        if op == "mul":
            return self.emit("Mul", tensors, name, self.rank[x])
        if op == "concat":
            return self.emit("Concat", tensors, name, self.rank[x], axis=1)
        if op == "split":
            width = x_shape[0] // int(a["parts"])
            begin = int(a["index"]) * width
            starts, ends = (
                self.ints(f"{name}/starts", [begin]),
                self.ints(f"{name}/ends", [begin + width]),
            )
            return self.emit(
                "Slice", [x, starts, ends, self.ints(f"{name}/axes", [1])], name, self.rank[x]
            )
        if op == "shuffle":
            return self.shuffle(self.as4d(x, x_shape), x_shape, int(a["groups"]), name)
        if op == "se":
            return self.squeeze_excite(self.as4d(x, x_shape), x_shape, a, name)
        if op == "flatten":
            return self.emit("Flatten", [x], name, 2, axis=1)
        if op in ("dropout", "identity"):
            return self.emit(op.capitalize(), [x], name, self.rank[x])
        return self.activation(x, op, name)

    def pool(self, node: Node, x: str) -> str:
        a, kind = node.attrs, "Average" if node.op == "avgpool" else "Max"
        if a["global"]:
            return self.emit(f"Global{kind}Pool", [x], node.name, 4)
        k, dilation = int(a["k"]), int(a["dilation"])
        stride = int(a["stride"]) or k
        extra = {"dilations": [dilation, dilation]} if dilation != 1 else {}
        return self.emit(
            f"{kind}Pool",
            [x],
            node.name,
            4,
            kernel_shape=[k, k],
            strides=[stride, stride],
            pads=pads(a["padding"], node.in_shapes[0], k, stride, dilation),
            **extra,
        )

    def shuffle(self, x: str, shape: Shape, groups: int, name: str) -> str:
        c, h, w = shape
        split = self.ints(f"{name}/split_shape", [1, groups, c // groups, h, w])
        grouped = self.emit("Reshape", [x, split], name, 5)
        swapped = self.emit("Transpose", [grouped], f"{name}/transpose", 5, perm=[0, 2, 1, 3, 4])
        merged = self.ints(f"{name}/merge_shape", [1, c, h, w])
        return self.emit("Reshape", [swapped, merged], f"{name}/reshape", 4)

    def squeeze_excite(self, x: str, shape: Shape, a: dict[str, Any], name: str) -> str:
        c, squeeze = shape[0], int(a["squeeze"])
        pointwise = {"k": 1, "stride": 1, "dilation": 1, "padding": 0, "bias": a["bias"]}
        pooled = self.emit("GlobalAveragePool", [x], f"{name}/pool", 4)
        reduced = self.conv(pooled, (c, 1, 1), f"{name}/reduce", squeeze, 1, pointwise)
        reduced = self.activation(reduced, str(a["act"]), f"{name}/act")
        expanded = self.conv(reduced, (squeeze, 1, 1), f"{name}/expand", c, 1, pointwise)
        gate = self.activation(expanded, str(a["gate"]), f"{name}/gate")
        return self.emit("Mul", [x, gate], name, 4)
