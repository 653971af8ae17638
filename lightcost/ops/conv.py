"""Convolutions: ``conv`` (standard, grouped, pointwise), ``dwconv`` (depthwise) and
``convtranspose`` (transposed, "deconvolution").

Each may carry a bias, BN (``bn: true``, the default) and an activation (``act``),
fused into the layer. Weights ``kh*kw x C_in/groups x C_out``, MAdds weights x H_out
x W_out; other ops per output element: BN 2, bias 1, the activation's. A
transposed convolution scatters every input pixel through the kernel: MAdds
weights x H_in x W_in (fvcore's count, ``C_in x C_out/groups x kh x kw x H_in x
W_in``), output ``(in - 1) * stride - 2 * padding + dilation * (k - 1) +
output_padding + 1`` per axis (PyTorch's ``ConvTranspose2d``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lightcost.core.graph import AttrValue, Node, Shape, elements
from lightcost.ops.activations import act_ops, activate
from lightcost.ops.base import (
    REQUIRED,
    Attr,
    Attrs,
    OpCost,
    OpDef,
    ShapeError,
    explicit_pads,
    label,
    pair,
    pair_text,
    square,
    truth,
    window,
    window_parts,
)
from lightcost.ops.norm import batchnorm

if TYPE_CHECKING:
    from lightcost.ops.protocols import Emitter, OnnxNode, Reader

WINDOW = {
    "k": Attr("pair", REQUIRED),
    "stride": Attr("pair", 1),
    "padding": Attr("padding", "same"),
    "dilation": Attr("pair", 1),
}
_EXTRAS = {"bias": Attr("bool", False), "bn": Attr("bool", True), "act": Attr("act", "none")}
_TRANSPOSED = ("k", "stride", "padding", "dilation", "output_padding")


def _conv_shape(attrs: Attrs, shapes: list[Shape]) -> Shape:
    cin, out, groups = shapes[0][0], int(attrs["out"]), int(attrs["groups"])
    if cin % groups or out % groups:
        raise ShapeError(
            f"groups={groups} must divide input channels ({cin}) and output channels ({out})"
        )
    return window(attrs, shapes[0], out)


def _dwconv_shape(attrs: Attrs, shapes: list[Shape]) -> Shape:
    return window(attrs, shapes[0], shapes[0][0] * int(attrs["multiplier"]))


def _convtranspose_shape(attrs: Attrs, shapes: list[Shape]) -> Shape:
    cin, h, w = shapes[0]
    out, groups = int(attrs["out"]), int(attrs["groups"])
    if cin % groups or out % groups:
        raise ShapeError(
            f"groups={groups} must divide input channels ({cin}) and output channels ({out})"
        )
    size = []
    for axis, n in enumerate((h, w)):
        k, s, p, d, extra = (pair(attrs[key])[axis] for key in _TRANSPOSED)
        if extra >= max(s, d):
            raise ShapeError(f"output_padding {extra} must be less than the stride or dilation")
        size.append((n - 1) * s - 2 * p + d * (k - 1) + extra + 1)
    if any(truth(n < 1) for n in size):
        raise ShapeError(f"padding {attrs['padding']} leaves no output of a {h}x{w} input")
    return (out, size[0], size[1])


def _cost(node: Node, cin: int, groups: int, area: Shape | None = None) -> OpCost:
    """The cost of a convolution; MAdds per kernel position over ``area`` (default the output)."""
    c_out, (h, w) = node.out_shape[0], (area or node.out_shape)[1:]
    a = node.attrs
    kh, kw = pair(a["k"])
    weights = kh * kw * (cin // groups) * c_out
    out = elements(node.out_shape)
    has_bn, has_bias = bool(a["bn"]), bool(a["bias"])
    return OpCost(
        weights=weights,
        biases=c_out if has_bias else 0,
        bn=2 * c_out if has_bn else 0,
        bn_folded=c_out if has_bn and not has_bias else 0,
        madds=weights * h * w,
        other_ops=out * ((2 if has_bn else 0) + (1 if has_bias else 0) + act_ops(a["act"])),
    )


def _conv_cost(node: Node) -> OpCost:
    return _cost(node, node.in_shapes[0][0], int(node.attrs["groups"]))


def _dwconv_cost(node: Node) -> OpCost:
    cin = node.in_shapes[0][0]
    return _cost(node, cin, cin)


def _convtranspose_cost(node: Node) -> OpCost:
    return _cost(node, node.in_shapes[0][0], int(node.attrs["groups"]), node.in_shapes[0])


def _conv_label(node: Node) -> str:
    groups = node.attrs["groups"]
    return label(node, *window_parts(node.attrs), *([f"g{groups}"] if int(groups) > 1 else []))


def _dwconv_label(node: Node) -> str:
    return label(node, *window_parts(node.attrs))


def _convtranspose_type(node: Node) -> str:
    return f"ConvTranspose {pair_text(node.attrs['k'])}"


def _conv_type(node: Node) -> str:
    """``Conv 3x3``, ``Conv 1x1 group``, or ``Conv DW 3x3`` when each group is one channel."""
    k, groups = pair_text(node.attrs["k"]), int(node.attrs["groups"])
    cin, cout = node.in_shapes[0][0], node.out_shape[0]
    if groups > 1 and truth(cin == groups) and truth(cout == groups):
        return f"Conv DW {k}"
    return f"Conv {k}" + (" group" if groups > 1 else "")


def _dwconv_type(node: Node) -> str:
    return f"Conv DW {pair_text(node.attrs['k'])}"


def _weighted(
    emitter: Emitter, op_type: str, x: str, name: str, weight: list[int], fan_in: int,
    out: int, bias: AttrValue, **attrs: object,
) -> str:  # fmt: skip
    """A Conv or ConvTranspose of ``x`` with He-normal ``weight`` dims (and a zero bias of
    ``out`` values when ``bias``)."""
    inputs = [x, emitter.random(f"{name}/W", weight, fan_in)]
    if bias:
        inputs.append(emitter.filled(f"{name}/B", out, 0.0))
    return emitter.emit(op_type, inputs, name, 4, **attrs)


def conv_node(
    emitter: Emitter, x: str, in_shape: Shape, name: str, out: int, groups: int, attrs: Attrs
) -> str:
    """A Conv node with He-normal weights (and a zero bias when ``attrs['bias']``)."""
    k, stride, dilation = attrs["k"], attrs["stride"], attrs["dilation"]
    (kh, kw), (sh, sw), (dh, dw) = pair(k), pair(stride), pair(dilation)
    cin = in_shape[0] // groups
    return _weighted(
        emitter,
        "Conv",
        x,
        name,
        [out, cin, kh, kw],
        kh * kw * cin,
        out,
        attrs["bias"],
        kernel_shape=[kh, kw],
        strides=[sh, sw],
        dilations=[dh, dw],
        group=groups,
        pads=explicit_pads(attrs["padding"], in_shape, k, stride, dilation),
    )


def pointwise_node(
    emitter: Emitter, x: str, in_shape: Shape, name: str, out: int, bias: AttrValue
) -> str:
    """A 1x1 Conv (stride 1, one group) of ``out`` channels, as :func:`conv_node`."""
    attrs = {"k": 1, "stride": 1, "dilation": 1, "padding": 0, "bias": bias}
    return conv_node(emitter, x, in_shape, name, out, 1, attrs)


def _bn_act(emitter: Emitter, node: Node, y: str) -> str:
    """``y`` [+ BatchNormalization] [+ the activation], as the node's attributes say."""
    if node.attrs["bn"]:
        y = batchnorm(emitter, y, node.out_shape[0], f"{node.name}/bn")
    return activate(emitter, y, node.attrs["act"], f"{node.name}/act")


def _export(emitter: Emitter, node: Node, groups: int) -> str:
    """Conv [+ BatchNormalization] [+ the activation]."""
    x = emitter.as4d(emitter.inputs(node)[0], node.in_shapes[0])
    y = conv_node(emitter, x, node.in_shapes[0], node.name, node.out_shape[0], groups, node.attrs)
    return _bn_act(emitter, node, y)


def _export_conv(emitter: Emitter, node: Node) -> str:
    return _export(emitter, node, int(node.attrs["groups"]))


def _export_dwconv(emitter: Emitter, node: Node) -> str:
    return _export(emitter, node, node.in_shapes[0][0])


def _export_convtranspose(emitter: Emitter, node: Node) -> str:
    """ConvTranspose (weights ``[C_in, C_out/groups, kh, kw]``) [+ BN] [+ the activation]."""
    a, name, (cin, _, _) = node.attrs, node.name, node.in_shapes[0]
    out, groups = node.out_shape[0], int(a["groups"])
    (kh, kw), (sh, sw), (ph, pw), (dh, dw), extra = (pair(a[key]) for key in _TRANSPOSED)
    x = emitter.as4d(emitter.inputs(node)[0], node.in_shapes[0])
    y = _weighted(
        emitter,
        "ConvTranspose",
        x,
        name,
        [cin, out // groups, kh, kw],
        cin * kh * kw,
        out,
        a["bias"],
        kernel_shape=[kh, kw],
        strides=[sh, sw],
        dilations=[dh, dw],
        group=groups,
        pads=[ph, pw, ph, pw],
        output_padding=list(extra),
    )
    return _bn_act(emitter, node, y)


def _import_convtranspose(reader: Reader, node: OnnxNode) -> None:
    """ConvTranspose with symmetric ``pads`` (no ``output_shape``): ``convtranspose``."""
    weight = reader.const_dims(node.input[1])
    if weight is None or len(weight) != 4:
        raise reader.fail(node, "the weight must be a 4-D initializer (2-D convolution)")
    groups = int(reader.attr(node, "group", 1))
    pads = [int(p) for p in reader.attr(node, "pads", [0, 0, 0, 0])]
    if len(pads) != 4 or pads[:2] != pads[2:] or reader.attr(node, "output_shape") is not None:
        raise reader.fail(node, f"pads {pads}: only symmetric pads (no output_shape) are mapped")
    attrs: dict[str, AttrValue] = {
        "out": weight[1] * groups,
        "k": square(weight[2], weight[3]),
        "groups": groups,
        "padding": square(pads[0], pads[1]),
    }
    for key, onnx_key, default in (("stride", "strides", 1), ("dilation", "dilations", 1),
                                   ("output_padding", "output_padding", 0)):  # fmt: skip
        values = [int(v) for v in reader.attr(node, onnx_key, []) or [default]]
        attrs[key] = square(values[0], values[-1])
    in_shape, out_shape = reader.shape(node.input[0], node), reader.shape(node.output[0], node)
    try:
        shape = _convtranspose_shape(attrs, [in_shape])
    except ShapeError as exc:
        raise reader.fail(node, str(exc)) from None
    if shape != out_shape:
        raise reader.fail(node, f"output {list(out_shape)} is not {list(shape)}")
    attrs |= {"bias": len(node.input) > 2 and node.input[2] != "", "bn": False}
    reader.add(node, "convtranspose", node.input[:1], attrs)


def _import(reader: Reader, node: OnnxNode) -> None:
    """Conv: ``conv``, or ``dwconv`` (with ``multiplier``) when groups equal input channels."""
    weight = reader.const_dims(node.input[1])
    if weight is None or len(weight) != 4:
        raise reader.fail(node, "the weight must be a 4-D initializer (2-D convolution)")
    out, _, kh, kw = weight
    in_shape, out_shape = reader.shape(node.input[0], node), reader.shape(node.output[0], node)
    attrs = reader.window(node, (kh, kw), in_shape, out_shape)
    attrs["bias"] = len(node.input) > 2 and node.input[2] != ""
    attrs["bn"] = False
    groups = int(reader.attr(node, "group", 1))
    if groups > 1 and groups == in_shape[0]:
        attrs["multiplier"] = out // groups
        reader.add(node, "dwconv", node.input[:1], attrs)
    else:
        reader.add(node, "conv", node.input[:1], {"out": out, "groups": groups, **attrs})


OPDEFS = (
    OpDef(
        name="conv",
        summary="convolution (standard, grouped, pointwise) with optional bias, BN, activation",
        kind="dense",
        attrs={"out": Attr("channels", REQUIRED), **WINDOW, "groups": Attr("int", 1)} | _EXTRAS,
        shape=_conv_shape,
        cost=_conv_cost,
        label=_conv_label,
        layer_type=_conv_type,
        export=_export_conv,
        imports={"Conv": _import},
        channels=("out",),
    ),
    OpDef(
        name="dwconv",
        summary="depthwise convolution: one filter per input channel (x multiplier)",
        kind="depthwise",
        attrs={**WINDOW, "k": Attr("pair", 3), "multiplier": Attr("int", 1)} | _EXTRAS,
        shape=_dwconv_shape,
        cost=_dwconv_cost,
        label=_dwconv_label,
        layer_type=_dwconv_type,
        export=_export_dwconv,
        imports={},  # from Conv, by conv's handler
    ),
    OpDef(
        name="convtranspose",
        summary="transposed convolution (PyTorch ConvTranspose2d) with optional bias, BN, act",
        kind="dense",
        attrs={
            "out": Attr("channels", REQUIRED),
            "k": Attr("pair", REQUIRED),
            "stride": Attr("pair", 1),
            "padding": Attr("pair", 0, low=0),
            "dilation": Attr("pair", 1),
            "output_padding": Attr("pair", 0, low=0),
            "groups": Attr("int", 1),
        }
        | _EXTRAS,
        shape=_convtranspose_shape,
        cost=_convtranspose_cost,
        label=_conv_label,
        layer_type=_convtranspose_type,
        export=_export_convtranspose,
        imports={"ConvTranspose": _import_convtranspose},
        channels=("out",),
    ),
)
