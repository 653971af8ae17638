"""Specs written from docs/spec-language.md alone (issue 14's acceptance), exact against timm.

Each spec in tests/docs_trial/ was written by reading only README.md, docs/*.md and
the model's timm source (URL in the spec's ``source``), never the bundled specs.
Reference counts were measured in torch 2.14.1 with timm 1.0.31 by
``measure()`` of tools/onnx_corpus.py (trainable params; MAdds of Conv2d, Linear and
matrix products between two activations, no bias), on random weights in eval mode,
timm's fused attention off::

    python -c "import sys, torch, timm, timm.layers; sys.path.insert(0, 'tools');
    from onnx_corpus import measure; timm.layers.set_fused_attn(False);
    m = timm.create_model(NAME, pretrained=False).eval();
    print(measure(m, torch.randn(1, 3, SIZE, SIZE)))"

Models: https://github.com/huggingface/pytorch-image-models/tree/main/timm/models
(deit.py, metaformer.py, levit.py, swin_transformer.py, mobilevit.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lightcost.api import analyze

HERE = Path(__file__).resolve().parent
DOC = HERE.parent / "docs" / "spec-language.md"

# spec file, input size, timm model, its measured trainable params and MAdds
MEASURED = [
    ("deit_tiny_distilled", 224, "deit_tiny_distilled_patch16_224", 5_910_800, 1_261_003_776),
    ("poolformer_s12", 224, "poolformer_s12", 11_915_176, 1_812_267_008),
    ("poolformer_s12", 160, "poolformer_s12", 11_915_176, 924_876_800),
    ("levit_128s", 224, "levit_128s", 7_777_058, 304_660_832),
    ("swin_tiny", 224, "swin_tiny_patch4_window7_224", 28_288_354, 4_490_566_656),
    ("mobilevitv2_050", 256, "mobilevitv2_050", 1_370_593, 464_594_944),
]


@pytest.mark.parametrize(("spec", "size", "model", "params", "madds"), MEASURED)
def test_a_spec_written_from_the_docs_is_exact(
    spec: str, size: int, model: str, params: int, madds: int
) -> None:
    total = analyze(str(HERE / "docs_trial" / f"{spec}.yaml"), resolution=size).total()
    assert (total.params, total.madds) == (params, madds), model


def section_blocks() -> tuple[str, list[str]]:
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("## Patterns for transformers") : text.index("## Width multiplier")]
    return section, re.findall(r"```yaml\n(.*?)```", section, re.S)


def test_the_attention_out_of_its_parts_costs_what_the_docs_say() -> None:
    section, blocks = section_blocks()
    parts = analyze("p.yaml", text=f"input: [128, 14, 14]\n{blocks[0]}")
    assert (parts.total().madds, parts.total().params) == (17_009_664, 50_704)
    composite = analyze(
        "c.yaml",
        text="input: [128, 1, 196]\nlayers:\n"
        "  - {op: attention, heads: 4, head_dim: 16, v_dim: 32}\n",
    )
    assert composite.total().madds == 17_009_664  # same products, biases instead of BN
    biases = next(layer for layer in parts.layers if layer.name == "attn_biases")
    assert biases.params == 4 * 196
    for number in ("17,009,664", "50,704", "145,108,992", "37,755"):
        assert number in section


def test_the_window_attention_and_the_two_heads_cost_what_the_docs_say() -> None:
    _, blocks = section_blocks()
    swin = "blocks:\n  swin:\n    params: {h: int}\n    nodes:\n" + blocks[1]
    window = analyze(
        "w.yaml", text=f"input: [96, 56, 56]\n{swin}layers:\n  - {{use: swin, with: {{h: 3}}}}\n"
    )
    attention = next(layer for layer in window.layers if layer.op == "attention")
    assert (attention.madds, attention.params) == (145_108_992, 37_755)
    assert window.layers[-1].out_shape == (96, 56, 56)
    heads = analyze(
        "h.yaml",
        text="input: [192, 1, 4]\nlayers:\n  - {name: norm, op: layernorm}\n" + blocks[2],
    )
    assert heads.total().params == 2 * 192 + 2 * (192 * 1000 + 1000)
    assert heads.layers[-1].out_shape == (1000, 1, 1)
