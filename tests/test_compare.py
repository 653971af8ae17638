"""`lightcost compare`: against the baseline, grids (MobileNetV1 Tables 6 and 7), several specs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import Invoke
from lightcost import analyze

# TF-slim mobilenet_v1.py MOBILENETV1_CONV_DEFS: (stride, output channels) of the 13 separable
# layers after the 3x3 stem conv (32 channels, stride 2); depth(d) = max(int(d * alpha), 8).
SEPARABLE = (
    [(1, 64), (2, 128), (1, 128), (2, 256), (1, 256), (2, 512)]
    + [(1, 512)] * 5
    + [
        (2, 1024),
        (1, 1024),
    ]
)


def mobilenet_v1_by_hand(alpha: float, res: int, classes: int = 1000) -> tuple[int, int]:
    """Trainable params (weights, BN gamma+beta, FC bias) and MAdds, from the paper's formulas."""

    def depth(c: int) -> int:
        return max(int(c * alpha), 8)

    size = -(-res // 2)
    channels = depth(32)
    params = 3 * 3 * 3 * channels + 2 * channels
    madds = 3 * 3 * 3 * channels * size * size
    for stride, out in SEPARABLE:
        size = -(-size // stride)
        params += 9 * channels + 2 * channels  # depthwise 3x3 + BN
        madds += 9 * channels * size * size
        params += channels * depth(out) + 2 * depth(out)  # pointwise 1x1 + BN
        madds += channels * depth(out) * size * size
        channels = depth(out)
    params += channels * classes + classes  # FC with bias
    madds += channels * classes
    return params, madds


def test_versus_baseline_pinned_to_hand_calculation(invoke: Invoke, tmp_path: Path) -> None:
    params, madds = mobilenet_v1_by_hand(0.75, 160)
    assert (params, madds) == (2_585_560, 166_396_800)  # about 2.6 M and 166 M (issue 4)
    base_params, base_madds = mobilenet_v1_by_hand(1.0, 224)
    result = invoke("compare", "--width", "0.75", "--res", "160", "-f", "json")
    document = json.loads(result.stdout)
    assert document["spec"] == "mobilenet_v1"
    assert document["baseline"] == {"width": 1.0, "resolution": 224, "variant": ""}
    figures = document["figures"]
    assert figures["params"]["value"] == params
    assert figures["madds"]["value"] == madds
    assert figures["madds"]["baseline"] == base_madds
    assert figures["params"]["baseline"] == base_params
    # MobileNetV1 Sec. 3.2-3.3: MAdds ~ alpha^2 rho^2
    assert figures["madds"]["predicted"] == pytest.approx(0.75**2 * (160 / 224) ** 2)
    assert figures["madds"]["ratio"] == pytest.approx(madds / base_madds)


def test_versus_table_runs_from_any_directory(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke("compare", "--width", "0.75", "--res", "160")
    assert result.exit_code == 0
    out = result.stdout
    for text in ("baseline (1, 224)", "(0.75, 160)", "2,585,560", "166,396,800", "0.2870"):
        assert text in out


def test_device_adds_latency(invoke: Invoke) -> None:
    result = invoke(
        "compare", "mobilenet_v2", "shufflenet_v2", "--device", "gtx1080ti", "-f", "json"
    )
    models = json.loads(result.stdout)["models"]
    assert all(m["latency"] > 0 for m in models)
    assert isinstance(models[0]["latency"], float)  # seconds, not truncated to an int
    needs_device = invoke("compare", "--figures", "latency")
    assert needs_device.exit_code == 2
    assert "needs --device" in needs_device.stderr


# MobileNetV1 paper (arXiv 1704.04861) Table 6 (width at 224) and Table 7 (resolution at width
# 1.0): million MAdds and million params, with the FC; params as the paper counts them (weights).
TABLE_6 = {1.0: (569, 4.2), 0.75: (325, 2.6), 0.5: (149, 1.3), 0.25: (41, 0.5)}
TABLE_7 = {224: 569, 192: 418, 160: 290, 128: 186}


def test_grid_reproduces_tables_6_and_7(invoke: Invoke) -> None:
    result = invoke(
        "compare", "--width", "1,0.75,0.5,0.25", "--res", "224,192,160,128",
        "--params", "weights", "-f", "json",
    )  # fmt: skip
    cells = {(c["width"], c["resolution"]): c for c in json.loads(result.stdout)["configurations"]}
    assert len(cells) == 16
    for width, (madds, params) in TABLE_6.items():
        assert abs(cells[(width, 224)]["madds"] / 1e6 - madds) < 1
        assert abs(cells[(width, 224)]["params"] / 1e6 - params) < 0.05
    for res, madds in TABLE_7.items():
        assert abs(cells[(1.0, res)]["madds"] / 1e6 - madds) < 1
    text = invoke("compare", "--width", "1,0.75", "--res", "224,128").stdout
    assert "mobilenet_v1: MAdds\n" in text and "568,740,352" in text  # exact when it fits
    assert "(M)" not in text
    narrow = invoke("compare", "--width", "1,0.75,0.5,0.25", "--res", "96:320:16")
    assert "569M" in narrow.stdout  # 160 columns: 15 resolutions of exact counts do not fit


def test_several_specs_side_by_side(invoke: Invoke) -> None:
    result = invoke(
        "compare", "mobilenet_v2", "shufflenet_v2@1.5x", "mobilenet_v3_small", "-f", "json"
    )
    document = json.loads(result.stdout)
    labels = [m["label"] for m in document["models"]]
    assert labels == ["mobilenet_v2", "shufflenet_v2 1.5x", "mobilenet_v3_small"]
    # torchvision "num_params" (weights metadata) of mobilenet_v2, shufflenet_v2_x1_5 and
    # mobilenet_v3_small, in mobilenetv2.py, shufflenetv2.py and mobilenetv3.py of
    # https://github.com/pytorch/vision/tree/main/torchvision/models
    assert [m["params"] for m in document["models"]] == [3_504_872, 3_503_624, 2_542_856]
    assert document["best"]["madds"] == ["mobilenet_v3_small"]
    table = invoke("compare", "mobilenet_v2", "shufflenet_v2@1.5x").stdout
    assert "295,759,392 *" in table  # fewer MAdds than mobilenet_v2's 300,774,272


def test_compare_usage_errors(invoke: Invoke) -> None:
    bad = invoke("compare", "mobilenet_v1", "mobilenet_v2", "--width", "1,0.5")
    assert bad.exit_code == 2
    assert "one width and one resolution" in bad.stderr
    assert invoke("compare", "--figures", "speed").exit_code == 2
    assert invoke("compare", "--width", "0.5:0.25:0.1").exit_code == 2
    missing = invoke("compare", "no_such_net")
    assert missing.exit_code == 2
    assert "no spec file 'no_such_net'" in missing.stderr


def test_api_versus_matches_table() -> None:
    from lightcost.analysis.compare import versus
    from lightcost.api import Config

    result = versus("mobilenet_v2", Config(width=0.5, resolution=160))
    config = analyze("mobilenet_v2", width=0.5, resolution=160).total()
    madds = next(r for r in result.rows if r.figure == "madds")
    assert madds.value == config.madds


def test_grid_honours_execution_and_figures(invoke: Invoke) -> None:
    grid = invoke(
        "compare", "--width", "1,0.5", "--exec", "unfused", "--figures", "mac", "-f", "json"
    )
    cells = {c["width"]: c for c in json.loads(grid.stdout)["configurations"]}
    single = invoke(
        "compare", "--width", "0.5", "--exec", "unfused", "--figures", "mac", "-f", "json"
    )
    assert cells[0.5]["mac"] == json.loads(single.stdout)["figures"]["mac"]["value"]
    assert cells[1.0]["mac"] == analyze("mobilenet_v1", execution="unfused").total().mac
    latency = invoke("compare", "-w", "1,0.5", "--device", "gtx1080ti", "--figures", "latency")
    assert "mobilenet_v1: Estimated latency\n" in latency.stdout
    assert "0.302 ms" in latency.stdout


def test_variant_suffix_works_for_one_spec(invoke: Invoke) -> None:
    result = invoke("compare", "shufflenet_v2@0.5x", "--res", "160", "-f", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["config"]["variant"] == "0.5x"
    # torchvision shufflenet_v2_x0_5: 1,366,792 params at any resolution
    assert document["figures"]["params"]["value"] == 1_366_792


def test_fixed_width_rule_makes_width_a_visible_no_op(invoke: Invoke) -> None:
    result = invoke("compare", "shufflenet_v2", "--width", "0.5", "-f", "json")
    document = json.loads(result.stdout)
    assert document["config"]["width"] == 1.0  # the width actually built
    assert "fixed width rule" in result.stderr
