"""Every bundled spec and variant builds across widths and resolutions; `lightcost models`."""

from __future__ import annotations

import json

import pytest

from conftest import Invoke
from lightcost import analyze
from lightcost.cli.models import catalogue
from lightcost.spec.expand import variants
from lightcost.spec.files import bundled_names, read_spec

WIDTHS = (0.25, 0.35, 0.5, 0.75, 1.0, 1.4, 2.0)
RESOLUTIONS = (96, 128, 160, 192, 224, 256, 320)
MEMBERS = [
    (name, variant or None)
    for name in bundled_names()
    for variant in (variants(read_spec(name)[0]) or {"": ""})
]


@pytest.mark.parametrize(("spec", "variant"), MEMBERS)
def test_builds_everywhere_and_params_ignore_resolution(spec: str, variant: str | None) -> None:
    for width in WIDTHS:
        params = {
            analyze(spec, width=width, resolution=res, variant=variant).total().params
            for res in RESOLUTIONS
        }
        assert len(params) == 1, (spec, variant, width, params)
        assert params.pop() > 0


def test_models_lists_every_spec_and_variant(invoke: Invoke) -> None:
    result = invoke("models", "--format", "json")
    entries = json.loads(result.stdout)["models"]
    assert [(e["spec"], e["variant"] or None) for e in entries] == MEMBERS
    v2 = {e["variant"]: e for e in entries if e["spec"] == "shufflenet_v2"}
    # torchvision ShuffleNet_V2_X1_5_Weights "num_params": 3503624,
    # https://github.com/pytorch/vision/blob/main/torchvision/models/shufflenetv2.py
    assert v2["1.5x"]["params"] == 3_503_624
    assert all(e["description"] for e in entries)
    table = invoke("models", "--wide").stdout
    assert "mobilenet_v2" in table
    assert "3,504,872" in table  # torchvision mobilenet_v2


def test_catalogue_matches_table(invoke: Invoke) -> None:
    first = catalogue()[0]
    result = invoke("table", str(first["spec"]), "-f", "json")
    assert json.loads(result.stdout)["totals"]["madds"] == first["madds"]


@pytest.mark.parametrize("alias", ["1.5x", "1.50x", "1.5"])
def test_variant_aliases(alias: str) -> None:
    assert analyze("shufflenet_v2", variant=alias).graph.variant == "1.5x"
