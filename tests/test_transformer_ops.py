"""The transformer and token ops: their stated costs, shapes, errors and the docs' worked examples.

Hand counts below follow the conventions of docs/spec-language.md ("Transformers and
tokens"); the ViT-B/16 figures are torchvision's (tests/test_zoo_vit.py cites them).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from lightcost.api import analyze, build
from lightcost.core.errors import SpecError
from lightcost.core.graph import Graph
from lightcost.cost.engine import LayerCost, cost_graph

DOC = Path(__file__).resolve().parent.parent / "docs" / "spec-language.md"


def layers(spec: str, shape: str = "[8, 16, 16]") -> dict[str, LayerCost]:
    """Costs of each layer of ``spec`` (layer lines) on an input of ``shape``."""
    cost = analyze("t.yaml", text=f"input: {shape}\nlayers:\n{spec}")
    return {layer.name: layer for layer in cost.layers}


def test_attention_multi_query_with_reduced_keys_costs_the_hand_count() -> None:
    """MobileNetV4 Mobile MQA: 4 heads of 64, one K/V head, K and V reduced by stride 2."""
    c, h, w, heads, d = 96, 16, 16, 4, 64
    spec = (
        "  - {name: a, op: attention, heads: 4, head_dim: 64, kv_heads: 1, kv_stride: 2, "
        "qkv_bias: false, out_bias: false}\n"
    )
    a = layers(spec, f"[{c}, {h}, {w}]")["a"]
    n, nk = h * w, 8 * 8
    reductions = 2 * 9 * c * nk
    madds = n * c * heads * d + nk * c * 2 * d + 2 * heads * n * nk * d + n * heads * d * c
    assert a.madds == madds + reductions
    weights = c * heads * d + 2 * c * d + heads * d * c + 2 * 9 * c
    assert a.weights == weights
    assert a.params == weights + 2 * 2 * c  # two BNs
    assert a.label == "attention h4 kv1 s2"


def test_grouped_query_attention_shares_each_kv_head() -> None:
    full = layers("  - {name: a, op: attention, heads: 4, qkv_bias: false, out_bias: false}\n")
    grouped = layers(
        "  - {name: a, op: attention, heads: 4, kv_heads: 2, qkv_bias: false, out_bias: false}\n"
    )
    c, d = 8, 2
    assert full["a"].weights - grouped["a"].weights == 2 * c * 2 * d
    with pytest.raises(SpecError, match="kv_heads=3 must divide heads"):
        layers("  - {op: attention, heads: 4, kv_heads: 3}\n")


def test_bias_table_params_are_embeddings_and_export_per_head_and_key() -> None:
    def graph(table: int) -> Graph:
        spec = f"  - {{name: a, op: attention, heads: 2, bias_table: {table}}}\n"
        return build("t.yaml", text=f"input: [8, 7, 7]\nlayers:\n{spec}")

    plain, table = graph(0), graph(98)  # 2 heads x 49 keys
    for convention in ("trainable", "deployed"):
        extra = cost_graph(table, convention).total().params
        assert extra - cost_graph(plain, convention).total().params == 98
    assert (
        cost_graph(table, "weights").total().params == cost_graph(plain, "weights").total().params
    )
    pytest.importorskip("onnx")
    from lightcost.interop.onnx.exporter import export_graph
    from lightcost.interop.onnx.importer import onnx_spec
    from lightcost.interop.onnx.writer import spec_yaml

    back = build("m.yaml", text=spec_yaml(onnx_spec(export_graph(table), "m.onnx"), "m.onnx"))
    assert cost_graph(back).total().params == cost_graph(table).total().params
    assert cost_graph(back).total().other_ops == cost_graph(table).total().other_ops
    with pytest.raises(SpecError, match="not supported by export: a bias_table of other than"):
        export_graph(graph(50))


def test_norm_params_stay_when_deployed_and_are_no_weights() -> None:
    graph = build(
        "t.yaml", text="input: [8, 4, 4]\nlayers:\n  - {op: layernorm}\n  - {op: scale}\n"
    )
    params = {c: cost_graph(graph, c).total().params for c in ("trainable", "deployed", "weights")}
    assert params == {"trainable": 24, "deployed": 24, "weights": 0}


def test_unfold_and_fold_resize_to_whole_patches_and_back() -> None:
    """timm MobileViT: a 7x7 map, patch 2, is resized to 8x8 (16 tokens) and back."""
    spec = (
        "  - {name: u, op: unfold, patch: 2, resize: true}\n"
        "  - {name: f, op: fold, patch: 2, h: 7, resize: true}\n"
    )
    costs = layers(spec, "[8, 7, 7]")
    assert costs["u"].out_shape == (8, 4, 16)
    assert costs["u"].other_ops == 7 * 8 * 8 * 8
    assert costs["f"].out_shape == (8, 7, 7)
    assert costs["f"].other_ops == 7 * 8 * 7 * 7
    by_input = layers(spec.replace("h: 7, ", "from: [u, input], "), "[8, 7, 7]")
    assert by_input["f"].out_shape == (8, 7, 7)
    assert by_input["f"].other_ops == costs["f"].other_ops
    even = layers(spec.replace("h: 7", "h: 8"), "[8, 8, 8]")
    assert even["u"].other_ops == even["f"].other_ops == 0
    with pytest.raises(SpecError, match="multiples of 2, got 7x7"):
        layers("  - {op: unfold, patch: 2}\n", "[8, 7, 7]")


def test_token_ops_shapes_and_errors() -> None:
    costs = layers("  - {name: t, op: unfold}\n  - {name: c, op: cls_token, tokens: 2}\n")
    assert costs["c"].out_shape == (8, 1, 258)
    assert costs["c"].params == 16
    with pytest.raises(SpecError, match=r"cls_token needs a token sequence \(D, 1, N\)"):
        layers("  - {op: cls_token}\n")
    with pytest.raises(SpecError, match=r"matmul of 8x16x16 and 32x4x16 needs \(C, M, K\)"):
        layers("  - {name: r, op: reshape, h: 4, w: 16}\n  - {op: matmul, from: [input, r]}\n")


def test_an_unknown_activation_is_not_supported_without_a_guess() -> None:
    with pytest.raises(SpecError, match=r"unknown activation 'elu': not supported \(lightcost"):
        layers("  - {op: conv, k: 1, out: 8, act: elu}\n")


def test_the_worked_examples_cost_what_the_docs_say() -> None:
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("## Transformers and tokens") : text.index("## Width multiplier")]
    blocks = re.findall(r"```yaml\n(.*?)```", section, re.S)
    vit = analyze("v.yaml", text=f"input: [3, 224, 224]\n{blocks[0]}")
    attention = [layer for layer in vit.layers if layer.op == "attention"]
    assert attention[0].madds == 524_391_936 and attention[0].params == 2_362_368
    assert vit.total().params == 86_567_656 and vit.total().madds == 17_563_828_224
    mvit = {layer.name: layer for layer in analyze(
        "m.yaml", text=f"input: [64, 32, 32]\nlayers:\n{blocks[1]}").layers}  # fmt: skip
    assert mvit["patches"].out_shape == (96, 4, 256) and mvit["map"].out_shape == (96, 32, 32)
    assert mvit["attn"].madds == 88_080_384
    for number in ("524,391,936", "2,362,368", "88,080,384", "239,075,328"):
        assert number in section


@pytest.mark.parametrize("name", ["attention", "layernorm", "groupnorm", "fold", "cls_token"])
def test_an_exported_op_imports_back_as_itself(name: str) -> None:
    """The importer recognizes the op's ONNX form (attention: its region of nodes)."""
    pytest.importorskip("onnx")
    from test_ops import example

    from lightcost.interop.onnx.exporter import export_graph
    from lightcost.interop.onnx.importer import onnx_spec
    from lightcost.interop.onnx.writer import spec_yaml

    graph = build(f"{name}.yaml", text=example(name))
    back = build("m.yaml", text=spec_yaml(onnx_spec(export_graph(graph), "m.onnx"), "m.onnx"))
    assert [n.op for n in back.nodes] == [n.op for n in graph.nodes]
    if name == "attention":  # heads, kv_heads, head and value dims, reductions, tokens
        assert [n.attrs for n in back.nodes][1:] == [n.attrs for n in graph.nodes][1:]


def test_isqrt_of_an_array_rounds_down_as_math_isqrt() -> None:
    """A sweep's fold takes the same square root as one configuration: N = 8 tokens of
    patch 4 fold to 2 x 4 patches either way (it was 3 in the array path, then an error)."""
    import math

    import numpy as np

    from lightcost.ops.tokens import _fold_shape, isqrt

    n: Any = np.array([*range(10_000), 2**36 - 1, 2**36, 2**36 + 1], dtype=np.int64)
    roots: Any = isqrt(n)
    assert roots.tolist() == [math.isqrt(int(v)) for v in n]
    attrs: dict[str, Any] = {"patch": 4, "h": 0, "w": 0, "resize": False}
    arrays: Any = (np.array([4, 4]), np.array([16, 16]), np.array([8, 16]))
    vector: Any = _fold_shape(attrs, [arrays])
    assert [v.tolist() for v in vector] == [[4, 4], [8, 16], [16, 16]]
    assert _fold_shape(attrs, [(4, 16, 8)]) == (4, 8, 16)
