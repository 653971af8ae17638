"""Random networks ``calibrate --runtime onnxruntime`` times whole, beside its kernels.

A kernel timed in a small context runs from the core's own cache; inside a network
its tensors and weights also travel to and from the shared cache and memory, which
costs the memory-bound kernels (depthwise convs, element-wise ops, FC, copies) far
more than the compute-bound ones. ``calibrate`` measures :data:`COUNT` random
networks of the mobile kind built here (stems, inverted residuals with and without
squeeze-excite, fused and basic residual blocks, ShuffleNet units, grouped
bottlenecks, parallel branches, attention blocks; random widths, kernel sizes,
activations and resolutions) and fits the time per element its layers read (inputs
and weights) that its kernels' sum misses
(:func:`lightcost.cli.profiling.fit_network`). The networks are seeded: every
calibration builds the same ones.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from lightcost.cli.measure import Bench, quiet
from lightcost.core.graph import Graph
from lightcost.cost.predictor import MeasuredDevice, first_reads

COUNT = 60  # random networks per calibration
MAX_MADDS = 1_000_000_000  # a network above this is skipped (some 10 ms on one core)
ACTS = ("relu", "relu", "relu6", "hswish", "swish")
KINDS = ("ir", "ir", "ir", "basic", "shuffle", "gconv", "fused", "branches")


class Net:
    """A network being drawn: its layers, as spec lines, and a random source."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.lines: list[str] = []

    def add(self, op: str, source: str | list[str] | None, **attrs: Any) -> str:
        """Append a layer reading ``source`` (a name or names; None: the network's input);
        its name."""
        name = f"l{len(self.lines)}"
        if source is not None:
            ins = source if isinstance(source, str) else "[" + ", ".join(source) + "]"
            attrs = {"from": ins, **attrs}
        fields = "".join(f", {k}: {_yaml(v)}" for k, v in attrs.items())
        self.lines.append(f"  - {{name: {name}, op: {op}{fields}}}")
        return name

    def width(self, base: float) -> int:
        """Channels near ``base``: half multiples of 16, most of the rest of 8, some odd."""
        c = max(8, int(base * self.rng.uniform(0.6, 1.6)))
        draw = self.rng.random()
        return (c + 15) // 16 * 16 if draw < 0.5 else (c + 7) // 8 * 8 if draw < 0.8 else c


def _yaml(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


Block = Callable[[Net, str, int, int, int, str], tuple[str, int]]


def inverted(net: Net, x: str, cin: int, out: int, stride: int, act: str) -> tuple[str, int]:
    """1x1 expansion, depthwise k x k, optional squeeze-excite, linear 1x1, residual."""
    rng, y = net.rng, x
    if (expand := rng.choice((1, 3, 4, 6))) > 1:
        y = net.add("conv", y, k=1, out=net.width(cin * expand), act=act)
    y = net.add("dwconv", y, k=rng.choice((3, 3, 5, 7)), stride=stride, act=act)
    if rng.random() < 0.35:
        gate = rng.choice(("sigmoid", "hsigmoid"))
        y = net.add("se", y, squeeze=max(8, cin // 4), act="relu", gate=gate)
    y = net.add("conv", y, k=1, out=out)
    return (net.add("add", [x, y]) if stride == 1 and cin == out else y), out


def fused(net: Net, x: str, cin: int, out: int, stride: int, act: str) -> tuple[str, int]:
    """3x3 expansion, linear 1x1, residual (EfficientNetV2's fused block)."""
    y = net.add("conv", x, k=3, stride=stride, out=net.width(cin * net.rng.choice((2, 4))), act=act)
    y = net.add("conv", y, k=1, out=out)
    return (net.add("add", [x, y]) if stride == 1 and cin == out else y), out


def basic(net: Net, x: str, cin: int, out: int, stride: int, act: str) -> tuple[str, int]:
    """Two 3x3 convs and a shortcut (ResNet's basic block)."""
    y = net.add("conv", x, k=3, stride=stride, out=out, act="relu")
    y = net.add("conv", y, k=3, out=out)
    if stride > 1 or cin != out:
        x = net.add("conv", x, k=1, stride=stride, out=out)
    return net.add("add", [x, y], act="relu"), out


def grouped(net: Net, x: str, cin: int, out: int, stride: int, act: str) -> tuple[str, int]:
    """Grouped 1x1, shuffle, depthwise 3x3, grouped 1x1, residual (ShuffleNet V1)."""
    groups = net.rng.choice((2, 3, 4, 8))
    out = (out + 2 * groups - 1) // (2 * groups) * 2 * groups
    mid = max(groups, out // 4 // groups * groups)
    y = net.add("conv", x, k=1, out=mid, groups=groups if cin % groups == 0 else 1, act="relu")
    y = net.add("shuffle", y, groups=groups)
    y = net.add("dwconv", y, k=3, stride=stride)
    y = net.add("conv", y, k=1, out=out, groups=groups)
    return (net.add("add", [x, y], act="relu") if stride == 1 and cin == out else y), out


def shuffle(net: Net, x: str, cin: int, out: int, stride: int, act: str) -> tuple[str, int]:
    """ShuffleNet V2 unit: split (or two stride-2 branches), 1x1-dw-1x1, concat, shuffle."""
    out = out // 2 * 2
    if stride == 1 and cin == out:
        left, right = net.add("split", x, index=0), net.add("split", x, index=1)
    else:
        left = net.add("dwconv", x, k=3, stride=stride)
        left, right = net.add("conv", left, k=1, out=out // 2, act="relu"), x
    y = net.add("conv", right, k=1, out=out // 2, act="relu")
    y = net.add("dwconv", y, k=3, stride=stride if right == x else 1)
    y = net.add("conv", y, k=1, out=out // 2, act="relu")
    return net.add("shuffle", net.add("concat", [left, y]), groups=2), out


def branches(net: Net, x: str, cin: int, out: int, stride: int, act: str) -> tuple[str, int]:
    """2-4 parallel convs of kernel 1, 3 or 5 on the same input, concatenated."""
    parts = net.rng.choice((2, 3, 4))
    each = max(8, out // parts)
    outs = [
        net.add("conv", x, k=net.rng.choice((1, 3, 5)), stride=stride, out=each, act=act)
        for _ in range(parts)
    ]
    return net.add("concat", outs), each * parts


def attention(net: Net, x: str, cin: int, out: int, stride: int, act: str) -> tuple[str, int]:
    """A pre-norm transformer block on the map's tokens (MobileViT-like hybrids)."""
    if stride > 1 or cin != out:
        x = net.add("conv", x, k=3, stride=stride, out=out, act=act)
    heads, dim = net.rng.choice((2, 4)), net.rng.choice((16, 32, 64))
    y = net.add("attention", net.add("layernorm", x), heads=heads, head_dim=dim)
    x = net.add("add", [x, y])
    y = net.add("conv", net.add("layernorm", x), k=1, out=2 * out, bn=False, act="gelu")
    return net.add("add", [x, net.add("conv", y, k=1, out=out, bn=False)]), out


BLOCKS: dict[str, Block] = {
    "ir": inverted,
    "fused": fused,
    "basic": basic,
    "gconv": grouped,
    "shuffle": shuffle,
    "branches": branches,
    "attention": attention,
}


def network(seed: int) -> str:
    """The spec text of random network ``seed``: a stem, 3-5 stages of 1-4 blocks of one
    kind, a 1x1 head, global pooling and a classifier."""
    net = Net(seed)
    rng = net.rng
    size = rng.choice((96, 128, 160, 192, 224, 256))
    c = net.width(24)
    x = net.add("conv", None, k=3, stride=2, out=c, act=rng.choice(ACTS))
    side = (size + 1) // 2
    for _ in range(rng.randint(3, 5)):
        width = net.width(c * rng.uniform(1.3, 2.2))
        kind = rng.choice(KINDS + (("attention",) if side <= 32 else ()))
        act = rng.choice(ACTS)
        for j in range(rng.randint(1, 4)):
            stride = 2 if j == 0 and side > 7 else 1
            x, c = BLOCKS[kind](net, x, c, width, stride, act)
            side = (side + 1) // 2 if stride > 1 else side
    x = net.add("conv", x, k=1, out=net.width(max(2 * c, 256)), act=rng.choice(ACTS))
    x = net.add("fc", net.add("avgpool", x, **{"global": True}), out=1000, bias=True)
    layers = "\n".join(net.lines)
    return f"lightcost: 1\nname: random{seed}\ninput: [3, {size}, {size}]\nlayers:\n{layers}\n"


def graphs(count: int = COUNT) -> list[Graph]:
    """The graphs of the first ``count`` random networks of at most :data:`MAX_MADDS`."""
    from lightcost.api import analyze, build

    found: list[Graph] = []
    for seed in range(20 * count):  # bounded: about 3 in 4 networks qualify
        if len(found) == count:
            break
        text = network(seed)
        if analyze("random", text=text).total().madds <= MAX_MADDS:
            found.append(build("random", text=text))
    return found


class Traffic(NamedTuple):
    """The network term of a profile and how the random networks fit with and without it."""

    network: float  # seconds per element a layer reads
    error_before: float  # mean absolute percentage error (a fraction) of the kernels' sum
    error_after: float  # the same with the network term


class Timed:
    """The random networks, each in an onnxruntime session, timed a round at a time (a
    round after each chunk of kernel cases: the same states of the machine as them)."""

    def __init__(self, threads: int, count: int = COUNT) -> None:
        from lightcost.interop.onnx.exporter import export_graph

        self.graphs = graphs(count)
        self.bench = Bench([export_graph(g).SerializeToString() for g in self.graphs], threads)
        self.rounds: list[list[float]] = []

    def round(self) -> None:
        """Time every network once more."""
        self.rounds.append(self.bench.round())

    def fit(self, device: MeasuredDevice) -> Traffic:
        """The network term that makes ``device``'s kernel sums match the networks' times."""
        measured = [quiet(times) for times in zip(*self.rounds, strict=True)]
        kernels = [sum(device.graph_times(g, "fp32"), 0.0) for g in self.graphs]
        moved = [float(sum(first_reads(g), 0)) for g in self.graphs]
        return fit_network(kernels, moved, measured)


def fit_network(
    kernels: Sequence[float], moved: Sequence[float], measured: Sequence[float]
) -> Traffic:
    """Seconds per element moved that networks take beyond their kernels' sum: the least
    squares of relative error, ``measured ~ kernels + network x moved``, at least 0."""
    rows = [(m / y, 1 - k / y) for k, m, y in zip(kernels, moved, measured, strict=True)]
    scale = sum(a * a for a, _ in rows)
    network = max(0.0, sum(a * b for a, b in rows) / scale) if scale > 0 else 0.0
    before = [abs(b) for _, b in rows]
    after = [abs(b - network * a) for a, b in rows]
    count = max(len(rows), 1)
    return Traffic(network, sum(before) / count, sum(after) / count)
