"""JSON Schemas (draft 2020-12) of the spec format and of a budgets file.

Generated from the tables the expander and the budget reader validate with
(:data:`lightcost.spec.expand.TOP_KEYS` and the item key tuples, the var types
and reserved names, the op registry :data:`lightcost.ops.OPS` with its
attribute kinds, the width rules, the figure registry and the budget key table
:data:`lightcost.analysis.budgets.BUDGET_KEYS`), so a new op, attribute or
key appears here without an edit. A key the tables name but this module does
not describe is allowed with any value: the schema never rejects a spec the
expander accepts for lack of a description. Numbers may be written as
expressions (strings) wherever the expander evaluates them.
"""

from __future__ import annotations

import re
from typing import Any

from lightcost.analysis import budgets, limits, lint
from lightcost.core.rounding import RULES
from lightcost.cost.figures import FIGURES
from lightcost.ops import ACTIVATIONS, OPS, REQUIRED, Attr, OpDef
from lightcost.ops.base import MAX_LIST
from lightcost.spec import expand
from lightcost.spec.names import RESERVED
from lightcost.spec.sections import PADDINGS
from lightcost.spec.variables import DEFAULT_WIDTH, NUMERIC, VAR_KEYS, VAR_TYPES

DRAFT = "https://json-schema.org/draft/2020-12/schema"
Schema = dict[str, Any]

INTEGER = {"type": ["integer", "string"], "description": "a whole number or an expression"}
NUMBER = {"type": ["number", "string"], "description": "a number or an expression"}
BOOLEAN = {"type": ["boolean", "string"], "description": "true, false or an expression"}
SCALAR = {"type": ["number", "string", "boolean"]}
TEXT = {"type": ["string", "number"]}
REF_ITEM = {"$ref": "#/$defs/item"}

PAIR = {
    "type": "array",
    "items": INTEGER,
    "minItems": 2,
    "maxItems": 2,
    "description": "[height, width]",
}
KINDS: dict[str, Schema] = {  # ops.Attr kinds but enum (attr_schema)
    "channels": INTEGER,
    "int": INTEGER,
    "pair": {"anyOf": [INTEGER, PAIR]},
    "float": NUMBER,
    "bool": BOOLEAN,
    "act": {"anyOf": [{"enum": list(ACTIVATIONS)}, {"type": "string"}]},
    "padding": {"anyOf": [{"enum": ["same", "valid"]}, {"type": "integer", "minimum": 0},
                          {"type": "string"}, PAIR,
                          {**PAIR, "minItems": 4, "maxItems": 4,
                           "description": "[top, left, bottom, right]"}]},
    "ints": {"type": "array", "items": INTEGER, "minItems": 1, "maxItems": MAX_LIST},
}  # fmt: skip
ITEM_KEYS: dict[str, Schema] = {  # keys of expand.NODE_KEYS, USE_KEYS, REPEAT_KEYS
    "name": {**TEXT, "description": "a name; may hold {expression} fields"},
    "from": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
             "description": "the tensor(s) read: a name, input or prev"},
    "when": {**BOOLEAN, "description": "skip the item when false"},
    "block": {"type": "array", "items": {"type": "string"}, "minItems": 1,
              "description": "the layer's block path, outermost first (an imported module path)"},
    "width": {"enum": ["auto", "fixed"]},
    "use": {"type": "string", "description": "a block name"},
    "repeat": {"type": "string", "description": "a block name"},
    "with": {"type": "object", "additionalProperties": SCALAR},
    "columns": {"type": "array", "items": {"type": "string"}},
    "rows": {"type": "array", "items": {"type": "array", "items": SCALAR}},
    "n": INTEGER,
    "start": INTEGER,
}  # fmt: skip
PARAM_TYPE = {"enum": list(expand.PARAM_TYPES)}
BLOCK_KEYS: dict[str, Schema] = {  # keys of expand.BLOCK_KEYS
    "params": {"type": "object", "additionalProperties": {"anyOf": [
        PARAM_TYPE,
        {"type": "object", "properties": {"type": PARAM_TYPE, "default": SCALAR},
         "required": ["type"], "additionalProperties": False},
    ]}},
    "nodes": {"type": "array", "items": REF_ITEM},
    "description": {"type": "string"},
}  # fmt: skip
VAR_VALUES: dict[str, Schema] = {  # variables.VAR_TYPES: a value of each type
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "bool": {"type": "boolean"},
    "str": {"type": "string"},
}
VAR_NAMES = {
    "not": {"enum": [name for name in RESERVED if name != DEFAULT_WIDTH]},
    "description": "not a reserved name (alpha: the spec's default width multiplier)",
}


def _object(properties: dict[str, Schema], **extra: Any) -> Schema:
    return {"type": "object", "properties": properties, "additionalProperties": False, **extra}


def attr_schema(attr: Attr) -> Schema:
    """An op attribute by its kind, with its default when it has one.

    Like ``act``, an ``enum`` offers its allowed values and takes any string (a var name).
    """
    enum = {"anyOf": [{"enum": list(attr.allowed)}, {"type": "string"}]}
    schema = dict(enum if attr.kind == "enum" else KINDS.get(attr.kind, {}))
    if attr.default is not REQUIRED and attr.default is not None:
        schema["default"] = attr.default
    return schema


def op_schema(op: OpDef) -> Schema:
    """One op node: ``op`` fixed to the op's name, the item keys and the op's attributes."""
    keys = {key: ITEM_KEYS.get(key, {}) for key in expand.NODE_KEYS}
    attrs = {name: attr_schema(attr) for name, attr in op.attrs.items()}
    op_key = {"op": {"const": op.name, "description": op.summary}}
    return _object({**keys, **attrs, **op_key}, required=["op"], description=op.summary)


def var_schema(kind: str) -> Schema:
    """A typed var declaration of type ``kind``: ``{type, default}``, optional keys."""
    value = VAR_VALUES[kind]
    keys: dict[str, Schema] = {
        "type": {"const": kind},
        "default": value,
        "values": {"type": "array", "items": value, "minItems": 1},
        "description": {"type": "string"},
    }
    if kind in NUMERIC:
        keys.update(min=value, max=value)
    return _object(
        {key: keys[key] for key in VAR_KEYS if key in keys}, required=["type", "default"]
    )


def vars_schema() -> Schema:
    """The ``vars`` section: plain values or typed declarations, under unreserved names."""
    declarations = [var_schema(kind) for kind in VAR_TYPES]
    return {
        "type": "object",
        "propertyNames": VAR_NAMES,
        "additionalProperties": {"anyOf": [SCALAR, *declarations]},
    }


def limit_schema() -> Schema:
    """A limit: a non-negative number, or text such as 600M, 2MiB, 5ms."""
    suffixes = "|".join(re.escape(s) for s in limits.SCALES if s)
    pattern = rf"^\s*{limits.NUMBER}\s*(?:{suffixes})?\s*$"
    return {"anyOf": [{"type": "number", "minimum": 0}, {"type": "string", "pattern": pattern}]}


def budget_entry(extra: dict[str, Schema] | None = None) -> Schema:
    """One budget: limits on figures plus configuration keys (and ``extra`` keys)."""
    limits = {
        name: {**limit_schema(), "description": f"upper limit on {figure.label}"}
        for name, figure in FIGURES.items()
    }
    config = {key: dict(entry.schema) for key, entry in budgets.BUDGET_KEYS.items()}
    return _object({**(extra or {}), **limits, **config})


def spec_schema() -> Schema:
    """The JSON Schema of a spec file."""
    top: dict[str, Schema] = {
        "lightcost": {"const": 1, "description": "spec language version"},
        "name": TEXT,
        "description": {"type": "string"},
        "source": {"type": "string"},
        "params_note": {"type": "string",
                        "description": "what trainable params mean here (set by ONNX import)"},
        "input": {"type": "array", "items": INTEGER, "minItems": 3, "maxItems": 3,
                  "description": "[channels, height, width]"},
        "width": {"anyOf": [
            {"enum": list(RULES)},
            _object({"rule": {"enum": list(RULES)}, "divisor": {"type": "integer", "minimum": 1},
                     "min": {"type": "integer", "minimum": 1}}),
        ]},
        "padding": {"enum": list(PADDINGS),
                    "description": "what an unwritten SAME padding means (docs/spec-language.md)"},
        "vars": vars_schema(),
        "variants": {"type": "object", "additionalProperties": _object(
            {"description": {"type": "string"},
             "vars": {"type": "object", "propertyNames": VAR_NAMES,
                      "additionalProperties": SCALAR}})},
        "variant": TEXT,
        "defaults": _object(
            {name: _object({a: attr_schema(attr) for a, attr in op.attrs.items()})
             for name, op in OPS.items()}),
        "blocks": {"type": "object", "additionalProperties": _object(
            {key: BLOCK_KEYS.get(key, {}) for key in expand.BLOCK_KEYS})},
        "layers": {"type": "array", "items": REF_ITEM, "minItems": 1},
        budgets.SPEC_SECTION: {"anyOf": [{"$ref": "#/$defs/budget"},
                                         {"type": "array", "items": {"$ref": "#/$defs/budget"}}]},
        lint.SPEC_KEY: _object({"ignore": {"type": "array", "items": {"enum": list(lint.RULES)},
                                           "description": "guideline rules not checked"}}),
    }  # fmt: skip
    items = {f"op_{name}": op_schema(op) for name, op in OPS.items()}
    items["use"] = _object(
        {key: ITEM_KEYS.get(key, {}) for key in expand.USE_KEYS}, required=["use"]
    )
    items["repeat"] = _object(
        {key: ITEM_KEYS.get(key, {}) for key in expand.REPEAT_KEYS}, required=["repeat"]
    )
    return {
        "$schema": DRAFT,
        "title": "lightcost spec",
        "description": "A neural network for lightcost: layers, blocks, stage tables (version 1).",
        **_object({key: top.get(key, {}) for key in expand.TOP_KEYS}, required=["input", "layers"]),
        "$defs": {
            **items,
            "item": {"anyOf": [{"$ref": f"#/$defs/{name}"} for name in items]},
            "budget": budget_entry(),
        },
    }


def budgets_schema() -> Schema:
    """The JSON Schema of a project budgets file (``budgets.yaml``)."""
    spec = {budgets.SPEC_KEY: {"type": "string", "description": "spec path, glob or bundled name"}}
    entry = {**budget_entry(spec), "required": [budgets.SPEC_KEY]}
    return {
        "$schema": DRAFT,
        "title": "lightcost budgets",
        **_object(
            {budgets.PROJECT_KEY: {"type": "array", "items": entry}},
            required=[budgets.PROJECT_KEY],
        ),
    }


SCHEMAS = {"spec": spec_schema, "budgets": budgets_schema}
