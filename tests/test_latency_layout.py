"""The blocked-layout rule (onnxruntime's NCHWc) and what the predictor charges for it.

The expected placements are those onnxruntime 1.32 wrote into its optimized graphs
(``SessionOptions.optimized_model_filepath``) for the same layers and networks; no
onnxruntime and no timing here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lightcost import analyze, build
from lightcost.cli.kernels import build_case, in_context, post_cases, reorder_cases, spec_text
from lightcost.cli.profiling import fit_post, fit_reorders, read
from lightcost.cost.fitting import Fit, fit_kernels
from lightcost.cost.layout import reorders
from lightcost.cost.predictor import REORDER, MeasuredDevice, variant

CORPUS = Path(__file__).parent / "onnx_corpus"
CONV = "{op: conv, k: 1, out: %d, bn: false}"


def layers(shape: tuple[int, int, int], *specs: str) -> list[tuple[str, int, int]]:
    """(op, elements converted to blocked, to plain) of each layer of a small spec."""
    graph = build("k", text=spec_text(shape, *specs))
    return [
        (node.op, int(a), int(b)) for node, (a, b) in zip(graph.nodes, reorders(graph), strict=True)
    ]


def counts(spec: str, variant_name: str | None = None) -> tuple[int, int]:
    """How many layers convert a tensor to blocked, and how many to plain."""
    moved = reorders(build(spec, variant=variant_name))
    return sum(1 for a, _ in moved if a), sum(1 for _, b in moved if b)


def test_convolutions_keep_the_blocked_layout_whatever_their_channels() -> None:
    # 24, 40, 96 ... channels: padded, not converted; only the pooled features before the FC
    assert counts("mobilenet_v2") == (0, 1)
    assert counts("resnet50") == (0, 1)
    n = 32 * 8 * 8
    # a conv on 18 input channels (not a multiple of 4) runs plain: its input converts
    assert layers((32, 8, 8), CONV % 18, CONV % 32) == [("conv", n, 0), ("conv", 0, 18 * 64)]
    # fewer than 16 input channels: the conv reads the plain tensor itself
    assert layers((32, 8, 8), CONV % 12, CONV % 32)[1] == ("conv", 0, 12 * 64)


def test_layers_that_need_the_plain_layout_convert_around_them() -> None:
    n = 32 * 8 * 8
    shuffled = layers((32, 8, 8), CONV % 32, "{op: shuffle, groups: 2}", CONV % 32)
    assert shuffled == [("conv", n, 0), ("shuffle", 0, n), ("conv", n, 0)]
    pool = "{op: maxpool, k: 3, stride: 1, padding: 1}"
    assert layers((32, 8, 8), CONV % 32, pool, "{op: relu}", CONV % 32)[2:] == [
        ("relu", 0, 0),  # an activation runs in its input's layout
        ("conv", 0, 0),
    ]
    assert layers((32, 8, 8), CONV % 32, pool, "{op: relu6}", CONV % 32)[2:] == [
        ("relu6", 0, n),  # Clip runs plain
        ("conv", n, 0),
    ]
    assert layers((32, 8, 8), CONV % 24, pool)[1] == ("maxpool", 0, 24 * 64)  # 24: plain pool


def test_grouped_convs_run_blocked_with_16_channels_per_group() -> None:
    for groups, blocked in ((2, True), (4, True), (8, False)):
        group = f"{{op: conv, k: 3, out: 64, groups: {groups}, bn: false}}"
        _, (_, into, back), (_, after, _) = layers((64, 8, 8), CONV % 64, group, CONV % 64)
        n = 0 if blocked else 64 * 64  # plain: converted to plain before, to blocked after
        assert (into, back, after) == (0, n, n)


@pytest.mark.parametrize(
    ("spec", "variant_name", "into"),
    [  # the ReorderInput nodes onnxruntime 1.32 inserted
        ("shufflenet_v1", "0.5x", 13),
        ("shufflenet_v1", "2.0x", 17),
        ("shufflenet_v2", "1.0x", 14),
        (str(CORPUS / "regnet_y_400mf.onnx"), None, 32),
        (str(CORPUS / "resnext50_32x4d.onnx"), None, 7),
        (str(CORPUS / "mobilenetv3_large_100.onnx"), None, 11),
        (str(CORPUS / "ghostnet_100.onnx"), None, 40),
    ],
)
def test_conversions_sit_where_onnxruntime_puts_them(
    spec: str, variant_name: str | None, into: int
) -> None:
    assert counts(spec, variant_name)[0] == into


def test_variants_follow_alignment_and_layout() -> None:
    graph = build("k", text=spec_text((58, 8, 8), CONV % 58, "{op: dwconv, k: 3}", CONV % 64))
    assert [int(variant(node)) for node in graph.nodes] == [2, 2, 2]  # 58: plain convs
    graph = build("k", text=spec_text((32, 8, 8), CONV % 24, CONV % 32, "{op: relu}"))
    assert [int(variant(node)) for node in graph.nodes] == [1, 1, 0]


PROFILE = MeasuredDevice(
    "toy",
    {"fp32": 1e11},
    1e10,
    1e-6,
    fits={
        "conv1s1": Fit(2e-6, 5e-12, 1e-11),
        "shuffle": Fit(1e-6, 0.0, 2e-11),
        REORDER[0]: Fit(1e-6, 0.0, 2e-10),
        REORDER[1]: Fit(0.0, 0.0, 3e-10),
    },
)


def test_the_predictor_charges_each_conversion_to_the_layer_that_needs_it() -> None:
    text = spec_text((32, 8, 8), CONV % 32, "{op: shuffle, groups: 2}", CONV % 32)
    graph = build("k", text=text)
    n = 32 * 8 * 8
    assert PROFILE.reorder_times(graph) == pytest.approx(
        [1e-6 + 2e-10 * n, 3e-10 * n, 1e-6 + 2e-10 * n]
    )
    without = MeasuredDevice("toy", {"fp32": 1e11}, 1e10, 1e-6, fits=dict(PROFILE.fits))
    del without.fits[REORDER[0]]  # type: ignore[attr-defined]
    assert without.reorder_times(graph) == [0.0, 0.0, 0.0]
    total = analyze("k", text=text, device=PROFILE).total().latency
    assert total == pytest.approx(sum(PROFILE.graph_times(graph, "fp32")))


def test_a_sweep_charges_conversions_per_configuration() -> None:
    from lightcost.analysis.sweep import sweep
    from lightcost.api import Config

    result = sweep("shufflenet_v2", [0.5, 1.0, 1.5], [160, 224], Config(device=PROFILE))
    assert not result.errors
    for row in result.rows:
        single = analyze("shufflenet_v2", row["width"], row["resolution"], device=PROFILE)
        assert row["latency"] == pytest.approx(single.total().latency)


def test_fits_are_unbiased_in_seconds() -> None:
    rng = np.random.default_rng(1)
    madds = rng.integers(10**5, 10**8, 60).astype(float)
    seconds = 2e-6 + 5e-12 * madds * rng.lognormal(0, 0.3, 60)  # scattered by 30 %
    fit = fit_kernels(madds, np.zeros(60), seconds)
    predicted = fit.overhead + fit.per_madd * madds
    assert predicted.sum() == pytest.approx(seconds.sum())  # a network sums its kernels
    assert 0.1 < fit.error < 0.5


def test_reorder_fits_come_from_the_in_context_differences() -> None:
    sizes = [16 * 112 * 112, 64 * 28 * 28, 512 * 7 * 7, 96 * 112 * 112]
    found = [(n, 1e-6 + 3e-10 * n, 1e-6 + 3e-10 * n + 2e-10 * n) for n in sizes]
    fits = fit_reorders(found).fits
    assert fits[REORDER[1]].per_mac == pytest.approx(3e-10, rel=1e-6)
    assert fits[REORDER[0]].per_mac == pytest.approx(2e-10, rel=1e-6)
    assert fit_reorders([]).fits == {}


def test_the_reorder_cases_build() -> None:
    cases = reorder_cases()
    assert len(cases) >= 8
    for _, *texts in cases:
        assert all(build_case(text) is not None for text in texts)


def test_the_context_pooling_is_fitted_per_element_read() -> None:
    sizes = [16 * 112 * 112, 64 * 28 * 28, 512 * 7 * 7, 96 * 112 * 112]
    assert fit_post([(n, 2e-6 + 4e-11 * n) for n in sizes]) == pytest.approx(4e-11, rel=1e-6)
    assert fit_post([]) == 0.0
    cases = post_cases()
    assert len(cases) >= 8
    for count, peek, context in cases:
        assert build_case(peek) is not None and read(context) == count


def test_a_case_is_charged_what_the_pooling_reads_after_it() -> None:
    shape = (32, 56, 56)
    wider = in_context(shape, "{op: conv, k: 3, stride: 2, out: 64, bn: false}")
    assert (read(in_context(shape)), read(wider)) == (32 * 56 * 56, 64 * 28 * 28)
