"""Pooling: ``avgpool`` and ``maxpool``, over a kh x kw window, global, or adaptive.

Other ops: kh*kw per output element (a window cut by ``ceil_mode`` at the border
counts whole), global pooling h*w per channel (every input element once).
``stride: 0`` (the default) is the kernel size. An explicit ``padding`` (per axis
or per side) is at most half the window (``dilation * (k - 1) + 1``) on each side,
as PyTorch and ONNX Runtime require: more would make windows of padding only.
``ceil_mode: true`` rounds the output size up (PyTorch: the last window must
start inside the input or the begin padding). ``avgpool``'s ``out_size`` (``N``
or ``[h, w]``) is PyTorch's adaptive average pooling: output row ``i`` averages
input rows ``floor(i * H / h)`` to ``ceil((i + 1) * H / h)``; other ops are the
sum of its bins' areas per channel.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lightcost.core.errors import SpecError
from lightcost.core.graph import AttrValue, Node, Shape, elements
from lightcost.ops.base import (
    Attr,
    Attrs,
    OpCost,
    OpDef,
    ShapeError,
    axis_padding,
    explicit_pads,
    label,
    pair,
    pair_text,
    sides,
    square,
    window,
    window_parts,
    window_stride,
)

if TYPE_CHECKING:
    from lightcost.ops.protocols import Emitter, ImportRule, OnnxNode, Reader

_ATTRS = {  # k 0: not given (global pooling); stride 0: the kernel size
    "k": Attr("pair", 0, low=0),
    "stride": Attr("pair", 0, low=0),
    "padding": Attr("padding", "same"),
    "dilation": Attr("pair", 1),
    "ceil_mode": Attr("bool", False),
    "global": Attr("bool", False),
}
_AVG_ATTRS = {**_ATTRS, "out_size": Attr("pair", 0, low=0)}  # 0: not adaptive


def _shape(attrs: Attrs, shapes: list[Shape]) -> Shape:
    if attrs["global"]:
        return (shapes[0][0], 1, 1)
    if attrs.get("out_size"):
        oh, ow = pair(attrs["out_size"])
        if not oh or not ow:
            raise ShapeError("out_size must be at least 1 on each axis")
        return (shapes[0][0], oh, ow)
    if not attrs["k"] or 0 in pair(attrs["k"]):
        raise ShapeError("a pooling layer needs k (kernel size), out_size or global: true")
    ks, ds = pair(attrs["k"]), pair(attrs["dilation"])
    for k, d, padding in zip(ks, ds, axis_padding(attrs["padding"]), strict=True):
        k_eff = d * (k - 1) + 1
        if isinstance(padding, int | tuple) and 2 * max(sides(padding)) > k_eff:
            raise ShapeError(
                f"padding {max(sides(padding))} is more than half the pooling window ({k_eff}): "
                f"at most {k_eff // 2}, as in PyTorch and ONNX Runtime (more makes windows of "
                "padding only)"
            )
    return window({**attrs, "stride": window_stride(attrs)}, shapes[0], shapes[0][0])


def bins(size: int, out: int) -> int:
    """The summed lengths of PyTorch's ``out`` adaptive bins over ``size``; ints or arrays."""
    return sum(-(-(i + 1) * size // out) - i * size // out for i in range(out))


def _cost(node: Node) -> OpCost:
    if node.attrs["global"]:
        return OpCost(other_ops=elements(node.in_shapes[0]))
    c, h, w = node.in_shapes[0]
    if node.attrs.get("out_size"):
        oh, ow = pair(node.attrs["out_size"])
        return OpCost(other_ops=c * bins(h, oh) * bins(w, ow))
    kh, kw = pair(node.attrs["k"])
    return OpCost(other_ops=kh * kw * elements(node.out_shape))


def _label(node: Node) -> str:
    a = node.attrs
    if a["global"]:
        return label(node, "global")
    if a.get("out_size"):
        return label(node, f"to {pair_text(a['out_size'])}")
    return label(node, *window_parts(a), *(["ceil"] if a["ceil_mode"] else []))


def _export(onnx_kind: str) -> Callable[[Emitter, Node], str]:
    """``Global{kind}Pool``, or ``{kind}Pool`` with explicit pads; ``onnx_kind`` Average or Max."""

    def export(emitter: Emitter, node: Node) -> str:
        a, x_shape = node.attrs, node.in_shapes[0]
        x = emitter.as4d(emitter.inputs(node)[0], x_shape)
        if a["global"]:
            return emitter.emit(f"Global{onnx_kind}Pool", [x], node.name, 4)
        if a.get("out_size"):
            k = adaptive_kernel(node)
            a = {**a, "k": k, "stride": k, "padding": 0}
        k, dilation, step = a["k"], a["dilation"], window_stride(a)
        extra: dict[str, Any] = {"ceil_mode": 1} if a["ceil_mode"] else {}
        if pair(dilation) != (1, 1):
            extra["dilations"] = list(pair(dilation))
        return emitter.emit(
            f"{onnx_kind}Pool",
            [x],
            node.name,
            4,
            kernel_shape=list(pair(k)),
            strides=list(pair(step)),
            pads=explicit_pads(a["padding"], x_shape, k, step, dilation),
            **extra,
        )

    return export


def adaptive_kernel(node: Node) -> AttrValue:
    """The AveragePool window of an adaptive pool whose bins are all equal (what ONNX
    can express, as PyTorch's exporter requires): the input size over the output size."""
    _, h, w = node.in_shapes[0]
    oh, ow = pair(node.attrs["out_size"])
    if h % oh or w % ow:
        raise SpecError(
            f"layer '{node.name}': not supported by export: adaptive pooling of {h}x{w} to "
            f"{oh}x{ow} has unequal bins (ONNX has no adaptive pooling)"
        )
    return square(h // oh, w // ow)


def _import_global(op: str) -> ImportRule:
    def handler(reader: Reader, node: OnnxNode) -> None:
        reader.add(node, op, node.input[:1], {"global": True})

    return handler


def _import_reduce(op: str) -> ImportRule:
    """ReduceMean (ReduceMax) over H and W: global pooling. With ``keepdims`` 0 the output
    is ``[N, C]``, the same lightcost shape as ``C x 1 x 1``: no other layer."""

    def handler(reader: Reader, node: OnnxNode) -> None:
        rank = len(reader.dims(node.input[0]))
        axes = reader.attr(node, "axes")
        if len(node.input) > 1 and node.input[1]:
            axes = reader.values(node.input[1])
            if axes is None:
                raise reader.fail(node, "axes must be a constant")
        reduced = {reader.axis(node.input[0], int(a)) for a in axes or []}  # tokens too
        _, h, w = reader.shape(node.input[0], node) if rank in (3, 4) else (0, 0, 0)
        spatial_axes = {a for a, size in (("h", h), ("w", w)) if size > 1}
        if axes is None or not spatial_axes <= reduced <= {"h", "w"}:
            shown = "all" if axes is None else [int(a) for a in axes]
            raise reader.fail(
                node, f"axes {shown} of a rank-{rank} tensor: only H and W (2, 3) are mapped"
            )
        reader.add(node, op, node.input[:1], {"global": True})

    return handler


def _import_window(op: str) -> ImportRule:
    def handler(reader: Reader, node: OnnxNode) -> None:
        kernel = list(reader.attr(node, "kernel_shape", []))
        in_shape, out_shape = reader.shape(node.input[0], node), reader.shape(node.output[0], node)
        k = (int(kernel[0]), int(kernel[-1])) if kernel else 0
        attrs = reader.window(node, k, in_shape, out_shape)  # ceil_mode when it is needed
        if attrs["stride"] == attrs["k"]:
            attrs["stride"] = 0  # the spec's default: the kernel size
        reader.add(node, op, node.input[:1], attrs)

    return handler


def _pool(name: str, onnx_kind: str, what: str) -> OpDef:
    adaptive = onnx_kind == "Average"
    return OpDef(
        name=name,
        summary=f"{what} pooling (k x k window{', adaptive to out_size' if adaptive else ''}, "
        "or global)",
        kind="pool",
        attrs=_AVG_ATTRS if adaptive else _ATTRS,
        shape=_shape,
        cost=_cost,
        label=_label,
        export=_export(onnx_kind),
        imports={
            f"Global{onnx_kind}Pool": _import_global(name),
            f"{onnx_kind}Pool": _import_window(name),
            f"Reduce{'Mean' if onnx_kind == 'Average' else onnx_kind}": _import_reduce(name),
        },
    )


OPDEFS = (_pool("avgpool", "Average", "average"), _pool("maxpool", "Max", "max"))
