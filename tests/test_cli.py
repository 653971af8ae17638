"""`lightcost table`: formats, options, conventions footer, bundled names from anywhere."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import Invoke
from lightcost import analyze


def test_table_shows_layers_totals_and_conventions(invoke: Invoke) -> None:
    result = invoke("table", "mobilenet_v1", "--params", "weights", "--conventions")
    assert result.exit_code == 0, result.output
    out = result.stdout
    for text in ("Conv2d_0", "Conv2d_13_pointwise", "Logits", "4,209,088", "568,740,352"):
        assert text in out
    assert "params: weights: conv and FC weights only" in out
    assert "width_rule: max(int(c*alpha), 8)" in out
    brief = invoke("table", "mobilenet_v1", "--params", "weights").stdout.splitlines()[-1]
    assert brief.startswith("MAdds, batch 1, params weights, MAC fused fp32, width max(")
    assert brief.endswith("(all: --conventions)")


def test_json_carries_every_layer_and_figure(invoke: Invoke) -> None:
    result = invoke("table", "mobilenet_v1", "--format", "json", "--width", "0.5", "--res", "160")
    document = json.loads(result.stdout)
    api = analyze("mobilenet_v1", width=0.5, resolution=160)
    assert document["config"]["width"] == 0.5
    assert document["config"]["resolution"] == 160
    assert len(document["layers"]) == len(api.layers)
    assert document["totals"]["madds"] == api.total().madds
    assert document["totals"]["flops"] == 2 * api.total().madds
    assert document["totals"]["params"] == api.total().params
    first = document["layers"][0]
    assert first["name"] == "Conv2d_0"
    assert set(first) >= {"params", "weights", "biases", "bn", "madds", "other_ops", "mac"}
    assert len(document["separable"]) == 13


def test_csv_one_row_per_layer(invoke: Invoke) -> None:
    result = invoke("table", "mobilenet_v1", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    api = analyze("mobilenet_v1")
    assert len(rows) == len(api.layers)
    assert sum(int(r["madds"]) for r in rows) == api.total().madds
    assert rows[1]["name"] == "Conv2d_1_depthwise"
    assert rows[1]["block"] == "Conv2d_1"
    assert rows[1]["out_shape"] == "32x112x112"


def test_markdown_and_flops(invoke: Invoke) -> None:
    result = invoke("table", "mobilenet_v1", "--format", "markdown", "--unit", "flops")
    assert "| Layer | Op | Output | Params | % params | FLOPs | % FLOPs |" in result.stdout
    assert f"{2 * analyze('mobilenet_v1').total().madds:,}" in result.stdout
    assert "unit: FLOPs \\(= 2 x MAdds\\)" in result.stdout


def test_by_op_reproduces_mobilenet_v1_table_2(invoke: Invoke) -> None:
    # MobileNetV1 paper Table 2 (params counted as conv + FC weights): Conv 1x1 94.86 % MAdds,
    # 74.59 % params; Conv DW 3x3 3.06 % / 1.06 %; Conv 3x3 1.91 % (printed as 1.19 %, a digit
    # swap) / 0.02 %; Fully Connected 0.18 % / 24.33 %.
    result = invoke("table", "mobilenet_v1", "--by", "op", "--params", "weights", "-f", "markdown")
    rows = {line.split("|")[1].strip(): line for line in result.stdout.splitlines() if "|" in line}
    expected = {
        "Conv 1x1": ("74.59%", "94.86%"),
        "Conv DW 3x3": ("1.06%", "3.06%"),
        "Conv 3x3": ("0.02%", "1.91%"),
        "Fully Connected": ("24.33%", "0.18%"),
    }
    for layer_type, (params_share, madds_share) in expected.items():
        cells = [c.strip() for c in rows[layer_type].split("|")]
        assert (cells[4], cells[6]) == (params_share, madds_share)


def test_depth_collapses_blocks(invoke: Invoke) -> None:
    result = invoke("table", "mobilenet_v1", "--depth", "1", "-f", "markdown")
    assert "| Conv2d\\_1 | block \\(2 layers\\) | 64x112x112 |" in result.stdout
    assert "depthwise" not in result.stdout


def test_fold_bn(invoke: Invoke) -> None:
    folded = json.loads(invoke("table", "mobilenet_v1", "--fold-bn", "-f", "json").stdout)
    weights = analyze("mobilenet_v1", params="weights").total().params
    # every conv's BN becomes one bias per output channel; the FC keeps its bias
    channels = sum(layer.out_shape[0] for layer in analyze("mobilenet_v1").layers if layer.bn)
    assert folded["totals"]["params"] == weights + channels + 1000


def test_explain_shows_the_separable_ratio(invoke: Invoke) -> None:
    result = invoke("table", "mobilenet_v1", "--explain")
    assert "1/N + 1/Dk^2" in result.stdout
    assert "0.113064" in result.stdout  # 1/512 + 1/9


def test_set_and_bad_set(invoke: Invoke) -> None:
    result = invoke("table", "mobilenet_v1", "--set", "classes=1001", "-f", "json")
    assert json.loads(result.stdout)["layers"][-1]["out_shape"] == [1001, 1, 1]
    bad = invoke("table", "mobilenet_v1", "--set", "classes")
    assert bad.exit_code == 2
    assert "NAME=VALUE" in bad.stderr


@pytest.mark.parametrize("args", [["--help"], ["table", "--help"]])
def test_help(invoke: Invoke, args: list[str]) -> None:
    result = invoke(*args)
    assert result.exit_code == 0
    assert "Usage:" in result.stdout


def test_bundled_spec_from_any_directory(tmp_path: Path) -> None:
    # the installed console script, run as a user would, from a directory without specs
    script = Path(sys.executable).with_name("lightcost")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "lightcost"]
    for name in ("mobilenet_v1", "mobilenet_v1.yaml"):
        done = subprocess.run(
            [*command, "table", name, "-f", "csv"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env={**os.environ, "NO_COLOR": "1"},
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert "Conv2d_13_pointwise" in done.stdout


def test_explain_in_markdown(invoke: Invoke) -> None:
    result = invoke("table", "mobilenet_v1", "--explain", "-f", "markdown")
    assert "Depthwise separable vs standard conv" in result.stdout
    assert result.stdout.count("0.113064") >= 2  # 1/512 + 1/9, ratio and formula


def test_set_accepts_exponent_notation(invoke: Invoke) -> None:
    # YAML 1.1 reads 1e3 as text; --set takes it as the number it spells
    result = invoke("table", "mobilenet_v1", "--set", "classes=1e3", "-f", "json")
    assert json.loads(result.stdout)["layers"][-1]["out_shape"] == [1000, 1, 1]
