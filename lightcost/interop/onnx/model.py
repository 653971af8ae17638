"""The reading half of ONNX import: an ONNX model's constants, tensor shapes and readers.

:class:`OnnxModel` answers what the ops' import handlers ask
(:class:`lightcost.ops.protocols.Reader`, with the layer-building half in
:mod:`lightcost.interop.onnx.importer`): attributes, constants, the lightcost
shape of a tensor, who reads a tensor, and the window of a Conv or pool.
Shapes come from ``onnx.shape_inference``; batch 1.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lightcost.core.errors import SpecError, short
from lightcost.core.graph import AttrValue, Pair, Shape
from lightcost.interop.onnx.fold import fold
from lightcost.interop.onnx.wire import MAX_CONST_BYTES
from lightcost.interop.onnx.writer import decoded, text
from lightcost.ops import ShapeError, same_pads, spatial
from lightcost.ops.base import axis_padding, padding_sides, pair, pair_text, square

if TYPE_CHECKING:
    import onnx

    from lightcost.ops.protocols import OnnxNode


MAX_NAME = 100  # characters of a layer name made from an ONNX node name, or of a name in a message


class OnnxModel:
    """An ONNX model with inferred shapes, read as the import handlers need it."""

    def __init__(self, model: onnx.ModelProto, file: str) -> None:

        self.file = file
        model = self.infer(model)
        self.shapes = _shapes(model)
        folded = fold(model, self.shapes)  # shape arithmetic, constant aliases (.fold)
        if folded is not None:
            model = self.infer(folded)
            self.shapes = _shapes(model)
        self.model = model
        graph = model.graph
        self.nodes = list(graph.node)
        self.consts: dict[str, onnx.TensorProto] = {t.name: t for t in graph.initializer}
        for node in self.nodes:
            if node.op_type == "Constant" and node.attribute:
                value = node.attribute[0]
                if value.name == "value":
                    self.consts[node.output[0]] = value.t
        self.readers: dict[str, list[onnx.NodeProto]] = {}
        for node in self.nodes:
            for tensor_name in node.input:
                self.readers.setdefault(tensor_name, []).append(node)
        self.outputs = {info.name for info in graph.output}
        self.last: set[str] = set()  # 4-D tensors in channels-last layout [N, H, W, C]

    def infer(self, model: onnx.ModelProto) -> onnx.ModelProto:
        """``model`` with inferred shapes; a failure is an error naming the file."""
        import onnx

        try:
            return onnx.shape_inference.infer_shapes(model)
        except Exception as exc:  # InferenceError, ValidationError, MemoryError
            raise SpecError(f"{self.file}: ONNX shape inference failed: {reason(exc)}") from None

    def fail(self, node: OnnxNode, problem: str) -> SpecError:
        """An error naming the node and its op type (to raise)."""
        name, op_type = text(node.name, MAX_NAME), text(node.op_type, MAX_NAME)
        return SpecError(f"{self.file}: node '{name}' ({op_type}): {problem}")

    def attr(self, node: OnnxNode, name: str, default: Any = None) -> Any:
        """An attribute of ``node`` as a Python value, else ``default``."""
        import onnx

        for attribute in node.attribute:
            if attribute.name == name:
                return onnx.helper.get_attribute_value(attribute)
        return default

    def attr_text(self, node: OnnxNode, name: str, default: str) -> str:
        """A string attribute of ``node`` as text (invalid UTF-8 replaced), else ``default``."""
        return str(decoded(self.attr(node, name, default)))

    def const_dims(self, name: str) -> list[int] | None:
        """The dims of a constant (initializer or Constant), None for data."""
        tensor = self.consts.get(name)
        return None if tensor is None else [int(d) for d in tensor.dims]

    def values(self, name: str) -> list[Any] | None:
        """The values of a constant, flattened; None for data.

        Only a constant whose data the file holds inline and :mod:`.wire` kept
        (a tensor of at most ``MAX_CONST_BYTES``) has values; any other is an error.
        """
        import onnx
        from onnx import numpy_helper

        tensor = self.consts.get(name)
        if tensor is None:
            return None
        if tensor.data_location == onnx.TensorProto.EXTERNAL or not _has_data(tensor):
            raise SpecError(
                f"{self.file}: constant '{text(name, MAX_NAME)}' has no inline data of at most "
                f"{MAX_CONST_BYTES} bytes: lightcost reads the values of small constants only"
            )
        try:
            return list(numpy_helper.to_array(tensor).ravel().tolist())
        except Exception as exc:  # data that does not match the dims or type
            raise SpecError(
                f"{self.file}: constant '{text(name, MAX_NAME)}' is malformed ({reason(exc)})"
            ) from None

    def dims(self, tensor: str) -> list[int | None]:
        """The inferred dims of a tensor (None: unknown), [] when it has no shape."""
        return self.shapes.get(tensor, [])

    def shape(self, tensor: str, node: OnnxNode) -> Shape:
        """The lightcost shape (C, H, W) of a [N, C, H, W] or [N, C] tensor, of a channels-last
        [N, H, W, C] one, or of tokens [S, N, D]: (D, S, N), S sequences of N tokens."""
        dims = self.shapes.get(tensor)
        if dims is None or any(d is None for d in dims[1:]) or len(dims) not in (2, 3, 4):
            shown = "unknown" if dims is None else short(dims)
            raise self.fail(
                node,
                f"tensor '{text(tensor, MAX_NAME)}' has shape {shown}; lightcost needs "
                "[N, C, H, W], [N, C] or tokens [S, N, D]",
            )
        order = self.order(tensor)
        c, h, w = (int(dims[order.index(a)] or 1) if a in order else 1 for a in "chw")
        return (c, h, w)

    def order(self, tensor: str) -> str:
        """What each axis of a tensor is in lightcost's triple (``n``: the batch): ``nchw``,
        ``nhwc`` (channels last), ``hwc`` (tokens [S, N, D]) or ``nc``."""
        rank = len(self.shapes.get(tensor) or [])
        if rank == 4:
            return "nhwc" if tensor in self.last else "nchw"
        return {3: "hwc", 2: "nc"}.get(rank, "")

    def axis(self, tensor: str, axis: int) -> str:
        """The lightcost axis (``c``, ``h``, ``w``; ``n`` the batch) of an ONNX axis of a tensor."""
        order = self.order(tensor)
        index = axis + len(order) if axis < 0 else axis
        return order[index] if 0 <= index < len(order) else "?"

    def only_reader(self, tensor: str) -> onnx.NodeProto | None:
        """The one node reading ``tensor`` when it has exactly one and is no graph output."""
        readers = self.readers.get(tensor, [])
        return readers[0] if len(readers) == 1 and tensor not in self.outputs else None

    def used(self, tensor: str) -> bool:
        """Whether a node reads ``tensor`` or it is a graph output."""
        return tensor in self.readers or tensor in self.outputs

    def window(
        self, node: OnnxNode, k: int | tuple[int, int], in_shape: Shape, out_shape: Shape
    ) -> dict[str, AttrValue]:
        """``k``, ``stride``, ``padding``, ``dilation`` of a Conv or pool, checked.

        Each may differ between height and width (then a pair ``(h, w)``, else
        one integer). Symmetric ``pads`` per axis are the integer padding,
        asymmetric ones equal to TensorFlow SAME (and ``auto_pad`` SAME_*)
        ``same``, any other ``[top, left, bottom, right]``; a ``ceil_mode`` pool
        is ``ceil_mode: true`` when rounding up gives the model's size, else
        ``same`` when SAME's size is the model's; any other size is an error.
        """
        ks, ss, ds = (
            self.pair(node, label, default)
            for label, default in (("kernel_shape", pair(k)), ("strides", (1, 1)),
                                   ("dilations", (1, 1)))
        )  # fmt: skip
        padding = self.padding(node, in_shape, ks, ss, ds)
        got = self.window_out(node, in_shape, ks, ss, padding, ds)
        ceil: dict[str, AttrValue] = {}
        if got != out_shape[1:] and self.attr(node, "ceil_mode", 0):
            got = self.window_out(node, in_shape, ks, ss, padding, ds, ceil=True)
            ceil = {"ceil_mode": True}
        if got != out_shape[1:] and padding != "same" and ceil:
            padding, ceil = "same", {}  # an older runtime's rounding up can equal SAME's
            got = self.window_out(node, in_shape, ks, ss, padding, ds)
        if got != out_shape[1:]:
            shown = (
                pair_text(padding) if isinstance(padding, Pair) else short(padding)
                if isinstance(padding, tuple) else padding
            )  # fmt: skip
            raise self.fail(
                node,
                f"output {out_shape[1]}x{out_shape[2]} cannot be expressed: padding "
                f"{shown} gives {got[0]}x{got[1]}",
            )
        return {
            "k": square(*ks),
            "stride": square(*ss),
            "padding": padding,
            "dilation": square(*ds),
            **ceil,
        }

    def pair(self, node: OnnxNode, label: str, default: tuple[int, int]) -> tuple[int, int]:
        """A window attribute of two values (``kernel_shape``, ``strides``, ``dilations``)."""
        values = list(self.attr(node, label, list(default)))
        if len(values) != 2:
            short_label = {"kernel_shape": "kernel"}.get(label, label)
            raise self.fail(node, f"{short_label} {short(values)}: lightcost needs 2-D windows")
        return int(values[0]), int(values[1])

    def window_out(
        self,
        node: OnnxNode,
        in_shape: Shape,
        ks: tuple[int, int],
        ss: tuple[int, int],
        padding: AttrValue,
        ds: tuple[int, int],
        ceil: bool = False,
    ) -> tuple[int, int]:
        """The output height and width of a window, or the node's error."""
        pads = axis_padding(padding)
        try:
            h, w = (
                spatial(in_shape[axis + 1], ks[axis], ss[axis], pads[axis], ds[axis], ceil)
                for axis in range(2)
            )
        except ShapeError as exc:
            raise self.fail(node, str(exc)) from None
        return h, w

    def padding(
        self,
        node: OnnxNode,
        in_shape: Shape,
        k: tuple[int, int],
        stride: tuple[int, int],
        dilation: tuple[int, int],
    ) -> AttrValue:
        """The lightcost padding of a window's ``auto_pad`` or ``pads``."""
        auto = self.attr_text(node, "auto_pad", "NOTSET")
        onnx_pads = [int(p) for p in self.attr(node, "pads", [0, 0, 0, 0])]
        if auto in ("SAME_UPPER", "SAME_LOWER"):
            return "same"
        if auto == "VALID":
            return "valid"
        if len(set(onnx_pads)) == 1:
            return onnx_pads[0]
        if len(onnx_pads) == 4 and onnx_pads[:2] == onnx_pads[2:]:
            return square(onnx_pads[0], onnx_pads[1])
        if len(onnx_pads) == 4 and is_same(onnx_pads, in_shape, k, stride, dilation):
            return "same"
        if len(onnx_pads) == 4:
            return padding_sides(*onnx_pads)
        raise self.fail(node, f"pads {short(onnx_pads)}: lightcost needs 2-D windows")


_DATA_FIELDS = "raw_data float_data int32_data int64_data double_data uint64_data string_data"


def _shapes(model: onnx.ModelProto) -> dict[str, list[int | None]]:
    """The inferred dims of a model's tensors (None: unknown)."""
    shapes: dict[str, list[int | None]] = {}
    graph = model.graph
    for info in [*graph.input, *graph.value_info, *graph.output]:
        tensor = info.type.tensor_type
        if tensor.HasField("shape"):
            shapes[info.name] = [
                d.dim_value if d.HasField("dim_value") else None for d in tensor.shape.dim
            ]
    return shapes


def reason(exc: BaseException, limit: int = 300) -> str:
    """An exception as one short clause, never empty: its type, then its text cut to ``limit``."""
    text = " ".join(str(exc).split())
    text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def _has_data(tensor: onnx.TensorProto) -> bool:
    """Whether a tensor holds its values (or has none to hold)."""
    return 0 in tensor.dims or any(len(getattr(tensor, field)) for field in _DATA_FIELDS.split())


def is_same(
    onnx_pads: list[int],
    in_shape: Shape,
    k: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
) -> bool:
    """Whether ``[top, left, bottom, right]`` is TensorFlow SAME (either odd-pixel side)."""
    for axis, size in enumerate(in_shape[1:]):
        begin, end = same_pads(size, k[axis], stride[axis], dilation[axis])
        if sorted((onnx_pads[axis], onnx_pads[axis + 2])) != sorted((begin, end)):
            return False
    return True
