"""The records of the op table (:class:`OpDef` and its parts) and the shape helpers ops share.

Conventions every op file follows:

* Shapes are ``(channels, height, width)``, batch 1 (:mod:`lightcost.core.graph`).
  Shape and cost rules are plain arithmetic, so they also run element-wise on
  numpy arrays (a vectorized sweep passes channels as a column per width and
  heights and widths as a row per resolution): test conditions with
  :func:`truth` and :func:`same`, read integer attributes that may hold channel
  counts with ``count``, never ``int()`` a shape.
* Padding follows TensorFlow: ``same`` gives ``ceil(in / stride)`` (padded
  :func:`same_pads`, the odd row and column at the end), ``valid`` gives
  ``floor((in - k_eff) / stride) + 1``, an integer ``p`` pads both sides (PyTorch),
  ``[h, w]`` per axis and ``[top, left, bottom, right]`` per side (ONNX ``pads`` order
  begins then ends). A pool's ``ceil_mode`` rounds up as PyTorch does.
* Records are NamedTuples and plain functions: cheap to define at start-up
  (``lightcost table`` imports every op file; benchmarks/startup.py).

Limits (:func:`check_limits`, applied by the expander to every layer): at most
:data:`MAX_CHANNELS` channels, :data:`MAX_SIZE` rows and columns and
:data:`MAX_ELEMENTS` elements per tensor, and a :func:`work` bound of
:data:`MAX_WORK` per layer. Every per-layer figure is at most one of these
products times a small constant (other ops per element, bytes per element,
kernels per layer), below 64 * MAX_WORK = 2**46, so every total of at most
``expand.MAX_GRAPH_NODES`` (20,000) layers stays below 2**61: sums and the
int64 arrays of a vectorized sweep cannot overflow at batch 1 (a ``--batch``
pass that would overflow is detected and costed in exact Python integers).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

from lightcost.core.errors import SpecError
from lightcost.core.graph import AttrValue, Ints, Node, Pair, Shape

if TYPE_CHECKING:
    from lightcost.ops.protocols import Emitter, ImportRule, OnnxNode, Reader

MAX_CHANNELS = 2**20  # channels of a tensor; also the largest integer attribute
MAX_SIZE = 2**16  # height or width of a tensor (and the largest resolution)
MAX_ELEMENTS = 2**36  # channels x height x width of a tensor
MAX_WORK = 2**40  # work() of one layer
FLOPS_PER_MADD = 2  # one multiply plus one add: FLOPs = 2 x MAdds
MAX_LIST = 1024  # values of a list attribute (split sizes)

REQUIRED = object()
Attrs = Mapping[str, AttrValue]

# Op kinds: what memory, lint and the limits read from an op (OpDef.kind).
KINDS = {
    "dense": "each output value reads every input channel of its group (conv, fc)",
    "depthwise": "a window over one input channel per output channel, with weights",
    "pool": "a window over one input channel per output channel, no weights",
    "elementwise": "element by element over equal shapes (BN, activations, add, mul)",
    "copy": "pure memory traffic: reads what it writes (split, concat, shuffle)",
    "view": "no kernel and no traffic: aliases its input in activation memory",
    "composite": "several kernels costed as one layer (squeeze-excite)",
}
# Kinds ShuffleNetV2's G4 counts as element-wise: high MAC for their FLOPs
# (the paper counts depthwise convs too).
ELEMENTWISE_KINDS = frozenset({"depthwise", "elementwise", "copy"})


class ShapeError(ValueError):
    """A shape that cannot be built; the caller adds the location."""


class Attr(NamedTuple):
    """One attribute: its kind, default (``REQUIRED`` if it must be given), bounds or values.

    Kinds: ``channels`` (a literal is scaled by the spec's width rule unless the
    node says ``width: fixed``; an expression is taken as written), ``int`` (an
    integer from ``low`` to MAX_CHANNELS), ``float`` (a number >= ``low``),
    ``bool``, ``act`` (an activation name, :data:`lightcost.ops.ACTIVATIONS`),
    ``enum`` (one of ``allowed``), ``pair`` (an integer >= ``low``, or a list
    ``[h, w]`` of two: a square value stays one integer, else a tuple),
    ``padding`` (``same``, ``valid``, an integer >= 0, a pair of them per
    axis or ``[top, left, bottom, right]``), ``ints`` (a list of 1 to
    :data:`MAX_LIST` integers >= ``low``, a tuple; ``()``: not given). A string
    default of a numeric kind is an expression.
    """

    kind: str
    default: Any = None
    low: int = 1
    allowed: tuple[str, ...] = ()


class Kernel(NamedTuple):
    """One kernel launch: its op, its multiply-adds and its MAC in elements.

    ``weights`` is the part of ``mac`` that is parameters: read once whatever the batch.
    """

    op: str
    madds: int
    mac: int
    weights: int = 0


class OpCost(NamedTuple):
    """What one layer costs, before a parameter convention is chosen.

    ``bn`` counts BN's trainable gamma and beta, ``bn_folded`` what BN leaves in
    a deployed model (a bias per channel when the conv has none). ``norm`` counts
    LayerNorm and GroupNorm gamma and beta, ``embed`` the other learned tensors
    (class tokens, positional embeddings, attention bias tables, layer scales):
    both stay in a deployed model and are no ``weights``.
    """

    weights: int = 0
    biases: int = 0
    bn: int = 0
    bn_folded: int = 0
    madds: int = 0
    other_ops: int = 0
    reads: int | None = None  # input elements read, when not all of every input
    norm: int = 0
    embed: int = 0

    def params(self, convention: str) -> int:
        """Parameters under ``trainable`` (the default), ``weights`` or ``deployed``."""
        if convention == "weights":
            return self.weights
        if convention == "deployed":
            return self.weights + self.biases + self.bn_folded + self.norm + self.embed
        return self.weights + self.biases + self.bn + self.norm + self.embed


# -- labels ------------------------------------------------------------------------------------


def label(node: Node, *parts: str) -> str:
    """``op part... act``: the op, the given parts, then the activation unless ``none``."""
    act = str(node.attrs.get("act", "none"))
    return " ".join([node.op, *parts, *([act] if act != "none" else [])])


def plain_label(node: Node) -> str:
    """The label of an op without parts: its name and its activation (``add relu``)."""
    return label(node)


def op_name(node: Node) -> str:
    """The ``--by op`` row of an op without a paper name: the op's name."""
    return node.op


class OpDef(NamedTuple):
    """An op, every part in one place (:func:`lightcost.ops.missing` checks them).

    ``shape`` maps attributes and input shapes to the output shape; ``cost`` a
    node to its :class:`OpCost`; ``label`` gives the layer's short label
    (``conv 3x3 s2 relu6``) and ``layer_type`` its ``--by op`` row
    (``Conv DW 3x3``). ``channels`` names the attributes holding channel counts
    (they vary with the width multiplier). ``unfused`` gives the kernels of the
    ``unfused`` execution model when the generic split (the op, then a BN pass,
    then an activation pass) does not apply. ``export`` emits the ONNX nodes
    (:func:`no_export` says there are none); ``imports`` maps ONNX op types to
    the handlers that read them (empty: the op is never imported). ``stacks`` is
    False for an op whose output channels depend on H and W or the reverse
    (``reshape``, ``transpose``): a sweep then costs each configuration on its own.
    """

    name: str
    summary: str
    kind: str
    shape: Callable[[Attrs, list[Shape]], Shape]
    cost: Callable[[Node], OpCost]
    export: Callable[[Emitter, Node], str]
    imports: Mapping[str, ImportRule]
    attrs: Mapping[str, Attr] = MappingProxyType({})
    label: Callable[[Node], str] = plain_label
    layer_type: Callable[[Node], str] = op_name
    min_inputs: int = 1
    max_inputs: int | None = 1
    channels: tuple[str, ...] = ()
    unfused: Callable[[Node], tuple[Kernel, ...]] | None = None
    stacks: bool = True  # False: moves sizes between C and H, W (a sweep costs it one by one)

    @property
    def merges(self) -> bool:
        """Whether the op joins several tensors (add, mul, concat)."""
        return self.max_inputs is None or self.max_inputs > 1

    @property
    def elementwise(self) -> bool:
        """Whether ShuffleNetV2's G4 counts the op's kernels as element-wise."""
        return self.kind in ELEMENTWISE_KINDS


def no_export(emitter: Emitter, node: Node) -> str:
    """The export of an op that has no ONNX form: ``lightcost export`` stops cleanly (exit 2)."""
    raise SpecError(f"layer '{node.name}': not supported by export: {node.op}")


def only_readers(reader: Reader, node: OnnxNode, op_types: Sequence[str]) -> list[OnnxNode] | None:
    """The nodes after ``node`` of these op types in order, each the only reader of the one
    before (an ONNX pattern, as long as ``op_types``); None when the graph differs."""
    nodes, tensor = [], node.output[0]
    for op_type in op_types:
        after = reader.only_reader(tensor)
        if after is None or after.op_type != op_type:
            return None
        nodes.append(after)
        tensor = after.output[0]
    return nodes


# -- shape helpers -----------------------------------------------------------------------------


def truth(value: Any) -> bool:
    """``bool`` that also accepts numpy arrays (true if any element is), for vectorized sweeps."""
    return bool(value.any()) if hasattr(value, "any") else bool(value)


def same(a: Shape, b: Shape) -> bool:
    """Shapes equal in every element (heights and widths may be numpy arrays in a sweep)."""
    return not any(truth(x != y) for x, y in zip(a, b, strict=True))


def dims(shape: Shape) -> str:
    """``16x32x32``, as messages show a shape."""
    return "x".join(map(str, shape))


def pair(value: AttrValue | tuple[int, int]) -> tuple[int, int]:
    """A ``pair`` attribute (or integer padding) as ``(h, w)``: a single value is square."""
    if isinstance(value, Ints):
        raise TypeError(f"{list(value)} is a list, not a pair")
    return value if isinstance(value, tuple) else (int(value), int(value))


def square(h: int, w: int) -> AttrValue:
    """A ``pair`` value: one integer when ``h`` equals ``w``, else a :class:`Pair`."""
    return h if h == w else Pair(h, w)


def pair_text(value: AttrValue) -> str:
    """``3x3`` or ``1x7``: a kernel as labels show it."""
    h, w = pair(value)
    return f"{h}x{w}"


def spatial(
    size: int,
    k: int,
    stride: int,
    padding: AttrValue | tuple[int, int],
    dilation: int = 1,
    ceil: bool = False,
) -> int:
    """Output height or width of a sliding window (module docstring); ints or arrays.

    ``padding`` is ``same``, ``valid``, this axis's integer padding or its
    ``(begin, end)``. ``ceil`` (a pool's ``ceil_mode``) rounds up as PyTorch does:
    the last window must start inside the input or the begin padding.
    """
    k_eff = dilation * (k - 1) + 1
    if padding == "same":
        out = -(-size // stride)
    else:
        begin, end = (0, 0) if padding == "valid" else sides(padding)
        span = size + begin + end - k_eff
        out = (span + (stride - 1 if ceil else 0)) // stride + 1
        if ceil:
            out = out - ((out - 1) * stride >= size + begin)  # ints or arrays alike
    if truth(out < 1):
        raise ShapeError(
            f"spatial size {size} with kernel {k}, stride {stride}, padding {padding} "
            "reaches 0: the input is too small for this layer"
        )
    return out


def sides(padding: AttrValue | tuple[int, int]) -> tuple[int, int]:
    """One axis's explicit padding (an integer, or ``(begin, end)``) as ``(begin, end)``."""
    return pair(padding)


def same_pads(size: int, k: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow SAME padding of one axis: (begin, end), the odd pixel at the end."""
    k_eff = dilation * (k - 1) + 1
    out = -(-size // stride)
    total = max((out - 1) * stride + k_eff - size, 0)
    return total // 2, total - total // 2


def axis_padding(padding: AttrValue) -> tuple[AttrValue, AttrValue]:
    """A padding per axis: ``same`` and ``valid`` apply to both, an integer or pair is split,
    ``[top, left, bottom, right]`` gives ``(top, bottom)`` and ``(left, right)`` (one integer
    when both sides are equal)."""
    if padding in ("same", "valid"):
        return padding, padding
    if isinstance(padding, tuple) and len(padding) == 4:
        top, left, bottom, right = padding
        return square(top, bottom), square(left, right)
    return pair(padding)


def explicit_pads(
    padding: AttrValue, shape: Shape, k: AttrValue, stride: AttrValue, dilation: AttrValue
) -> list[int]:
    """``[top, left, bottom, right]`` of a padding on an input (ONNX ``pads``)."""
    ks, ss, ds = pair(k), pair(stride), pair(dilation)
    begins, ends = [], []
    for axis, pad in enumerate(axis_padding(padding)):
        if pad == "same":
            begin, end = same_pads(shape[axis + 1], ks[axis], ss[axis], ds[axis])
        else:
            begin, end = (0, 0) if pad == "valid" else sides(pad)
        begins.append(begin)
        ends.append(end)
    return begins + ends


def padding_sides(top: int, left: int, bottom: int, right: int) -> AttrValue:
    """A ``padding`` of four sides in its shortest form: one integer, ``[h, w]`` or all four."""
    if (top, left) == (bottom, right):
        return square(top, left)
    return Ints((top, left, bottom, right))


def window(attrs: Attrs, shape: Shape, channels: int) -> Shape:
    """The shape a window (``k``, ``stride``, ``padding``, ``dilation``) makes of ``shape``."""
    _, h, w = shape
    ks, ss, ds = pair(attrs["k"]), pair(attrs["stride"]), pair(attrs["dilation"])
    ph, pw = axis_padding(attrs["padding"])
    ceil = bool(attrs.get("ceil_mode", False))
    return (
        channels,
        spatial(h, ks[0], ss[0], ph, ds[0], ceil),
        spatial(w, ks[1], ss[1], pw, ds[1], ceil),
    )


def same_shape(attrs: Attrs, shapes: list[Shape]) -> Shape:
    """The shape rule of an op whose output is shaped like its (first) input."""
    return shapes[0]


# -- limits ---------------------------------------------------------------------------------


def fan_in(op: OpDef, attrs: Attrs, in_shapes: list[Shape]) -> int:
    """Input values one output value reads per kernel position.

    A ``dense`` op reads every input channel of its group, any other one channel
    of each input.
    """
    if op.kind == "dense":
        return sum(s[0] for s in in_shapes) // int(attrs.get("groups", 1))
    return len(in_shapes)


def work(op: OpDef, attrs: Attrs, in_shapes: list[Shape], out_shape: Shape) -> int:
    """An upper bound on a layer's size: kh*kw x fan-in x output channels x area.

    ``k`` is 1 for a layer without a kernel (and for global pooling), the area
    (H x W) is the largest of the inputs' and the output's. It bounds the
    layer's MAdds, weights and, per output element, its other ops;
    squeeze-excite's 2 x C x squeeze is at most 2 * MAX_CHANNELS**2 = 2**41.
    """
    kh, kw = pair(attrs.get("k") or 1)
    area = max(h * w for _, h, w in [*in_shapes, out_shape])
    return kh * kw * fan_in(op, attrs, in_shapes) * out_shape[0] * area


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


def check_work(madds: int, what: str) -> None:
    """Raise ShapeError when a product of activations exceeds ``MAX_WORK`` multiply-adds."""
    if truth(madds > MAX_WORK):
        raise ShapeError(
            f"{what} of {madds:.3g} multiply-adds is above the limit of {_power(MAX_WORK)}"
        )


def window_stride(attrs: Attrs) -> AttrValue:
    """The stride, a 0 (a pool's default; on an axis) read as the kernel size (on that axis)."""
    value, k = attrs["stride"], attrs["k"]
    if not isinstance(value, tuple) and not isinstance(k, tuple):
        return value or k
    (sh, sw), (kh, kw) = pair(value), pair(k)
    return square(sh or kh, sw or kw)


def window_parts(attrs: Attrs) -> list[str]:
    """``3x3`` and, unless 1, ``s2`` or ``s1x2`` (a pool's stride 0 is its kernel size)."""
    stride = window_stride(attrs)
    text = pair_text(stride) if isinstance(stride, tuple) else str(stride)
    return [pair_text(attrs["k"]), *([f"s{text}"] if pair(stride) != (1, 1) else [])]
