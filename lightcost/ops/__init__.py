"""The op table ``OPS``: every op in one place, one file per op family.

Each op is an :class:`OpDef` (:mod:`lightcost.ops.base`) holding its attributes,
inputs, shape rule, cost rule, kind, channel attributes, label, layer type,
unfused kernels, ONNX export and ONNX import. Every consumer reads the table:
the expander, the cost engine, memory, lint, sweep, the schema and ONNX interop.

:func:`register` admits only complete ops (:func:`missing`); it is public, so a
project can add its own op before it builds graphs (the anchor is fvcore's
``set_op_handle``). See docs/architecture.md, "How to add an op".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from lightcost.ops import (
    activations,
    attention,
    axes,
    channels,
    conv,
    elementwise,
    linear,
    norm,
    pool,
    resize,
    se,
    tokens,
    transformer,
    views,
)
from lightcost.ops.activations import ACTIVATIONS
from lightcost.ops.base import (
    KINDS,
    MAX_CHANNELS,
    MAX_ELEMENTS,
    MAX_SIZE,
    MAX_WORK,
    REQUIRED,
    Attr,
    Kernel,
    OpCost,
    OpDef,
    ShapeError,
    check_limits,
    check_tensor,
    no_export,
    pair,
    same_pads,
    spatial,
    truth,
)

if TYPE_CHECKING:
    from lightcost.ops.protocols import ImportRule

__all__ = [
    "ACTIVATIONS",
    "MAX_CHANNELS",
    "MAX_ELEMENTS",
    "MAX_SIZE",
    "MAX_WORK",
    "OPS",
    "REQUIRED",
    "Attr",
    "Kernel",
    "OpCost",
    "OpDef",
    "ShapeError",
    "check_limits",
    "check_tensor",
    "missing",
    "no_export",
    "onnx_imports",
    "pair",
    "register",
    "same_pads",
    "spatial",
    "truth",
]

OPS: dict[str, OpDef] = {}
FUNCTIONS = ("shape", "cost", "label", "layer_type", "export")  # the parts that are functions


_VALID: dict[str, Callable[[Attr, Any], bool]] = {  # Attr kind -> whether a default is valid
    "channels": lambda a, v: type(v) is int and v >= a.low,
    "int": lambda a, v: type(v) is int and v >= a.low,
    "pair": lambda a, v: type(v) is int and v >= a.low,
    "float": lambda a, v: type(v) in (int, float) and v >= a.low,
    "bool": lambda a, v: type(v) is bool,
    "act": lambda a, v: v in ACTIVATIONS,
    "enum": lambda a, v: v in a.allowed,
    "padding": lambda a, v: v in ("same", "valid") or (type(v) is int and v >= 0),
    "ints": lambda a, v: isinstance(v, tuple) and all(type(x) is int and x >= a.low for x in v),
}


def _default_problem(attr: Attr) -> str | None:
    """What is wrong with an attribute's default, if anything (a string number is an expression)."""
    value, kind = attr.default, attr.kind
    if value is REQUIRED or (kind in ("channels", "int", "float") and isinstance(value, str)):
        return None
    return None if _VALID[kind](attr, value) else f"default {value!r} is not a valid {kind}"


def _attr_problems(opdef: OpDef) -> list[str]:
    if not isinstance(opdef.attrs, Mapping):
        return ["attrs (a mapping of name to Attr) is missing"]
    problems = []
    for key, attr in opdef.attrs.items():
        if not isinstance(attr, Attr) or attr.kind not in _VALID:
            problems.append(f"attribute '{key}': not an Attr of a kind in {', '.join(_VALID)}")
        elif attr.kind == "enum" and not attr.allowed:
            problems.append(f"attribute '{key}': an enum without allowed values")
        elif (problem := _default_problem(attr)) is not None:
            problems.append(f"attribute '{key}': {problem}")
    for key in opdef.channels:
        if opdef.attrs.get(key, Attr("")).kind not in ("channels", "int"):
            problems.append(f"channels names '{key}', which is not an integer attribute")
    problems += [
        f"attribute '{key}' holds channels but is not listed in channels"
        for key, attr in opdef.attrs.items()
        if isinstance(attr, Attr) and attr.kind == "channels" and key not in opdef.channels
    ]
    return problems


def missing(opdef: OpDef) -> list[str]:
    """Every part of ``opdef`` that is missing or malformed, as phrases (empty: complete)."""
    problems = [] if opdef.name and opdef.name.isidentifier() else ["name is not an identifier"]
    if not opdef.summary:
        problems.append("summary is missing")
    if opdef.kind not in KINDS:
        problems.append(f"kind {opdef.kind!r} is not one of {', '.join(KINDS)}")
    problems += _attr_problems(opdef)
    problems += [f"{part} (a function) is missing" for part in FUNCTIONS
                 if not callable(getattr(opdef, part))]  # fmt: skip
    if opdef.unfused is not None and not callable(opdef.unfused):
        problems.append("unfused is neither None nor a function")
    if not isinstance(opdef.imports, Mapping):
        problems.append("imports (a mapping of ONNX op type to handler, or {}) is missing")
    else:
        problems += [
            f"import of {op_type!r}: not an ONNX op type with a handler"
            for op_type, handler in opdef.imports.items()
            if not (op_type[:1].isupper() and op_type.isalnum() and callable(handler))
        ]
    high = opdef.max_inputs
    if opdef.min_inputs < 1 or (high is not None and high < opdef.min_inputs):
        problems.append(f"inputs {opdef.min_inputs}..{high} are not a range from 1 up")
    return problems


def register(opdef: OpDef) -> None:
    """Add an op to ``OPS``; a ValueError names every missing part and every clash."""
    problems = missing(opdef)
    if opdef.name in OPS:
        problems.append("an op of this name is registered already")
    taken = {op_type: op.name for op in OPS.values() for op_type in op.imports}
    if isinstance(opdef.imports, Mapping):
        problems += [
            f"ONNX op type {op_type!r} is imported by op '{taken[op_type]}' already"
            for op_type in opdef.imports
            if op_type in taken
        ]
    if problems:
        raise ValueError(f"op '{opdef.name}' cannot be registered: {'; '.join(problems)}")
    OPS[opdef.name] = opdef


def onnx_imports() -> dict[str, tuple[str, ImportRule]]:
    """Every ONNX op type the ops import, with the op that maps it and its handler."""
    return {t: (op.name, rule) for op in OPS.values() for t, rule in op.imports.items()}


_FAMILIES = (conv, linear, norm, pool, resize, elementwise, channels, se, views, activations)
for _family in (*_FAMILIES, transformer, attention, tokens, axes):
    for _opdef in _family.OPDEFS:
        register(_opdef)
