"""onnxruntime's blocked channel layout on x86 (NCHWc): which layers run blocked, where it reorders.

onnxruntime's CPU provider runs convolutions and poolings in a blocked layout
(channels in blocks of :data:`BLOCK`, padded) and inserts a ``ReorderInput``
(plain NCHW to blocked) or ``ReorderOutput`` (blocked to plain) where a tensor
meets a layer that needs the other layout. Each conversion reads and writes the
whole tensor: a network that switches often (squeeze-excite gates, channel
splits and shuffles, grouped convs) pays for it. The placement rules below were
read off the optimized graphs of onnxruntime 1.32
(``SessionOptions.optimized_model_filepath``) on single layers and on the
validation models:

- conv (one group): blocked when its input channels are a multiple of 4, or
  fewer than :data:`BLOCK` (it then reads a plain input directly); else plain;
- depthwise conv: blocked when its channels are a multiple of 4;
- grouped conv: blocked when the channels per group, in and out, are multiples
  of :data:`BLOCK`;
- max and average pooling: blocked when the channels are a multiple of
  :data:`BLOCK` (a global pooling only when its input is blocked already);
- element-wise layers without broadcast (activations but the clipping ones,
  BN, add, sub, mul of equal shapes) and views that keep the tensor follow their
  inputs: blocked when all inputs are;
- concat: blocked when all inputs are blocked with a multiple of :data:`BLOCK`
  channels each;
- every other layer (FC, split, slice, shuffle, flatten, relu6 and hardtanh
  (Clip), the gate of squeeze-excite, norms over features, softmax, matmul,
  attention) and the network's input: plain. Squeeze-excite pools and gates
  blocked (when its channels allow) and multiplies plain: its gate is converted.

A tensor is converted at most once each way. Channel counts may be numpy arrays
(vectorized sweeps): every rule is element-wise.
"""

from __future__ import annotations

from typing import Any

from lightcost.core.graph import Graph, Node, count, elements
from lightcost.ops.base import truth

BLOCK = 16  # channels per block: onnxruntime's NCHWc block on AVX-512 (8 on AVX2)
FOLLOW = frozenset(  # element-wise layers and views that run in their input's layout
    {
        "relu",
        "sigmoid",
        "tanh",
        "hsigmoid",
        "hswish",
        "swish",
        "silu",
        "gelu",
        "gelu_tanh",
        "bn",
        "scale",
        "dropout",
        "identity",
    }
)
MERGE = frozenset({"add", "sub", "mul"})  # follow their inputs when no input broadcasts


def pick(condition: Any, if_true: Any, if_false: Any) -> Any:
    """``if_true if condition else if_false`` for booleans, element-wise for arrays."""
    return (condition & if_true) | ((condition ^ True) & if_false)


def rule(node: Node, inputs: list[Any]) -> tuple[Any, Any]:
    """(whether the layer's output is blocked, the layout its inputs must have: True blocked,
    False plain), given whether each input is blocked."""
    every: Any = True
    for blocked in inputs:
        every = every & blocked
    channels = node.in_shapes[0][0] if node.in_shapes else 0
    if node.op == "dwconv":
        out = channels % 4 == 0
        return out, out
    if node.op == "conv":
        groups = count(node.attrs["groups"])
        dense = (channels < BLOCK) | (channels % 4 == 0)
        per_in, per_out = channels // groups, node.out_shape[0] // groups
        grouped = (per_in % BLOCK == 0) & (per_out % BLOCK == 0)
        single = groups == 1
        out = pick(single, dense, grouped)
        return out, out & ((channels >= BLOCK) | (single ^ True))
    if node.op in ("maxpool", "avgpool"):
        out = channels % BLOCK == 0
        if node.attrs.get("global"):
            out = out & every
        return out, out
    if node.op == "concat":
        out = every
        for shape in node.in_shapes:
            out = out & (shape[0] % BLOCK == 0)
        return out, out
    same = all(truth(elements(s) == elements(node.out_shape)) for s in node.in_shapes)
    if node.op in FOLLOW or (node.op in MERGE and same):
        return every, every
    return False, False


def reorders(graph: Graph) -> list[tuple[Any, Any]]:
    """Per layer (graph order): the elements converted to blocked and to plain before it runs."""
    layout: dict[str, Any] = {}  # tensor name: blocked (absent: plain, the network's input)
    done: dict[tuple[str, bool], Any] = {}  # (tensor, to blocked): converted already
    result = []
    for node in graph.nodes:
        have = [layout.get(name, False) for name in node.inputs]
        out, needs = rule(node, have)
        moved = [0, 0]  # to blocked, to plain
        for name, shape, blocked in zip(node.inputs, node.in_shapes, have, strict=False):
            for way, wanted in ((0, needs & (blocked ^ True)), (1, blocked & (needs ^ True))):
                key = (name, way == 0)
                seen = done.get(key, False)
                moved[way] = moved[way] + (wanted & (seen ^ True)) * elements(shape)
                done[key] = seen | wanted
        if node.op == "se":  # its pooled gate, blocked when the input is, made plain for the mul
            channels = node.in_shapes[0][0]
            moved[1] = moved[1] + (have[0] & (channels % BLOCK == 0)) * channels
        layout[node.name] = out
        result.append((moved[0], moved[1]))
    return result
