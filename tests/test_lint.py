"""`lightcost lint`: ShuffleNetV2's guidelines G1-G4 (arXiv 1807.11164 Sec. 2) with numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import Invoke
from lightcost import analyze
from lightcost.analysis.lint import (
    Limits,
    elementwise_mac,
    g1,
    g2,
    g3,
    g4,
    groups,
    lint,
    merged_copies,
)
from lightcost.cli.main import cli

G1 = "guidelines/g1_channel_ratio"


def rules(findings: list[dict[str, object]]) -> set[object]:
    return {f["rule"] for f in findings}


def lint_json(invoke: Invoke, *args: str) -> tuple[int, dict[str, object]]:
    result = invoke("lint", *args, "--format", "json")
    return result.exit_code, json.loads(result.stdout)


def test_shufflenet_v1_with_8_groups_violates_g2(invoke: Invoke) -> None:
    status, document = lint_json(invoke, "shufflenet_v1", "--set", "groups=8")
    assert status == 1
    findings = document["findings"]
    assert isinstance(findings, list)
    g2_found = [f for f in findings if f["rule"] == "G2"]
    assert g2_found
    # stage 2 unit 2, second 1x1 group conv 96 -> 384 at 28x28, g = 8: the g=1 conv of
    # equal input and MAdds has 384/8 = 48 outputs.
    second = next(f for f in g2_found if f["where"] == "stage2_2_gconv2")
    hw = 28 * 28
    assert second["values"]["mac"] == hw * 96 + hw * 384 + 96 * 384 // 8
    assert second["values"]["mac_g1"] == hw * 96 + hw * 48 + 96 * 384 // 8
    table = invoke("lint", "shufflenet_v1", "--set", "groups=8")
    assert table.exit_code == 1
    assert "G2" in table.stdout and "group conv g=8 96->384" in table.stdout


def test_the_1_to_12_guideline_spec_violates_g1(invoke: Invoke) -> None:
    status, document = lint_json(invoke, G1, "--variant", "1:12")
    assert status == 1
    findings = [f for f in document["findings"] if f["rule"] == "G1"]
    assert len(findings) == 20  # both convs of the 10 blocks
    first = findings[0]["values"]
    hw, c1, c2 = 56 * 56, 36, 432
    assert (first["c1"], first["c2"], first["ratio"]) == (c1, c2, "1:12")
    assert first["mac"] == hw * (c1 + c2) + c1 * c2
    assert first["bound"] == pytest.approx(2 * hw * (c1 * c2) ** 0.5 + c1 * c2)
    assert first["excess"] == pytest.approx(first["mac"] / first["bound"] - 1)
    assert findings[1]["values"]["ratio"] == "12:1"


def test_shufflenet_v2_is_clean_of_g1_and_g2(invoke: Invoke) -> None:
    for variant in ("0.5x", "1.0x"):
        _, document = lint_json(invoke, "shufflenet_v2", "--variant", variant)
        assert not rules(document["findings"]) & {"G1", "G2"}


def test_clean_spec_exits_0_and_spec_error_exits_2(invoke: Invoke) -> None:
    clean = invoke("lint", G1, "--variant", "1:1")
    assert clean.exit_code == 0, clean.output
    assert "no findings" in clean.stdout
    status, document = lint_json(invoke, G1, "--variant", "1:1")
    assert status == 0 and document["clean"] is True and document["findings"] == []
    broken = invoke("lint", "nosuch_spec")
    assert broken.exit_code == 2
    assert broken.stderr.startswith("error: no spec file 'nosuch_spec'")


def test_thresholds_are_options(invoke: Invoke) -> None:
    # 1:12 exceeds the bound by about 86 %: quiet above that, reported below
    assert invoke("lint", G1, "--variant", "1:12", "--g1-excess", "90").exit_code == 0
    status, document = lint_json(invoke, G1, "--variant", "1:2", "--g1-excess", "5")
    assert status == 1 and rules(document["findings"]) == {"G1"}
    assert document["limits"]["g1_excess"] == 0.05
    status, document = lint_json(invoke, "mobilenet_v2", "--g4-share", "0", "--g1-excess", "100")
    assert rules(document["findings"]) == {"G4"}


def test_g3_counts_kernels_and_branches_per_block() -> None:
    parallel = analyze("guidelines/g3_fragmentation", variant="4-parallel")
    found = g3(parallel, Limits())
    assert len(found) == 10  # every block: 4 branches read the block input, concat of 4
    assert found[0].values == {"layers": 5, "kernels": 5, "branches": 4}
    series = analyze("guidelines/g3_fragmentation", variant="4-series", execution="unfused")
    assert g3(series, Limits()) == []
    (first, *_) = g3(series, Limits(g3_kernels=7))
    assert first.values == {"layers": 4, "kernels": 8, "branches": 1}  # 4 convs + 4 ReLUs


def test_g4_share_of_elementwise_mac() -> None:
    # The ResNet bottleneck of ShuffleNetV2 Table 4: with the shortcut, the add reads
    # two 32x56x56 tensors and writes one.
    fused = analyze("guidelines/g4_elementwise", variant="shortcut")
    (finding,) = g4(fused, Limits(g4_share=0.1))
    add = 10 * 3 * 32 * 56 * 56
    assert finding.values["add"] == add
    assert finding.values["share"] == pytest.approx(add / fused.total().mac)
    none = analyze("guidelines/g4_elementwise", variant="none")
    assert g4(none, Limits(g4_share=0)) == []
    unfused = analyze("guidelines/g4_elementwise", variant="relu-shortcut", execution="unfused")
    assert g4(unfused, Limits())[0].values["relu"] > 0


def test_depthwise_convs_are_not_group_convs_and_rules_compose() -> None:
    cost = analyze("mobilenet_v2")
    assert g2(cost, Limits(g2_overhead=0)) == []
    assert {f.rule for f in lint(cost)} == {f.rule for f in g1(cost, Limits())} | {
        f.rule for f in g4(cost, Limits())
    } | {f.rule for f in g3(cost, Limits())}
    # MobileNetV2 violates G1 with its 1:6 expansion (ShuffleNetV2 Sec. 3)
    assert any(f.values["ratio"] == "1:6" for f in g1(cost, Limits()))


# ShuffleNetV2 (Ma et al. 2018, https://arxiv.org/abs/1807.11164) Sec. 3 names the guidelines
# each network breaks: "ShuffleNet v1 heavily depends group convolutions (against G2) and
# bottleneck-like building blocks (against G1)", its shortcut "Add" is "also undesirable (G4)";
# "MobileNet v2 uses an inverted bottleneck structure that violates G1. It uses depthwise
# convolutions and ReLUs on 'thick' feature maps. This violates G4."; ShuffleNetV2 follows
# them, its "Concat", "Channel Shuffle" and "Channel Split" merged into one element-wise op.
@pytest.mark.parametrize(
    ("spec", "status", "broken"),
    [
        ("shufflenet_v2", 0, set()),
        ("shufflenet_v2@0.5x", 0, set()),
        ("mobilenet_v2", 1, {"G1", "G4"}),
        ("shufflenet_v1", 1, {"G1", "G2", "G4"}),
    ],
)
def test_the_papers_verdicts(invoke: Invoke, spec: str, status: int, broken: set[str]) -> None:
    name, _, variant = spec.partition("@")
    status_found, document = lint_json(invoke, name, *(["--variant", variant] * bool(variant)))
    assert (status_found, rules(document["findings"])) == (status, broken)


def test_mobilenet_v2_g4_is_depthwise_on_expanded_maps() -> None:
    found = [f for f in g4(analyze("mobilenet_v2"), Limits()) if f.stage != "model"]
    assert len(found) == 16  # every t = 6 block's depthwise conv
    worst = found[0]
    # expanded_conv_1: 16 -> 96 (t = 6) -> 24; the depthwise conv runs on the 96 channels
    assert (worst.where, worst.values["channels"], worst.values["block_in"]) == (
        "expanded_conv_1_depthwise",
        96,
        16,
    )
    assert worst.values["thick"] == 4  # 96 / max(16, 24)


def test_copies_merge_into_one_kernel() -> None:
    """ShuffleNetV2's concat -> shuffle -> split chain reads its inputs once, writes once."""
    cost = analyze("shufflenet_v2")
    kept = merged_copies(cost)
    hw, half = 28 * 28, 58  # stage 2 of 1x: 116 channels, two branches of 58
    assert kept["stage2_1_concat"] == 2 * half * hw  # reads both branches, writes nothing
    assert kept["stage2_1_shuffle"] == 0
    assert kept["stage2_2_left"] == kept["stage2_2_right_in"] == half * hw  # writes its half
    assert "stage2_1_pw1" not in kept and "conv5" not in kept
    by_op, total = elementwise_mac(cost)
    unmerged = cost.total().mac
    merged_away = sum(
        sum(k.mac for k in layer.kernels) - kept[layer.name]
        for layer in cost.layers
        if layer.name in kept
    )
    assert total == unmerged - merged_away
    assert sum(by_op.values()) / total < Limits().g4_share
    # ShuffleNetV1's shuffle reads a conv: nothing merges
    assert merged_copies(analyze("shufflenet_v1")) == {}


def test_findings_are_grouped_per_rule_and_stage(invoke: Invoke) -> None:
    _, document = lint_json(invoke, "mobilenet_v2")
    assert [(g["rule"], g["stage"], g["count"]) for g in document["groups"]] == [
        ("G1", "112x112", 1),
        ("G1", "56x56", 4),
        ("G1", "28x28", 6),
        ("G1", "14x14", 12),
        ("G4", "56x56", 2),
        ("G4", "28x28", 3),
        ("G4", "14x14", 7),
        ("G4", "7x7", 4),
    ]
    assert document["groups"][1]["worst"] == "expanded_conv_2_expand"
    found = groups(lint(analyze("shufflenet_v1", overrides={"groups": 8})))
    for group in found:
        severities = [f.severity for f in group.findings]
        assert severities == sorted(severities, reverse=True)


def test_select_and_ignore(invoke: Invoke) -> None:
    status, document = lint_json(invoke, "mobilenet_v2", "--select", "G1")
    assert (status, rules(document["findings"]), document["rules"]) == (1, {"G1"}, ["G1"])
    status, document = lint_json(invoke, "mobilenet_v2", "--ignore", "g1,G4")
    assert (status, document["rules"]) == (0, ["G2", "G3"])
    bad = invoke("lint", "mobilenet_v2", "--select", "G5")
    assert bad.exit_code == 2
    assert "unknown rule in --select 'G5'" in bad.stderr and "rules: G1, G2, G3, G4" in bad.stderr


def test_a_spec_turns_rules_off(invoke: Invoke, tmp_path: Path) -> None:
    text = (
        Path(__file__).parent.parent / "specs" / "guidelines" / "g1_channel_ratio.yaml"
    ).read_text()
    spec = tmp_path / "net.yaml"
    spec.write_text(text + "lint: {ignore: [G1]}\n", encoding="utf-8")
    assert invoke("lint", str(spec), "--variant", "1:12").exit_code == 0
    spec.write_text(text + "lint:\n  ignore: [G1, G9]\n", encoding="utf-8")
    bad = invoke("lint", str(spec), "--variant", "1:12")
    assert bad.exit_code == 2
    line = len(text.splitlines()) + 2
    assert f"net.yaml:{line}:16: lint.ignore[1]: unknown rule 'G9'" in bad.stderr
    assert invoke("table", str(spec)).exit_code == 0  # a section the other commands skip


@pytest.mark.parametrize("spec", ["mobilenet_v2", "shufflenet_v1", "shufflenet_v2"])
def test_text_fits_80_columns(spec: str) -> None:
    runner = CliRunner(env={"NO_COLOR": "1", "COLUMNS": "80"})
    result = runner.invoke(cli, ["lint", spec])
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    assert len(result.stdout.splitlines()) <= 20  # grouped, not one row per layer


def test_the_spec_schema_knows_the_lint_section() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    from lightcost.analysis.schema import spec_schema

    spec = {"input": [3, 8, 8], "layers": [{"op": "conv", "k": 1, "out": 8}]}
    jsonschema.validate({**spec, "lint": {"ignore": ["G2", "G3"]}}, spec_schema())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**spec, "lint": {"ignore": ["G7"]}}, spec_schema())


def test_github_format_is_workflow_commands_only(invoke: Invoke) -> None:
    clean = invoke("lint", "shufflenet_v2", "--format", "github")
    assert (clean.exit_code, clean.stdout) == (0, "")
    assert clean.stderr.startswith("lint shufflenet_v2: no findings")
    found = invoke("lint", "shufflenet_v1", "--format", "github")
    assert found.exit_code == 1
    assert all(line.startswith("::error file=") for line in found.stdout.splitlines())
    assert found.stderr.startswith("lint shufflenet_v1: 50 finding(s)")
