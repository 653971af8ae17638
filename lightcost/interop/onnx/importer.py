"""Import an ONNX model as a lightcost spec, so it is costed by the one spec pipeline.

:func:`onnx_spec` turns a ModelProto into spec data (plain dicts and lists in the
spec language, docs/spec-language.md) and :func:`spec_yaml` writes it as a
readable spec; ``loader.read_spec`` parses that text like any spec file, so an
imported model goes through expand and cost exactly as a written one.

Conventions (docs/onnx.md):

* Shapes come from the model (``onnx.shape_inference``); batch 1; the graph has
  one 4-D float input ``[N, C, H, W]`` with fixed C, H, W. Every layer's width
  is ``fixed`` (the model's channels; ``--width`` does not apply).
* Layers are named after the ONNX nodes (made valid spec names: characters other
  than letters, digits, ``_ . -`` become ``_``; duplicates get ``_2``, ``_3``).
* Conv -> ``conv`` (``dwconv`` when ``group`` equals the input channels, with
  ``multiplier``); Gemm and MatMul (+ a bias Add) -> ``fc``. A
  BatchNormalization right after a conv that nothing else reads becomes the
  conv's ``bn: true``, else a ``bn`` layer; an activation right after a conv,
  fc or add that nothing else reads becomes its ``act``. Mul(x, Sigmoid(x)) is
  ``swish``; Reshape [N, g, C/g, H, W] + Transpose (0 2 1 3 4) + Reshape back is
  ``shuffle``; Split and Slice of equal channel parts are ``split`` layers;
  Flatten, Reshape, Squeeze and Unsqueeze that keep a lightcost shape (or only
  feed an fc) are views with no layer.
* Padding: symmetric ``pads`` are the spec's integer padding; asymmetric ones
  equal to TensorFlow SAME (and ``auto_pad`` SAME_*) are ``same``; anything else
  is an error naming the node. Every window's output size is checked against
  the model's.
* Operators lightcost does not map are an error listing each by name and count:
  nothing is silently costed as zero.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml

from lightcost.core.errors import SpecError, listing
from lightcost.core.graph import INPUT, AttrValue, Shape
from lightcost.ops import OPS, ShapeError, spatial

if TYPE_CHECKING:
    import numpy as np
    import onnx

INSTALL_HINT = "pip install 'lightcost[onnx]'"
ACTIVATION_OPS = {
    "Relu": "relu",
    "HardSwish": "hswish",
    "HardSigmoid": "hsigmoid",
    "Sigmoid": "sigmoid",
    "Tanh": "tanh",
}
SUPPORTED = {
    *ACTIVATION_OPS,
    "Conv",
    "Gemm",
    "MatMul",
    "BatchNormalization",
    "Clip",
    "Mul",
    "Add",
    "Sum",
    "Concat",
    "Split",
    "Slice",
    "Reshape",
    "Transpose",
    "Flatten",
    "Squeeze",
    "Unsqueeze",
    "GlobalAveragePool",
    "GlobalMaxPool",
    "AveragePool",
    "MaxPool",
    "Identity",
    "Dropout",
    "Constant",
}
FOLD_ACT = ("conv", "dwconv", "fc", "add")  # ops with an `act` attribute
_INVALID = re.compile(r"[^A-Za-z0-9_.\-]+")


@dataclass
class Layer:
    """One spec layer being built: its name, op, non-default attributes and inputs."""

    name: str
    op: str
    attrs: dict[str, AttrValue]
    inputs: list[str]


def read_onnx(path: str) -> onnx.ModelProto:
    """Load an ONNX file; a missing onnx package or a bad file is a SpecError."""
    try:
        import onnx
    except ImportError:
        raise SpecError(f"{path}: reading ONNX needs the onnx package: {INSTALL_HINT}") from None
    if not os.path.isfile(path):
        raise SpecError(f"no ONNX file '{path}'")
    try:
        return onnx.load(path)
    except Exception as exc:  # protobuf's DecodeError, OSError, onnx's own errors
        raise SpecError(
            f"{path}: not a readable ONNX model ({type(exc).__name__}: {exc})"
        ) from None


def onnx_spec_text(path: str) -> str:
    """The spec (YAML text) of the ONNX model at ``path``: what ``read_spec`` parses."""
    return spec_yaml(onnx_spec(read_onnx(path), path), path)


def onnx_spec(model: onnx.ModelProto, file: str) -> dict[str, Any]:
    """Spec data (the spec language as plain dicts and lists) of an ONNX model."""
    return _Importer(model, file).run()


def spec_yaml(spec: dict[str, Any], source: str) -> str:
    """A readable spec: a comment header naming ``source``, one flow mapping per layer."""
    lines = [
        f"# Imported from {os.path.basename(source)} by `lightcost import` (docs/onnx.md).",
        "# Layers are named after the ONNX nodes; a BatchNormalization after a conv is its",
        "# `bn: true`, an activation after a conv, fc or add its `act`; widths are fixed.",
    ]
    lines += [f"{key}: {_flow(value)}" for key, value in spec.items() if key != "layers"]
    lines.append("layers:")
    lines += [f"  - {_flow(layer)}" for layer in spec["layers"]]
    return "\n".join(lines) + "\n"


def _flow(value: Any) -> str:
    """``value`` in YAML flow style on one line."""
    text: str = yaml.safe_dump(value, default_flow_style=True, width=10**6, sort_keys=False)
    return text.removesuffix("\n").removesuffix("\n...")


def spec_name(raw: str, fallback: str) -> str:
    """A valid spec layer name for an ONNX node name (see the module docstring)."""
    name = _INVALID.sub("_", raw).strip("_.-") or fallback
    if not (name[0].isalpha() or name[0] == "_"):
        name = f"n_{name}"
    return f"{name}_" if name in (INPUT, "prev") else name


class _Importer:
    def __init__(self, model: onnx.ModelProto, file: str) -> None:
        import onnx

        self.file = file
        try:
            model = onnx.shape_inference.infer_shapes(model)
        except Exception as exc:  # InferenceError, ValidationError
            raise SpecError(f"{file}: ONNX shape inference failed: {exc}") from None
        self.model = model
        graph = model.graph
        self.nodes = list(graph.node)
        self.consts: dict[str, onnx.TensorProto] = {t.name: t for t in graph.initializer}
        for node in self.nodes:
            if node.op_type == "Constant" and node.attribute:
                value = node.attribute[0]
                if value.name == "value":
                    self.consts[node.output[0]] = value.t
        self.dims: dict[str, list[int | None]] = {}
        for info in [*graph.input, *graph.value_info, *graph.output]:
            tensor = info.type.tensor_type
            if tensor.HasField("shape"):
                self.dims[info.name] = [
                    d.dim_value if d.HasField("dim_value") else None for d in tensor.shape.dim
                ]
        self.readers: dict[str, list[onnx.NodeProto]] = {}
        for node in self.nodes:
            for tensor_name in node.input:
                self.readers.setdefault(tensor_name, []).append(node)
        self.outputs = {info.name for info in graph.output}
        self.ref: dict[str, str] = {}  # ONNX tensor -> spec reference (layer name or input)
        self.layers: list[Layer] = []
        self.names: set[str] = set()
        self.absorbed: set[int] = set()  # ids of nodes already handled by a pattern

    # -- helpers ---------------------------------------------------------------------------

    def fail(self, node: onnx.NodeProto, problem: str) -> SpecError:
        return SpecError(f"{self.file}: node '{node.name}' ({node.op_type}): {problem}")

    def attr(self, node: onnx.NodeProto, name: str, default: Any = None) -> Any:
        import onnx

        for attribute in node.attribute:
            if attribute.name == name:
                return onnx.helper.get_attribute_value(attribute)
        return default

    def const(self, name: str) -> np.ndarray[Any, Any] | None:
        from onnx import numpy_helper

        tensor = self.consts.get(name)
        return None if tensor is None else numpy_helper.to_array(tensor)

    def shape(self, tensor: str, node: onnx.NodeProto) -> Shape:
        """The lightcost shape (C, H, W) of a [N, C, H, W] or [N, C] tensor."""
        dims = self.dims.get(tensor)
        if dims is None or any(d is None for d in dims[1:]) or len(dims) not in (2, 4):
            shown = "unknown" if dims is None else str(dims)
            raise self.fail(
                node, f"tensor '{tensor}' has shape {shown}; lightcost needs [N, C, H, W] or [N, C]"
            )
        c, h, w = (*dims[1:], 1, 1)[:3]
        return (int(c or 0), int(h or 0), int(w or 0))

    def source(self, tensor: str, node: onnx.NodeProto) -> str:
        if tensor not in self.ref:
            raise self.fail(node, f"input '{tensor}' is a constant or unknown tensor, not data")
        return self.ref[tensor]

    def only_reader(self, tensor: str) -> onnx.NodeProto | None:
        """The one node reading ``tensor`` when it has exactly one and is no graph output."""
        readers = self.readers.get(tensor, [])
        return readers[0] if len(readers) == 1 and tensor not in self.outputs else None

    def add(
        self,
        node: onnx.NodeProto,
        op: str,
        inputs: Sequence[str],
        attrs: dict[str, AttrValue] | None = None,
        output: str | None = None,
        name: str | None = None,
    ) -> None:
        """Append a layer named after ``node``; ``output`` (default its first) now refers to it."""
        base = spec_name(name or node.name, node.op_type)
        unique, n = base, 1
        while unique in self.names:
            n += 1
            unique = f"{base}_{n}"
        self.names.add(unique)
        self.layers.append(
            Layer(unique, op, dict(attrs or {}), [self.source(t, node) for t in inputs])
        )
        self.ref[output if output is not None else node.output[0]] = unique

    # -- the walk --------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        graph = self.model.graph
        unknown = Counter(
            n.op_type
            for n in self.nodes
            if n.op_type not in SUPPORTED or n.domain not in ("", "ai.onnx")
        )
        if unknown:
            shown = listing(f"{op} x{count}" for op, count in unknown.most_common())
            raise SpecError(
                f"{self.file}: unsupported ONNX operators: {shown} (lightcost maps: "
                f"{', '.join(sorted(SUPPORTED - {'Constant'}))})"
            )
        inputs = [i for i in graph.input if i.name not in self.consts]
        if len(inputs) != 1:
            raise SpecError(f"{self.file}: lightcost needs one graph input, found {len(inputs)}")
        dims = self.dims.get(inputs[0].name, [])
        if len(dims) != 4 or any(d is None or d < 1 for d in dims[1:]):
            raise SpecError(
                f"{self.file}: input '{inputs[0].name}' has shape {dims}; lightcost needs "
                "[N, C, H, W] with fixed C, H and W"
            )
        self.ref[inputs[0].name] = INPUT
        for node in self.nodes:
            if id(node) not in self.absorbed:
                self.node(node)
        self.fold()
        return {
            "lightcost": 1,
            "name": graph.name or os.path.splitext(os.path.basename(self.file))[0],
            "description": f"imported from {os.path.basename(self.file)} (ONNX)",
            "source": f"{self.file}; producer {self.model.producer_name or 'unknown'} "
            f"{self.model.producer_version}".rstrip(),
            "input": [int(d or 0) for d in dims[1:]],
            "width": "fixed",
            "layers": self.emitted(),
        }

    def node(self, node: onnx.NodeProto) -> None:
        op = node.op_type
        if op == "Constant":
            return
        handler = getattr(self, f"op_{op}", None)
        if handler is not None:
            handler(node)
        elif op in ACTIVATION_OPS:
            self.activation(node, ACTIVATION_OPS[op])
        elif op in ("Identity", "Dropout"):
            self.add(node, op.lower(), node.input[:1])
        elif op in ("Flatten", "Reshape", "Squeeze", "Unsqueeze"):
            self.view(node)
        elif op in ("GlobalAveragePool", "GlobalMaxPool"):
            kind = "avgpool" if op == "GlobalAveragePool" else "maxpool"
            self.add(node, kind, node.input[:1], {"global": True})
        else:  # Transpose outside a channel shuffle
            raise self.fail(node, "only a channel shuffle (Reshape, Transpose, Reshape) is mapped")

    # -- convolutions and fully connected ------------------------------------------------------

    def window(
        self, node: onnx.NodeProto, k: int, in_shape: Shape, out_shape: Shape
    ) -> dict[str, AttrValue]:
        """``stride``, ``padding``, ``dilation`` of a Conv or pool, checked against its output."""
        kernel = list(self.attr(node, "kernel_shape", [k, k]))
        strides = list(self.attr(node, "strides", [1, 1]))
        dilations = list(self.attr(node, "dilations", [1, 1]))
        for label, values in (("kernel", kernel), ("strides", strides), ("dilations", dilations)):
            if len(values) != 2 or values[0] != values[1]:
                raise self.fail(node, f"{label} {values}: lightcost needs 2-D square windows")
        stride, dilation = int(strides[0]), int(dilations[0])
        auto = self.attr(node, "auto_pad", b"NOTSET")
        auto = auto.decode() if isinstance(auto, bytes) else str(auto)
        onnx_pads = [int(p) for p in self.attr(node, "pads", [0, 0, 0, 0])]
        padding: AttrValue
        if auto in ("SAME_UPPER", "SAME_LOWER"):
            padding = "same"
        elif auto == "VALID":
            padding = "valid"
        elif len(set(onnx_pads)) == 1:
            padding = onnx_pads[0]
        elif self.is_same(onnx_pads, in_shape, k, stride, dilation):
            padding = "same"
        else:
            raise self.fail(
                node,
                f"pads {onnx_pads} are neither symmetric nor TensorFlow SAME for a "
                f"{in_shape[1]}x{in_shape[2]} input",
            )
        try:
            got = tuple(spatial(size, k, stride, padding, dilation) for size in in_shape[1:])
        except ShapeError as exc:
            raise self.fail(node, str(exc)) from None
        if got != out_shape[1:] and padding != "same" and self.attr(node, "ceil_mode", 0):
            padding = "same"  # ceil_mode: rounding up can equal SAME's ceil(in / stride)
            got = tuple(spatial(size, k, stride, padding, dilation) for size in in_shape[1:])
        if got != out_shape[1:]:
            raise self.fail(
                node,
                f"output {out_shape[1]}x{out_shape[2]} cannot be expressed: padding "
                f"{padding} gives {got[0]}x{got[1]}",
            )
        return {"k": k, "stride": stride, "padding": padding, "dilation": dilation}

    @staticmethod
    def is_same(onnx_pads: list[int], in_shape: Shape, k: int, stride: int, dilation: int) -> bool:
        """Whether ``[top, left, bottom, right]`` is TensorFlow SAME (either odd-pixel side)."""
        from lightcost.interop.onnx.exporter import same_pads

        for axis, size in enumerate(in_shape[1:]):
            begin, end = same_pads(size, k, stride, dilation)
            if sorted((onnx_pads[axis], onnx_pads[axis + 2])) != sorted((begin, end)):
                return False
        return True

    def op_Conv(self, node: onnx.NodeProto) -> None:
        weight = self.consts.get(node.input[1])
        if weight is None or len(weight.dims) != 4:
            raise self.fail(node, "the weight must be a 4-D initializer (2-D convolution)")
        out, _, kh, kw = (int(d) for d in weight.dims)
        if kh != kw:
            raise self.fail(node, f"kernel {kh}x{kw}: lightcost needs square kernels")
        in_shape, out_shape = self.shape(node.input[0], node), self.shape(node.output[0], node)
        attrs = self.window(node, kh, in_shape, out_shape)
        attrs["bias"] = len(node.input) > 2 and node.input[2] != ""
        attrs["bn"] = False
        groups = int(self.attr(node, "group", 1))
        if groups > 1 and groups == in_shape[0]:
            attrs["multiplier"] = out // groups
            self.add(node, "dwconv", node.input[:1], attrs)
        else:
            self.add(node, "conv", node.input[:1], {"out": out, "groups": groups, **attrs})

    def fc(self, node: onnx.NodeProto, out: int, features: int, bias: bool, output: str) -> None:
        x = node.input[0]
        c, h, w = self.shape(x, node)
        if c * h * w != features:
            raise self.fail(node, f"weight reads {features} features, the input has {c * h * w}")
        self.add(node, "fc", [x], {"out": out, "bias": bias}, output)

    def op_Gemm(self, node: onnx.NodeProto) -> None:
        weight = self.consts.get(node.input[1])
        if weight is None or len(weight.dims) != 2 or self.attr(node, "transA", 0):
            raise self.fail(node, "B must be a 2-D initializer and A not transposed")
        rows, cols = (int(d) for d in weight.dims)
        out, features = (rows, cols) if self.attr(node, "transB", 0) else (cols, rows)
        bias = len(node.input) > 2 and node.input[2] != ""
        self.fc(node, out, features, bias, node.output[0])

    def op_MatMul(self, node: onnx.NodeProto) -> None:
        weight = self.consts.get(node.input[1])
        if weight is None or len(weight.dims) != 2 or len(self.dims.get(node.input[0], [])) != 2:
            raise self.fail(node, "only [N, features] x 2-D initializer (a fully connected layer)")
        features, out = (int(d) for d in weight.dims)
        output, bias = node.output[0], False
        add = self.only_reader(output)
        if add is not None and add.op_type == "Add":
            other = [t for t in add.input if t != output]
            if len(other) == 1 and other[0] in self.consts:
                self.absorbed.add(id(add))
                output, bias = add.output[0], True
        self.fc(node, out, features, bias, output)

    # -- normalization, activations, element-wise ------------------------------------------------

    def op_BatchNormalization(self, node: onnx.NodeProto) -> None:
        self.add(node, "bn", node.input[:1])

    def activation(self, node: onnx.NodeProto, op: str) -> None:
        self.add(node, op, node.input[:1])

    def op_Clip(self, node: onnx.NodeProto) -> None:
        bounds = []
        for index, attr_name in ((1, "min"), (2, "max")):
            if len(node.input) > index and node.input[index]:
                value = self.const(node.input[index])
                if value is None:
                    raise self.fail(node, f"{attr_name} must be a constant")
                bounds.append(float(value))
            else:
                bounds.append(self.attr(node, attr_name))
        if bounds[0] == 0 and bounds[1] == 6:
            self.activation(node, "relu6")
        elif bounds[0] == 0 and bounds[1] is None:
            self.activation(node, "relu")
        else:
            raise self.fail(
                node, f"Clip({bounds[0]}, {bounds[1]}): only Clip(0, 6) (relu6) is mapped"
            )

    def op_Sigmoid(self, node: onnx.NodeProto) -> None:
        """Sigmoid, or the gate of swish: Mul(x, Sigmoid(x)) with no other reader."""
        x, gate = node.input[0], node.output[0]
        mul = self.only_reader(gate)
        if mul is not None and mul.op_type == "Mul" and sorted(mul.input) == sorted([x, gate]):
            self.absorbed.add(id(mul))
            self.add(mul, "swish", [x])
        else:
            self.activation(node, "sigmoid")

    def op_Mul(self, node: onnx.NodeProto) -> None:
        """Element-wise product; the full-size input first, a C x 1 x 1 gate second."""
        if any(t in self.consts for t in node.input):
            raise self.fail(node, "a product with a constant is not mapped (only x * gate)")
        a, b = node.input[0], node.input[1]
        if self.shape(a, node)[1:] == (1, 1) and self.shape(b, node)[1:] != (1, 1):
            a, b = b, a
        self.add(node, "mul", [a, b])

    def op_Add(self, node: onnx.NodeProto) -> None:
        if any(t in self.consts for t in node.input):
            raise self.fail(node, "a sum with a constant is not mapped (only a MatMul bias)")
        shapes = {self.shape(t, node) for t in node.input}
        if len(shapes) > 1:
            raise self.fail(node, f"inputs of different shapes {sorted(shapes)} (broadcasting)")
        self.add(node, "add", node.input)

    op_Sum = op_Add

    # -- channel data movement --------------------------------------------------------------

    def channel_axis(self, node: onnx.NodeProto, axis: int, tensor: str) -> None:
        rank = len(self.dims.get(tensor, []))
        if axis not in (1, 1 - rank):
            raise self.fail(node, f"axis {axis}: only the channel axis (1) is mapped")

    def op_Concat(self, node: onnx.NodeProto) -> None:
        self.channel_axis(node, int(self.attr(node, "axis", 1)), node.input[0])
        self.add(node, "concat", node.input)

    def op_Split(self, node: onnx.NodeProto) -> None:
        self.channel_axis(node, int(self.attr(node, "axis", 0)), node.input[0])
        sizes = self.attr(node, "split")
        if len(node.input) > 1 and node.input[1]:
            sizes = self.const(node.input[1])
        parts = len(node.output)
        if sizes is not None and len({int(s) for s in sizes}) > 1:
            shown = [int(s) for s in sizes]
            raise self.fail(node, f"split sizes {shown}: only equal parts are mapped")
        for index, output in enumerate(node.output):
            if output and (output in self.readers or output in self.outputs):
                attrs: dict[str, AttrValue] = {"parts": parts, "index": index}
                name = f"{node.name or node.op_type}_{index}"
                self.add(node, "split", node.input[:1], attrs, output, name)

    def op_Slice(self, node: onnx.NodeProto) -> None:
        """A channel slice that is one of equal parts: ``split``."""
        inputs = [*node.input[1:5], "", "", "", ""][:4]
        values = [self.const(t) if t else None for t in inputs]
        if len(node.input) == 1:  # opset < 10: attributes
            values = [self.attr(node, n) for n in ("starts", "ends", "axes")] + [None]
        starts, ends, axes, steps = ([] if v is None else [int(x) for x in v] for v in values)
        if not starts or len(starts) != 1 or any(s != 1 for s in steps):
            raise self.fail(node, "only a slice of one axis with step 1 is mapped")
        self.channel_axis(node, axes[0] if axes else 0, node.input[0])
        channels = self.shape(node.input[0], node)[0]
        begin, end = (
            min(max(v + channels if v < 0 else v, 0), channels) for v in (starts[0], ends[0])
        )
        width = end - begin
        if width < 1 or channels % width or begin % width:
            raise self.fail(
                node, f"channels {begin}:{end} of {channels} are not one of equal parts"
            )
        self.add(
            node, "split", node.input[:1], {"parts": channels // width, "index": begin // width}
        )

    def op_Reshape(self, node: onnx.NodeProto) -> None:
        """A channel shuffle (with the Transpose and Reshape after it), else a view."""
        dims = self.dims.get(node.output[0], [])
        transpose = self.only_reader(node.output[0])
        back = transpose and self.only_reader(transpose.output[0])
        if (
            len(dims) == 5
            and transpose is not None
            and transpose.op_type == "Transpose"
            and list(self.attr(transpose, "perm", [])) == [0, 2, 1, 3, 4]
            and back is not None
            and back.op_type == "Reshape"
            and self.shape(back.output[0], back) == self.shape(node.input[0], node)
        ):
            self.absorbed.update({id(transpose), id(back)})
            groups = int(dims[1] or 0)
            self.add(node, "shuffle", node.input[:1], {"groups": groups}, back.output[0])
            return
        self.view(node)

    def view(self, node: onnx.NodeProto) -> None:
        """Flatten, Reshape, Squeeze, Unsqueeze: no layer when the lightcost shape is kept or
        only an fc reads the result (it flattens anyway); else a ``flatten`` layer."""
        x, y = node.input[0], node.output[0]
        before = self.shape(x, node)
        dims = self.dims.get(y, [])
        after = self.shape(y, node)
        reader = self.only_reader(y)
        if after == before or (
            len(dims) == 2 and reader is not None and reader.op_type in ("Gemm", "MatMul")
        ):
            self.ref[y] = self.source(x, node)
        elif len(dims) == 2 and after[0] == before[0] * before[1] * before[2]:
            self.add(node, "flatten", [x])
        else:
            raise self.fail(node, f"reshape {list(before)} -> {dims} is not a view lightcost maps")

    # -- pooling -----------------------------------------------------------------------------

    def pool(self, node: onnx.NodeProto, kind: str) -> None:
        kernel = list(self.attr(node, "kernel_shape", []))
        in_shape, out_shape = self.shape(node.input[0], node), self.shape(node.output[0], node)
        attrs = self.window(node, int(kernel[0]) if kernel else 0, in_shape, out_shape)
        if attrs["stride"] == attrs["k"]:
            attrs["stride"] = 0  # the spec's default: the kernel size
        self.add(node, kind, node.input[:1], attrs)

    def op_AveragePool(self, node: onnx.NodeProto) -> None:
        self.pool(node, "avgpool")

    def op_MaxPool(self, node: onnx.NodeProto) -> None:
        self.pool(node, "maxpool")

    # -- folding and output ----------------------------------------------------------------

    def fold(self) -> None:
        """Fold BN into the conv before it, then activations into the layer before them."""
        self.fold_into(
            lambda layer: layer.op == "bn",
            lambda p: (
                p.op in ("conv", "dwconv")
                and not p.attrs["bn"]
                and p.attrs.get("act", "none") == "none"
            ),
            lambda p, layer: p.attrs.update(bn=True),
        )
        activations = set(ACTIVATION_OPS.values()) | {"relu6", "swish"}
        self.fold_into(
            lambda layer: layer.op in activations,
            lambda p: p.op in FOLD_ACT and p.attrs.get("act", "none") == "none",
            lambda p, layer: p.attrs.update(act=layer.op),
        )

    def fold_into(
        self,
        folds: Callable[[Layer], bool],
        accepts: Callable[[Layer], bool],
        apply: Callable[[Layer, Layer], None],
    ) -> None:
        """Merge each layer ``folds`` accepts into its single input layer ``p`` when
        ``accepts(p)`` and nothing else reads ``p`` (nor is it a graph output);
        references to the merged layer then mean ``p``."""
        readers = Counter(name for layer in self.layers for name in layer.inputs)
        readers.update(self.ref[name] for name in self.outputs if name in self.ref)
        by_name = {layer.name: layer for layer in self.layers}
        renamed: dict[str, str] = {}
        kept: list[Layer] = []
        for layer in self.layers:
            layer.inputs = [renamed.get(name, name) for name in layer.inputs]
            before = by_name.get(layer.inputs[0]) if len(layer.inputs) == 1 else None
            if (
                folds(layer)
                and before is not None
                and readers[before.name] == 1
                and accepts(before)
            ):
                apply(before, layer)
                renamed[layer.name] = before.name
                continue
            kept.append(layer)
        self.layers = kept

    def emitted(self) -> list[dict[str, Any]]:
        """The layers as spec items: attributes equal to the op's default left out, and
        ``from`` only when a layer does not read the one before it."""
        items: list[dict[str, Any]] = []
        prev = INPUT
        for layer in self.layers:
            item: dict[str, Any] = {"name": layer.name, "op": layer.op}
            defaults = OPS[layer.op].attrs
            item.update(
                (key, value)
                for key, value in layer.attrs.items()
                if key not in defaults or value != defaults[key].default
            )
            if layer.inputs != [prev]:
                item["from"] = layer.inputs[0] if len(layer.inputs) == 1 else layer.inputs
            items.append(item)
            prev = layer.name
        return items
