"""Measured profiles inside networks: the network term, the random networks it is fitted
on, the kernel types of 1 x 1 maps and plain-layout ops, variants of few cases.

No timing here: fits run on synthetic numbers, profiles are made by hand.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest

from lightcost import analyze, build
from lightcost.analysis.sweep import sweep
from lightcost.api import Config
from lightcost.cli.kernels import Case, build_case, grid
from lightcost.cli.measure import QUIET, median, quiet
from lightcost.cli.networks import COUNT, MAX_MADDS, fit_network, graphs, network
from lightcost.cli.profiling import MIN_CASES, fit_types
from lightcost.core.graph import elements
from lightcost.cost.fitting import Fit
from lightcost.cost.predictor import (
    ALIASES,
    MeasuredDevice,
    first_reads,
    kernel_type,
    reads,
    variant,
)
from lightcost.ops import OPS, Kernel

FITS = {
    "conv1s1": Fit(2e-6, 5e-12, 1e-11),
    "conv3s2": Fit(3e-6, 4e-12, 1e-11),
    "dwconv3s1": Fit(1e-6, 0.0, 5e-11),
    "dwconv3s2": Fit(1e-6, 0.0, 5e-11),
    "conv_vec": Fit(1e-6, 1e-10, 0.0),
    "relu": Fit(1e-6, 0.0, 2e-11),
}
CORPUS = Path(__file__).parent / "onnx_corpus"
TOY = MeasuredDevice("toy", {"fp32": 1e11}, 1e10, 1e-6, runtime="toy", fits=FITS)


def test_the_network_term_adds_its_time_per_element_read_to_each_layer() -> None:
    graph = build("mobilenet_v3_small")
    with_term = dataclasses.replace(TOY, network=3e-11)
    plain, charged = TOY.graph_times(graph, "fp32"), with_term.graph_times(graph, "fp32")
    fetched = first_reads(graph)  # reads, less inputs read before (next test)
    for before, after, count in zip(plain, charged, fetched, strict=True):
        assert after - before == pytest.approx(3e-11 * count, abs=1e-15)
    written = sum(elements(n.out_shape) for n in graph.nodes if OPS[n.op].kind != "view")
    read = sum(reads(node) for node in graph.nodes)
    assert read == analyze("mobilenet_v3_small").total().mac - written  # fused MAC less outputs
    conv = next(n for n in graph.nodes if n.op == "conv" and n.attrs["k"] == 3)
    weights = OPS["conv"].cost(conv).params("deployed")
    assert reads(conv) == elements(conv.in_shapes[0]) + weights  # its input and its weights
    assert "ps per element read" in with_term.method()


def test_a_sweep_with_the_network_term_equals_the_single_configurations() -> None:
    toy = dataclasses.replace(TOY, network=2e-11)
    result = sweep("mobilenet_v2", [0.5, 1.0], [128, 224], Config(device=toy))
    assert not result.errors
    for row in result.rows:
        single = analyze("mobilenet_v2", row["width"], row["resolution"], device=toy)
        assert row["latency"] == pytest.approx(single.total().latency)


def test_the_network_term_is_the_relative_least_squares_of_what_kernels_miss() -> None:
    kernels = [1e-3, 2e-3, 5e-3, 1e-2]
    moved = [1e6, 5e6, 2e7, 3e7]
    measured = [k + 4e-11 * m for k, m in zip(kernels, moved, strict=True)]
    found = fit_network(kernels, moved, measured)
    assert found.network == pytest.approx(4e-11)
    assert found.error_after == pytest.approx(0, abs=1e-12)
    assert found.error_before > 0.05
    faster = fit_network(kernels, moved, [0.9 * k for k in kernels])  # networks run faster
    assert faster.network == 0 and faster.error_after == faster.error_before
    assert fit_network([], [], []).network == 0


def test_the_random_networks_are_seeded_valid_and_varied() -> None:
    assert network(7) == network(7) and network(7) != network(8)
    built = graphs()
    assert len(built) == COUNT
    madds = [sum(OPS[n.op].cost(n).madds for n in graph.nodes) for graph in built]
    assert max(madds) <= MAX_MADDS and min(madds) > 0
    ops = {node.op for graph in built for node in graph.nodes}
    assert {"conv", "dwconv", "se", "add", "split", "shuffle", "concat", "attention"} <= ops
    assert len({graph.nodes[0].in_shapes[0] for graph in built}) >= 4  # several resolutions
    texts = [network(seed) for seed in range(40)]
    assert all(re.search(r"input: \[3, \d+, \d+\]", text) for text in texts)


def test_a_conv_on_a_1x1_map_is_a_matrix_vector_kernel() -> None:
    pytest.importorskip("onnx")
    graph = build(str(CORPUS / "mobilenet_v3_small.onnx"))  # torchvision's: SE as convs
    squeeze = [n for n in graph.nodes if n.op == "conv" and n.in_shapes[0][1:] == (1, 1)]
    assert squeeze and {kernel_type(n) for n in squeeze} == {"conv_vec"}
    assert all(variant(n) == 0 for n in squeeze)  # no layout variants on a vector
    assert ALIASES["conv"] == "conv_vec"  # squeeze-excite's own 1x1 convs
    cases = [case for case in grid() if case.type == "conv_vec"]
    assert len(cases) >= 16 and all(case.shape[1:] == (1, 1) for case in cases)
    assert all(build_case(case.text) is not None for case in cases)


def test_ops_that_run_plain_have_no_padded_variant() -> None:
    spec = "lightcost: 1\nname: t\ninput: [24, 7, 7]\nlayers:\n"
    spec += "  - {op: avgpool, global: true}\n  - {op: fc, out: 1000}\n"
    fc = build("t", text=spec).nodes[-1]
    assert kernel_type(fc) == "fc" and variant(fc) == 0  # 24 and 1000: not multiples of 16
    relu = build("t", text=spec.replace("op: avgpool, global: true", "op: relu")).nodes[0]
    assert variant(relu) == 1  # may run in padded blocks


def test_a_variant_of_few_cases_is_its_base_fit_scaled() -> None:
    base = Fit(2e-6, 5e-12, 1e-11)
    big = [Kernel("conv", m, m // 10) for m in range(10**6, 10**8, 5 * 10**6)]
    few = big[:: len(big) // (MIN_CASES - 1)][: MIN_CASES - 1]
    cases = [(Case("conv1s1", (16, 8, 8), ""), k, base.seconds(k)) for k in big]
    cases += [(Case("conv1s1_p", (18, 8, 8), ""), k, 1.5 * base.seconds(k)) for k in few]
    fits = fit_types(cases)
    plain = fits["conv1s1_p"]
    assert plain.cases == len(few) and plain.error == pytest.approx(0, abs=1e-9)
    assert plain.seconds(few[0]) == pytest.approx(1.5 * fits["conv1s1"].seconds(few[0]))
    assert plain.overhead == pytest.approx(1.5 * fits["conv1s1"].overhead)


def test_a_time_is_the_quiet_quantile_of_its_rounds() -> None:
    """A shared machine's disturbances only add time: a kernel's, a network's and a model's
    time is the QUIET quantile of its rounds, numpy's linear quantile (no numpy needed)."""
    rounds = [5.0, 1.0, 3.0, 2.0, 4.0, 9.0, 1.5]
    assert quiet(rounds) == pytest.approx(float(np.quantile(rounds, QUIET)))
    assert quiet(rounds, 0.5) == median(rounds) and quiet([2.5]) == 2.5
    assert quiet(rounds, 0.0) == min(rounds) and quiet(rounds, 1.0) == max(rounds)


def test_a_tensor_read_again_is_fetched_once() -> None:
    """Four parallel branches read one block input (ShuffleNetV2's G3): the network term
    charges its elements to the first branch only; the others read it from cache."""
    graph = build("guidelines/g3_fragmentation", variant="4-parallel")
    fetched = dict(zip((n.name for n in graph.nodes), first_reads(graph), strict=True))
    branches = [n for n in graph.nodes if n.name.startswith("block1_branch")]
    assert len(branches) == 4 and len({n.inputs for n in branches}) == 1
    first, *rest = branches
    assert fetched[first.name] == reads(first)
    for node in rest:
        assert fetched[node.name] == reads(node) - elements(node.in_shapes[0])
    with_term = dataclasses.replace(TOY, network=3e-11)
    extra = sum(with_term.graph_times(graph, "fp32")) - sum(TOY.graph_times(graph, "fp32"))
    assert extra == pytest.approx(3e-11 * sum(first_reads(graph)))
