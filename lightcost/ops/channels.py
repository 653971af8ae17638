"""Channel data movement: ``concat``, ``split``, ``slice`` and ``shuffle``.

Each is a copy: no arithmetic, one kernel that reads what it writes (a split or
slice reads only its own part of the input; lightcost does not fuse a shuffle
into the layers around it). ``split`` takes part ``index`` of ``parts`` equal
parts, or of ``sizes`` (channel counts summing to the input's, as
``torch.split``; not width-scaled); ``slice`` takes channels ``start`` to
``end`` (exclusive, as ``x[:, start:end]``; width-scaled like ``out``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lightcost.core.graph import AttrValue, Ints, Node, Shape, count, elements
from lightcost.ops import tokens
from lightcost.ops.base import (
    MAX_LIST,
    REQUIRED,
    Attr,
    Attrs,
    OpCost,
    OpDef,
    ShapeError,
    dims,
    label,
    only_readers,
    same,
    truth,
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
    parts, index, sizes = int(attrs["parts"]), int(attrs["index"]), attrs["sizes"]
    if isinstance(sizes, tuple) and sizes:
        if truth(sum(sizes) != c):
            raise ShapeError(f"split sizes {list(sizes)} sum to {sum(sizes)}, not {c} channels")
        if index >= len(sizes):
            raise ShapeError(f"split index {index} is outside 0..{len(sizes) - 1}")
        return (sizes[index], h, w)
    if c % parts:
        raise ShapeError(f"split into {parts} parts needs channels ({c}) divisible by {parts}")
    if not 0 <= index < parts:
        raise ShapeError(f"split index {index} is outside 0..{parts - 1}")
    return (c // parts, h, w)


def _slice_shape(attrs: Attrs, shapes: list[Shape]) -> Shape:
    c, h, w = shapes[0]
    start, end = count(attrs["start"]), count(attrs["end"])
    if truth(start >= end) or truth(end > c):
        raise ShapeError(f"slice {start}:{end} is not a range of 1 or more of the {c} channels")
    return (end - start, h, w)


def _shuffle_shape(attrs: Attrs, shapes: list[Shape]) -> Shape:
    if shapes[0][0] % int(attrs["groups"]):
        raise ShapeError(f"shuffle groups={attrs['groups']} must divide channels ({shapes[0][0]})")
    return shapes[0]


def _split_range(node: Node) -> tuple[int, int]:
    """The first channel of a split's part and its width."""
    index, sizes = int(node.attrs["index"]), node.attrs["sizes"]
    if isinstance(sizes, tuple) and sizes:
        return sum(sizes[:index]), sizes[index]
    width = node.in_shapes[0][0] // int(node.attrs["parts"])
    return index * width, width


def _split_label(node: Node) -> str:
    sizes = node.attrs["sizes"]
    whole = "+".join(map(str, sizes)) if isinstance(sizes, tuple) and sizes else node.attrs["parts"]
    return label(node, f"{node.attrs['index']}/{whole}")


def _slice_label(node: Node) -> str:
    return label(node, f"{node.attrs['start']}:{node.attrs['end']}")


def _shuffle_label(node: Node) -> str:
    return label(node, f"g{node.attrs['groups']}")


def _concat_export(emitter: Emitter, node: Node) -> str:
    tensors = emitter.inputs(node)
    return emitter.emit("Concat", tensors, node.name, emitter.rank(tensors[0]), axis=1)


def channel_slice(emitter: Emitter, node: Node, begin: int, end: int) -> str:
    """A Slice of channels ``begin`` to ``end`` of the layer's input."""
    x, name = emitter.inputs(node)[0], node.name
    starts, ends = (
        emitter.ints(f"{name}/starts", [begin]),
        emitter.ints(f"{name}/ends", [end]),
    )
    axes = emitter.ints(f"{name}/axes", [1])
    return emitter.emit("Slice", [x, starts, ends, axes], name, emitter.rank(x))


def _split_export(emitter: Emitter, node: Node) -> str:
    begin, width = _split_range(node)
    return channel_slice(emitter, node, begin, begin + width)


def _slice_export(emitter: Emitter, node: Node) -> str:
    return channel_slice(emitter, node, int(node.attrs["start"]), int(node.attrs["end"]))


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
    """Channel parts: one ``split`` layer per used output (``NODE_0``, ``NODE_1``...), with
    ``sizes`` when the parts differ."""
    _channel_axis(reader, node, int(reader.attr(node, "axis", 0)))
    sizes = reader.attr(node, "split")
    if len(node.input) > 1 and node.input[1]:
        sizes = reader.values(node.input[1])
    parts = len(node.output)
    equal = sizes is None or len({int(s) for s in sizes}) == 1
    if not equal and len(sizes) > MAX_LIST:
        raise reader.fail(node, f"{len(sizes)} parts: at most {MAX_LIST} are mapped")
    for index, output in enumerate(node.output):
        if output and reader.used(output):
            attrs: dict[str, AttrValue] = (
                {"parts": parts, "index": index}
                if equal
                else {"sizes": Ints(int(s) for s in sizes), "index": index}
            )
            name = f"{node.name or node.op_type}_{index}"
            reader.add(node, "split", node.input[:1], attrs, output, name)


def _import_slice(reader: Reader, node: OnnxNode) -> None:
    """A channel slice: ``split`` when it is one of equal parts, else ``slice``."""
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
    if width < 1:
        raise reader.fail(node, f"channels {begin}:{end} of {channels} are empty")
    if channels % width or begin % width:
        reader.add(node, "slice", node.input[:1], {"start": begin, "end": end})
    else:
        attrs: dict[str, AttrValue] = {"parts": channels // width, "index": begin // width}
        reader.add(node, "split", node.input[:1], attrs)


def _import_reshape(reader: Reader, node: OnnxNode) -> None:
    """A channel shuffle (with the Transpose and Reshape after it), else a view."""
    grouped = reader.dims(node.output[0])
    transpose, back = only_readers(reader, node, ("Transpose", "Reshape")) or (None, None)
    if (
        len(grouped) == 5
        and transpose is not None
        and back is not None
        and list(reader.attr(transpose, "perm", [])) == [0, 2, 1, 3, 4]
        and reader.shape(back.output[0], back) == reader.shape(node.input[0], node)
    ):
        reader.absorb(transpose)
        reader.absorb(back)
        groups = int(grouped[1] or 0)
        reader.add(node, "shuffle", node.input[:1], {"groups": groups}, back.output[0])
    else:
        tokens.import_reshape(reader, node)


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
        summary="channel split: part `index` of `parts` equal parts, or of `sizes`",
        kind="copy",
        attrs={
            "parts": Attr("int", 2),
            "index": Attr("int", 0, low=0),
            "sizes": Attr("ints", Ints()),
        },
        shape=_split_shape,
        cost=_copy,
        label=_split_label,
        export=_split_export,
        imports={"Split": _import_split, "Slice": _import_slice},
    ),
    OpDef(
        name="slice",
        summary="channels `start` to `end` (exclusive) of the input",
        kind="copy",
        attrs={"start": Attr("channels", 0, low=0), "end": Attr("channels", REQUIRED)},
        shape=_slice_shape,
        cost=_copy,
        label=_slice_label,
        export=_slice_export,
        imports={},  # from Slice, by split's handler
        channels=("start", "end"),
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
        imports={"Reshape": _import_reshape},
    ),
)
