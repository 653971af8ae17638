"""One configuration record: Config, the budget key table, and the options that set it."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path
from typing import Any

import pytest

from conftest import Invoke
from lightcost import Config, analyze
from lightcost.analysis.budgets import BUDGET_KEYS, check, parse_entry
from lightcost.analysis.schema import budget_entry
from lightcost.core.errors import Loc
from lightcost.cost.figures import FIGURES
from lightcost.spec.located import parse_yaml

# A value other than the default for every Config field; a new field needs one here.
SAMPLES: dict[str, Any] = {
    "width": 0.5,
    "resolution": 160,
    "params": "weights",
    "overrides": {"classes": 10},
    "variant": "1.5x",
    "execution": "unfused",
    "dtype": "fp16",
    "device": "gtx1080ti",
    "batch": 4,
}
# A spec and a figure that each field changes, for a budget written with its key.
EFFECTS: dict[str, tuple[str, str]] = {
    "width": ("mobilenet_v2", "madds"),
    "resolution": ("mobilenet_v2", "madds"),
    "params": ("mobilenet_v2", "params"),
    "overrides": ("mobilenet_v2", "params"),
    "variant": ("shufflenet_v2", "madds"),
    "execution": ("mobilenet_v2", "mac"),
    "dtype": ("mobilenet_v2", "mac_bytes"),
    "device": ("mobilenet_v2", "latency"),
    "batch": ("mobilenet_v2", "madds"),
}
KEY_OF = {entry.field: key for key, entry in BUDGET_KEYS.items()}


def test_every_config_field_has_one_budget_key_and_back() -> None:
    fields = [entry.field for entry in BUDGET_KEYS.values()]
    assert sorted(fields) == sorted(Config._fields), "a Config field without a budget key"
    assert len(set(fields)) == len(fields), "two budget keys set one Config field"
    assert set(SAMPLES) == set(Config._fields) == set(EFFECTS)


def test_config_fields_are_the_keywords_of_analyze() -> None:
    keywords = [p for p in inspect.signature(analyze).parameters if p not in ("spec", "text")]
    assert keywords == list(Config._fields)


def test_budget_keys_keep_the_documented_spelling() -> None:
    assert list(BUDGET_KEYS) == [
        "width", "resolution", "batch", "convention", "set", "variant", "execution", "dtype",
        "device",
    ]  # fmt: skip
    assert (KEY_OF["params"], KEY_OF["overrides"]) == ("convention", "set")


def test_docs_ci_lists_every_budget_key() -> None:
    """docs/ci.md's table "Keys of a budget entry" has a row for each key of the table."""
    doc = (Path(__file__).resolve().parent.parent / "docs" / "ci.md").read_text(encoding="utf-8")
    table = doc.split("### Keys of a budget entry", 1)[1].split("\n\n", 2)[1]
    documented = {key for row in table.splitlines() for key in re.findall(r"`(\w+)`", row[:40])}
    assert set(BUDGET_KEYS) <= documented


def entry_text(key: str, value: Any) -> str:
    """A budget entry setting ``key`` (as YAML flow text), with one limit."""
    written = json.dumps(value)  # JSON is YAML: {"classes": 10}, "1.5x", 0.5
    return f"{{{key}: {written}, madds: 1G}}"


@pytest.mark.parametrize("field", Config._fields)
def test_budget_key_round_trips_its_config_field(field: str) -> None:
    key, value = KEY_OF[field], SAMPLES[field]
    budget = parse_entry(parse_yaml(entry_text(key, value), "b.yaml"), Loc("b.yaml", 1, 1), "s")
    assert budget.config == {key: value}
    assert budget.as_config() == Config(**{field: value})
    assert getattr(budget.as_config(), field) == value


def test_schema_describes_every_budget_key_from_the_table() -> None:
    properties = budget_entry()["properties"]
    for key, entry in BUDGET_KEYS.items():
        assert properties[key] == dict(entry.schema)


def test_a_budget_with_each_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    lines = ["budgets:"]
    for field, (spec, figure) in EFFECTS.items():
        value = json.dumps(SAMPLES[field])
        lines.append(f"  - {{spec: {spec}, {KEY_OF[field]}: {value}, {figure}: 1T}}")
    Path("budgets.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = check([], "budgets.yaml")
    assert report.passed
    actual = {key: r.actual for r in report.results for key in r.budget.config}
    assert set(actual) == set(BUDGET_KEYS)
    for field, (spec, figure) in EFFECTS.items():
        expected = FIGURES[figure].get(analyze(spec, **{field: SAMPLES[field]}))
        assert actual[KEY_OF[field]] == expected, field
        if field != "device":  # without a device there is no latency to differ from
            assert expected != FIGURES[figure].get(analyze(spec)), field


OPTIONS = {  # Config field -> (diff option, value, the diff JSON's spelling of it)
    "execution": ("exec", "unfused", "unfused"),
    "dtype": ("dtype", "fp16", "fp16"),
    "device": ("device", "gtx1080ti", "gtx1080ti"),
}


def diff_json(invoke: Invoke, *args: str) -> dict[str, Any]:
    result = invoke("diff", "mobilenet_v2", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


@pytest.mark.parametrize("side", ["old", "new"])
@pytest.mark.parametrize("field", list(OPTIONS))
def test_diff_side_options_set_one_side(invoke: Invoke, side: str, field: str) -> None:
    flag, value, shown = OPTIONS[field]
    document = diff_json(invoke, f"--{side}-{flag}", value)
    other = "new" if side == "old" else "old"
    assert document[side][field] == shown
    assert document[other][field] == Config()._asdict()[field]
    assert "latency" not in document["totals"]  # a latency needs a device on both sides


@pytest.mark.parametrize("field", list(OPTIONS))
def test_diff_shared_options_set_both_sides_and_sides_override(invoke: Invoke, field: str) -> None:
    flag, value, shown = OPTIONS[field]
    both = diff_json(invoke, f"--{flag}", value)
    assert both["old"][field] == both["new"][field] == shown
    alternative = {"execution": "fused", "dtype": "int8", "device": "snapdragon810_a57"}[field]
    mixed = diff_json(invoke, f"--{flag}", value, f"--old-{flag}", alternative)
    assert (mixed["old"][field], mixed["new"][field]) == (alternative, shown)


def test_diff_with_a_device_shows_latency(invoke: Invoke) -> None:
    result = invoke("diff", "mobilenet_v2", "--new-width", "0.75", "--device", "gtx1080ti")
    assert result.exit_code == 0, result.output
    assert "Estimated latency" in result.stdout
    document = diff_json(invoke, "--new-width", "0.75", "--device", "gtx1080ti")
    old = FIGURES["latency"].get(analyze("mobilenet_v2", device="gtx1080ti"))
    assert document["totals"]["latency"]["old"] == old


def test_diff_side_options_are_checked(invoke: Invoke) -> None:
    assert invoke("diff", "mobilenet_v2", "--new-dtype", "fp64").exit_code == 2
    assert invoke("diff", "mobilenet_v2", "--old-exec", "lazy").exit_code == 2
    missing = invoke("diff", "mobilenet_v2", "--old-device", "no_such_device")
    assert missing.exit_code == 2
    assert "no_such_device" in missing.stderr


def test_commands_read_one_config(invoke: Invoke) -> None:
    """table, lint and compare cost the Config their shared options give."""
    args = ("--width", "0.5", "--res", "160", "--set", "classes=10", "--exec", "unfused")
    mac = (
        Config(0.5, 160, overrides={"classes": 10}, execution="unfused")
        .analyze("mobilenet_v2")
        .total()
        .mac
    )
    table = json.loads(invoke("table", "mobilenet_v2", *args, "-f", "json").stdout)
    assert table["totals"]["mac"] == mac
    compared = json.loads(invoke("compare", "mobilenet_v2", *args, "-f", "json").stdout)
    assert compared["figures"]["mac"]["value"] == mac
    linted = json.loads(invoke("lint", "mobilenet_v2", *args, "-f", "json").stdout)
    assert linted["config"]["width"] == 0.5 and linted["config"]["execution"] == "unfused"
