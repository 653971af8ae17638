"""Golden tests for the bundled GhostNet, MixNet-S and MobileNetV4-Conv-Small specs.

The references are timm 1.0.31's models (``timm.create_model(NAME)``), counted
by ``measure()`` of tools/onnx_corpus.py: params ``sum(p.numel() for p in
model.parameters())`` (PyTorch's trainable count), MAdds the multiply-adds of
every Conv2d and Linear without bias (forward hooks), at 224 x 224 and 160 x 160.
Both are recorded in tests/onnx_corpus/reference.json (``madds`` and
``madds_at``, beside the corpus exports of the same models). Sources of the architectures:
https://github.com/huggingface/pytorch-image-models/blob/main/timm/models/ghostnet.py,
https://github.com/huggingface/pytorch-image-models/blob/main/timm/models/efficientnet.py
(``_gen_mixnet_s``) and
https://github.com/huggingface/pytorch-image-models/blob/main/timm/models/mobilenetv3.py
(``_gen_mobilenet_v4``, ``mobilenetv4_conv_small``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lightcost import analyze

CORPUS = Path(__file__).resolve().parent / "onnx_corpus"
REFERENCE = json.loads((CORPUS / "reference.json").read_text())["files"]

# spec -> (timm model, params, MAdds at 224, MAdds at 160)
TIMM = {
    "ghostnet": ("ghostnet_100", 5_182_508, 141_150_512, 73_978_544),
    "mixnet_s": ("mixnet_s", 4_134_606, 239_173_360, 123_155_056),
    "mobilenet_v4_conv_small": ("mobilenetv4_conv_small", 3_774_024, 186_005_568, 96_129_600),
}


@pytest.mark.parametrize("spec", list(TIMM))
def test_exact_against_timm(spec: str) -> None:
    _, params, madds, madds_160 = TIMM[spec]
    total = analyze(spec).total()
    assert (total.params, total.madds) == (params, madds)
    at_160 = analyze(spec, resolution=160).total()
    assert (at_160.params, at_160.madds) == (params, madds_160)


@pytest.mark.parametrize("spec", list(TIMM))
def test_the_corpus_export_records_the_same_model(spec: str) -> None:
    """reference.json (the corpus export's torch counts) holds the same figures, and the spec's
    conv and linear weights are the model's."""
    model, params, madds, madds_160 = TIMM[spec]
    ref = REFERENCE[f"{model}.onnx"]
    assert (ref["params"], ref["madds"], ref["madds_at"]) == (params, madds, {"160": madds_160})
    assert analyze(spec, params="weights").total().params == ref["conv_linear_weights"]


@pytest.mark.parametrize("spec", list(TIMM))
def test_the_spec_and_the_imported_export_agree(spec: str) -> None:
    """The spec written from timm's source and the corpus ONNX export cost the same MAdds."""
    pytest.importorskip("onnx")
    model = TIMM[spec][0]
    imported = analyze(str(CORPUS / f"{model}.onnx"), params="weights").total()
    written = analyze(spec, params="weights").total()
    assert (written.madds, written.params) == (imported.madds, imported.params)


def test_ghostnet_uses_ghost_modules_and_mixnet_mixed_kernels() -> None:
    ghost = analyze("ghostnet")
    ops = {layer.op for layer in ghost.layers}
    assert {"concat", "se", "dwconv"} <= ops
    mix = analyze("mixnet_s")
    kernels = {layer.label.split()[1] for layer in mix.layers if layer.op == "dwconv"}
    assert kernels == {"3x3", "5x5", "7x7", "9x9", "11x11"}
    assert sum(layer.op == "slice" for layer in mix.layers) > 0


def test_ghost_module_narrow_is_skipped_at_even_widths() -> None:
    """GhostModule keeps the first `out` of its 2 x ceil(out / 2) channels: with timm's
    divisor 4 that is every channel, so the spec's `slice` (a copy) is skipped."""
    for width in (0.5, 1.0, 1.3):
        cost = analyze("ghostnet", width=width)
        assert not [layer for layer in cost.layers if layer.op == "slice"]
        assert all(layer.out_shape[0] % 4 == 0 for layer in cost.layers if layer.op == "concat")
