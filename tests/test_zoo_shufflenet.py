"""Golden tests of the bundled ShuffleNet V1 and V2 specs against published numbers.

Sources:

* ShuffleNet V2, Ma et al. 2018, arXiv 1807.11164, Table 5 (FLOPs = multiply-adds,
  params), https://arxiv.org/abs/1807.11164; torchvision ``models/shufflenetv2.py``
  (https://github.com/pytorch/vision/blob/main/torchvision/models/shufflenetv2.py):
  ``num_params`` of the
  ``ShuffleNet_V2_X*_Weights`` metadata, conv + linear multiply-adds at 224.
* ShuffleNet V1, Zhang et al. 2017, arXiv 1707.01083, Table 1 (complexity for g = 1, 2,
  3, 4, 8 at 1x) and Table 2 (0.5x 38 M, 0.25x 13 M), https://arxiv.org/abs/1707.01083;
  the official https://github.com/megvii-model/ShuffleNet-Series
  ``ShuffleNetV1/README.md`` (FLOPs and #Params of
  g = 3 and g = 8 at 0.5x-2.0x).
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import lightcost
from lightcost.cli.main import cli
from lightcost.cost.engine import ModelCost, Summary, cost_graph

M = 1_000_000
V2_VARIANTS = ("0.5x", "1.0x", "1.5x", "2.0x")


def v2(variant: str) -> ModelCost:
    """ShuffleNet V2 at one Table 5 width (trainable params, as torchvision counts)."""
    return lightcost.analyze("shufflenet_v2", variant=variant)


def v1(groups: int = 3, scale: float = 1.0) -> Summary:
    """ShuffleNet V1 totals with g groups at scale factor s (vars of the spec)."""
    return lightcost.analyze("shufflenet_v1", overrides={"groups": groups, "scale": scale}).total()


def within(measured: int, published_m: float, tolerance_m: float) -> bool:
    """``measured`` (a count) within ``tolerance_m`` millions of ``published_m`` millions.

    Tolerances follow the printed precision: 1 M for MAdds printed as integers (one
    printed unit: neither rounding nor truncation holds for every row), 0.05 M (half a
    unit) for params printed to 0.1 M. Rows that miss are documented exceptions whose
    measured gap is pinned with :func:`gap`.
    """
    return abs(measured - published_m * M) <= tolerance_m * M


def gap(measured: int, published_m: float) -> float:
    """How far the published figure is above ``measured``, in millions, to 0.01 M."""
    return round(published_m - measured / M, 2)


# -- ShuffleNet V2 ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variant", "params", "madds"),
    [
        ("0.5x", 1_366_792, 40_476_448),
        ("1.0x", 2_278_604, 144_907_992),
        ("1.5x", 3_503_624, 295_759_392),
        ("2.0x", 7_393_996, 583_253_464),
    ],
)
def test_v2_matches_torchvision_exactly(variant: str, params: int, madds: int) -> None:
    """torchvision shufflenet_v2_x*: num_params and conv + linear MAdds at 224."""
    total = v2(variant).total()
    assert (total.params, total.madds) == (params, madds)


# Measured against Table 5 (M MAdds / M params): 0.5x 40.48 / 1.367, 1.0x 144.91 / 2.279,
# 1.5x 295.76 / 3.504, 2.0x 583.25 / 7.394. Params round to the printed 0.1 M for every
# width. MAdds are within one printed unit only at 0.5x: the paper's figures are 1.09,
# 3.24 and 7.75 M (0.75-1.3 %) above the others, while this spec equals torchvision's
# conv + linear MAdds exactly (test_v2_matches_torchvision_exactly); documented
# exceptions, their gaps pinned (the paper does not say what else it counts).
@pytest.mark.parametrize(
    ("variant", "madds_m", "params_m", "madds_gap"),
    [
        ("0.5x", 41, 1.4, None),
        ("1.0x", 146, 2.3, 1.09),
        ("1.5x", 299, 3.5, 3.24),
        ("2.0x", 591, 7.4, 7.75),
    ],
)
def test_v2_paper_table5(
    variant: str, madds_m: float, params_m: float, madds_gap: float | None
) -> None:
    """arXiv 1807.11164 Table 5: FLOPs (= MAdds) within 1 M, params within 0.05 M."""
    total = v2(variant).total()
    if madds_gap is None:
        assert within(total.madds, madds_m, 1.0), total.madds
    else:
        assert gap(total.madds, madds_m) == madds_gap, total.madds
    assert within(total.params, params_m, 0.05), total.params


def test_v2_stage_widths_follow_table5() -> None:
    """Table 5: stage 2/3/4 outputs 116/232/464 at 28/14/7, conv5 1024 (1x)."""
    shapes = {layer.name: layer.out_shape for layer in v2("1.0x").layers}
    assert shapes["stage2_4_shuffle"] == (116, 28, 28)
    assert shapes["stage3_8_shuffle"] == (232, 14, 14)
    assert shapes["stage4_4_shuffle"] == (464, 7, 7)
    assert shapes["conv5"] == (1024, 7, 7)
    assert "stage3_1_left_dw" in shapes and "stage3_2_left_dw" not in shapes


def test_analyze_honours_variant() -> None:
    """``lightcost.analyze(spec, variant=...)`` costs the named variant."""
    assert lightcost.analyze("shufflenet_v2", variant="1.5x").total().params == 3_503_624


# -- ShuffleNet V1 ----------------------------------------------------------------------------


# Measured: g = 1 143.08, 2 140.84, 3 137.46, 4 134.34, 8 138.37 M MAdds. Within one
# printed unit for g = 1, 2, 3. Documented exceptions, gaps pinned: g = 4 (1.34 M below
# this spec) and g = 8 (1.37 M below; the official megvii README prints 138 M for the
# same g = 8 1.0x model, which this spec meets: test_v1_megvii_readme).
@pytest.mark.parametrize(
    ("groups", "madds_m", "madds_gap"),
    [(1, 143, None), (2, 140, None), (3, 137, None), (4, 133, -1.34), (8, 137, -1.37)],
)
def test_v1_paper_table1_complexity(groups: int, madds_m: float, madds_gap: float | None) -> None:
    """arXiv 1707.01083 Table 1: ShuffleNet 1x complexity (MFLOPs = MAdds) within 1 M."""
    total = v1(groups)
    if madds_gap is None:
        assert within(total.madds, madds_m, 1.0), total.madds
    else:
        assert gap(total.madds, madds_m) == madds_gap, total.madds


@pytest.mark.parametrize(
    ("groups", "widths"),
    [
        (1, (144, 288, 576)),
        (2, (200, 400, 800)),
        (3, (240, 480, 960)),
        (4, (272, 544, 1088)),
        (8, (384, 768, 1536)),
    ],
)
def test_v1_stage_widths_follow_table1(groups: int, widths: tuple[int, int, int]) -> None:
    """Table 1 output channels per g; bottleneck = out / 4; stage 2's first 1x1 ungrouped."""
    cost = lightcost.analyze("shufflenet_v1", overrides={"groups": groups})
    layers = {layer.name: layer for layer in cost.layers}
    nodes = {node.name: node for node in cost.graph.nodes}
    last = {2: "stage2_4", 3: "stage3_8", 4: "stage4_4"}
    for (stage, unit), width, size in zip(last.items(), widths, (28, 14, 7), strict=True):
        assert layers[f"{unit}_add"].out_shape == (width, size, size)
        assert layers[f"stage{stage}_1_concat"].out_shape == (width, size, size)
        assert layers[f"stage{stage}_1_gconv1"].out_shape[0] == width // 4
    assert nodes["stage2_1_gconv1"].attrs["groups"] == 1
    assert nodes["stage2_2_gconv1"].attrs["groups"] == groups
    assert nodes["stage3_1_gconv1"].attrs["groups"] == groups
    assert layers["conv1"].out_shape == (24, 112, 112)
    assert layers["fc"].params == widths[2] * 1000


@pytest.mark.parametrize(("scale", "madds_m"), [(0.5, 38), (0.25, 13)])
def test_v1_paper_table2_scaling(scale: float, madds_m: float) -> None:
    """arXiv 1707.01083 Table 2: ShuffleNet 0.5x 38 M, 0.25x 13 M (g = 3), rounded.

    Measured 37.59 and 13.30 M: both round to the printed integer (half a unit).
    """
    total = v1(3, scale)
    assert within(total.madds, madds_m, 0.5), total.madds


@pytest.mark.parametrize(
    ("groups", "scale", "madds_m", "params_m"),
    [
        (3, 2.0, 524, 5.4),
        (3, 1.5, 292, 3.4),
        (3, 1.0, 138, 1.9),
        (3, 0.5, 38, 0.7),
        (8, 2.0, 522, 6.5),
        (8, 1.5, 290, 4.3),
        (8, 1.0, 138, 2.4),
        (8, 0.5, 40, 1.0),
    ],
)
def test_v1_megvii_readme(groups: int, scale: float, madds_m: float, params_m: float) -> None:
    """megvii ShuffleNet-Series ShuffleNetV1/README.md: params within 0.05 M, FLOPs 1 M.

    Measured worst: params 5.4498 M for g = 3 2.0x (printed 5.4), FLOPs 137.46 M for
    g = 3 1.0x (printed 138; every other row within half a unit).
    """
    total = v1(groups, scale)
    assert within(total.params, params_m, 0.05), total.params
    assert within(total.madds, madds_m, 1.0), total.madds


MEGVII_STAGE_OUT_CHANNELS = {
    (3, 0.5): (12, 120, 240, 480),
    (3, 1.0): (24, 240, 480, 960),
    (3, 1.5): (24, 360, 720, 1440),
    (3, 2.0): (48, 480, 960, 1920),
    (8, 0.5): (16, 192, 384, 768),
    (8, 1.0): (24, 384, 768, 1536),
    (8, 1.5): (24, 576, 1152, 2304),
    (8, 2.0): (48, 768, 1536, 3072),
}


def megvii_counts(groups: int, channels: tuple[int, ...]) -> tuple[int, int]:
    """Params and MAdds of megvii ``ShuffleNetV1(group=g, model_size=...)``, by hand.

    A transcription of network.py / blocks.py: stem conv 3x3 s2 + BN; per unit a 1x1
    conv to out // 4 (ungrouped in stage 2's first unit), BN, a depthwise 3x3, BN, a
    1x1 group conv to out (out - in in a stage's first unit), BN; FC without bias.
    """
    params = madds = 0

    def conv(cin: int, cout: int, k: int, groups: int, size: int) -> None:
        nonlocal params, madds
        weights = k * k * (cin // groups) * cout
        params += weights + 2 * cout
        madds += weights * size * size

    cin = channels[0]
    conv(3, cin, 3, 1, 112)
    size = 56
    for stage, (repeats, out) in enumerate(zip((4, 8, 4), channels[1:], strict=True)):
        for i in range(repeats):
            size = size // 2 if i == 0 else size
            first_groups = 1 if stage == 0 and i == 0 else groups
            conv(cin, out // 4, 1, first_groups, size * 2 if i == 0 else size)
            conv(out // 4, out // 4, 3, out // 4, size)
            conv(out // 4, out - cin if i == 0 else out, 1, groups, size)
            cin = out
    return params + cin * 1000, madds + cin * 1000


@pytest.mark.parametrize(("groups", "scale"), sorted(MEGVII_STAGE_OUT_CHANNELS))
def test_v1_matches_megvii_network_exactly(groups: int, scale: float) -> None:
    """megvii ShuffleNetV1/network.py stage_out_channels for g = 3, 8: exact counts."""
    total = v1(groups, scale)
    expected = megvii_counts(groups, MEGVII_STAGE_OUT_CHANNELS[(groups, scale)])
    assert (total.params, total.madds) == expected


def test_v1_stem_keeps_group_divisibility() -> None:
    """megvii network.py: 0.5x stems are 12 channels for g = 3 and 16 for g = 8."""
    for groups, stem in ((3, 12), (8, 16)):
        cost = lightcost.analyze("shufflenet_v1", overrides={"groups": groups, "scale": 0.5})
        assert cost.layers[0].out_shape[0] == stem


@pytest.mark.parametrize(("variant", "scale"), [("0.25x", 0.25), ("0.5x", 0.5), ("2.0x", 2.0)])
def test_v1_variants_set_the_scale(variant: str, scale: float) -> None:
    """The spec's variants are the same models as ``--set scale=...``."""
    graph = lightcost.build("shufflenet_v1", overrides={"groups": 8}, variant=variant)
    assert cost_graph(graph).total() == v1(8, scale)


def test_v1_unsupported_group_count_is_a_spec_error() -> None:
    """Table 1 lists g = 1, 2, 3, 4, 8 only; another g fails with a located error."""
    with pytest.raises(lightcost.SpecError, match="groups must be one of 1, 2, 3, 4, 8, got 5"):
        lightcost.analyze("shufflenet_v1", overrides={"groups": 5})


# -- CLI ----------------------------------------------------------------------------------------


def cli_totals(*args: str) -> dict[str, int]:
    """``lightcost table ... --format json`` totals."""
    result = CliRunner().invoke(cli, ["table", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    totals: dict[str, int] = json.loads(result.stdout)["totals"]
    return totals


def test_cli_v1_groups_matches_api() -> None:
    """``lightcost table shufflenet_v1 --set groups=8`` prints the API's totals."""
    totals = cli_totals("shufflenet_v1", "--set", "groups=8")
    expected = lightcost.analyze("shufflenet_v1", overrides={"groups": 8}).total()
    assert (totals["params"], totals["madds"]) == (expected.params, expected.madds)
    assert (totals["params"], totals["madds"]) == (2_433_768, 138_365_952)


def test_cli_v2_variant_matches_api() -> None:
    """``lightcost table shufflenet_v2 --variant 1.5x`` prints the 1.5x totals."""
    totals = cli_totals("shufflenet_v2", "--variant", "1.5x")
    expected = v2("1.5x").total()
    assert (totals["params"], totals["madds"]) == (expected.params, expected.madds)
    assert (totals["params"], totals["madds"]) == (3_503_624, 295_759_392)
