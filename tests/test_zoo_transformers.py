"""Golden tests for the bundled hybrid and transformer-style specs of issue 14.

ConvNeXt-T, MobileNetV4-Hybrid-Medium, MobileViT-XXS and EfficientFormer-L1 against
the counts measured in torch by ``tools/onnx_corpus.py`` and stored in
``tests/onnx_corpus/reference.json`` (``params``: PyTorch's trainable parameters;
``madds``: conv + linear + the matrix products between activations (attention QK^T
and AV), no bias, timm's fused attention off, at the model's native size;
``madds_at``: the same at other input sizes). Issue 14's table prints the same
numbers; they are written out below as well so that a change of either shows.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import lightcost
from lightcost.cost.engine import LayerCost, ModelCost

CORPUS = Path(__file__).resolve().parent / "onnx_corpus"
FILES: dict[str, dict[str, Any]] = json.loads((CORPUS / "reference.json").read_text())["files"]

# spec -> (corpus file, native resolution, params, {resolution: MAdds}), issue 14's table.
GOLDEN: dict[str, tuple[str, int, int, dict[int, int]]] = {
    "convnext_tiny": (
        "convnext_tiny.onnx",
        224,
        28_589_128,
        {224: 4_455_531_264, 160: 2_273_606_400},
    ),
    "mobilenet_v4_hybrid_medium": (
        "mobilenetv4_hybrid_medium.onnx",
        256,
        11_074_648,
        {256: 1_271_183_360, 160: 488_100_800},
    ),
    "mobilevit_xxs": (
        "mobilevit_xxs.onnx",
        256,
        1_272_024,
        {256: 407_364_096, 224: 301_495_296, 160: 143_240_448},
    ),
    # fixed 224: the attention-bias table is learned for a 7 x 7 map
    "efficientformer_l1": ("efficientformer_l1.onnx", 224, 12_289_928, {224: 1_291_284_736}),
}
CASES = [(spec, res) for spec, (_, _, _, madds) in GOLDEN.items() for res in madds]


def reference_madds(file: str, native: int, res: int) -> int:
    ref = FILES[file]
    return int(ref["madds"] if res == native else ref["madds_at"][str(res)])


@pytest.mark.parametrize(("spec", "res"), CASES)
def test_exact_against_torch(spec: str, res: int) -> None:
    file, native, params, madds = GOLDEN[spec]
    assert FILES[file]["input"] == [1, 3, native, native]
    assert FILES[file]["params"] == params
    assert reference_madds(file, native, res) == madds[res]
    total = lightcost.analyze(spec, resolution=res, params="trainable").total()
    assert total.params == params
    assert total.madds == madds[res]


@pytest.mark.parametrize("spec", sorted(GOLDEN))
def test_native_resolution_is_the_default(spec: str) -> None:
    _, native, params, madds = GOLDEN[spec]
    total = lightcost.analyze(spec).total()
    assert (total.params, total.madds) == (params, madds[native])


def layers(cost: ModelCost, op: str) -> list[LayerCost]:
    return [layer for layer in cost.layers if layer.op == op]


def test_convnext_tiny_structure() -> None:
    # torchvision convnext_tiny: 3 + 3 + 9 + 3 CNBlocks, each with one layer scale and a
    # 7x7 depthwise conv; LayerNorm in every block, after the stem, before each of the 3
    # downsampling convs and in the head.
    cost = lightcost.analyze("convnext_tiny")
    assert len(layers(cost, "scale")) == len(layers(cost, "dwconv")) == 18
    assert len(layers(cost, "layernorm")) == 18 + 1 + 3 + 1
    assert cost.layers[-1].out_shape == (1000, 1, 1)


def test_mobilenet_v4_hybrid_medium_mobile_mqa() -> None:
    # 4 Mobile MQA blocks at 16 x 16 with K/V reduced by a stride-2 3x3 depthwise conv
    # (8 x 8 = 64 keys) and 4 at 8 x 8 without; 4 query heads of 64, one K/V head of 64.
    cost = lightcost.analyze("mobilenet_v4_hybrid_medium")
    attention = layers(cost, "attention")
    assert len(attention) == 8
    n, nk, c = 16 * 16, 8 * 8, 160
    reduced = 2 * 9 * c * nk
    by_hand = n * c * 256 + nk * c * 128 + 4 * n * nk * 128 + n * 256 * c + reduced
    assert [layer.madds for layer in attention[:4]] == [by_hand] * 4
    n, c = 8 * 8, 256
    by_hand = n * c * 256 + n * c * 128 + 4 * n * n * 128 + n * 256 * c
    assert [layer.madds for layer in attention[4:]] == [by_hand] * 4
    # layer scale (init 1e-5) on every UIR and MQA block: 2 + 12 + 16
    assert len(layers(cost, "scale")) == 30


@pytest.mark.parametrize(("res", "tokens"), [(256, 16), (224, 16), (160, 9)])
def test_mobilevit_xxs_last_stage_tokens(res: int, tokens: int) -> None:
    # timm resizes an odd map (7 x 7 at 224, 5 x 5 at 160) up to whole 2 x 2 patches
    # before unfolding: 4 sequences of ceil(H / 2)^2 tokens, then back to H x W.
    cost = lightcost.analyze("mobilevit_xxs", resolution=res)
    last = layers(cost, "unfold")[-1]
    assert last.out_shape == (96, 4, tokens)
    side = -(-res // 32)
    assert layers(cost, "fold")[-1].out_shape == (96, side, side)


def test_efficientformer_l1_attention_by_hand() -> None:
    # 49 tokens of 448: qkv Linear 448 -> 8 x (32 + 32 + 128), QK^T 8 x 49 x 49 x 32,
    # AV 8 x 49 x 49 x 128, projection 1024 -> 448; 8 x 49 learned attention biases.
    cost = lightcost.analyze("efficientformer_l1")
    (attention,) = layers(cost, "attention")
    n = 49
    assert attention.madds == n * 448 * 1536 + 8 * n * n * (32 + 128) + n * 1024 * 448
    assert attention.params == 448 * 1536 + 1536 + 1024 * 448 + 448 + 8 * 49
