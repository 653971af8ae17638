"""What the ops' ONNX forms are written against; the ONNX exporter and importer implement it.

The ops layer never imports onnx. An op's export (``OpDef.export``) is a
function ``(emitter, node) -> output tensor`` over :class:`Emitter`; its import
mapping (``OpDef.imports``) maps ONNX op types to handlers ``(reader, onnx_node)``
over :class:`Reader` that add spec layers. Tensors are named by strings; a
tensor's rank is 4 (``[1, C, H, W]``) or 2 (``[1, C]``, after Flatten and Gemm).
Only type checkers import this module.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from lightcost.core.errors import SpecError
from lightcost.core.graph import AttrValue, Node, Shape


class OnnxNode(Protocol):
    """The fields of an ``onnx.NodeProto`` that handlers read."""

    @property
    def name(self) -> str: ...
    @property
    def op_type(self) -> str: ...
    @property
    def input(self) -> Sequence[str]: ...
    @property
    def output(self) -> Sequence[str]: ...
    @property
    def attribute(self) -> Sequence[Any]: ...


class Emitter(Protocol):
    """Builds the ONNX graph of an export (lightcost.interop.onnx.exporter)."""

    def inputs(self, node: Node) -> list[str]:
        """The tensors a layer reads, all made 4-D when any of them is."""
        ...

    def rank(self, tensor: str) -> int:
        """The rank of an emitted tensor: 4 or 2."""
        ...

    def emit(self, op_type: str, inputs: Sequence[str], name: str, rank: int, **attrs: Any) -> str:
        """Append one node whose single output tensor is named after it; returns that name."""
        ...

    def as4d(self, tensor: str, shape: Shape) -> str:
        """``tensor`` as ``[1, C, H, W]`` (a reshape of a ``[1, C]`` tensor)."""
        ...

    def ints(self, name: str, values: Sequence[int]) -> str:
        """An int64 initializer."""
        ...

    def scalar(self, name: str, value: float) -> str:
        """A float32 scalar initializer, added once however many nodes read it."""
        ...

    def filled(self, name: str, size: int, value: float) -> str:
        """A float32 vector initializer of ``size`` copies of ``value``."""
        ...

    def random(self, name: str, shape: Sequence[int], fan_in: int) -> str:
        """A float32 He-normal weight initializer (std sqrt(2 / fan-in)), seeded."""
        ...


class Reader(Protocol):
    """Reads an ONNX model and builds spec layers (lightcost.interop.onnx.importer)."""

    def fail(self, node: OnnxNode, problem: str) -> SpecError:
        """An error naming the node and its op type (to raise)."""
        ...

    def attr(self, node: OnnxNode, name: str, default: Any = None) -> Any:
        """An attribute of ``node`` as a Python value, else ``default``."""
        ...

    def attr_text(self, node: OnnxNode, name: str, default: str) -> str:
        """A string attribute of ``node`` as text (invalid UTF-8 replaced), else ``default``."""
        ...

    def const_dims(self, name: str) -> list[int] | None:
        """The dims of a constant (initializer or Constant), None for data."""
        ...

    def values(self, name: str) -> list[Any] | None:
        """The values of a constant, flattened; None for data."""
        ...

    def dims(self, tensor: str) -> list[int | None]:
        """The inferred dims of a tensor (None: unknown), [] when it has no shape."""
        ...

    def shape(self, tensor: str, node: OnnxNode) -> Shape:
        """The lightcost shape (C, H, W) of a [N, C, H, W] or [N, C] tensor, of a channels-last
        [N, H, W, C] one, or of tokens [S, N, D]: (D, S, N)."""
        ...

    def order(self, tensor: str) -> str:
        """What each axis of a tensor is: ``nchw``, ``nhwc`` (channels last), ``hwc`` (tokens
        [S, N, D]) or ``nc``."""
        ...

    def axis(self, tensor: str, axis: int) -> str:
        """The lightcost axis (``c``, ``h``, ``w``; ``n`` the batch) of an ONNX axis of a tensor."""
        ...

    def only_reader(self, tensor: str) -> OnnxNode | None:
        """The one node reading ``tensor`` when it has exactly one and is no graph output."""
        ...

    def used(self, tensor: str) -> bool:
        """Whether a node reads ``tensor`` or it is a graph output."""
        ...

    def absorb(self, node: OnnxNode) -> None:
        """Mark a node as handled by a pattern: the walk skips it."""
        ...

    def alias(self, tensor: str, source: str, node: OnnxNode, last: bool | None = None) -> None:
        """``tensor`` refers to the layer (or input) ``source`` refers to: a view, no layer;
        channels last when ``last`` says so (None: as ``source``)."""
        ...

    def window(
        self, node: OnnxNode, k: int | tuple[int, int], in_shape: Shape, out_shape: Shape
    ) -> dict[str, AttrValue]:
        """``k``, ``stride``, ``padding``, ``dilation`` of a Conv or pool, checked."""
        ...

    def add(
        self,
        node: OnnxNode,
        op: str,
        inputs: Sequence[str],
        attrs: dict[str, AttrValue] | None = None,
        output: str | None = None,
        name: str | None = None,
    ) -> None:
        """Add a layer named after ``node``; ``output`` (default its first) now refers to it."""
        ...


ImportRule = Callable[[Reader, OnnxNode], None]
Emit = Callable[[Emitter, Node], str]
