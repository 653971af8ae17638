"""Cost rules on small hand-computed networks, and the breakdowns adding up."""

from __future__ import annotations

import pytest

from lightcost import analyze
from lightcost.core.graph import elements

SPEC = """
input: [8, 16, 16]
blocks:
  unit:
    params: {c: channels, s: stride}
    nodes:
      - {name: expand, op: conv, k: 1, out: c, groups: 2, act: relu}
      - {name: dw, op: dwconv, k: 3, stride: s, act: relu6}
      - {name: se, op: se, squeeze: 8, act: relu, gate: hsigmoid}
      - {name: project, op: conv, k: 1, out: 8, bn: false, bias: true}
      - {op: add, from: [input, project], when: "s == 1"}
layers:
  - {use: unit, name: u1, with: {c: 16, s: 1}}
  - {use: unit, name: u2, with: {c: 16, s: 2}}
  - {op: avgpool, global: true}
  - {op: fc, out: 10}
"""


def by_name(params: str = "trainable") -> dict[str, tuple[int, int, int]]:
    cost = analyze("engine.yaml", text=SPEC, params=params)
    return {layer.name: (layer.params, layer.madds, layer.other_ops) for layer in cost.layers}


def test_hand_computed_layers() -> None:
    layers = by_name()
    # grouped 1x1: (8/2)*16 weights, BN 2*16; MAdds weights*16*16; other: BN 2 + relu 1 per element
    assert layers["u1_expand"] == (4 * 16 + 32, 4 * 16 * 256, 3 * 16 * 256)
    # depthwise 3x3 on 16 channels: 9*16 weights + BN; relu6 counts 2 per element
    assert layers["u1_dw"] == (9 * 16 + 32, 9 * 16 * 256, 4 * 16 * 256)
    assert layers["u2_dw"][1] == 9 * 16 * 64  # stride 2: 8x8 output
    # SE: 16->8->16 with biases; MAdds of the two 1x1 convs only
    se_params = 16 * 8 + 8 + 8 * 16 + 16
    se_other = 2 * 16 * 256 + 8 * 1 + 16 * 4 + (8 + 16)  # pool + scale, relu, hsigmoid, biases
    assert layers["u1_se"] == (se_params, 2 * 16 * 8, se_other)
    assert layers["u1_project"] == (16 * 8 + 8, 16 * 8 * 256, 8 * 256)
    assert layers["u1_add"] == (0, 0, 8 * 256)
    assert "u2_add" not in layers  # `when: s == 1` skipped it
    assert layers["avgpool"] == (0, 0, 8 * 64)
    assert layers["fc"] == (8 * 10 + 10, 80, 10)


def test_parameter_conventions() -> None:
    trainable, weights, deployed = by_name(), by_name("weights"), by_name("deployed")
    assert weights["u1_expand"][0] == 64
    assert deployed["u1_expand"][0] == 64 + 16  # BN folded into a bias
    assert trainable["u1_expand"][0] == 64 + 32
    assert weights["u1_project"][0] == deployed["u1_project"][0] - 8 == 128
    assert weights["fc"][0] == 80


def test_rows_and_breakdowns_add_up() -> None:
    cost = analyze("engine.yaml", text=SPEC)
    total = cost.total()
    for rows in (cost.by_block(), cost.by_block(1), cost.by_type()):
        assert sum(r.params for r in rows) == total.params
        assert sum(r.madds for r in rows) == total.madds
        assert sum(r.other_ops for r in rows) == total.other_ops
        assert sum(r.mac for r in rows) == total.mac
    assert [r.label for r in cost.by_block(1)] == ["u1", "u2", "avgpool", "fc"]
    assert len(cost.by_block()) == len(cost.layers)


def test_mac_of_a_1x1_conv_is_shufflenet_v2_formula() -> None:
    # ShuffleNetV2 Sec. 2 (G1): MAC = hw(c1 + c2) + c1*c2 for a 1x1 conv without bias or BN
    spec = "input: [32, 14, 14]\nlayers:\n  - {op: conv, k: 1, out: 64, bn: false}\n"
    layer = analyze("mac.yaml", text=spec).layers[0]
    assert layer.mac == 14 * 14 * (32 + 64) + 32 * 64


@pytest.mark.parametrize(
    ("padding", "size"),
    [("same", 112), ("valid", 111), (1, 112), (0, 111)],
)
def test_padding_modes(padding: object, size: int) -> None:
    layer = f"{{op: conv, k: 3, stride: 2, out: 8, padding: {padding}}}"
    spec = f"input: [3, 224, 224]\nlayers:\n  - {layer}\n"
    assert analyze("pad.yaml", text=spec).layers[0].out_shape == (8, size, size)


def test_split_concat_shuffle_shapes_and_zero_ops() -> None:
    spec = """
input: [16, 8, 8]
layers:
  - {name: left, op: split, parts: 2, index: 0}
  - {name: right, op: split, parts: 2, index: 1, from: input}
  - {op: conv, k: 1, out: 8}
  - {op: concat, from: [left, prev]}
  - {op: shuffle, groups: 2}
"""
    layers = analyze("split.yaml", text=spec).layers
    assert [layer.out_shape for layer in layers] == [
        (8, 8, 8), (8, 8, 8), (8, 8, 8), (16, 8, 8), (16, 8, 8),
    ]  # fmt: skip
    for layer in (layers[0], layers[1], layers[3], layers[4]):
        assert (layer.params, layer.madds, layer.other_ops) == (0, 0, 0)
        assert layer.mac == 2 * elements(layer.out_shape)  # read once, written once


def test_width_multiplier_scales_literal_and_channels_params_only() -> None:
    spec = """
input: [3, 32, 32]
width: {rule: truncate, min: 8}
vars: {classes: 10}
blocks:
  b:
    params: {c: channels}
    nodes: [{op: conv, k: 1, out: c}]
layers:
  - {op: conv, k: 3, out: 64}
  - {op: conv, k: 3, out: 64, width: fixed}
  - {use: b, with: {c: 32}}
  - {op: conv, k: 1, out: "max(100, ch(64))"}
  - {op: fc, out: classes}
"""
    cost = analyze("w.yaml", text=spec, width=0.5)
    assert [layer.out_shape[0] for layer in cost.layers] == [32, 64, 16, 100, 10]
