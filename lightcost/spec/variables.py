"""Spec vars: the ``vars`` section, a variant's values and ``--set`` overrides.

A plain var (``classes: 1000``) takes any number (at most 1e15 in size),
boolean or text. A typed var is declared as a mapping, ``{type, default}`` plus
optional ``values`` (the allowed values), ``min`` and ``max`` (inclusive, for
numbers) and ``description``; its type is one of :data:`VAR_TYPES`. Every value
of a typed var (its default, a variant's, a ``--set``) is checked against the
declaration, and kept as written (an ``int`` var takes 3 or 3.0, a ``float``
var any number). A variant and ``--set`` may only set vars the spec
declares; ``--set`` wins over the variant, which wins over the spec. An error
about a ``--set`` value points at the var and names the ``--set``. The one
reserved name vars and variants may set is ``alpha`` (:data:`DEFAULT_WIDTH`):
the spec's default width multiplier, which ``--width`` overrides (``--set
alpha`` is refused).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple, TypeGuard

from lightcost.core.errors import Loc, SpecError, describe, did_you_mean, listing, short
from lightcost.spec.expr import Value
from lightcost.spec.located import LList, LMap, check_keys
from lightcost.spec.names import check_reserved
from lightcost.spec.values import in_range

VAR_TYPES = ("int", "float", "bool", "str")
DEFAULT_WIDTH = "alpha"  # the reserved name vars (and a variant's) may set: the default width
MAX_WIDTH = 16.0  # the width multiplier alpha is in (0, MAX_WIDTH]
VAR_KEYS = ("type", "default", "values", "min", "max", "description")
NUMERIC = ("int", "float")
_WANTED = {  # what a value of each type must be
    "int": "a whole number (at most 1e15 in size)",
    "float": "a number (at most 1e15 in size)",
    "bool": "true or false",
    "str": "text",
}


class VarType(NamedTuple):
    """A typed var's declaration: its type, allowed values (empty: any) and bounds."""

    kind: str
    values: tuple[Value, ...] = ()
    low: int | float | None = None
    high: int | float | None = None


def variables(
    section: LMap, variant_vars: LMap | None, overrides: Mapping[str, Value]
) -> dict[str, Value]:
    """The vars of ``section`` with the variant's values and then ``overrides`` applied."""
    types: dict[str, VarType | None] = {}
    out: dict[str, Value] = {}
    for key, raw in section.items():
        if key != DEFAULT_WIDTH:
            check_reserved(key, f"var '{key}'", section.key_loc(key))
        types[key], out[key] = declared(key, raw, section.loc_of(key))
    chosen = variant_vars if variant_vars is not None else LMap.empty(section.loc)
    for key, value in chosen.items():
        if key != DEFAULT_WIDTH:
            check_reserved(key, f"var '{key}'", chosen.key_loc(key))
        elif key not in out:
            types[key] = None  # a variant may set the default width without the spec
            out[key] = value
        if key not in out:
            raise SpecError(
                f"variant sets '{key}', which is not in the spec's vars{did_you_mean(key, out)}",
                chosen.key_loc(key),
            )
        out[key] = checked(types[key], f"var '{key}'", value, chosen.loc_of(key))
    if DEFAULT_WIDTH in out:
        setter = chosen if DEFAULT_WIDTH in chosen else section
        check_width(out[DEFAULT_WIDTH], setter.loc_of(DEFAULT_WIDTH))
    for key, value in overrides.items():
        if key == DEFAULT_WIDTH:
            raise SpecError("--set alpha: set the width multiplier with --width", section.loc)
        check_reserved(key, f"--set {key}: '{key}'", section.loc)
        if key not in out:
            raise SpecError(
                f"--set {key}: the spec has no var {short(key)}"
                f"{did_you_mean(str(key), out)} (vars: {listing(out) or 'none'})",
                section.loc,
            )
        out[key] = checked(types[key], f"--set {key}", value, section.loc_of(key))
    return out


def is_width(value: object) -> TypeGuard[int | float]:
    """Whether ``value`` is a width multiplier: a number in (0, MAX_WIDTH]."""
    return not isinstance(value, bool) and isinstance(value, int | float) and 0 < value <= MAX_WIDTH


def check_width(value: object, where: Loc) -> None:
    """Raise unless ``value`` is a width multiplier (:func:`is_width`)."""
    if not is_width(value):
        raise SpecError(
            f"the default width multiplier 'alpha' must be a number in (0, {MAX_WIDTH:g}], "
            f"got {short(value)}",
            where,
        )


def declared(name: str, raw: Any, where: Loc) -> tuple[VarType | None, Value]:
    """A var's type (None for a plain var) and its value in the spec (the default)."""
    what = f"var '{name}'"
    if not isinstance(raw, LMap):
        return None, checked(None, what, raw, where)
    check_keys(raw, VAR_KEYS, what)
    kind = raw.get("type")
    if kind not in VAR_TYPES:
        problem = "needs a 'type'" if kind is None else f"has unknown type {short(kind)}"
        raise SpecError(
            f"{what} {problem}{did_you_mean(str(kind), VAR_TYPES)} (types: {', '.join(VAR_TYPES)})",
            raw.loc_of("type"),
        )
    low, high = (_bound(what, kind, raw, key) for key in ("min", "max"))
    if low is not None and high is not None and low > high:
        raise SpecError(f"{what}: 'max' {high} is below 'min' {low}", raw.loc_of("max"))
    var = VarType(kind, _allowed(what, VarType(kind, (), low, high), raw), low, high)
    if not isinstance(raw.get("description", ""), str):
        raise SpecError(f"{what}: 'description' must be text", raw.loc_of("description"))
    if "default" not in raw:
        raise SpecError(f"{what} needs a 'default'", raw.loc)
    return var, checked(var, what, raw["default"], raw.loc_of("default"))


def _bound(what: str, kind: str, raw: LMap, key: str) -> int | float | None:
    """The ``min`` or ``max`` of a var declaration (None when absent); numbers only."""
    if key not in raw:
        return None
    if kind not in NUMERIC:
        raise SpecError(f"{what}: '{key}' is for int and float vars", raw.loc_of(key))
    bound: object = raw[key]
    if _is_number(bound, kind):
        return bound
    raise _unwanted(VarType(kind), f"'{key}' of {what}", bound, raw.loc_of(key))


def _allowed(what: str, bounded: VarType, raw: LMap) -> tuple[Value, ...]:
    """The ``values`` of a var declaration, each of its type and bounds (empty: absent)."""
    allowed = raw.get("values")
    if allowed is None:
        return ()
    if not isinstance(allowed, LList) or not allowed:
        raise SpecError(f"{what}: 'values' must be a non-empty list", raw.loc_of("values"))
    return tuple(
        checked(bounded, f"a value of {what}", value, allowed.loc_of(i))
        for i, value in enumerate(allowed)
    )


def checked(var: VarType | None, what: str, value: object, where: Loc) -> Value:
    """``value`` if the var declared ``var`` takes it (None: a plain var, any scalar)."""
    if var is None:
        if isinstance(value, str) or (isinstance(value, int | float) and in_range(value)):
            return value
        raise SpecError(
            f"{what} must be a number (at most 1e15 in size), a boolean or text, "
            f"got {describe(value)}",
            where,
        )
    if _of_type(value, var.kind) and (not var.values or value in var.values):
        if isinstance(value, int | float):  # int and float vars may have bounds
            _check_bounds(var, what, value, where)
        return value
    raise _unwanted(var, what, value, where)


def _check_bounds(var: VarType, what: str, value: int | float, where: Loc) -> None:
    if var.low is not None and value < var.low:
        raise SpecError(f"{what} must be at least {var.low}, got {value}", where)
    if var.high is not None and value > var.high:
        raise SpecError(f"{what} must be at most {var.high}, got {value}", where)


def _unwanted(var: VarType, what: str, value: object, where: Loc) -> SpecError:
    """The error for a value not of the var's type, or not one of its values."""
    if not var.values:
        return SpecError(f"{what} must be {_WANTED[var.kind]}, got {describe(value)}", where)
    hint = did_you_mean(value, map(str, var.values)) if isinstance(value, str) else ""
    shown = listing(_text(v) for v in var.values)
    return SpecError(f"{what} must be one of {shown}, got {describe(value)}{hint}", where)


def _of_type(value: object, kind: str) -> TypeGuard[Value]:
    """Whether ``value`` is a ``kind`` value: bool true or false, str text, else a number."""
    if kind in ("bool", "str"):
        return isinstance(value, bool if kind == "bool" else str)
    return _is_number(value, kind)


def _is_number(value: object, kind: str) -> TypeGuard[int | float]:
    """Whether ``value`` is an ``int`` (a whole number, 3 or 3.0) or ``float`` (any number)
    var's value: not a bool, finite and at most 1e15 in size."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not in_range(value):
        return False
    return kind == "float" or isinstance(value, int) or value.is_integer()


def _text(value: Value) -> str:
    """A var value as a spec writes it (``true``, not ``True``)."""
    return str(value).lower() if isinstance(value, bool) else str(value)
