"""Memory: memory access cost (MAC) per kernel under an execution model, and activation memory.

MAC (ShuffleNetV2, arXiv 1807.11164 Sec. 2) is what a kernel reads and writes:
input feature maps + output feature map + weights, in elements (x bytes per
element of the dtype, :data:`DTYPES`; activations and weights share the dtype).
On a batch of N inputs a kernel moves N times its activations and its weights
once (:func:`batched`); activation memory is N times batch 1's.

Execution models (:data:`EXECUTIONS`), stated in every output:

* ``fused`` (the default): each layer of the spec is one kernel. A conv with its
  bias, BN (folded into a bias) and activation reads its input once and writes
  its output once; an add with an activation likewise.
* ``unfused``: every op is its own kernel reading and writing its tensors. A conv
  or FC kernel includes its bias; BN (scale and shift, 2 params per channel) and
  the activation are separate passes over the output (2 x output each, plus the
  BN params); an op with an ``unfused`` hook gives its own kernels (squeeze-excite:
  pool, 1x1 conv, activation, 1x1 conv, gate, scale).

In both, ops of kind ``copy`` (split, concat, shuffle) are pure memory traffic:
one kernel that reads what it writes (a shuffle is a copy, since lightcost does
not fuse across layers), and ops of kind ``view`` (flatten, dropout, identity)
run no kernel and move nothing (the kinds: :data:`lightcost.ops.base.KINDS`).
Every figure is plain arithmetic, so heights and widths may be numpy
arrays (vectorized sweeps); :func:`maximum` is the array-safe ``max``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

from lightcost.core.graph import INPUT, Graph, Node, elements
from lightcost.ops import OPS, Kernel, OpCost

DTYPES = {"fp32": 4, "fp16": 2, "int8": 1}


def maximum(a: Any, b: Any) -> Any:
    """``max(a, b)``, element-wise when either is a numpy array (vectorized sweeps)."""
    if hasattr(a, "shape") or hasattr(b, "shape"):
        import numpy  # lazy: only a vectorized sweep passes arrays, and it has numpy loaded

        return numpy.maximum(a, b)
    return max(a, b)


def kernels(node: Node, cost: OpCost, execution: str, batch: int = 1) -> tuple[Kernel, ...]:
    """The kernels that run ``node`` on ``batch`` inputs under an execution model
    (:data:`EXECUTIONS`; :func:`batched`)."""
    if OPS[node.op].kind == "view":
        return ()
    reads = sum(elements(s) for s in node.in_shapes) if cost.reads is None else cost.reads
    run = EXECUTIONS[execution].kernels(node, cost, reads, elements(node.out_shape))
    return tuple(batched(k, batch) for k in run) if batch != 1 else run


def batched(kernel: Kernel, batch: int) -> Kernel:
    """``kernel`` run on a batch: its MAdds and activation traffic x ``batch``, its
    parameters read once."""
    if batch == 1:
        return kernel
    activations = kernel.mac - kernel.weights
    return kernel._replace(madds=kernel.madds * batch, mac=activations * batch + kernel.weights)


def _fused(node: Node, cost: OpCost, reads: int, out: int) -> tuple[Kernel, ...]:
    """One kernel: inputs + output + deployed params (BN folded into a bias)."""
    params = cost.params("deployed")
    return (Kernel(node.op, cost.madds, reads + out + params, params),)


def _unfused(node: Node, cost: OpCost, reads: int, out: int) -> tuple[Kernel, ...]:
    """The op with its weights and bias, then a BN pass and an activation pass if any.

    An op with its own split (``OpDef.unfused``) gives its kernels instead.
    """
    own = OPS[node.op].unfused
    if own is not None:
        return own(node)
    has_bn = bool(node.attrs.get("bn", False))
    own_params = cost.params("deployed") - (cost.bn_folded if has_bn else 0)
    passes = [Kernel(node.op, cost.madds, reads + out + own_params, own_params)]
    if has_bn:
        passes.append(Kernel("bn", 0, 2 * out + cost.bn, cost.bn))
    act = str(node.attrs.get("act", "none"))
    if act != "none":
        passes.append(Kernel(act, 0, 2 * out))
    return tuple(passes)


class Execution(NamedTuple):
    """An execution model: what it assumes, and how it splits a layer into kernels."""

    description: str
    kernels: Callable[[Node, OpCost, int, int], tuple[Kernel, ...]]


EXECUTIONS = {
    "fused": Execution("each layer one kernel (conv + bias + BN + activation fused)", _fused),
    "unfused": Execution(
        "every op its own kernel; BN and activations are separate passes", _unfused
    ),
}


def conv1x1_mac(hw: int, c1: int, c2: int, groups: int = 1) -> int:
    """MAC of a 1x1 conv without bias: ``hw(c1 + c2) + c1*c2/g`` (ShuffleNetV2 Sec. 2, G1, G2)."""
    return hw * (c1 + c2) + c1 * c2 // groups


def mac_lower_bound(hw: int, madds: int) -> float:
    """``2*sqrt(hw*B) + B/hw`` with B the MAdds of a 1x1 conv (ShuffleNetV2 Sec. 2, G1).

    By the AM-GM inequality ``hw(c1 + c2) >= 2hw*sqrt(c1*c2)``, so a 1x1 conv's MAC
    is at least this bound, with equality when c1 = c2.
    """
    return 2 * math.sqrt(hw * madds) + madds / hw


def ungrouped_mac(reads: int, out: int, weights: int, groups: int) -> int:
    """MAC of the ungrouped conv with the same input and MAdds as a ``groups``-group conv.

    It has ``1/g`` of the output channels and as many weights (ShuffleNetV2 Sec. 2,
    G2: at fixed input c1 x h x w and MAdds B, MAC = hw*c1 + B*g/c1 + B/hw grows
    with g; the g = 1 conv has MAC hw*c1 + B/c1 + B/hw).
    """
    return reads + out // groups + weights


class ActivationMemory(NamedTuple):
    """Bytes of activations alive while each node runs (graph order), and their peak.

    ``live[i]`` counts node i's output, its inputs and every tensor kept for a
    later reader (the network input included); the network output is kept.
    """

    names: tuple[str, ...]
    live: tuple[int, ...]
    peak: int

    @property
    def peak_at(self) -> str:
        """The node running when the peak is first reached (scalar costs only)."""
        return self.names[self.live.index(self.peak)] if self.names else INPUT


def activation_memory(graph: Graph, bytes_per_element: int) -> ActivationMemory:
    """Live activation bytes per execution step of ``graph`` (nodes run in order, batch 1).

    Every op writes a new buffer except the views (ops of kind ``view``), which
    alias their input; a buffer is freed once the last node reading it (or a view of
    it) has run. No in-place ops, no buffer reuse beyond that. The live total is
    kept as a running sum (a buffer added when its node runs, subtracted after its
    last reader), so the work is linear in the layers and their inputs; sizes may
    be numpy arrays (vectorized sweeps).
    """
    size, freed_after = _buffers(graph, bytes_per_element)
    total = size[INPUT]
    live: list[Any] = []
    for i, node in enumerate(graph.nodes):
        if node.name in size:  # a new buffer; a view aliases its input's
            total = total + size[node.name]  # not +=: each step keeps its own array
        live.append(total)
        for name in freed_after.get(i, ()):
            total = total - size[name]
    peak = live[0] if live else total
    for value in live[1:]:
        peak = maximum(peak, value)
    return ActivationMemory(tuple(n.name for n in graph.nodes), tuple(live), peak)


def _buffers(graph: Graph, bytes_per_element: int) -> tuple[dict[str, Any], dict[int, list[str]]]:
    """Each buffer's size in bytes, and the buffers freed after each step (by step).

    A buffer is named after the node that writes it (the network input: ``input``);
    it is freed after its last reader runs, the network output's never.
    """
    buffer = {INPUT: INPUT}  # tensor name -> the buffer holding it
    size = {INPUT: elements(graph.input_shape) * bytes_per_element}
    last_read = {INPUT: 0}
    for i, node in enumerate(graph.nodes):
        for name in node.inputs:
            last_read[buffer[name]] = i
        if OPS[node.op].kind == "view":
            buffer[node.name] = buffer[node.inputs[0]]
        else:
            buffer[node.name] = node.name
            size[node.name] = elements(node.out_shape) * bytes_per_element
            last_read[node.name] = i
    keep = buffer[graph.output]
    freed_after: dict[int, list[str]] = {}
    for name, step in last_read.items():
        if name != keep:
            freed_after.setdefault(step, []).append(name)
    return size, freed_after
