"""The ONNX corpus: real PyTorch exports (weights stripped) against counts measured in torch.

``tests/onnx_corpus/`` is written by ``tools/onnx_corpus.py`` (torch, torchvision
and timm; never run here): torchvision and timm models exported by the classic
exporter (BN folded), some also by the dynamo exporter and with BN kept
(``.unfolded``), their weights deleted. ``reference.json`` holds what torch
counted for each (docs/onnx.md "The corpus"). For every file lightcost must give

* MAdds == torch's multiply-adds of Conv2d and Linear (forward hooks) and of the
  matrix products between activations (attention's QK^T and AV): lightcost counts
  MAdds of convolutions, fully connected layers and those products only (pooling,
  BN, bias, activations, softmax and norms are other ops), so the two counts are
  the same quantity;
* ``weights`` params == the weights of every Conv2d and Linear;
* ``trainable`` params == ``expected_params``: PyTorch's count for a file that
  keeps BN; for a folded file, less gamma and beta of every BN that read a conv's
  output (2 per channel), plus a bias per channel where that conv had none
  (:func:`test_reference_rule`).

Files lightcost cannot import yet are in :data:`KNOWN_FAILING` with their first
error (``tools/onnx_corpus_report.py --known-failing`` prints the dict): they
must fail with that error (``xfail(strict=True)``), so one that imports, or fails
otherwise, turns the test red until its entry is removed or updated.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from conftest import Invoke
from lightcost.api import build
from lightcost.core.errors import SpecError
from lightcost.cost.engine import PARAM_CONVENTIONS, cost_graph
from lightcost.render.table import conventions

pytest.importorskip("onnx")

CORPUS = Path(__file__).resolve().parent / "onnx_corpus"
REFERENCE: dict[str, Any] = json.loads((CORPUS / "reference.json").read_text())
FILES: dict[str, dict[str, Any]] = REFERENCE["files"]

# file -> its first error (first_error): the importer's to-do list.
KNOWN_FAILING: dict[str, str] = {}


def first_error(exc: SpecError) -> str:
    """An error as KNOWN_FAILING records it: lightcost's words without the file's path, the
    text of a third-party exception (onnx's wording varies
    with its version)."""
    message = re.sub(rf"^{re.escape(str(CORPUS))}/[^:]*: ", "", str(exc))
    return re.sub(r" \(\w+(Error|Exception): .*", "", message)


def cases() -> list[Any]:
    marks = {
        file: pytest.mark.xfail(strict=True, raises=SpecError, reason=error)
        for file, error in KNOWN_FAILING.items()
    }
    return [pytest.param(file, marks=marks.get(file, ()), id=file) for file in sorted(FILES)]


@pytest.mark.parametrize("file", cases())
def test_corpus_file(file: str) -> None:
    path, ref = CORPUS / file, FILES[file]
    try:
        graph = build(str(path))
    except SpecError as exc:
        if file in KNOWN_FAILING and first_error(exc) != KNOWN_FAILING[file]:
            raise AssertionError(f"{file} now fails otherwise: {exc}") from None
        raise
    trainable, weights = cost_graph(graph, "trainable"), cost_graph(graph, "weights")
    assert trainable.total().madds == ref["madds"]
    assert weights.total().params == ref["conv_linear_weights"]
    assert trainable.total().params == ref["expected_params"]


def test_known_failing_are_corpus_files() -> None:
    assert set(KNOWN_FAILING) <= set(FILES)


@pytest.mark.parametrize("file", sorted(FILES))
def test_reference_rule(file: str) -> None:
    """The expected params follow from torch's counts; the exported graph holds as many."""
    ref = FILES[file]
    folded = 2 * ref["bn_after_conv"] - ref["bn_after_biasless_conv"] if ref["bn_folded"] else 0
    assert ref["expected_params"] == ref["params"] - folded == ref["onnx_params"]
    assert (CORPUS / file).stat().st_size == ref["bytes"]
    assert not (CORPUS / f"{file}.data").exists()


FOLDED_TEXT = "as stored in the file: BN folded by the exporter"


@pytest.mark.parametrize("file", sorted(set(FILES) - set(KNOWN_FAILING)))
def test_params_footer_says_whether_the_exporter_folded_bn(file: str) -> None:
    """A file whose exporter folded BN into convs says its trainable params are the stored
    ones; a file that keeps BN (``.unfolded``) or never had BN after a conv keeps PyTorch's."""
    ref = FILES[file]
    note = conventions(cost_graph(build(str(CORPUS / file)), "trainable"), "madds")["params"]
    folded = ref["bn_folded"] and ref["bn_after_conv"] > 0
    assert (FOLDED_TEXT in note) == folded, note
    if not folded:
        assert note == f"trainable: {PARAM_CONVENTIONS['trainable']}"


@pytest.mark.parametrize("fmt", ["table", "json", "markdown"])
def test_every_format_shows_the_folded_footer(invoke: Invoke, fmt: str) -> None:
    full = ["--conventions"] if fmt == "table" else []
    folded = invoke("table", str(CORPUS / "resnet18.onnx"), "--format", fmt, *full)
    kept = invoke("table", str(CORPUS / "resnet18.unfolded.onnx"), "--format", fmt, *full)
    assert folded.exit_code == kept.exit_code == 0, folded.stderr + kept.stderr
    assert FOLDED_TEXT in folded.stdout
    assert FOLDED_TEXT not in kept.stdout
    assert "all trainable parameters as PyTorch counts them" in kept.stdout
