"""`lightcost schema`: a draft 2020-12 JSON Schema that accepts every bundled spec."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
import yaml

from conftest import Invoke
from lightcost import SpecError, __version__, analyze
from lightcost.analysis.schema import budgets_schema, spec_schema
from lightcost.cost.figures import FIGURES
from lightcost.ops import OPS
from lightcost.spec import expand
from lightcost.spec.files import bundled_names, find_spec

VALIDATOR = jsonschema.Draft202012Validator
HEAD = "input: [3, 32, 32]\nlayers:\n"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = spec_schema()
    VALIDATOR.check_schema(schema)
    return VALIDATOR(schema)


def test_schema_command_prints_the_schema(invoke: Invoke) -> None:
    result = invoke("schema")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert document.pop("lightcost_version") == __version__  # an annotation
    assert document == json.loads(json.dumps(spec_schema()))
    VALIDATOR.check_schema(document | {"lightcost_version": __version__})
    budgets = json.loads(invoke("schema", "budgets").stdout)
    VALIDATOR.check_schema(budgets)
    assert budgets["required"] == ["budgets"]


def test_schema_comes_from_the_expanders_tables() -> None:
    schema = spec_schema()
    assert list(schema["properties"]) == list(expand.TOP_KEYS)
    ops = {name.removeprefix("op_") for name in schema["$defs"] if name.startswith("op_")}
    assert ops == set(OPS)
    conv = schema["$defs"]["op_conv"]["properties"]
    assert set(conv) == {"op", *expand.NODE_KEYS, *OPS["conv"].attrs}
    assert conv["stride"]["default"] == 1
    assert set(schema["$defs"]["budget"]["properties"]) >= set(FIGURES)


@pytest.mark.parametrize("name", bundled_names())
def test_every_bundled_spec_validates(
    validator: jsonschema.Draft202012Validator, name: str
) -> None:
    with open(find_spec(name), encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(data)]
    assert errors == []


# each is rejected by the expander too: the schema and the expander agree
INVALID = [
    HEAD + "  - {op: dwconvv, k: 3}\n",
    HEAD + "  - {op: conv, k: 3, out: 16, kernel: 3}\n",
    HEAD + "  - {op: conv, k: 3, out: 16, padding: [1, 1, 1]}\n",
    HEAD + "  - {op: conv, k: [1, 7, 1], out: 16}\n",
    HEAD + "  - {op: relu, width: half}\n",
    HEAD + "  - {use: b, bogus: 1}\n",
    HEAD + "  - {repeat: b, columns: c}\n",
    "inputs: [3, 32, 32]\nlayers:\n  - {op: relu}\n",
    "input: [3, 32]\nlayers:\n  - {op: relu}\n",
    "input: [3, 32, 32]\nlayers: []\n",
    "input: [3, 32, 32]\n",
    "lightcost: 2\n" + HEAD + "  - {op: relu}\n",
    "width: {rule: make_divisible, divisor: 0}\n" + HEAD + "  - {op: relu}\n",
    "width: nearest\n" + HEAD + "  - {op: relu}\n",
    "defaults: {conv: {kernel: 3}}\n" + HEAD + "  - {op: relu}\n",
    "blocks: {b: {params: {c: chanels}, nodes: [{op: relu}]}}\n" + HEAD + "  - {use: b}\n",
]


@pytest.mark.parametrize("text", INVALID)
def test_invalid_specs_fail(validator: jsonschema.Draft202012Validator, text: str) -> None:
    assert not validator.is_valid(yaml.safe_load(text))
    with pytest.raises(SpecError):
        analyze("bad.yaml", text=text)


@pytest.mark.parametrize(
    ("section", "valid"),
    [
        ("budget: {params: 4.3M, madds: 600M}\n", True),
        ("budget:\n  - {madds: 1.2G}\n  - {width: 0.5, resolution: 128, madds: 300k}\n", True),
        ("budget: {madds: 600 parsecs}\n", False),
        ("budget: {mads: 600M}\n", False),
        ("budget: {convention: weight, params: 1M}\n", False),
    ],
)
def test_budget_section(section: str, valid: bool) -> None:
    document = yaml.safe_load(section + HEAD + "  - {op: relu}\n")
    assert VALIDATOR(spec_schema()).is_valid(document) is valid


@pytest.mark.parametrize(
    ("document", "valid"),
    [
        ({"budgets": [{"spec": "specs/*.yaml", "madds": "600M", "params": 4300000}]}, True),
        ({"budgets": [{"spec": "mobilenet_v2", "width": 0.75, "set": {"classes": 10}}]}, True),
        ({"budgets": [{"madds": "600M"}]}, False),
        ({"budgets": [{"spec": "a.yaml", "madds": "6OOM"}]}, False),
        ({"budget": []}, False),
    ],
)
def test_budgets_file_schema(document: dict[str, Any], valid: bool) -> None:
    assert VALIDATOR(budgets_schema()).is_valid(document) is valid
