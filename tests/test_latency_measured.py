"""Measured profiles: the per-kernel-type fit, the fusion rules, the profile round trip.

No timing here: the fits run on synthetic grids and the profiles are made by hand.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lightcost import SpecError, analyze, build
from lightcost.analysis.sweep import sweep
from lightcost.api import Config
from lightcost.cli.kernels import PRE, Case, build_case, fusion_cases, grid
from lightcost.cli.profiling import fit_types
from lightcost.cost.fitting import SPILLS, Fit, fit_kernels
from lightcost.cost.latency import load_device
from lightcost.cost.predictor import (
    MeasuredDevice,
    aligned,
    dump_measured,
    kernel_type,
    variant,
)
from lightcost.ops import Kernel
from lightcost.ops.base import pair

CONV = Fit(2e-6, 5e-12, 1e-11)
ELEMENTWISE = Fit(1e-6, 0.0, 2e-11)
FITS = {
    "conv1s1": CONV,
    "conv3s1": Fit(3e-6, 4e-12, 1e-11),
    "conv1s1_u": Fit(2e-6, 1e-11, 1e-11),
    "relu": ELEMENTWISE,
    "add": ELEMENTWISE,
}


def device(**fusions: bool) -> MeasuredDevice:
    """A hand-made measured profile with the given fusion rules."""
    rules = {rule.replace("_", "+"): 0.0 if held else 1.0 for rule, held in fusions.items()}
    return MeasuredDevice(
        "toy", {"fp32": 1e11}, 1e10, 1e-6, runtime="toy", fits=FITS, fusions=rules
    )


def test_the_fit_recovers_a_synthetic_grid() -> None:
    rng = np.random.default_rng(0)
    madds = rng.integers(10**5, 10**8, 40).astype(float)
    mac = rng.integers(10**4, 10**6, 40).astype(float)
    truth = Fit(3e-6, 4e-12, 2e-11)
    seconds = truth.seconds(Kernel("conv", madds, mac))  # type: ignore[arg-type]  # arrays
    fit = fit_kernels(madds, mac, seconds)
    assert fit.overhead == pytest.approx(3e-6, rel=1e-6)
    assert (fit.per_madd, fit.per_mac) == pytest.approx((4e-12, 2e-11), rel=1e-6)
    assert fit.error == pytest.approx(0, abs=1e-9) and fit.cases == 40


def test_the_fit_drops_a_negative_term_and_reports_its_error() -> None:
    mac = np.linspace(1e4, 1e6, 20)
    seconds = 1e-6 + 3e-11 * mac - 1e-6 * (mac / 1e6) ** 2  # bent: a term would go negative
    fit = fit_kernels(np.zeros(20), mac, seconds)
    assert fit.per_madd == 0 and fit.overhead >= 0 and fit.per_mac > 0
    assert 0 < fit.error < 0.1


def test_the_fit_recovers_a_spill_term() -> None:
    """A kernel whose tensors outgrow the cache pays more per element beyond the spill point:
    a fourth term, recovered exactly at that point, and a worse line without it."""
    mac = np.geomspace(1e4, 1e7, 40)
    seconds = 1e-6 + 2e-11 * mac + 3e-11 * np.maximum(mac - 2**20, 0)
    fit = fit_kernels(np.zeros(40), mac, seconds, spill=2**20)
    assert (fit.per_mac, fit.per_spill, fit.spill) == pytest.approx((2e-11, 3e-11, 2**20))
    assert fit.error == pytest.approx(0, abs=1e-9)
    assert fit.seconds(Kernel("relu", 0, 2**21)) == pytest.approx(
        1e-6 + 2**21 * 2e-11 + 2**20 * 3e-11
    )
    assert fit_kernels(np.zeros(40), mac, seconds).error > 0.05


def test_calibrate_picks_the_spill_point_that_fits_best() -> None:
    """One spill point for every kernel type (the machine's cache), the one of SPILLS that
    fits the cases best; none when no case spills."""
    cases = []
    for op, per in (("relu", 2e-11), ("add", 4e-11)):
        for mac in np.geomspace(1e4, 1e7, 30):
            t = 1e-6 + per * mac + per * max(mac - 2**19, 0)
            cases.append((Case(op, (1, 1, 1), ""), Kernel(op, 0, int(mac)), t))
    fits = fit_types(cases)
    assert {f.spill for f in fits.values()} == {2**19} and 2**19 in SPILLS
    assert fits["add"].per_spill == pytest.approx(4e-11, rel=1e-3)
    flat = [(c, k, 1e-6 + 2e-11 * k.mac) for c, k, _ in cases]
    assert all(f.per_spill == 0 for f in fit_types(flat).values())


def test_kernel_types_name_the_kernel() -> None:
    graph = build("mobilenet_v2")
    types = {kernel_type(node) for node in graph.nodes}
    assert {"stem3s2", "conv1s1", "dwconv3s1", "dwconv3s2", "add", "fc"} <= types
    first = graph.nodes[0]  # 3 -> 32 channels: a stem, one type whatever its channels
    assert kernel_type(first) == "stem3s2" and aligned(first) is False and variant(first) == 0
    assert kernel_type(build("resnet50").nodes[0]) == "stem7s2"


def test_kernel_types_of_odd_kernels_and_patches() -> None:
    """Inception's 1x7 and 7x1 convs are typed by their 7 taps (as a 3x3: 9), not as 7x7;
    MobileViT's 2 x 2 patches are ``unfold``/``fold``, ViT's flatten (patch 1) a reshape."""
    inception = build("tests/onnx_corpus/inception_v3.onnx")
    odd = [n for n in inception.nodes if n.op == "conv" and len(set(pair(n.attrs["k"]))) == 2]
    assert odd and {kernel_type(n) for n in odd} == {"conv3s1"}
    vit = {kernel_type(n) for n in build("mobilevit_xxs").nodes} | {
        kernel_type(n) for n in build("vit_b_16").nodes
    }
    assert {"unfold", "fold", "flatten", "stem16s2", "stem3s2"} <= vit


def test_fusion_rules_decide_which_passes_cost_time() -> None:
    spec = "guidelines/g4_elementwise"
    relu, plain = (
        analyze(spec, variant=v, device=device(conv_relu=True)).total().latency
        for v in ("relu", "none")
    )
    assert relu == pytest.approx(plain)  # every ReLU runs inside its conv
    unfused = analyze(spec, variant="relu", device=device(conv_relu=False)).total().latency
    assert unfused is not None and relu is not None and unfused > relu
    shortcut = analyze(spec, variant="shortcut", device=device(conv_add=True)).total().latency
    assert shortcut == pytest.approx(plain)  # each add runs inside the conv before it
    separate = analyze(spec, variant="shortcut", device=device()).total().latency
    assert separate is not None and shortcut is not None
    add = ELEMENTWISE.seconds(Kernel("add", 0, 3 * 32 * 56 * 56))  # two inputs, one output
    assert separate - shortcut == pytest.approx(10 * add)  # ten units


def test_unmeasured_types_take_a_neighbour_or_the_roofline() -> None:
    toy = device()
    assert toy.fit("conv5s1") == FITS["conv3s1"]  # the nearest kernel size
    assert toy.fit("layernorm") is None  # the roofline of the profile's figures
    cost = analyze("mobilenet_v3_small", device=toy)  # squeeze-excite, hswish: unmeasured
    assert cost.total().latency is not None and cost.total().latency > 0


def test_a_measured_profile_round_trips(tmp_path: Path) -> None:
    toy = MeasuredDevice(
        "toy",
        {"fp32": 1.5e11},
        2.5e10,
        1.25e-6,
        description="a toy",
        source="hand-made",
        runtime="onnxruntime 1.0",
        threads=2,
        fits={
            "conv1s1": Fit(2e-6, 5e-12, 1e-11, 0.125, 12),
            "relu": Fit(1e-6, 0, 2e-11, per_spill=1.5e-11, spill=2**20),
        },
        fusions={"conv+relu": 0.0, "conv+add": 1.0, "conv+relu6": 0.25},
        network=3.5e-11,
    )
    path = tmp_path / "toy.yaml"
    path.write_text(dump_measured(toy, "measured by hand"))
    loaded = load_device(str(path))
    assert loaded == toy
    cost = analyze("mobilenet_v2", device=str(path))
    assert cost.total().latency == analyze("mobilenet_v2", device=toy).total().latency


@pytest.mark.parametrize(
    ("tail", "message"),
    [
        ("kernels: [1]\n", "kernels must map kernel types to fits"),
        ("kernels: {relu: {overhead: -1}}\n", "overhead must be a number from 0 to 1"),
        ("kernels: {relu: {slope: 1}}\n", "unknown key 'slope' in kernels.relu"),
        ("kernels: {}\nfusions: [1]\n", "fusions must map rules to shares from 0 to 1"),
        ("kernels: {}\nfusions: {conv+relu: 2}\n", "conv\\+relu must be a number from 0 to 1"),
        ("kernels: {}\nthreads: 0\n", "threads must be an integer from 1 to 1024"),
        ("kernels: {}\nnetwork: 2\n", "network must be a number from 0 to 1"),
    ],
)
def test_invalid_measured_profiles_are_located(tmp_path: Path, tail: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\npeak_flops: 1e12\nbandwidth: 1e9\nkernel_overhead: 0\n" + tail)
    with pytest.raises(SpecError, match=message) as info:
        load_device(str(path))
    assert str(info.value).startswith(str(path))


def test_a_sweep_on_a_measured_profile_equals_the_single_configurations() -> None:
    toy = device(conv_relu=True, conv_add=True)
    result = sweep("mobilenet_v2", [0.5, 0.75, 1.0], [160, 224], Config(device=toy))
    assert not result.errors
    for row in result.rows:
        single = analyze("mobilenet_v2", row["width"], row["resolution"], device=toy)
        assert row["latency"] == pytest.approx(single.total().latency)


def test_the_calibration_grid_builds_every_case() -> None:
    cases = grid()
    types = {case.type for case in cases}
    for k in (1, 3, 5, 7):
        assert {f"conv{k}s1", f"conv{k}s2"} <= types
    assert {"dwconv3s1", "dwconv7s2", "gconv1", "fc", "maxpool", "concat", "relu"} <= types
    for case in cases[::7]:  # a sample: each builds with the kernel between its context
        graph = build_case(case.text)
        assert graph is not None, case
        assert len(graph.nodes) == len(PRE) + len(case.setup) + 2
    for rule, *specs in fusion_cases():
        assert all(build_case(text) is not None for text in specs), rule
