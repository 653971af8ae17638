"""Block parameters: their declarations (``params``) and the values an instance passes.

A declaration is a type, or ``{type, default}``; the types are
:data:`PARAM_TYPES`. Values are checked by type: ``channels`` written as a
number is scaled by the width rule (an expression is taken as written),
``stride`` is the value on the first repeat of a table row and 1 on the others,
``int`` may be 0 (channels and stride are at least 1), ``str`` may name a var
holding text.
"""

from __future__ import annotations

from typing import Any

from lightcost.core.errors import Loc, SpecError, describe, did_you_mean, short
from lightcost.spec.expr import Value
from lightcost.spec.located import LMap, check_keys
from lightcost.spec.names import check_reserved
from lightcost.spec.values import Evaluator

PARAM_TYPES = ("channels", "stride", "int", "float", "bool", "str")

Params = dict[str, tuple[Any, Loc]]  # parameter values as written, with their places


def param_values(raw: Any, item: LMap) -> Params:
    """The ``with`` mapping of a block use or repeat (empty when absent)."""
    if raw is None:
        return {}
    if not isinstance(raw, LMap):
        raise SpecError("'with' must be a mapping of block parameters", item.loc_of("with"))
    return {key: (value, raw.loc_of(key)) for key, value in raw.items()}


def block_params(
    block: LMap,
    block_name: str,
    values: Params,
    env: dict[str, Value],
    first: bool,
    item: LMap,
    evaluator: Evaluator,
) -> dict[str, Value]:
    """The parameter values of one instance of ``block``: as passed, else the defaults."""
    declared = block.get("params") or LMap.empty(block.loc)
    if not isinstance(declared, LMap):
        raise SpecError("'params' must map names to types", block.loc_of("params"))
    for key, (_, where) in values.items():
        if key not in declared:
            raise SpecError(
                f"block '{block_name}' has no parameter '{key}'{did_you_mean(key, declared)}",
                where,
            )
    out: dict[str, Value] = {}
    for key, decl in declared.items():
        check_reserved(key, f"parameter '{key}' of block '{block_name}'", declared.key_loc(key))
        if isinstance(decl, LMap):
            check_keys(decl, ("type", "default"), f"parameter '{key}'")
            kind, default = decl.get("type"), decl.get("default")
        else:
            kind, default = decl, None
        if kind not in PARAM_TYPES:
            raise SpecError(
                f"parameter '{key}' has unknown type {short(kind)}"
                f"{did_you_mean(str(kind), PARAM_TYPES)} (types: {', '.join(PARAM_TYPES)})",
                declared.loc_of(key),
            )
        if key in values:
            raw, where = values[key]
        elif default is not None:
            raw, where = default, declared.loc_of(key)
        else:
            raise SpecError(f"block '{block_name}' needs parameter '{key}'", item.loc)
        out[key] = param(raw, str(kind), where, env, first, evaluator)
    return out


def param(
    raw: Any, kind: str, where: Loc, env: dict[str, Value], first: bool, evaluator: Evaluator
) -> Value:
    """One parameter value of type ``kind``; ``first`` is the first repeat of a table row."""
    if kind == "str":
        if not isinstance(raw, str):
            raise SpecError(f"expected text, got {describe(raw)}", where)
        return str(env.get(raw, raw))
    if kind == "bool":
        value = evaluator.resolved(raw, where, env, "true or false")
        if not isinstance(value, bool):
            raise SpecError(f"expected true or false, got {short(value)}", where)
        return value
    if kind == "float":
        return float(evaluator.numeric(raw, where, env))
    low = 0 if kind == "int" else 1  # an int may be 0 ("none": no kernel); channels, stride >= 1
    whole = evaluator.integer(raw, where, env, f"{kind} value", minimum=low)
    if kind == "channels" and not isinstance(raw, str):
        return evaluator.scale(whole)
    return 1 if kind == "stride" and not first else whole
