"""Memory access cost (ShuffleNetV2 Sec. 2) under both execution models, and activation memory."""

from __future__ import annotations

import math

import numpy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lightcost import analyze
from lightcost.analysis.sweep import spatial_sizes, stacked
from lightcost.core.graph import INPUT, Graph, elements
from lightcost.cost.engine import cost_graph
from lightcost.cost.latency import load_device
from lightcost.cost.memory import (
    DTYPES,
    activation_memory,
    conv1x1_mac,
    mac_lower_bound,
    maximum,
    ungrouped_mac,
)
from lightcost.ops import OPS, Kernel

CONV = (
    "input: [{c1}, {h}, {w}]\nlayers:\n  - {{op: conv, k: 1, out: {c2}, groups: {g}, bn: false}}\n"
)


@given(
    c1=st.integers(1, 64),
    c2=st.integers(1, 64),
    g=st.sampled_from([1, 2, 4]),
    h=st.integers(1, 32),
    w=st.integers(1, 32),
)
@settings(max_examples=150, deadline=None)
def test_conv_mac_is_shufflenet_v2_formula(c1: int, c2: int, g: int, h: int, w: int) -> None:
    # ShuffleNetV2 Sec. 2: 1x1 conv MAC = hw(c1 + c2) + c1*c2 (G1); group conv
    # hw(c1 + c2) + c1*c2/g (G2). Same in both models: no bias, no BN, no activation.
    c1, c2 = c1 * g, c2 * g
    spec = CONV.format(c1=c1, c2=c2, g=g, h=h, w=w)
    for execution in ("fused", "unfused"):
        layer = analyze("conv.yaml", text=spec, execution=execution).layers[0]
        assert layer.mac == h * w * (c1 + c2) + c1 * c2 // g == conv1x1_mac(h * w, c1, c2, g)
        assert layer.madds == h * w * c1 * c2 // g


@given(hw=st.integers(1, 4096), c1=st.integers(1, 2048), c2=st.integers(1, 2048))
@settings(max_examples=300, deadline=None)
def test_g1_lower_bound_holds_with_equality_at_equal_channels(hw: int, c1: int, c2: int) -> None:
    # ShuffleNetV2 Sec. 2, G1: MAC >= 2*sqrt(hw*B) + B/hw, B = hw*c1*c2, equal iff c1 = c2
    madds = hw * c1 * c2
    mac, bound = conv1x1_mac(hw, c1, c2), mac_lower_bound(hw, madds)
    assert mac >= bound * (1 - 1e-12)
    if c1 == c2:
        assert math.isclose(mac, bound, rel_tol=1e-12)
    else:
        # hw(c1 + c2) - 2hw*sqrt(c1*c2) = hw(sqrt(c1) - sqrt(c2))^2 > 0
        assert mac - bound == pytest.approx(hw * (math.sqrt(c1) - math.sqrt(c2)) ** 2, rel=1e-6)


@given(
    hw=st.integers(1, 3136),
    c1=st.sampled_from([8, 16, 64, 128]),
    c2=st.sampled_from([8, 16, 64, 128]),
    g=st.sampled_from([2, 4, 8]),
)
@settings(max_examples=200, deadline=None)
def test_g2_mac_grows_with_groups_at_equal_madds(hw: int, c1: int, c2: int, g: int) -> None:
    # ShuffleNetV2 Sec. 2, G2: for input c1 x h x w and MAdds B = hw*c1*c2/g,
    # MAC = hw*c1 + B*g/c1 + B/hw. The g = 1 conv of the same B has c2/g outputs.
    madds = hw * c1 * c2 // g
    grouped = conv1x1_mac(hw, c1, c2, g)
    assert grouped == hw * c1 + madds * g // c1 + madds // hw
    single = ungrouped_mac(hw * c1, hw * c2, c1 * c2 // g, g)
    assert single == conv1x1_mac(hw, c1, c2 // g) == hw * c1 + madds // c1 + madds // hw
    assert grouped - single == hw * c2 * (g - 1) // g > 0


EXECS = ("fused", "unfused")
LAYERS = """
input: [16, 8, 8]
layers:
  - {name: conv, op: conv, k: 3, out: 32, act: relu6}
  - {name: biased, op: conv, k: 1, out: 32, bias: true, bn: false, act: relu}
  - {name: fc, op: fc, out: 10, from: input}
  - {name: add, op: add, from: [conv, biased], act: relu}
  - {name: se, op: se, squeeze: 8}
  - {name: bn, op: bn}
  - {name: flat, op: flatten}
"""


def kernels_of(execution: str) -> dict[str, tuple[Kernel, ...]]:
    cost = analyze("layers.yaml", text=LAYERS, execution=execution)
    return {layer.name: layer.kernels for layer in cost.layers}


def test_fused_runs_each_layer_as_one_kernel() -> None:
    k = kernels_of("fused")
    x, y = 16 * 64, 32 * 64  # input and output elements
    w = 9 * 16 * 32
    # the last field: the part of MAC that is parameters (read once per batch)
    assert k["conv"] == (Kernel("conv", w * 64, x + y + w + 32, w + 32),)  # + BN folded: a bias
    assert k["biased"] == (Kernel("conv", 32 * 32 * 64, 2 * y + 32 * 32 + 32, 32 * 32 + 32),)
    assert k["fc"] == (Kernel("fc", x * 10, x + 10 + x * 10 + 10, x * 10 + 10),)
    assert k["add"] == (Kernel("add", 0, 3 * y),)
    se = 2 * 32 * 8 + 8 + 32
    assert k["se"] == (Kernel("se", 2 * 32 * 8, 2 * y + se, se),)
    assert k["bn"] == (Kernel("bn", 0, 2 * y + 2 * 32, 2 * 32),)
    assert k["flat"] == ()  # a view


def test_unfused_runs_bn_and_activations_as_separate_passes() -> None:
    k = kernels_of("unfused")
    x, y = 16 * 64, 32 * 64
    w = 9 * 16 * 32
    assert k["conv"] == (
        Kernel("conv", w * 64, x + y + w, w),
        Kernel("bn", 0, 2 * y + 2 * 32, 2 * 32),  # scale and shift per channel
        Kernel("relu6", 0, 2 * y),
    )
    assert k["biased"] == (
        Kernel("conv", 32 * 32 * 64, 2 * y + 32 * 32 + 32, 32 * 32 + 32),
        Kernel("relu", 0, 2 * y),
    )
    assert k["fc"] == (Kernel("fc", x * 10, x + 10 + x * 10 + 10, x * 10 + 10),)
    assert k["add"] == (Kernel("add", 0, 3 * y), Kernel("relu", 0, 2 * y))
    c, s = 32, 8
    assert k["se"] == (
        Kernel("avgpool", 0, y + c),
        Kernel("conv", c * s, c + s + c * s + s, c * s + s),
        Kernel("relu", 0, 2 * s),
        Kernel("conv", c * s, s + c + c * s + c, c * s + c),
        Kernel("sigmoid", 0, 2 * c),
        Kernel("mul", 0, 2 * y + c),
    )
    assert k["bn"] == (Kernel("bn", 0, 2 * y + 2 * 32, 2 * 32),)
    assert k["flat"] == ()


def test_layer_mac_sums_its_kernels_and_madds_do_not_depend_on_the_model() -> None:
    for execution in ("fused", "unfused"):
        cost = analyze("layers.yaml", text=LAYERS, execution=execution)
        for layer in cost.layers:
            assert layer.mac == sum(k.mac for k in layer.kernels)
            assert layer.madds == sum(k.madds for k in layer.kernels)
    fused, unfused = (analyze("l.yaml", text=LAYERS, execution=e).total() for e in EXECS)
    assert fused.madds == unfused.madds
    assert unfused.mac > fused.mac


@pytest.mark.parametrize("execution", EXECS)
def test_split_concat_shuffle_are_copies(execution: str) -> None:
    spec = """
input: [16, 8, 8]
layers:
  - {name: left, op: split, parts: 2, index: 0}
  - {name: right, op: split, parts: 2, index: 1, from: input}
  - {op: concat, from: [left, right]}
  - {op: shuffle, groups: 2}
  - {op: dropout}
  - {op: identity}
"""
    layers = analyze("copy.yaml", text=spec, execution=execution).layers
    assert [layer.mac for layer in layers] == [2 * 512, 2 * 512, 2 * 1024, 2 * 1024, 0, 0]
    assert [len(layer.kernels) for layer in layers] == [1, 1, 1, 1, 0, 0]


@pytest.mark.parametrize(("dtype", "size"), [("fp32", 4), ("fp16", 2), ("int8", 1)])
def test_bytes_follow_the_dtype(dtype: str, size: int) -> None:
    cost = analyze("mobilenet_v2", dtype=dtype)
    assert cost.total().mac_bytes == size * cost.total().mac
    assert all(layer.mac_bytes == size * layer.mac for layer in cost.layers)
    fp32 = analyze("mobilenet_v2")
    assert cost.activations.peak * 4 == fp32.activations.peak * size


RESIDUAL = """
input: [8, 4, 4]
layers:
  - {name: a, op: conv, k: 3, out: 8}
  - {name: b, op: conv, k: 3, out: 8}
  - {name: sum, op: add, from: [input, b]}
  - {name: head, op: conv, k: 1, out: 4}
"""


def test_activation_memory_of_a_residual_block() -> None:
    # E = 8x4x4 = 128 elements. The input lives until the add reads it.
    # a: input + a = 2E; b: input + a + b = 3E (then a dies);
    # sum: input + b + sum = 3E (then input and b die); head: sum + head = E + 64.
    live = analyze("res.yaml", text=RESIDUAL).activations
    e = 128 * 4  # fp32 bytes
    assert live.names == ("a", "b", "sum", "head")
    assert live.live == (2 * e, 3 * e, 3 * e, e + 64 * 4)
    assert live.peak == 3 * e
    assert live.peak_at == "b"


CONCAT = """
input: [8, 4, 4]
layers:
  - {name: x, op: conv, k: 1, out: 16}
  - {name: p, op: conv, k: 3, out: 8, from: x}
  - {name: q, op: conv, k: 1, out: 24, from: x}
  - {name: cat, op: concat, from: [p, q]}
  - {name: pool, op: avgpool, global: true}
  - {name: flat, op: flatten}
  - {name: fc, op: fc, out: 10}
"""


def test_activation_memory_of_a_concat_block() -> None:
    # In elements (4x4 maps): input 128, x 256, p 128, q 384, cat 512, pool 32, fc 10.
    # x: input + x; p: x + p (input died after x); q: x + p + q (x dies);
    # cat: p + q + cat (p, q die); pool: cat + pool; flat: a view of pool, nothing new;
    # fc: pool + fc.
    live = analyze("cat.yaml", text=CONCAT, dtype="int8").activations
    assert live.live == (
        128 + 256,
        256 + 128,
        256 + 128 + 384,
        128 + 384 + 512,
        512 + 32,
        32,
        32 + 10,
    )
    assert live.peak == 1024
    assert live.peak_at == "cat"


def test_the_output_stays_and_an_unread_tensor_dies_at_once() -> None:
    spec = """
input: [4, 2, 2]
layers:
  - {name: dead, op: conv, k: 1, out: 64}
  - {name: out, op: conv, k: 1, out: 4, from: input}
"""
    live = analyze("dead.yaml", text=spec, dtype="int8").activations
    assert live.live == (16 + 256, 16 + 16)
    graph = analyze("dead.yaml", text=spec).graph
    assert activation_memory(graph, 1).live == live.live


def test_maximum_is_array_safe() -> None:
    import numpy as np

    assert maximum(3, 5) == 5
    assert list(maximum(np.array([1, 7]), 4)) == [4, 7]


def test_vectorized_costs_equal_the_scalar_path() -> None:
    # A sweep passes int64 arrays of heights and widths through the same rules.
    resolutions = [96, 160, 224]
    device = load_device("gtx1080ti")
    for spec in ("mobilenet_v2", "shufflenet_v2"):
        graph = analyze(spec).graph
        vector = stacked([graph], spatial_sizes(graph, resolutions), numpy.int64)
        arrays = cost_graph(vector, "trainable", "unfused", "fp16", device)
        for i, res in enumerate(resolutions):
            scalar = analyze(spec, resolution=res, execution="unfused", dtype="fp16", device=device)
            total = arrays.total()
            assert total.mac[0, i] == scalar.total().mac
            assert total.mac_bytes[0, i] == scalar.total().mac_bytes
            assert arrays.activations.peak[0, i] == scalar.activations.peak
            assert total.latency[0, i] == pytest.approx(scalar.total().latency, rel=1e-12)


# -- activation memory: the running total against its definition ------------------------------


def live_by_definition(graph: Graph, bytes_per_element: int) -> list[int]:
    """Per step, the sum over every buffer alive then (the quadratic definition)."""
    buffer, size, last_read = {INPUT: INPUT}, {INPUT: elements(graph.input_shape)}, {INPUT: 0}
    for i, node in enumerate(graph.nodes):
        for name in node.inputs:
            last_read[buffer[name]] = i
        own = OPS[node.op].kind != "view"
        buffer[node.name] = node.name if own else buffer[node.inputs[0]]
        if own:
            size[node.name], last_read[node.name] = elements(node.out_shape), i
    keep, alive, live = buffer[graph.output], {INPUT}, []
    for i, node in enumerate(graph.nodes):
        alive.add(buffer[node.name])
        live.append(sum(size[b] for b in alive) * bytes_per_element)
        alive = {b for b in alive if last_read[b] > i or b == keep}
    return live


@st.composite
def branching_specs(draw: st.DrawFn) -> str:
    """A random graph of convs, relus, views and concats, each reading earlier tensors."""
    names = ["input"]
    layers = []
    for i in range(draw(st.integers(1, 12))):
        op = draw(st.sampled_from(["conv", "relu", "identity", "dropout", "concat"]))
        if op == "concat":
            sources = draw(st.lists(st.sampled_from(names), min_size=2, max_size=4))
        else:
            sources = [draw(st.sampled_from(names))]
        out = f", k: 1, out: {draw(st.integers(1, 8))}" if op == "conv" else ""
        layers.append(f"  - {{op: {op}, name: t{i}, from: [{', '.join(sources)}]{out}}}")
        names.append(f"t{i}")
    return "input: [2, 3, 3]\nlayers:\n" + "\n".join(layers) + "\n"


@settings(max_examples=200, deadline=None)
@given(text=branching_specs(), dtype=st.sampled_from(["fp32", "int8"]))
def test_running_total_equals_the_sum_over_alive_buffers(text: str, dtype: str) -> None:
    cost = analyze("random.yaml", text=text, dtype=dtype)
    expected = live_by_definition(cost.graph, DTYPES[dtype])
    assert list(cost.activations.live) == expected
    assert cost.activations.peak == max(expected)


class CountedBytes(int):
    """Bytes per element that count the additions and subtractions of the sizes they make."""

    operations = 0

    def __rmul__(self, other: object) -> CountedBytes:
        return CountedBytes(int(self) * int(other))  # type: ignore[call-overload]

    def __add__(self, other: object) -> CountedBytes:
        CountedBytes.operations += 1
        return CountedBytes(int(self) + int(other))  # type: ignore[call-overload]

    __radd__ = __add__

    def __sub__(self, other: object) -> CountedBytes:
        CountedBytes.operations += 1
        return CountedBytes(int(self) - int(other))  # type: ignore[call-overload]


def test_activation_memory_is_linear_in_the_branches_of_a_wide_concat() -> None:
    # 300 relus of the input, all alive until one concat reads them: summing the alive
    # buffers at every step would take ~300**2 / 2 = 45,000 additions.
    branches = 300
    rows = [f"  - {{op: relu, from: input, name: r{i}}}" for i in range(branches)]
    refs = ", ".join(f"r{i}" for i in range(branches))
    rows.append(f"  - {{op: concat, from: [{refs}]}}")
    graph = analyze("wide.yaml", text="input: [3, 8, 8]\nlayers:\n" + "\n".join(rows) + "\n").graph
    CountedBytes.operations = 0
    live = activation_memory(graph, CountedBytes(4))
    assert CountedBytes.operations <= 2 * (branches + 2)  # one add and one free per buffer
    assert list(live.live) == live_by_definition(graph, 4)
    assert live.peak == 2 * branches * 3 * 64 * 4  # every relu and the concat (not the input)


def test_vectorized_live_bytes_equal_the_scalar_steps() -> None:
    # Every step (not only the peak) of a sweep's arrays equals the scalar figure.
    resolutions = [32, 64, 96]
    graph = analyze("cat.yaml", text=CONCAT).graph
    vector = stacked([graph], spatial_sizes(graph, resolutions), numpy.int64)
    arrays = activation_memory(vector, 4)
    for r, res in enumerate(resolutions):
        scalar = activation_memory(analyze("cat.yaml", text=CONCAT, resolution=res).graph, 4)
        assert [numpy.broadcast_to(v, (1, len(resolutions)))[0, r] for v in arrays.live] == list(
            scalar.live
        )
        assert arrays.peak[0, r] == scalar.peak
