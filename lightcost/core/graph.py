"""The layer graph: nodes with resolved attributes and inferred shapes.

Shapes are ``(channels, height, width)`` for batch 1; a fully connected or
flattened output is ``(features, 1, 1)``. The graph's input tensor is named
``input``; every node names the tensors it reads.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from lightcost.core.errors import Loc
from lightcost.core.rounding import WidthRule

Shape = tuple[int, int, int]


class Pair(NamedTuple):
    """A ``pair`` attribute whose height and width differ (a 1x7 kernel); a square one is an int.

    It is no single integer: ``int()`` of it raises TypeError, so code reading a
    square-only attribute fails loudly instead of taking one side.
    """

    h: int
    w: int

    def __int__(self) -> int:
        raise TypeError(f"{self.h}x{self.w} is a pair, not one integer")


class Ints(tuple[int, ...]):
    """A list attribute (``split``'s ``sizes``, a ``padding`` of four sides); no single integer."""

    __slots__ = ()

    def __int__(self) -> int:
        raise TypeError(f"{list(self)} is a list, not one integer")


AttrValue = int | float | bool | str | Pair | Ints

INPUT = "input"
MAX_NAME = 128  # characters of a name: a layer, block, var, the spec's; full names too


def readers(nodes: Iterable[Node]) -> Counter[str]:
    """How many of ``nodes`` read each tensor (a tensor read twice by one node counts twice)."""
    return Counter(name for node in nodes for name in node.inputs)


def count(value: AttrValue) -> int:
    """An integer attribute as a number; numpy arrays (vectorized sweeps) pass through."""
    return value if hasattr(value, "shape") else int(value)  # type: ignore[return-value]


def elements(shape: Shape) -> int:
    """Number of elements of a tensor of this shape (batch 1)."""
    c, h, w = shape
    return c * h * w


class Node(NamedTuple):
    """One layer: its op, resolved attributes, inputs and shapes, and its block path."""

    name: str
    op: str
    attrs: Mapping[str, AttrValue]
    inputs: tuple[str, ...]
    in_shapes: tuple[Shape, ...]
    out_shape: Shape
    block: tuple[str, ...] = ()
    loc: Loc | None = None

    @property
    def path(self) -> tuple[str, ...]:
        """Block instance names followed by the node's own short name."""
        return (*self.block, self.name)


class Graph(NamedTuple):
    """An expanded spec: nodes in execution order plus the configuration that built them."""

    name: str
    file: str
    input_shape: Shape
    nodes: tuple[Node, ...]
    width: float
    resolution: int  # the input height (`res`); `size` and input_shape give both sides
    width_rule: WidthRule
    variables: Mapping[str, AttrValue]
    variant: str = ""
    description: str = ""
    resolution_dependent: bool = False  # an expression read res, in_h or in_w
    params_note: str = ""  # what trainable params mean for this model, when not PyTorch's count
    padding: str = "same"  # the spec's padding convention (spec.sections.PADDINGS)

    @property
    def size(self) -> str:
        """The input resolution as ``--res`` writes it: ``224``, or ``160x128`` (height x width)."""
        height, width = self.input_shape[1:]
        return str(height) if height == width else f"{height}x{width}"

    @property
    def output(self) -> str:
        """Name of the tensor the network returns (the last node's)."""
        return self.nodes[-1].name if self.nodes else INPUT
