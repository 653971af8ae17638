"""Issue 14's configuration gaps: non-square resolution, batch, a spec's default width,
its padding convention, text vars holding expressions and framework op names."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lightcost.analysis.budgets import parse_entry
from lightcost.analysis.sweep import row_sides, sweep
from lightcost.api import Config, analyze, build
from lightcost.core.errors import Loc, SpecError
from lightcost.cost.engine import cost_graph
from lightcost.spec.located import parse_yaml

WIDE = """\
name: wide
input: [3, 128, 256]
layers:
  - {name: stem, op: conv, out: 16, k: 3, stride: 2, bn: true, act: relu}
  - {name: body, op: dwconv, k: 3, stride: 2}
  - {op: avgpool, global: true}
  - {op: fc, out: 10}
"""


def shapes(spec: str, **options: Any) -> dict[str, tuple[int, int, int]]:
    graph = build("wide.yaml", text=spec, **options)
    return {node.name: node.out_shape for node in graph.nodes}


def test_a_pair_sets_height_and_width() -> None:
    assert shapes(WIDE)["stem"] == (16, 64, 128)
    found = shapes(WIDE, resolution=(160, 128))
    assert found["stem"] == (16, 80, 64)
    assert found["body"] == (16, 40, 32)
    graph = build("wide.yaml", text=WIDE, resolution=[160, 128])  # a list is a pair too
    assert graph.input_shape == (3, 160, 128)
    assert graph.size == "160x128" and graph.resolution == 160


def test_one_number_is_refused_for_a_non_square_spec() -> None:
    with pytest.raises(SpecError) as info:
        build("wide.yaml", text=WIDE, resolution=64)
    assert "128x256" in str(info.value) and "64x128" in str(info.value)
    with pytest.raises(SpecError, match="pair"):
        build("wide.yaml", text=WIDE, resolution=(0, 5))


def test_res_hxw_on_the_command_line(invoke: Any, tmp_path: Path) -> None:
    spec = tmp_path / "wide.yaml"
    spec.write_text(WIDE)
    result = invoke("table", str(spec), "--res", "160x128")
    assert result.exit_code == 0
    assert "input 3x160x128" in result.stdout and "16x80x64" in result.stdout
    document = json.loads(invoke("table", str(spec), "-r", "160x128", "-f", "json").stdout)
    assert document["config"]["resolution"] == [160, 128]
    refused = invoke("table", str(spec), "--res", "64")
    assert refused.exit_code == 2 and "--res 64x128" in refused.stderr
    bad = invoke("table", str(spec), "--res", "64x")
    assert bad.exit_code == 2 and "HxW" in bad.stderr
    versus = invoke("compare", str(spec), "--res", "64x128")
    assert versus.exit_code == 0 and "(1, 64x128)" in versus.stdout and "rho = 0.5" in versus.stdout
    ranged = invoke("sweep", str(spec), "--res", "64x128:128x256:32x64")
    assert ranged.exit_code == 2 and "not a list" in ranged.stderr
    diff = invoke("diff", str(spec), "--old-res", "64x128", "--new-res", "128x256")
    assert diff.exit_code == 0


@settings(max_examples=25, deadline=None)
@given(
    spec=st.sampled_from(["mobilenet_v2", "shufflenet_v2", "mobilenet_v3_small"]),
    batch=st.integers(1, 64),
    execution=st.sampled_from(["fused", "unfused"]),
)
def test_batch_scales_work_not_params(spec: str, batch: int, execution: str) -> None:
    one = analyze(spec, resolution=96, execution=execution)
    many = analyze(spec, resolution=96, execution=execution, batch=batch)
    total, totals = one.total(), many.total()
    assert totals.madds == batch * total.madds
    assert totals.other_ops == batch * total.other_ops
    assert totals.params == total.params
    assert many.activations.peak == batch * one.activations.peak
    weights = sum(k.weights for layer in one.layers for k in layer.kernels)
    assert weights > 0
    assert totals.mac == batch * (total.mac - weights) + weights  # weights read once
    assert many.batch == batch


def test_latency_follows_the_batch() -> None:
    one, eight = (analyze("mobilenet_v1", device="gtx1080ti", batch=n) for n in (1, 8))
    assert one.total().latency is not None and eight.total().latency is not None
    assert one.total().latency < eight.total().latency < 8 * one.total().latency


def test_batch_is_stated(invoke: Any) -> None:
    result = invoke("table", "mobilenet_v1", "--batch", "8", "--conventions")
    assert result.exit_code == 0
    assert "input 3x224x224  batch 8" in result.stdout
    assert "batch 8 (params and weight traffic once" in result.stdout
    assert "batch" not in invoke("table", "mobilenet_v1").stdout.splitlines()[0]
    document = json.loads(invoke("table", "mobilenet_v1", "--batch", "8", "-f", "json").stdout)
    assert document["config"]["batch"] == 8
    assert invoke("table", "mobilenet_v1", "--batch", "0").exit_code == 2
    with pytest.raises(ValueError, match="batch"):
        cost_graph(build("mobilenet_v1"), batch=0)


def test_budgets_take_batch_and_resolution() -> None:
    entry = parse_yaml("{madds: 1G, batch: 4, resolution: 160x128}", "budgets.yaml")
    budget = parse_entry(entry, Loc("budgets.yaml", 1, 1), "wide.yaml")
    assert budget.as_config() == Config(resolution=(160, 128), batch=4)
    listed = parse_yaml("{madds: 1G, resolution: [160, 128]}", "budgets.yaml")
    assert parse_entry(listed, Loc("budgets.yaml", 1, 1), "x").as_config().resolution == (160, 128)
    for bad in ("{madds: 1G, batch: 0}", "{madds: 1G, resolution: 1x2x3}"):
        with pytest.raises(SpecError):
            parse_entry(parse_yaml(bad, "budgets.yaml"), Loc("budgets.yaml", 1, 1), "x")


TEXT_VARS = """\
input: [3, 32, 32]
vars: {x: "2 * 3", p: "1 if in_h % 2 == 0 else 0", r: "0.5 + 0.25"}
blocks:
  b:
    params: {c: channels, t: float}
    nodes: [{op: conv, k: 1, out: "int(c * t)"}]
layers:
  - {op: conv, out: x, k: 3, padding: p}
  - {use: b, with: {c: x, t: r}}
"""


def test_a_text_var_holding_an_expression_works_where_a_number_does() -> None:
    nodes = build("t.yaml", text=TEXT_VARS).nodes
    assert nodes[0].out_shape == (6, 32, 32) and nodes[0].attrs["padding"] == 1
    assert nodes[1].out_shape == (4, 32, 32)  # int(6 * 0.75)


@pytest.mark.parametrize(
    ("written", "suggested"),
    [
        ("linear", "'fc'"),
        ("nn.Linear", "'fc'"),
        ("Conv2d", "'conv'"),
        ("BatchNorm2d", "'bn'"),
        ("MaxPool2d", "'maxpool'"),
        ("AdaptiveAvgPool2d", "'avgpool' (global: true"),
        ("torch.cat", "'concat'"),
        ("hardswish", "'hswish'"),
        ("convv", "'conv'"),
    ],
)
def test_framework_op_names_suggest_the_lightcost_op(written: str, suggested: str) -> None:
    spec = f"input: [3, 8, 8]\nlayers: [{{op: '{written}'}}]\n"
    with pytest.raises(SpecError, match="did you mean " + suggested.replace("(", r"\(")):
        build("t.yaml", text=spec)


DEFAULT_WIDTH = """\
input: [3, 32, 32]
vars: {alpha: 0.5}
variants:
  "1.0": {vars: {alpha: 1.0}}
  "0.5": {}
variant: "0.5"
layers:
  - {op: conv, out: 32, k: 3}
  - {op: conv, out: "ch(64)", k: 1}
"""


def test_alpha_in_vars_is_the_default_width() -> None:
    graph = build("w.yaml", text=DEFAULT_WIDTH)
    assert graph.width == 0.5 and [n.out_shape[0] for n in graph.nodes] == [16, 32]
    assert "alpha" not in graph.variables
    assert build("w.yaml", text=DEFAULT_WIDTH, variant="1.0").nodes[0].out_shape[0] == 32
    assert build("w.yaml", text=DEFAULT_WIDTH, width=0.25).nodes[0].out_shape[0] == 8
    with pytest.raises(SpecError, match="--width"):
        build("w.yaml", text=DEFAULT_WIDTH, overrides={"alpha": 2})
    with pytest.raises(SpecError, match=r"alpha' must be a number in \(0, 16\]"):
        build("w.yaml", text=DEFAULT_WIDTH.replace("alpha: 0.5", "alpha: 20"))
    with pytest.raises(SpecError, match="reserved"):
        build("w.yaml", text=DEFAULT_WIDTH.replace("{alpha: 0.5}", "{res: 1}"))


PADDED = """\
input: [3, 224, 224]
padding: {convention}
layers:
  - {{op: conv, out: 8, k: 7, stride: 2, padding: 3}}
  - {{op: maxpool, k: 3, stride: 2}}
  - {{op: conv, out: 8, k: 3}}
  - {{op: conv, out: 8, k: [1, 7], dilation: 2}}
  - {{op: avgpool, k: 2, stride: 2}}
"""


@pytest.mark.parametrize(
    ("convention", "sizes"),
    [
        ("same", [(112, 112), (56, 56), (56, 56), (56, 56), (28, 28)]),
        ("pytorch", [(112, 112), (55, 55), (53, 53), (53, 41), (26, 20)]),  # nn.*2d padding=0
        ("symmetric", [(112, 112), (56, 56), (56, 56), (56, 56), (28, 28)]),  # (k-1)//2 * d
    ],
)
def test_padding_conventions(convention: str, sizes: list[tuple[int, int]]) -> None:
    graph = build("p.yaml", text=PADDED.format(convention=convention))
    assert [n.out_shape[1:] for n in graph.nodes] == sizes
    assert graph.padding == convention


def test_symmetric_padding_is_what_torchvision_writes() -> None:
    graph = build("p.yaml", text=PADDED.format(convention="symmetric"))
    assert [n.attrs["padding"] for n in graph.nodes][1:4] == [1, 1, (0, 6)]


def test_the_padding_convention_is_stated_and_checked(invoke: Any, tmp_path: Path) -> None:
    spec = tmp_path / "p.yaml"
    spec.write_text(PADDED.format(convention="pytorch"))
    assert "padding pytorch (all: --conventions)" in invoke("table", str(spec)).stdout
    full = invoke("table", str(spec), "--conventions").stdout
    assert "padding: pytorch: 0 unless a layer says otherwise" in full
    document = json.loads(invoke("table", str(spec), "-f", "json").stdout)
    assert document["conventions"]["padding"].startswith("pytorch: ")
    spec.write_text(PADDED.format(convention="torch"))
    result = invoke("table", str(spec))
    assert result.exit_code == 2 and "did you mean 'pytorch'" in result.stderr


def test_defaults_and_layers_win_over_the_convention() -> None:
    spec = PADDED.format(convention="pytorch") + "defaults: {maxpool: {padding: same}}\n"
    assert build("p.yaml", text=spec).nodes[1].out_shape[1:] == (56, 56)


DEPTH = """\
input: [3, 32, 32]
vars: {depth: 1.1}
blocks:
  b:
    params: {c: channels}
    nodes: [{op: conv, k: 3, out: c}]
layers:
  - {repeat: b, n: "ceil(2 * depth)", with: {c: 8}}
  - repeat: b
    columns: [c, n]
    rows: [[16, "ceil(3 * depth)"]]
"""


def test_the_repeat_count_takes_expressions() -> None:
    """EfficientNet's depth scaling: ceil(2 * 1.1) = 3 and ceil(3 * 1.1) = 4 repeats."""
    assert len(build("d.yaml", text=DEPTH).nodes) == 3 + 4


def test_sweeps_of_hxw_equal_the_scalar_path() -> None:
    resolutions: list[Any] = [224, (160, 128), (96, 320), (128, 160)]
    result = sweep("mobilenet_v2", [1.0, 0.5], resolutions)
    assert not result.errors and len(result.rows) == 8
    for row in result.rows:
        pair = row_sides(row)
        res = pair[0] if pair[0] == pair[1] else pair
        cost = analyze("mobilenet_v2", width=row["width"], resolution=res)
        assert (row["madds"], row["params"]) == (cost.total().madds, cost.total().params)
        assert row["peak_activation"] == cost.activations.peak


def test_grids_of_a_non_square_spec(invoke: Any, tmp_path: Path) -> None:
    spec = tmp_path / "wide.yaml"
    spec.write_text(WIDE)
    own = invoke("compare", str(spec), "--width", "1,0.5", "--figures", "madds")
    assert own.exit_code == 0 and "128x256" in own.stdout and "error" not in own.stdout
    out = tmp_path / "rows.json"
    listed = invoke("sweep", str(spec), "-w", "1,0.5", "-r", "64x128,128x256", "-o", str(out))
    assert listed.exit_code == 0
    rows = json.loads(out.read_text())["configurations"]
    assert {(r["resolution"], r["resolution_w"]) for r in rows} == {(64, 128), (128, 256)}
    square = invoke("sweep", str(spec), "--width", "1", "--res", "64")
    assert square.exit_code == 2 and "--res 64x128" in square.stderr


def test_a_batched_sweep_equals_the_scalar_path() -> None:
    result = sweep("mobilenet_v3_small", [1.0, 0.75], [224, (192, 160)], Config(batch=4))
    assert result.batch == 4 and len(result.rows) == 4
    for row in result.rows:
        pair = row_sides(row)
        res = pair[0] if pair[0] == pair[1] else pair
        cost = analyze("mobilenet_v3_small", width=row["width"], resolution=res, batch=4)
        assert (row["madds"], row["mac"]) == (cost.total().madds, cost.total().mac)
        assert row["peak_activation"] == cost.activations.peak


def test_an_int_block_parameter_may_be_zero() -> None:
    """MobileNetV4's UIB: a start depthwise of kernel 0 is no layer."""
    spec = """\
input: [8, 16, 16]
blocks:
  uib:
    params: {k: int}
    nodes: [{op: dwconv, k: k, when: "k > 0"}, {op: conv, k: 1, out: 8}]
layers: [{use: uib, with: {k: 0}}, {use: uib, with: {k: 3}}]
"""
    assert [n.op for n in build("u.yaml", text=spec).nodes] == ["conv", "dwconv", "conv"]
    with pytest.raises(SpecError, match="at least 0"):
        build("u.yaml", text=spec.replace("k: 0", "k: -1"))


def test_check_reads_batch_and_hxw(invoke: Any, tmp_path: Path) -> None:
    (tmp_path / "wide.yaml").write_text(WIDE)
    budgets = tmp_path / "budgets.yaml"
    budgets.write_text(
        "budgets:\n  - {spec: wide.yaml, resolution: 160x128, batch: 4, madds: 1G}\n"
        "  - {spec: wide.yaml, resolution: [64, 128], madds: 1k}\n"
    )
    result = invoke("check", "--budgets", str(budgets))
    assert result.exit_code == 1
    assert "resolution 160x128, batch 4" in result.stdout
    assert "resolution 64x128" in result.stdout
    eight = analyze("wide.yaml", text=WIDE, resolution=(160, 128), batch=4).total().madds
    document = json.loads(invoke("check", "--budgets", str(budgets), "-f", "json").stdout)
    assert eight in [result["actual"] for result in document["budgets"]]


def test_text_vars_in_when_and_booleans() -> None:
    spec = """\
input: [3, 32, 32]
vars: {wide: "in >= 3", narrow: "in < 3", biased: "res > 100"}
layers:
  - {op: conv, out: 8, k: 3, when: wide}
  - {op: conv, out: 4, k: 1, bias: biased, when: narrow}
  - {op: conv, out: 4, k: 1, bias: biased}
"""
    nodes = build("b.yaml", text=spec).nodes
    assert [n.out_shape[0] for n in nodes] == [8, 4] and nodes[1].attrs["bias"] is False
    with pytest.raises(SpecError, match="expected true or false, got 'nope"):
        build("b.yaml", text=spec.replace('"in >= 3"', "nope"))
