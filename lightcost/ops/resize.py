"""Resampling and padding: ``upsample`` (nearest, bilinear) and ``pad``.

Both are copies: no MAdds, one kernel reading its input and writing its output.
``upsample`` makes the map ``size`` (``[h, w]`` or one integer) when given, else
``scale`` times the input (an integer per axis); other ops per output element:
nearest 0 (a gather), bilinear 7 (four neighbours weighted and summed: 4
multiplies and 3 adds; the source coordinates and weights are not counted).
``pad`` adds ``padding`` rows and columns (an integer, ``[h, w]`` or ``[top,
left, bottom, right]``) filled with zeros (``constant``), the mirrored input
(``reflect``: each side less than the input's size) or its edge (``replicate``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lightcost.core.graph import AttrValue, Node, Shape, elements
from lightcost.ops.base import (
    Attr,
    Attrs,
    OpCost,
    OpDef,
    ShapeError,
    axis_padding,
    label,
    padding_sides,
    pair,
    pair_text,
    sides,
    square,
    truth,
)

if TYPE_CHECKING:
    from lightcost.ops.protocols import Emitter, OnnxNode, Reader

BILINEAR_OPS = 7  # other ops per output element of a bilinear upsample: 4 multiplies, 3 adds
_MODES = {"nearest": "nearest", "bilinear": "linear"}  # upsample mode -> ONNX Resize mode
_PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge"}  # -> ONNX Pad


def _upsample_shape(attrs: Attrs, shapes: list[Shape]) -> Shape:
    c, h, w = shapes[0]
    if attrs["size"]:
        sh, sw = pair(attrs["size"])
        if not sh or not sw:
            raise ShapeError("upsample size must be at least 1 on each axis")
        return (c, sh, sw)
    fh, fw = pair(attrs["scale"])
    return (c, h * fh, w * fw)


def _upsample_cost(node: Node) -> OpCost:
    per_element = BILINEAR_OPS if node.attrs["mode"] == "bilinear" else 0
    return OpCost(other_ops=per_element * elements(node.out_shape))


def _upsample_label(node: Node) -> str:
    a = node.attrs
    target = f"to {pair_text(a['size'])}" if a["size"] else f"x{pair_text(a['scale'])}"
    return label(node, target, str(a["mode"]))


def resize_node(emitter: Emitter, x: str, shape: Shape, name: str, mode: str) -> str:
    """A Resize of ``x`` to ``shape`` (``pytorch_half_pixel`` bilinear, ``asymmetric`` floor
    nearest, as PyTorch exports ``F.interpolate``)."""
    sizes = emitter.ints(f"{name}/sizes", [1, *shape])
    extra = (
        {"coordinate_transformation_mode": "pytorch_half_pixel"}
        if mode == "bilinear"
        else {"coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"}
    )
    return emitter.emit("Resize", [x, "", "", sizes], name, 4, mode=_MODES[mode], **extra)


def _upsample_export(emitter: Emitter, node: Node) -> str:
    x = emitter.as4d(emitter.inputs(node)[0], node.in_shapes[0])
    return resize_node(emitter, x, node.out_shape, node.name, str(node.attrs["mode"]))


def _import_resize(reader: Reader, node: OnnxNode) -> None:
    """Resize (nearest or linear) over H and W: ``upsample`` by an integer ``scale`` when the
    output is a whole multiple of the input, else to its ``size``."""
    mode = reader.attr_text(node, "mode", "nearest")
    if mode not in _MODES.values():
        raise reader.fail(node, f"mode {mode}: only nearest and linear are mapped")
    (c, h, w), (oc, oh, ow) = reader.shape(node.input[0], node), reader.shape(node.output[0], node)
    if oc != c:
        raise reader.fail(node, "only resizing height and width is mapped")
    attrs: dict[str, AttrValue] = {"mode": "bilinear" if mode == "linear" else "nearest"}
    if oh % h or ow % w:
        attrs["size"] = square(oh, ow)
    else:
        attrs["scale"] = square(oh // h, ow // w)
    reader.add(node, "upsample", node.input[:1], attrs)


def _pad_sides(attrs: Attrs) -> tuple[int, int, int, int]:
    """``(top, left, bottom, right)`` of a pad's ``padding``."""
    ph, pw = axis_padding(attrs["padding"])
    if not isinstance(ph, int | tuple) or not isinstance(pw, int | tuple):
        raise ShapeError("pad needs an explicit padding: an integer, [h, w] or four sides")
    (top, bottom), (left, right) = sides(ph), sides(pw)
    return top, left, bottom, right


def _pad_shape(attrs: Attrs, shapes: list[Shape]) -> Shape:
    c, h, w = shapes[0]
    top, left, bottom, right = _pad_sides(attrs)
    too_big = truth(max(top, bottom) >= h) or truth(max(left, right) >= w)
    if attrs["mode"] == "reflect" and too_big:
        raise ShapeError(f"reflect padding must be less than the input's size ({h}x{w})")
    return (c, h + top + bottom, w + left + right)


def _pad_cost(node: Node) -> OpCost:
    """No ops; the kernel reads the input once and writes the padded output."""
    return OpCost(reads=elements(node.in_shapes[0]))


def _pad_label(node: Node) -> str:
    padding = node.attrs["padding"]
    shown = "x".join(map(str, padding)) if isinstance(padding, tuple) else str(padding)
    mode = str(node.attrs["mode"])
    return label(node, shown, *([mode] if mode != "constant" else []))


def _pad_export(emitter: Emitter, node: Node) -> str:
    top, left, bottom, right = _pad_sides(node.attrs)
    x = emitter.as4d(emitter.inputs(node)[0], node.in_shapes[0])
    pads = emitter.ints(f"{node.name}/pads", [0, 0, top, left, 0, 0, bottom, right])
    mode = _PAD_MODES[str(node.attrs["mode"])]
    return emitter.emit("Pad", [x, pads], node.name, 4, mode=mode)


def _import_pad(reader: Reader, node: OnnxNode) -> None:
    """Pad of H and W (constant, reflect or edge): ``pad``."""
    mode = reader.attr_text(node, "mode", "constant")
    modes = {onnx: spec for spec, onnx in _PAD_MODES.items()}
    pads = reader.values(node.input[1]) if len(node.input) > 1 else reader.attr(node, "pads")
    if len(node.input) > 3 and node.input[3]:
        raise reader.fail(node, "axes are not mapped")
    values = [int(p) for p in pads or []]
    if mode not in modes or len(values) != 8 or any(values[i] for i in (0, 1, 4, 5)):
        raise reader.fail(node, "only padding H and W of a 4-D tensor (constant, reflect, edge)")
    if min(values) < 0:
        raise reader.fail(node, f"negative pads {values} (cropping) are not mapped")
    _, _, top, left, _, _, bottom, right = values
    padding = padding_sides(top, left, bottom, right)
    reader.add(node, "pad", node.input[:1], {"padding": padding, "mode": modes[mode]})


OPDEFS = (
    OpDef(
        name="upsample",
        summary="resize (nearest, bilinear) by an integer `scale` or to a `size`",
        kind="copy",
        attrs={
            "mode": Attr("enum", "nearest", allowed=tuple(_MODES)),
            "scale": Attr("pair", 2),
            "size": Attr("pair", 0, low=0),
        },
        shape=_upsample_shape,
        cost=_upsample_cost,
        label=_upsample_label,
        export=_upsample_export,
        imports={"Resize": _import_resize},
    ),
    OpDef(
        name="pad",
        summary="padding of height and width (constant zeros, reflect, replicate)",
        kind="copy",
        attrs={
            "padding": Attr("padding", 1),
            "mode": Attr("enum", "constant", allowed=tuple(_PAD_MODES)),
        },
        shape=_pad_shape,
        cost=_pad_cost,
        label=_pad_label,
        export=_pad_export,
        imports={"Pad": _import_pad},
    ),
)
