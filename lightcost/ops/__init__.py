"""The op registry: for every op, its attributes and its shape rule.

Each entry is an :class:`OpDef` with an attribute schema (kind, default) and a
pure function from attributes and input shapes to the output shape. Padding
follows TensorFlow: ``same`` gives ``ceil(in / stride)``, ``valid`` gives
``floor((in - k_eff) / stride) + 1`` and an integer ``p`` pads both sides
(PyTorch). Cost rules for the same ops live in :mod:`lightcost.cost.engine`.

Limits (:func:`check_limits`, applied by the expander to every layer): at most
:data:`MAX_CHANNELS` channels, :data:`MAX_SIZE` rows and columns and
:data:`MAX_ELEMENTS` elements per tensor, and a :func:`work` bound of
:data:`MAX_WORK` per layer. Every per-layer figure is at most one of these
products times a small constant (other ops per element, bytes per element,
kernels per layer), below 64 * MAX_WORK = 2**46, so every total of at most
``expand.MAX_GRAPH_NODES`` (20,000) layers stays below 2**61: sums and the
int64 arrays of a vectorized sweep cannot overflow.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from lightcost.core.graph import AttrValue, Shape

MAX_CHANNELS = 2**20  # channels of a tensor; also the largest integer attribute
MAX_SIZE = 2**16  # height or width of a tensor (and the largest resolution)
MAX_ELEMENTS = 2**36  # channels x height x width of a tensor
MAX_WORK = 2**40  # work() of one layer

ACTIVATIONS = ("none", "relu", "relu6", "hswish", "hsigmoid", "sigmoid", "swish", "silu", "tanh")


class ShapeError(ValueError):
    """A shape that cannot be built; the caller adds the location."""


class Attr(NamedTuple):
    """One attribute: its kind, default (``REQUIRED`` if it must be given) and least value.

    Kinds: ``channels`` (a literal is scaled by the spec's width rule unless the
    node says ``width: fixed``; an expression is taken as written), ``int``
    (an integer from ``low`` to MAX_CHANNELS), ``bool``, ``act`` (one of
    :data:`ACTIVATIONS`), ``padding`` (``same``, ``valid`` or an integer >= 0).
    """

    kind: str
    default: Any = None
    low: int = 1


REQUIRED = object()
Attrs = Mapping[str, AttrValue]


class OpDef(NamedTuple):
    """An op: its attributes, how many inputs it takes, and its shape rule.

    ``dense``: each output channel reads every input channel of its group (conv,
    fc); otherwise one channel of each input (see :func:`work`).
    """

    name: str
    summary: str
    attrs: Mapping[str, Attr]
    shape: Callable[[Attrs, list[Shape]], Shape]
    min_inputs: int = 1
    max_inputs: int | None = 1
    dense: bool = False


def truth(value: Any) -> bool:
    """``bool`` that also accepts numpy arrays (true if any element is), for vectorized sweeps."""
    return bool(value.any()) if hasattr(value, "any") else bool(value)


def same(a: Shape, b: Shape) -> bool:
    """Shapes equal in every element (heights and widths may be numpy arrays in a sweep)."""
    return not any(truth(x != y) for x, y in zip(a, b, strict=True))


def spatial(size: int, k: int, stride: int, padding: AttrValue, dilation: int = 1) -> int:
    """Output height or width of a sliding window (see the module docstring).

    Works on ints and, element-wise, on numpy arrays of sizes (vectorized sweeps).
    """
    k_eff = dilation * (k - 1) + 1
    if padding == "same":
        out = -(-size // stride)
    elif padding == "valid":
        out = (size - k_eff) // stride + 1
    else:
        out = (size + 2 * int(padding) - k_eff) // stride + 1
    if truth(out < 1):
        raise ShapeError(
            f"spatial size {size} with kernel {k}, stride {stride}, padding {padding} "
            "reaches 0: the input is too small for this layer"
        )
    return out


def fan_in(op: OpDef, attrs: Attrs, in_shapes: list[Shape]) -> int:
    """Input values one output value reads per kernel position (see ``OpDef.dense``)."""
    if op.dense:
        return sum(s[0] for s in in_shapes) // int(attrs.get("groups", 1))
    return len(in_shapes)


def work(op: OpDef, attrs: Attrs, in_shapes: list[Shape], out_shape: Shape) -> int:
    """An upper bound on a layer's size: k*k x fan-in x output channels x area.

    ``k`` is 1 for a layer without a kernel (and for global pooling), the area
    (H x W) is the largest of the inputs' and the output's. It bounds the
    layer's MAdds, weights and, per output element, its other ops;
    squeeze-excite's 2 x C x squeeze is at most 2 * MAX_CHANNELS**2 = 2**41.
    """
    k = int(attrs.get("k") or 1)
    area = max(h * w for _, h, w in [*in_shapes, out_shape])
    return k * k * fan_in(op, attrs, in_shapes) * out_shape[0] * area


def _power(limit: int) -> str:
    """A power of two as a message shows it: ``2**40 = 1.1e+12``."""
    return f"2**{limit.bit_length() - 1} = {limit:.3g}"


def check_tensor(shape: Shape, what: str) -> None:
    """Raise ShapeError when a tensor exceeds MAX_CHANNELS, MAX_SIZE or MAX_ELEMENTS."""
    channels, height, width = shape
    if channels > MAX_CHANNELS:
        raise ShapeError(f"{what} has {channels} channels, above the limit of {MAX_CHANNELS}")
    if max(height, width) > MAX_SIZE:
        raise ShapeError(
            f"{what} is {height}x{width}, above the limit of {MAX_SIZE} rows and columns"
        )
    if channels * height * width > MAX_ELEMENTS:
        raise ShapeError(
            f"{what} has {channels}x{height}x{width} = {channels * height * width:.3g} "
            f"elements, above the limit of {_power(MAX_ELEMENTS)}"
        )


def check_limits(op: OpDef, attrs: Attrs, in_shapes: list[Shape], out_shape: Shape) -> None:
    """Raise ShapeError when a layer's output or work() exceeds the limits."""
    check_tensor(out_shape, "output")
    size = work(op, attrs, in_shapes, out_shape)
    if size > MAX_WORK:
        raise ShapeError(
            f"layer too large: k*k x fan-in x output channels x H x W = {size:.3g}, "
            f"above the limit of {_power(MAX_WORK)}"
        )


def _window(attrs: Attrs, shape: Shape, channels: int) -> Shape:
    _, h, w = shape
    k, s, pad, d = (int(attrs["k"]), int(attrs["stride"]), attrs["padding"], int(attrs["dilation"]))
    return (channels, spatial(h, k, s, pad, d), spatial(w, k, s, pad, d))


def _conv_shape(attrs: Attrs, shapes: list[Shape]) -> Shape:
    cin, out, groups = shapes[0][0], int(attrs["out"]), int(attrs["groups"])
    if cin % groups or out % groups:
        raise ShapeError(
            f"groups={groups} must divide input channels ({cin}) and output channels ({out})"
        )
    return _window(attrs, shapes[0], out)


def _dwconv_shape(attrs: Attrs, shapes: list[Shape]) -> Shape:
    return _window(attrs, shapes[0], shapes[0][0] * int(attrs["multiplier"]))


def _pool_shape(attrs: Attrs, shapes: list[Shape]) -> Shape:
    if attrs["global"]:
        return (shapes[0][0], 1, 1)
    if not attrs["k"]:
        raise ShapeError("a pooling layer needs k (kernel size) or global: true")
    return _window({**attrs, "stride": attrs["stride"] or attrs["k"]}, shapes[0], shapes[0][0])


def _fc_shape(attrs: Attrs, shapes: list[Shape]) -> Shape:
    return (int(attrs["out"]), 1, 1)


def _same_shape(attrs: Attrs, shapes: list[Shape]) -> Shape:
    return shapes[0]


def _add_shape(attrs: Attrs, shapes: list[Shape]) -> Shape:
    if not all(same(s, shapes[0]) for s in shapes):
        shown = " + ".join("x".join(map(str, s)) for s in shapes)
        raise ShapeError(f"add needs equal shapes, got {shown}")
    return shapes[0]


def _mul_shape(attrs: Attrs, shapes: list[Shape]) -> Shape:
    x, gate = shapes
    if not (same(gate, x) or same(gate, (x[0], 1, 1))):

        def dims(shape: Shape) -> str:
            return "x".join(map(str, shape))

        swap = " (the gate goes second in 'from')" if same(x, (gate[0], 1, 1)) else ""
        raise ShapeError(
            f"mul of {dims(x)} needs a second input of {dims(x)} or {x[0]}x1x1, "
            f"got {dims(gate)}{swap}"
        )
    return x


def _concat_shape(attrs: Attrs, shapes: list[Shape]) -> Shape:
    if not all(same(s, (s[0], *shapes[0][1:])) for s in shapes):
        shown = ", ".join("x".join(map(str, s)) for s in shapes)
        raise ShapeError(f"concat needs equal height and width, got {shown}")
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


def _flatten_shape(attrs: Attrs, shapes: list[Shape]) -> Shape:
    c, h, w = shapes[0]
    return (c * h * w, 1, 1)


_WINDOW = {
    "k": Attr("int", REQUIRED),
    "stride": Attr("int", 1),
    "padding": Attr("padding", "same"),
    "dilation": Attr("int", 1),
}
_CONV_EXTRAS = {"bias": Attr("bool", False), "bn": Attr("bool", True), "act": Attr("act", "none")}
_POOL = {  # k 0: not given (global pooling); stride 0: the kernel size
    "k": Attr("int", 0, low=0),
    "stride": Attr("int", 0, low=0),
    "padding": Attr("padding", "same"),
    "dilation": Attr("int", 1),
    "global": Attr("bool", False),
}

OPS: dict[str, OpDef] = {
    op.name: op
    for op in [
        OpDef(
            "conv",
            "convolution (standard, grouped, pointwise) with optional bias, BN, activation",
            {"out": Attr("channels", REQUIRED), **_WINDOW, "groups": Attr("int", 1)} | _CONV_EXTRAS,
            _conv_shape,
            dense=True,
        ),
        OpDef(
            "dwconv",
            "depthwise convolution: one filter per input channel (x multiplier)",
            {**_WINDOW, "k": Attr("int", 3), "multiplier": Attr("int", 1)} | _CONV_EXTRAS,
            _dwconv_shape,
        ),
        OpDef(
            "fc",
            "fully connected layer over the flattened input; out is never width-scaled",
            {"out": Attr("int", REQUIRED), "bias": Attr("bool", True), "act": Attr("act", "none")},
            _fc_shape,
            dense=True,
        ),
        OpDef("bn", "batch normalization (gamma, beta per channel)", {}, _same_shape),
        OpDef("avgpool", "average pooling (k x k window, or global)", _POOL, _pool_shape),
        OpDef("maxpool", "max pooling (k x k window, or global)", _POOL, _pool_shape),
        OpDef(
            "add",
            "elementwise sum of equal-shaped tensors (residual), optional activation after",
            {"act": Attr("act", "none")},
            _add_shape,
            2,
            None,
        ),
        OpDef(
            "mul",
            "elementwise product; the second input may be a C x 1 x 1 gate",
            {},
            _mul_shape,
            2,
            2,
        ),
        OpDef("concat", "concatenation along channels", {}, _concat_shape, 1, None),
        OpDef(
            "split",
            "channel split: part `index` of `parts` equal parts",
            {"parts": Attr("int", 2), "index": Attr("int", 0, low=0)},
            _split_shape,
        ),
        OpDef(
            "shuffle",
            "channel shuffle with `groups` groups",
            {"groups": Attr("int", 2)},
            _shuffle_shape,
        ),
        OpDef(
            "se",
            "squeeze-excite: global pool, 1x1 conv to `squeeze`, act, 1x1 conv back, gate, scale",
            {
                "squeeze": Attr("int", "div(in / 4)"),
                "act": Attr("act", "relu"),
                "gate": Attr("act", "sigmoid"),
                "bias": Attr("bool", True),
            },
            _same_shape,
        ),
        OpDef("flatten", "reshape to a vector (no cost)", {}, _flatten_shape),
        OpDef("dropout", "dropout (no cost at inference)", {}, _same_shape),
        OpDef("identity", "pass-through (no cost)", {}, _same_shape),
    ]
}
OPS.update(
    {act: OpDef(act, f"{act} activation", {}, _same_shape) for act in ACTIVATIONS if act != "none"}
)
