"""Channel data movement: ``concat``, ``split`` and ``shuffle``.

Each is a copy: no arithmetic, one kernel that reads what it writes (a split
reads only its own part of the input; lightcost does not fuse a shuffle into
the layers around it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lightcost.core.graph import AttrValue, Node, Shape, elements
from lightcost.ops import axes, tokens
from lightcost.ops.base import (
    Attr,
    Attrs,
    OpCost,
    OpDef,
    ShapeError,
    dims,
    label,
    same,
)

if TYPE_CHECKING:
    from lightcost.ops.protocols import Emitter, OnnxNode, Reader


def _copy(node: Node) -> OpCost:
    """No ops; the kernel reads as many elements as it writes."""
    return OpCost(reads=elements(node.out_shape))


def _concat_shape(attrs: Attrs, shapes: list[Shape]) -> Shape:
    if not all(same(s, (s[0], *shapes[0][1:])) for s in shapes):
        raise ShapeError(f"concat needs equal height and width, got {', '.join(map(dims, shapes))}")
    return (sum(s[0] for s in shapes), shapes[0][1], shapes[0][2])


def _split_shape(attrs: Attrs, shapes: list[Shape]) -> Shape:
    c, h, w = shapes[0]
    parts, index = int(attrs["parts"]), int(attrs["index"])
    if c % parts:
        raise ShapeError(f"split into {parts} parts needs channels ({c}) divisible by {parts}")
    if not 0 <= index < parts:
        raise ShapeError(f"split index {index} is outside 0..{parts - 1}")
    return (c // parts, h, w)


def _shuffle_shape(attrs: Attrs, shapes: list[Shape]) -> Shape:
    if shapes[0][0] % int(attrs["groups"]):
        raise ShapeError(f"shuffle groups={attrs['groups']} must divide channels ({shapes[0][0]})")
    return shapes[0]


def _split_label(node: Node) -> str:
    return label(node, f"{node.attrs['index']}/{node.attrs['parts']}")


def _shuffle_label(node: Node) -> str:
    return label(node, f"g{node.attrs['groups']}")


def _concat_export(emitter: Emitter, node: Node) -> str:
    tensors = emitter.inputs(node)
    return emitter.emit("Concat", tensors, node.name, emitter.rank(tensors[0]), axis=1)


def _split_export(emitter: Emitter, node: Node) -> str:
    """A Slice of the part's channel range."""
    x, name = emitter.inputs(node)[0], node.name
    width = node.in_shapes[0][0] // int(node.attrs["parts"])
    begin = int(node.attrs["index"]) * width
    starts, ends = (
        emitter.ints(f"{name}/starts", [begin]),
        emitter.ints(f"{name}/ends", [begin + width]),
    )
    axes = emitter.ints(f"{name}/axes", [1])
    return emitter.emit("Slice", [x, starts, ends, axes], name, emitter.rank(x))


def _shuffle_export(emitter: Emitter, node: Node) -> str:
    """Reshape to ``[1, g, C/g, H, W]``, Transpose (0 2 1 3 4), Reshape back."""
    shape, name, groups = node.in_shapes[0], node.name, int(node.attrs["groups"])
    x = emitter.as4d(emitter.inputs(node)[0], shape)
    c, h, w = shape
    split = emitter.ints(f"{name}/split_shape", [1, groups, c // groups, h, w])
    grouped = emitter.emit("Reshape", [x, split], name, 5)
    swapped = emitter.emit("Transpose", [grouped], f"{name}/transpose", 5, perm=[0, 2, 1, 3, 4])
    merged = emitter.ints(f"{name}/merge_shape", [1, c, h, w])
    return emitter.emit("Reshape", [swapped, merged], f"{name}/reshape", 4)


def _channel_axis(reader: Reader, node: OnnxNode, axis: int) -> None:
    rank = len(reader.dims(node.input[0]))
    if axis not in (1, 1 - rank):
        raise reader.fail(node, f"axis {axis}: only the channel axis (1) is mapped")


def _import_concat(reader: Reader, node: OnnxNode) -> None:
    if tokens.class_tokens(reader, node):  # learned tokens prepended (ops.tokens)
        return
    _channel_axis(reader, node, int(reader.attr(node, "axis", 1)))
    reader.add(node, "concat", node.input)


def _import_split(reader: Reader, node: OnnxNode) -> None:
    """Equal channel parts: one ``split`` layer per used output (``NODE_0``, ``NODE_1``...)."""
    _channel_axis(reader, node, int(reader.attr(node, "axis", 0)))
    sizes = reader.attr(node, "split")
    if len(node.input) > 1 and node.input[1]:
        sizes = reader.values(node.input[1])
    parts = len(node.output)
    if sizes is not None and len({int(s) for s in sizes}) > 1:
        shown = [int(s) for s in sizes]
        raise reader.fail(node, f"split sizes {shown}: only equal parts are mapped")
    for index, output in enumerate(node.output):
        if output and reader.used(output):
            attrs: dict[str, AttrValue] = {"parts": parts, "index": index}
            name = f"{node.name or node.op_type}_{index}"
            reader.add(node, "split", node.input[:1], attrs, output, name)


def _import_slice(reader: Reader, node: OnnxNode) -> None:
    """A channel slice that is one of equal parts: ``split``."""
    inputs = [*node.input[1:5], "", "", "", ""][:4]
    values: list[Any] = [reader.values(t) if t else None for t in inputs]
    if len(node.input) == 1:  # opset < 10: attributes
        values = [reader.attr(node, n) for n in ("starts", "ends", "axes")] + [None]
    starts, ends, axes, steps = ([] if v is None else [int(x) for x in v] for v in values)
    if not starts or len(starts) != 1 or any(s != 1 for s in steps):
        raise reader.fail(node, "only a slice of one axis with step 1 is mapped")
    _channel_axis(reader, node, axes[0] if axes else 0)
    channels = reader.shape(node.input[0], node)[0]
    begin, end = (min(max(v + channels if v < 0 else v, 0), channels) for v in (starts[0], ends[0]))
    width = end - begin
    if width < 1 or channels % width or begin % width:
        raise reader.fail(node, f"channels {begin}:{end} of {channels} are not one of equal parts")
    attrs: dict[str, AttrValue] = {"parts": channels // width, "index": begin // width}
    reader.add(node, "split", node.input[:1], attrs)


def _import_reshape(reader: Reader, node: OnnxNode) -> None:
    """A channel shuffle (with the Transpose and Reshape after it), else a view."""
    grouped = reader.dims(node.output[0])
    transpose = reader.only_reader(node.output[0])
    back = reader.only_reader(transpose.output[0]) if transpose is not None else None
    if (
        len(grouped) == 5
        and transpose is not None
        and transpose.op_type == "Transpose"
        and list(reader.attr(transpose, "perm", [])) == [0, 2, 1, 3, 4]
        and back is not None
        and back.op_type == "Reshape"
        and reader.shape(back.output[0], back) == reader.shape(node.input[0], node)
    ):
        reader.absorb(transpose)
        reader.absorb(back)
        groups = int(grouped[1] or 0)
        reader.add(node, "shuffle", node.input[:1], {"groups": groups}, back.output[0])
    else:
        tokens.import_reshape(reader, node)


def _import_transpose(reader: Reader, node: OnnxNode) -> None:
    """A Transpose outside a channel shuffle (the Reshape before it takes it in one)."""
    axes.import_transpose(reader, node)


OPDEFS = (
    OpDef(
        name="concat",
        summary="concatenation along channels",
        kind="copy",
        shape=_concat_shape,
        cost=_copy,
        export=_concat_export,
        imports={"Concat": _import_concat},
        max_inputs=None,
    ),
    OpDef(
        name="split",
        summary="channel split: part `index` of `parts` equal parts",
        kind="copy",
        attrs={"parts": Attr("int", 2), "index": Attr("int", 0, low=0)},
        shape=_split_shape,
        cost=_copy,
        label=_split_label,
        export=_split_export,
        imports={"Split": _import_split, "Slice": _import_slice},
    ),
    OpDef(
        name="shuffle",
        summary="channel shuffle with `groups` groups",
        kind="copy",
        attrs={"groups": Attr("int", 2)},
        shape=_shuffle_shape,
        cost=_copy,
        label=_shuffle_label,
        export=_shuffle_export,
        imports={"Reshape": _import_reshape, "Transpose": _import_transpose},
    ),
)
