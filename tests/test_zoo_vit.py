"""Golden test of the bundled ViT-B/16 spec against torchvision and a count by hand.

Sources:

* torchvision ``models/vision_transformer.py``
  (https://github.com/pytorch/vision/blob/main/torchvision/models/vision_transformer.py):
  ``ViT_B_16_Weights.IMAGENET1K_V1`` metadata ``"num_params": 86567656``; the
  architecture (conv_proj 16x16 s16, class token, 197 x 768 position embedding, 12
  pre-norm encoder blocks of nn.MultiheadAttention with 12 heads and an MLP of 3072,
  final LayerNorm, head 768 -> 1000).
* The count by hand of issue 14 (multiply-adds of conv, linear and attention matmuls,
  no bias), per block: qkv 197 x 768 x 2304, attention 2 x 12 x 197 x 197 x 64,
  projection 197 x 768 x 768, MLP 2 x 197 x 768 x 3072; x 12, plus the
  196 x 768 x 768 patch embedding and the 768 x 1000 head = 17,563,828,224.
"""

from __future__ import annotations

import pytest

import lightcost
from lightcost.cost.engine import cost_graph

TOKENS, DIM, HEADS, HEAD_DIM, MLP = 197, 768, 12, 64, 3072
QKV = TOKENS * DIM * 3 * DIM
SCORES_AND_MIX = 2 * HEADS * TOKENS * TOKENS * HEAD_DIM
PROJECTION = TOKENS * DIM * DIM
BLOCK = QKV + SCORES_AND_MIX + PROJECTION + 2 * TOKENS * DIM * MLP


def test_vit_b_16_matches_torchvision_and_the_hand_count() -> None:
    cost = lightcost.analyze("vit_b_16")
    total = cost.total()
    assert total.params == 86_567_656  # torchvision ViT_B_16_Weights num_params
    assert total.madds == 12 * BLOCK + 196 * DIM * DIM + DIM * 1000 == 17_563_828_224


def test_vit_b_16_attention_layers_cost_the_hand_count() -> None:
    cost = lightcost.analyze("vit_b_16")
    attention = [layer for layer in cost.layers if layer.op == "attention"]
    assert len(attention) == 12
    assert {layer.madds for layer in attention} == {QKV + SCORES_AND_MIX + PROJECTION}
    # in_proj (2304 x 768 + 2304) and out_proj (768 x 768 + 768), as nn.MultiheadAttention
    assert {layer.params for layer in attention} == {3 * DIM * DIM + 3 * DIM + DIM * DIM + DIM}
    assert {layer.out_shape for layer in attention} == {(DIM, 1, TOKENS)}


def test_vit_b_16_params_do_not_depend_on_the_resolution() -> None:
    """The 197-position table is resampled at other sizes (timm); its params stay."""
    at_384 = lightcost.analyze("vit_b_16", resolution=384).total()
    assert at_384.params == 86_567_656
    assert at_384.madds > 17_563_828_224


def test_a_narrow_vit_round_trips_through_onnx() -> None:
    """ViT-B/16 itself is above the export limit; the same spec at width 192 (ViT-Ti/16's
    hidden size, 3 heads) exports and imports back with equal figures."""
    onnx = pytest.importorskip("onnx")
    from lightcost.interop.onnx.exporter import export_graph
    from lightcost.interop.onnx.importer import onnx_spec
    from lightcost.interop.onnx.writer import spec_yaml

    graph = lightcost.build("vit_b_16", overrides={"hidden": 192, "mlp": 768, "heads": 3})
    proto = export_graph(graph)
    onnx.checker.check_model(proto, full_check=True)
    back = lightcost.build("m.yaml", text=spec_yaml(onnx_spec(proto, "m.onnx"), "m.onnx"))
    for convention in ("trainable", "weights", "deployed"):
        a, b = cost_graph(graph, convention).total(), cost_graph(back, convention).total()
        assert (a.params, a.madds, a.other_ops) == (b.params, b.madds, b.other_ops)
