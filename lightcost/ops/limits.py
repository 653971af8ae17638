"""Size limits of tensors and layers, applied by the expander to every layer (:func:`check_limits`).

At most :data:`MAX_CHANNELS` channels, :data:`MAX_SIZE` rows and columns and
:data:`MAX_ELEMENTS` elements per tensor, and a :func:`work` bound of
:data:`MAX_WORK` per layer. Every per-layer figure is at most one of these
products times a small constant (other ops per element, bytes per element,
kernels per layer), below 64 * MAX_WORK = 2**46, so every total of at most
``expand.MAX_GRAPH_NODES`` (20,000) layers stays below 2**61: sums and the
int64 arrays of a vectorized sweep cannot overflow.
"""

from __future__ import annotations

from lightcost.core.graph import Shape
from lightcost.ops.base import Attrs, OpDef, ShapeError

MAX_CHANNELS = 2**20  # channels of a tensor; also the largest integer attribute
MAX_SIZE = 2**16  # height or width of a tensor (and the largest resolution)
MAX_ELEMENTS = 2**36  # channels x height x width of a tensor
MAX_WORK = 2**40  # work() of one layer


def fan_in(op: OpDef, attrs: Attrs, in_shapes: list[Shape]) -> int:
    """Input values one output value reads per kernel position.

    A ``dense`` op reads every input channel of its group, any other one channel
    of each input.
    """
    if op.kind == "dense":
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
