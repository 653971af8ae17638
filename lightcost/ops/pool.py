"""Pooling: ``avgpool`` and ``maxpool``, over a kh x kw window or global.

Other ops: kh*kw per output element, global pooling h*w per channel (every input
element once). ``stride: 0`` (the default) is the kernel size. An integer
``padding`` is at most half the window (``dilation * (k - 1) + 1``) on each axis, as PyTorch
and ONNX Runtime require: more would make windows of padding only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from lightcost.core.graph import Node, Shape, elements
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
    "global": Attr("bool", False),
}


def _shape(attrs: Attrs, shapes: list[Shape]) -> Shape:
    if attrs["global"]:
        return (shapes[0][0], 1, 1)
    if not attrs["k"] or 0 in pair(attrs["k"]):
        raise ShapeError("a pooling layer needs k (kernel size) or global: true")
    ks, ds = pair(attrs["k"]), pair(attrs["dilation"])
    for k, d, padding in zip(ks, ds, axis_padding(attrs["padding"]), strict=True):
        k_eff = d * (k - 1) + 1
        if isinstance(padding, int) and 2 * padding > k_eff:
            raise ShapeError(
                f"padding {padding} is more than half the pooling window ({k_eff}): at most "
                f"{k_eff // 2}, as in PyTorch and ONNX Runtime (more makes windows of padding only)"
            )
    return window({**attrs, "stride": window_stride(attrs)}, shapes[0], shapes[0][0])


def _cost(node: Node) -> OpCost:
    if node.attrs["global"]:
        return OpCost(other_ops=elements(node.in_shapes[0]))
    kh, kw = pair(node.attrs["k"])
    return OpCost(other_ops=kh * kw * elements(node.out_shape))


def _label(node: Node) -> str:
    return label(node, "global") if node.attrs["global"] else label(node, *window_parts(node.attrs))


def _export(onnx_kind: str) -> Callable[[Emitter, Node], str]:
    """``Global{kind}Pool``, or ``{kind}Pool`` with explicit pads; ``onnx_kind`` Average or Max."""

    def export(emitter: Emitter, node: Node) -> str:
        a, x_shape = node.attrs, node.in_shapes[0]
        x = emitter.as4d(emitter.inputs(node)[0], x_shape)
        if a["global"]:
            return emitter.emit(f"Global{onnx_kind}Pool", [x], node.name, 4)
        k, dilation, step = a["k"], a["dilation"], window_stride(a)
        extra = {"dilations": list(pair(dilation))} if pair(dilation) != (1, 1) else {}
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
        attrs = reader.window(node, k, in_shape, out_shape)
        if attrs["stride"] == attrs["k"]:
            attrs["stride"] = 0  # the spec's default: the kernel size
        reader.add(node, op, node.input[:1], attrs)

    return handler


def _pool(name: str, onnx_kind: str, what: str) -> OpDef:
    return OpDef(
        name=name,
        summary=f"{what} pooling (k x k window, or global)",
        kind="pool",
        attrs=_ATTRS,
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
