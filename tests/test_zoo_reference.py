"""Golden tests: the bundled comparison networks and MobileNetV1's paper tables.

Every expected figure below is a published number, cited where it is used. Exact
integers are asserted where the source prints exact integers (torchvision's
``num_params``, Keras' ``model.summary()``, the TF-slim docstring); rounded
figures (papers, GFLOPS columns) are checked against the digits printed, or with
the tolerance stated next to the test. MAdds are multiply-adds of convs and FC
layers (one multiply + one add = 1); torchvision's "GFLOPS" column and the papers'
"FLOPs" / "Mult-Adds" are this same quantity.
"""

from __future__ import annotations

import pytest

import lightcost
from lightcost.cost.engine import LayerCost, ModelCost

M = 1_000_000
G = 1_000_000_000


def conv_layers(cost: ModelCost) -> list[LayerCost]:
    """The convolution layers (standard and depthwise) in execution order."""
    return [layer for layer in cost.layers if layer.op in ("conv", "dwconv")]


def fc_bias(cost: ModelCost) -> int:
    """Biases of the fully connected layers (the classifier's 1000 for MobileNetV1)."""
    return sum(layer.biases for layer in cost.layers if layer.op == "fc")


def assert_printed(value: float, printed: str) -> None:
    """``value`` rounds to ``printed`` at the number of decimals printed."""
    decimals = len(printed.partition(".")[2])
    assert abs(value - float(printed)) <= 0.5 * 10.0**-decimals + 1e-9, (value, printed)


# -- ResNet-50 -------------------------------------------------------------------------------


def test_resnet50_matches_torchvision() -> None:
    # torchvision model docs, ResNet50_Weights.IMAGENET1K_V1
    # (https://pytorch.org/vision/stable/models/generated/torchvision.models.resnet50.html):
    # num_params 25557032, GFLOPS 4.09 (torchvision's GFLOPS are conv+linear multiply-adds).
    total = lightcost.analyze("resnet50").total()
    assert total.params == 25_557_032
    assert_printed(total.madds / G, "4.09")


def test_resnet50_efficientnet_table2() -> None:
    # Tan & Le 2019, EfficientNet (arXiv 1905.11946) Table 2: ResNet-50 26M params, 4.1B FLOPS
    # (EfficientNet's FLOPS are multiply-adds: its B0 is listed at 0.39B).
    total = lightcost.analyze("resnet50").total()
    assert_printed(total.params / M, "26")
    assert_printed(total.madds / G, "4.1")


def test_resnet50_v1_layout_paper_table1() -> None:
    # He et al. 2015 (arXiv 1512.03385) Table 1, 50-layer: 3.8 x 10^9 FLOPs (multiply-adds).
    # The paper puts the stride of conv3_1, conv4_1, conv5_1 on the first 1x1 conv ("v1");
    # torchvision's v1.5 moves it to the 3x3. Same parameters; in v1.5 the reducing 1x1
    # of those three blocks runs at the input resolution, 4x the positions.
    v15 = lightcost.analyze("resnet50").total()
    v1 = lightcost.analyze("resnet50", overrides={"stride_3x3": False}).total()
    assert v1.params == v15.params == 25_557_032
    # The difference is exactly those three 1x1 convs at 4x their v1 output size:
    # cin * m * (H*H - (H/2)*(H/2)) for (256, 128, 56), (512, 256, 28), (1024, 512, 14).
    extra = sum(
        cin * m * (h * h - (h // 2) ** 2)
        for cin, m, h in [(256, 128, 56), (512, 256, 28), (1024, 512, 14)]
    )
    assert v15.madds - v1.madds == extra == 231_211_008
    # v1 counts 3.858 G; the paper prints 3.8 (truncated, or counted without the FC and
    # some rounding of its own): tolerance 2 %.
    assert v1.madds == pytest.approx(3.8 * G, rel=0.02)


# -- ResNeXt-50 (32x4d) ----------------------------------------------------------------------


def test_resnext50_32x4d_matches_torchvision() -> None:
    # torchvision model docs, ResNeXt50_32X4D_Weights.IMAGENET1K_V1
    # (https://pytorch.org/vision/stable/models/generated/torchvision.models.resnext50_32x4d.html):
    # num_params 25028904, GFLOPS 4.23.
    cost = lightcost.analyze("resnext50_32x4d")
    total = cost.total()
    assert total.params == 25_028_904
    assert_printed(total.madds / G, "4.23")
    # The 3x3 convs are grouped 32 ways, 4 channels per group in conv2 (layer1).
    grouped = [layer for layer in cost.layers if layer.name == "layer1_0_conv2"]
    assert grouped[0].weights == 3 * 3 * (128 // 32) * 128


# -- Xception --------------------------------------------------------------------------------


def test_xception_params_paper_and_keras() -> None:
    # Chollet 2017 (arXiv 1610.02357) Table 3: Xception 22,855,952 parameters.
    # Keras applications (keras-team/keras docs/applications.md, "Documentation for
    # individual models" table; keras.io/api/applications prints it rounded as 22.9M):
    # Xception 22,910,480 parameters; model.summary() prints
    # "Total params: 22,910,480 / Trainable params: 22,855,952 / Non-trainable params: 54,528".
    # The paper counts trainable parameters (weights, FC bias, BN gamma and beta), which is
    # what this spec gives by default; Keras' total adds each BN's moving mean and
    # variance, 2 per BN channel: 54,528 = 2 x 27,264 BN channels. Both are exact.
    cost = lightcost.analyze("xception")
    trainable = cost.total().params
    assert trainable == 22_855_952
    bn_moving_stats = sum(layer.bn for layer in cost.layers)  # 2 per channel, like gamma+beta
    assert bn_moving_stats == 54_528
    assert trainable + bn_moving_stats == 22_910_480
    # Keras summary: "predictions (Dense) (None, 1000) 2049000".
    assert cost.layers[-1].name == "predictions"
    assert cost.layers[-1].params == 2048 * 1000 + 1000


def test_xception_shapes_follow_keras() -> None:
    # keras/applications/xception.py at 299x299: VALID stem convs 299 -> 149 -> 147, then
    # SAME stride-2 pools 74, 37, 19 (entry flow), middle flow at 19, exit pool 10.
    shapes = {layer.name: layer.out_shape for layer in lightcost.analyze("xception").layers}
    assert shapes["block1_conv1"] == (32, 149, 149)
    assert shapes["block1_conv2"] == (64, 147, 147)
    assert shapes["block2_add"] == (128, 74, 74)
    assert shapes["block3_add"] == (256, 37, 37)
    assert shapes["block4_add"] == (728, 19, 19)
    assert shapes["block12_add"] == (728, 19, 19)
    assert "block13_add" in shapes and shapes["block13_add"] == (1024, 10, 10)
    assert shapes["block14_sepconv2_act"] == (2048, 10, 10)


def test_xception_madds_efficientnet_table2() -> None:
    # Tan & Le 2019, EfficientNet (arXiv 1905.11946) Table 2: Xception (Chollet, 2017)
    # 23M params, 8.4B FLOPS (multiply-adds). This spec counts 8,357 M: checked to the
    # printed digit (within 0.05 G).
    total = lightcost.analyze("xception").total()
    assert_printed(total.madds / G, "8.4")
    assert_printed(total.params / M, "23")


# -- MobileNetV1 paper tables (Howard et al. 2017, arXiv 1704.04861) -------------------------
# The paper counts conv and FC weights (no BN): params="weights". Tolerance, as the tables
# print whole M MAdds and 0.1 M (Table 9: 0.01 M) params, with a few rounded oddly
# (Table 7's 290 is 290.7, Table 9's 76 is 76.5): 1 M MAdds and 0.05 M params.
# The FC bias (1,000) is below every printed digit: both counts are checked.

MADDS_TOL = 1.0
PARAMS_TOL = 0.05


def check_paper(cost: ModelCost, madds_m: float, params_m: float) -> None:
    total = cost.total()
    assert abs(total.madds / M - madds_m) <= MADDS_TOL
    assert abs(total.params / M - params_m) <= PARAMS_TOL
    assert abs((total.params + fc_bias(cost)) / M - params_m) <= PARAMS_TOL


@pytest.mark.parametrize(
    ("width", "madds_m", "params_m"),
    [(1.0, 569, 4.2), (0.75, 325, 2.6), (0.5, 149, 1.3), (0.25, 41, 0.5)],
)
def test_mobilenet_v1_table6_width(width: float, madds_m: float, params_m: float) -> None:
    # Table 6: 1.0 / 0.75 / 0.5 / 0.25 MobileNet-224.
    check_paper(lightcost.analyze("mobilenet_v1", width=width, params="weights"), madds_m, params_m)


@pytest.mark.parametrize(
    ("resolution", "madds_m"), [(224, 569), (192, 418), (160, 290), (128, 186)]
)
def test_mobilenet_v1_table7_resolution(resolution: int, madds_m: float) -> None:
    # Table 7: 1.0 MobileNet at 224 / 192 / 160 / 128, all 4.2 M params.
    cost = lightcost.analyze("mobilenet_v1", resolution=resolution, params="weights")
    check_paper(cost, madds_m, 4.2)


def test_mobilenet_v1_table9_half_160() -> None:
    # Table 9: 0.50 MobileNet-160, 76 M MAdds, 1.32 M params (printed to 0.01 M).
    cost = lightcost.analyze("mobilenet_v1", width=0.5, resolution=160, params="weights")
    check_paper(cost, 76, 1.32)
    assert_printed(cost.total().params / M, "1.32")
    assert_printed((cost.total().params + fc_bias(cost)) / M, "1.32")


def test_mobilenet_v1_headline_weights() -> None:
    # TF-slim mobilenet_v1.py docstring (TF_SLIM_224 below), "Total:" row: 3,185,088 params,
    # 567,716,352 macs. Conv weights 3,185,088 + FC 1024 x 1000 = 4,209,088
    # (4,210,088 with the FC bias); 567,716,352 + 1,024,000 MAdds = 568,740,352 (569 M).
    cost = lightcost.analyze("mobilenet_v1", params="weights")
    assert cost.total().params == 3_185_088 + 1024 * 1000
    assert fc_bias(cost) == 1000
    assert cost.total().madds == 567_716_352 + 1024 * 1000


def test_conv_mobilenet_table4() -> None:
    # Table 4: Conv MobileNet 4866 M Mult-Adds, 29.3 M parameters; within 0.1 %.
    # This spec counts 4867.3 M (4866.3 M without the FC's 1.0 M: the paper's 4866 may
    # leave it out) and 29.28 M weights (29.29 M with the FC bias).
    cost = lightcost.analyze("mobilenet_v1_conv", params="weights")
    total = cost.total()
    assert total.madds == pytest.approx(4866 * M, rel=1e-3)
    assert total.params == pytest.approx(29.3 * M, rel=1e-3)
    assert total.params + fc_bias(cost) == pytest.approx(29.3 * M, rel=1e-3)
    # Same layout as MobileNet: 14 convs, the same strides and output shapes.
    mobilenet = conv_layers(lightcost.analyze("mobilenet_v1"))
    pointwise = [mobilenet[0], *(layer for layer in mobilenet if layer.name.endswith("pointwise"))]
    assert [layer.out_shape for layer in conv_layers(cost)] == [p.out_shape for p in pointwise]


def test_mobilenet_table4_madds_ratio() -> None:
    # Table 4's point: MobileNet costs about 1/8.5 of Conv MobileNet (4866 / 569).
    conv = lightcost.analyze("mobilenet_v1_conv").total().madds
    separable = lightcost.analyze("mobilenet_v1").total().madds
    assert conv / separable == pytest.approx(4866 / 569, rel=2e-3)


# Table 3: one layer, 14x14x512 input, 3x3 kernel, 512 outputs. The input channel count is
# written ch(512) so that the width multiplier scales M as well as N (TF-slim truncation:
# int(512 * 0.75) = 384); rho = 0.714 is resolution 10 (0.714 x 14 = 10).
TABLE3_YAML = """
lightcost: 1
name: table3
description: MobileNetV1 paper Table 3, one 3x3 layer 14x14x512 -> 512
input: ["ch(512)", 14, 14]
width: {rule: truncate, min: 8}
vars: {separable: true}
defaults:
  conv: {bn: false}
  dwconv: {bn: false}
layers:
  - {name: standard, op: conv, k: 3, out: 512, when: "not separable"}
  - {name: depthwise, op: dwconv, k: 3, when: separable}
  - {name: pointwise, op: conv, k: 1, out: 512, when: separable}
"""


@pytest.mark.parametrize(
    ("separable", "width", "resolution", "madds_m", "params_m"),
    [
        (False, None, None, "462", "2.36"),  # Convolution
        (True, None, None, "52.3", "0.27"),  # Depthwise Separable Conv
        (True, 0.75, None, "29.6", "0.15"),  # alpha = 0.75
        (True, 0.75, 10, "15.1", "0.15"),  # rho = 0.714
    ],
)
def test_mobilenet_v1_table3_single_layer(
    separable: bool, width: float | None, resolution: int | None, madds_m: str, params_m: str
) -> None:
    # Table 3, reproduced to every printed digit.
    cost = lightcost.analyze(
        "table3.yaml",
        text=TABLE3_YAML,
        width=width,
        resolution=resolution,
        params="weights",
        overrides={"separable": separable},
    )
    total = cost.total()
    assert_printed(total.madds / M, madds_m)
    assert_printed(total.params / M, params_m)


def test_table3_width_scales_input_channels() -> None:
    cost = lightcost.analyze("table3.yaml", text=TABLE3_YAML, width=0.75)
    assert cost.graph.input_shape == (384, 14, 14)
    assert [layer.out_shape for layer in cost.layers] == [(384, 14, 14), (384, 14, 14)]


# -- MobileNetV1, TF-slim docstring ------------------------------------------------------------
# tensorflow/models research/slim/nets/mobilenet_v1.py module docstring, "100% Mobilenet V1
# (base) with input size 224x224",
# https://github.com/tensorflow/models/blob/master/research/slim/nets/mobilenet_v1.py
# (the per-layer "params macs" table): conv weights only (no BN, no bias), MAdds per layer.

TF_SLIM_224 = [
    ("Conv2d_0", 864, 10_838_016),
    ("Conv2d_1_depthwise", 288, 3_612_672),
    ("Conv2d_1_pointwise", 2_048, 25_690_112),
    ("Conv2d_2_depthwise", 576, 1_806_336),
    ("Conv2d_2_pointwise", 8_192, 25_690_112),
    ("Conv2d_3_depthwise", 1_152, 3_612_672),
    ("Conv2d_3_pointwise", 16_384, 51_380_224),
    ("Conv2d_4_depthwise", 1_152, 903_168),
    ("Conv2d_4_pointwise", 32_768, 25_690_112),
    ("Conv2d_5_depthwise", 2_304, 1_806_336),
    ("Conv2d_5_pointwise", 65_536, 51_380_224),
    ("Conv2d_6_depthwise", 2_304, 451_584),
    ("Conv2d_6_pointwise", 131_072, 25_690_112),
    ("Conv2d_7_depthwise", 4_608, 903_168),
    ("Conv2d_7_pointwise", 262_144, 51_380_224),
    ("Conv2d_8_depthwise", 4_608, 903_168),
    ("Conv2d_8_pointwise", 262_144, 51_380_224),
    ("Conv2d_9_depthwise", 4_608, 903_168),
    ("Conv2d_9_pointwise", 262_144, 51_380_224),
    ("Conv2d_10_depthwise", 4_608, 903_168),
    ("Conv2d_10_pointwise", 262_144, 51_380_224),
    ("Conv2d_11_depthwise", 4_608, 903_168),
    ("Conv2d_11_pointwise", 262_144, 51_380_224),
    ("Conv2d_12_depthwise", 4_608, 225_792),
    ("Conv2d_12_pointwise", 524_288, 25_690_112),
    ("Conv2d_13_depthwise", 9_216, 451_584),
    ("Conv2d_13_pointwise", 1_048_576, 51_380_224),
]


TF_SLIM_075_128 = [
    ("Conv2d_0", 648, 2_654_208),
    ("Conv2d_1_depthwise", 216, 884_736),
    ("Conv2d_1_pointwise", 1_152, 4_718_592),
    ("Conv2d_2_depthwise", 432, 442_368),
    ("Conv2d_2_pointwise", 4_608, 4_718_592),
    ("Conv2d_3_depthwise", 864, 884_736),
    ("Conv2d_3_pointwise", 9_216, 9_437_184),
    ("Conv2d_4_depthwise", 864, 221_184),
    ("Conv2d_4_pointwise", 18_432, 4_718_592),
    ("Conv2d_5_depthwise", 1_728, 442_368),
    ("Conv2d_5_pointwise", 36_864, 9_437_184),
    ("Conv2d_6_depthwise", 1_728, 110_592),
    ("Conv2d_6_pointwise", 73_728, 4_718_592),
    ("Conv2d_7_depthwise", 3_456, 221_184),
    ("Conv2d_7_pointwise", 147_456, 9_437_184),
    ("Conv2d_8_depthwise", 3_456, 221_184),
    ("Conv2d_8_pointwise", 147_456, 9_437_184),
    ("Conv2d_9_depthwise", 3_456, 221_184),
    ("Conv2d_9_pointwise", 147_456, 9_437_184),
    ("Conv2d_10_depthwise", 3_456, 221_184),
    ("Conv2d_10_pointwise", 147_456, 9_437_184),
    ("Conv2d_11_depthwise", 3_456, 221_184),
    ("Conv2d_11_pointwise", 147_456, 9_437_184),
    ("Conv2d_12_depthwise", 3_456, 55_296),
    ("Conv2d_12_pointwise", 294_912, 4_718_592),
    ("Conv2d_13_depthwise", 6_912, 110_592),
    ("Conv2d_13_pointwise", 589_824, 9_437_184),
]


def test_tf_slim_docstring_rows() -> None:
    convs = conv_layers(lightcost.analyze("mobilenet_v1", params="weights"))
    assert [(layer.name, layer.params, layer.madds) for layer in convs] == TF_SLIM_224


def test_tf_slim_docstring_totals() -> None:
    # Docstring: "Total: 3,185,088 567,716,352".
    convs = conv_layers(lightcost.analyze("mobilenet_v1", params="weights"))
    assert sum(row[1] for row in TF_SLIM_224) == 3_185_088
    assert sum(row[2] for row in TF_SLIM_224) == 567_716_352
    assert sum(layer.params for layer in convs) == 3_185_088
    assert sum(layer.madds for layer in convs) == 567_716_352


def test_tf_slim_docstring_075_128() -> None:
    # Same docstring, "75% Mobilenet V1 (base) with input size 128x128" (see
    # mobilenet_v1_075()): every row, and "Total: 1,800,144 106,002,432". Not in the seed
    # file; read from the docstring of tensorflow/models research/slim/nets/mobilenet_v1.py.
    cost = lightcost.analyze("mobilenet_v1", width=0.75, resolution=128, params="weights")
    convs = conv_layers(cost)
    assert [(layer.name, layer.params, layer.madds) for layer in convs] == TF_SLIM_075_128
    assert sum(row[1] for row in TF_SLIM_075_128) == 1_800_144
    assert sum(row[2] for row in TF_SLIM_075_128) == 106_002_432
    assert sum(layer.params for layer in convs) == 1_800_144
    assert sum(layer.madds for layer in convs) == 106_002_432
