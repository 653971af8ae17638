"""The kernels ``calibrate --runtime onnxruntime`` measures: a designed grid and fusion tests.

Each case is a one-layer lightcost spec, exported to ONNX by the op table's own
export rule and measured **in context**: ``pre -> KERNEL -> post`` against
``pre -> post`` (``pre`` a 1x1 conv from a 4-channel input and a 1x1 max pooling,
kept cheap: the difference of two runs is as noisy as they are long; ``post`` a
global average pool), so the kernel runs in the layout it has inside a network,
and the session's own cost cancels. A kernel's time is the
difference of the two medians, less what the pooling takes more on the kernel's
output than on its input (timed by :func:`post_cases`).

The grid (:data:`GRID`) lists the kernel types with attributes to vary; every
other op of kind ``elementwise`` or ``copy`` in the op table (activations,
norms, ops added later) is measured as ``{op: NAME}`` on the feature-map
shapes when that one-layer spec builds, so a new op is calibrated without a
row here. Fusion rules (:func:`fusion_cases`) compare a pair against its parts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from lightcost.core.errors import SpecError
from lightcost.core.graph import Graph
from lightcost.ops import ACTIVATIONS, OPS

SHAPES = (  # (channels, side): feature maps of mobile CNNs; channels multiples of 16, of 4, neither
    (16, 112),
    (24, 112),
    (24, 56),
    (18, 56),
    (32, 56),
    (40, 28),
    (58, 28),
    (64, 28),
    (72, 28),
    (116, 28),
    (120, 14),
    (122, 14),
    (128, 14),
    (232, 14),
    (256, 14),
    (30, 28),
    (200, 7),
    (244, 7),
    (464, 7),
    (512, 7),
    (14, 28),  # channels not a multiple of 4 on small maps: plain-layout kernels
    (26, 14),
    (54, 7),
)
LARGE = ((96, 112), (144, 56), (192, 28), (576, 14), (960, 7))  # inverted-residual expansions
SQUEEZE = (16, 32, 64, 96, 120, 240, 480, 672, 960)  # squeeze-excite: 1x1 convs on a 1 x 1 map
IMAGES = (224, 160, 96)  # sides of the RGB inputs the stems read
STEMS = (  # (k, stride, output channels): the stems of CNNs, ConvNeXt's and ViT's patchify
    *((3, 2, c) for c in (16, 24, 32, 64)),
    *((7, 2, c) for c in (24, 32, 64)),
    *((4, 4, c) for c in (32, 64, 96)),
    *((16, 16, c) for c in (192, 384, 768)),
)
MAX_MADDS = 120_000_000  # a grid case above this is skipped (a few ms on one core)
WIDE_GROUPS = (24, 40, 56)  # 1x1 convs of 8 groups this wide (plain layout), on 56, 28, 14
WIDE_SIDES = (56, 28, 14)


class Case(NamedTuple):
    """One measured kernel: its type, the input (c, h, w) and the spec line of its layer;
    ``setup`` layers run before it in both models (its context includes them)."""

    type: str
    shape: tuple[int, int, int]
    layer: str
    setup: tuple[str, ...] = ()

    @property
    def base(self) -> str:
        """The spec of the context alone."""
        return in_context(self.shape, *self.setup)

    @property
    def text(self) -> str:
        """The spec of the kernel in its context."""
        return in_context(self.shape, *self.setup, self.layer)


def spec_text(shape: tuple[int, int, int], *layers: str) -> str:
    """A spec of the given layers on a c x h x w input."""
    c, h, w = shape
    lines = "".join(f"  - {layer}\n" for layer in layers)
    return f"lightcost: 1\nname: kernel\ninput: [{c}, {h}, {w}]\nlayers:\n{lines}"


SEED = 4  # channels of the context's input: its conv costs 4 MAdds per output element
PRE = (  # a conv, then a pooling no runtime fuses with what follows
    "{name: ctx, op: conv, k: 1, out: %d, bn: false}",
    "{name: pre, op: maxpool, k: 1, stride: 1}",
)
POST = "{name: post, op: avgpool, global: true}"
PEEK = "{name: post, op: maxpool, k: 1, stride: %d}"  # a post that reads one element per channel


def in_context(shape: tuple[int, int, int], *layers: str) -> str:
    """``pre -> layers -> post`` on a kernel input of ``shape``; the layers read ``pre``.
    The context is made cheap (a conv from :data:`SEED` channels, a 1x1 pooling): a kernel's
    time is a difference of two runs, and its noise grows with the time they share."""
    c, h, w = shape
    return spec_text((SEED, h, w), PRE[0] % c, PRE[1], *layers, POST)


def stem_cases() -> Iterator[Case]:
    """Convs on an RGB image (:data:`STEMS` on :data:`IMAGES`): one type per size and stride
    (``stem3s2``, ``stem16s2``), since their input runs in the image's own layout."""
    for side in IMAGES:
        for k, stride, out in STEMS:
            if 3 * out * k * k * (side // stride) ** 2 <= MAX_MADDS:
                pad = k // 2 if k % 2 else 0
                layer = (
                    f"{{op: conv, k: {k}, stride: {stride}, padding: {pad}, out: {out}, bn: false}}"
                )
                yield Case(f"stem{k}s{min(stride, 2)}", (3, side, side), layer)


def conv_cases() -> Iterator[Case]:
    """The 1x1 convs of squeeze-excite; stems on RGB images (:data:`STEMS`); standard convs
    k 1, 3, 5, 7 at stride 1 and 2; grouped (2, 3, 4, 8 groups; groups of 8 channels;
    :data:`WIDE_GROUPS`); depthwise k 3, 5, 7, 9."""
    for c in SQUEEZE:
        for out in (c // 4, c * 4):
            yield Case("conv_vec", (c, 1, 1), f"{{op: conv, k: 1, out: {out}, bn: false}}")
    yield from stem_cases()
    for c, side in SHAPES + LARGE:
        shape = (c, side, side)
        for k in (1, 3, 5, 7):
            for stride in (1, 2):
                for out in (c // 4, c, 2 * c, 4 * c) if k == 1 else (c,):
                    small = k == 1 or (c, side) in SHAPES
                    if small and c * out * k * k * (side // stride) ** 2 <= MAX_MADDS:
                        layer = f"{{op: conv, k: {k}, stride: {stride}, out: {out}, bn: false}}"
                        yield Case(f"conv{k}s{stride}", shape, layer)
        for k in (3, 5, 7, 9):  # MixNet's mixed depthwise convs go to 9x9
            for stride in (1, 2):
                layer = f"{{op: dwconv, k: {k}, stride: {stride}, bn: false}}"
                yield Case(f"dwconv{k}s{stride}", shape, layer)
    yield from group_cases()


def group_cases() -> Iterator[Case]:
    """Grouped 1x1 and 3x3 convs: 2, 3, 4, 8 groups and groups of 8 channels (RegNet) on
    the grid's maps; 8 groups :data:`WIDE_GROUPS` channels wide on :data:`WIDE_SIDES`."""
    for c, side in SHAPES + LARGE:
        shape = (c, side, side)
        width8 = c // 8  # groups of 8 channels (RegNet)
        for k, groups in ((1, 2), (1, 3), (1, 4), (1, 8), (3, 2), (3, 3), (3, 4), (3, width8)):
            if groups > 1 and c % (2 * groups) == 0 and (k == 1 or (c, side) in SHAPES):
                layer = f"{{op: conv, k: {k}, groups: {groups}, out: {c}, bn: false}}"
                yield Case(f"gconv{k}", shape, layer)
    for width in WIDE_GROUPS:  # ShuffleNetV1's and ShuffleNetV2 G2's wide groups
        for side in WIDE_SIDES:
            layer = f"{{op: conv, k: 1, groups: 8, out: {8 * width}, bn: false}}"
            yield Case("gconv1", (8 * width, side, side), layer)


def other_cases() -> Iterator[Case]:
    """FC, pooling, merges and copies with their attributes; then every other
    element-wise or copy op of the op table that builds as ``{op: NAME}``."""
    for c, side in SHAPES + LARGE:
        shape = (c, side, side)
        gate = "{name: gate, op: avgpool, global: true, from: pre}"
        yield Case("mul_gate", shape, "{op: mul, from: [pre, gate]}", (gate,))
        if (c, side) in SHAPES:
            yield Case("fc", (c * 4, 1, 1), f"{{op: fc, out: {c * 8}}}")
        yield Case("avgpool_global", shape, "{op: avgpool, global: true}")
        yield Case("maxpool", shape, "{op: maxpool, k: 3, stride: 2, padding: 1}")
        yield Case("avgpool", shape, "{op: avgpool, k: 3, stride: 2, padding: 1}")
        yield Case("split", shape, "{op: split, parts: 2, index: 1}")
        yield Case("shuffle", shape, "{op: shuffle, groups: 2}")
        yield Case("concat", shape, "{op: concat, from: [pre, pre]}")
        if side % 2 == 0:  # MobileViT's 2 x 2 patches to sequences and back; patch 1 reshapes
            yield Case("unfold", shape, "{op: unfold, patch: 2}")
            yield Case("fold", (c, 4, side * side // 4), f"{{op: fold, patch: 2, h: {side}}}")
        yield Case("flatten", shape, "{op: unfold}")
        yield Case("add", shape, "{op: add, from: [pre, pre]}")
        yield Case("mul", shape, "{op: mul, from: [pre, pre]}")
        for name, opdef in OPS.items():
            if opdef.kind in ("elementwise", "copy") and name not in EXPLICIT:
                merge = ", from: [pre, pre]" if opdef.min_inputs > 1 else ""
                case = Case(name, shape, f"{{op: {name}{merge}}}")
                if build_case(case.text) is not None:  # not: ops that need attributes
                    yield case


TOKENS = (  # (channels, rows, tokens, heads): as in MobileViT, MobileNetV4 hybrids, EfficientFormer
    (64, 1, 256, 2),
    (96, 1, 256, 4),
    (144, 1, 64, 4),
    (192, 1, 49, 4),
    (240, 1, 16, 4),
    (256, 1, 196, 4),
    (384, 1, 49, 8),
    (448, 1, 49, 8),
    (96, 4, 256, 4),  # MobileViT-XS and -S: 2 x 2 patches, one sequence per patch position
    (120, 4, 64, 4),
    (144, 4, 16, 4),
    (144, 4, 256, 4),
    (192, 4, 64, 4),
    (240, 4, 16, 4),
)


def token_cases() -> Iterator[Case]:
    """Multi-head self-attention on a token map: one row of N tokens, or P rows each its own
    sequence (``tokens: w``, MobileViT's unfolded patches)."""
    for c, rows, tokens, heads in TOKENS:
        mode = ", tokens: w" if rows > 1 else ""
        yield Case("attention", (c, rows, tokens), f"{{op: attention, heads: {heads}{mode}}}")


EXPLICIT = ("split", "shuffle", "concat", "add", "mul", "unfold", "fold")  # ops with a row above


def reorder_cases() -> list[tuple[int, str, str, str, str]]:
    """Layout conversions in context, on the maps with channels a multiple of 16: (elements,
    ReLU, the same with ReLU6, ReLU then a 1x1 conv, ReLU6 then the conv). onnxruntime runs
    ReLU in the blocked layout and ReLU6 (Clip) in the plain one, so the second costs a
    conversion to plain more than the first, and the fourth one each way more than the
    third (:mod:`lightcost.cost.layout`); the two ops cost alike otherwise."""
    cases = []
    for c, side in SHAPES + LARGE:
        if c % 16 == 0:
            shape, conv = (c, side, side), f"{{op: conv, k: 1, out: {c}, bn: false}}"
            relu, clip = "{op: relu}", "{op: relu6}"
            cases.append(
                (
                    c * side * side,
                    in_context(shape, relu),
                    in_context(shape, clip),
                    in_context(shape, relu, conv),
                    in_context(shape, clip, conv),
                )
            )
    return cases


def post_cases() -> list[tuple[int, str, str]]:
    """The context's own global pooling, in context: (elements it reads, the context with a
    pooling that reads one element per channel, the context). A case whose kernel changes
    the tensor's size changes what the pooling reads; this fit removes that from it."""
    cases = []
    for c, side in SHAPES + LARGE:
        shape = (c, side, side)
        peek = spec_text((SEED, side, side), PRE[0] % c, PRE[1], PEEK % side)
        cases.append((c * side * side, peek, in_context(shape)))
    return cases


def grid() -> list[Case]:
    """Every kernel case of the default grid."""
    return [*conv_cases(), *other_cases(), *token_cases()]


FUSION_SHAPE = (32, 112, 112)  # a cheap conv before a large activation pass
CONV = "{name: c, op: conv, k: 1, out: 32%s}"


def fusion_cases() -> list[tuple[str, str, str, str]]:
    """(rule, the pair, the first part, the second part) as specs in context.

    A rule holds when the pair costs less than the first part plus half the second
    (both measured against their context, round by round).
    """
    s = FUSION_SHAPE
    conv = in_context(s, CONV % ", bn: false")
    cases = [("conv+bn", in_context(s, CONV % ", bn: true"), conv, in_context(s, "{op: bn}"))]
    for act in ACTIVATIONS:
        if act != "none":
            pair, alone = CONV % f", bn: false, act: {act}", in_context(s, f"{{op: {act}}}")
            cases.append((f"conv+{act}", in_context(s, pair), conv, alone))
    add = "{op: add, from: [pre, c]%s}"
    conv_add = in_context(s, CONV % ", bn: false", add % "")
    add_alone = in_context(s, "{op: add, from: [pre, pre]}")
    cases.append(("conv+add", conv_add, conv, add_alone))
    relu = in_context(s, "{op: relu}")
    cases.append(
        ("conv+add+relu", in_context(s, CONV % ", bn: false", add % ", act: relu"), conv_add, relu)
    )
    plain_add = in_context(s, "{op: add, from: [pre, pre], act: relu}")
    cases.append(("add+relu", plain_add, add_alone, relu))
    return cases


def build_case(text: str) -> Graph | None:
    """The graph of a case's spec, None when the op cannot take this shape or form."""
    from lightcost.api import build

    try:
        return build("kernel", text=text)
    except SpecError:
        return None
