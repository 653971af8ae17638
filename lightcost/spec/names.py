"""Names in a spec: scopes, reserved names, tensor references and name templates.

A :class:`Scope` is one level of the walk (the top level or one block
instance): the values expressions can read, the tensors ``from`` can name
(``input``, earlier items, ``prev``) and the block path that prefixes its layer
names. Layer and block names are letters, digits, ``_ . -`` and never one of
:data:`TENSOR_NAMES`. The names the expander sets in expression scopes, and the
literals, are :data:`RESERVED`: no var or block parameter may take one. Every
name a spec gives (layers and block instances, after filling a template; blocks,
vars, block parameters, variants, the spec's ``name``) and every full name (a
layer's or block instance's, its block instance names and its own joined with
``_``) is at most :data:`MAX_NAME` characters: names are printed on every row.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from lightcost.core.errors import Loc, SpecError, describe, did_you_mean, listing, short
from lightcost.core.graph import INPUT, MAX_NAME
from lightcost.spec.expr import LITERALS, Value
from lightcost.spec.located import LMap
from lightcost.spec.values import Evaluator

TENSOR_NAMES = (INPUT, "prev")  # what `from` names besides items
RESERVED: dict[str, str] = {  # every name the expander sets in an expression scope: its meaning
    "alpha": "the width multiplier",
    "res": "the input resolution",
    "in": "the channel count of a layer's input",
    "in_": "how expressions read 'in'",
    "in_h": "the height of a layer's input",
    "in_w": "the width of a layer's input",
    "block_in": "the channel count of a block's input",
    "i": "the running index of a repeat, in names",
    "row": "the row of a stage table, in names",
    "j": "the repeat within a row, in names",
    **{literal: "a literal" for literal in LITERALS},
}
_TEMPLATE = re.compile(r"\{([^{}]*)\}")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


class Scope:
    """What names mean at one level: variables, tensor references and the block path."""

    __slots__ = ("counters", "env", "prefix", "prev", "refs")

    def __init__(
        self, env: dict[str, Value], refs: dict[str, str], prefix: tuple[str, ...], prev: str
    ) -> None:
        self.env = env
        self.refs = refs
        self.prefix = prefix
        self.prev = prev
        self.counters: dict[str, int] = {}

    def auto_name(self, base: str) -> str:
        """``base`` for the first use in this scope, then ``base_1``, ``base_2``..."""
        count = self.counters.get(base, 0)
        self.counters[base] = count + 1
        return base if count == 0 else f"{base}_{count}"

    def resolve(self, ref: Any, where: Loc) -> str:
        """The tensor a ``from`` entry names: ``prev``, ``input`` or an earlier item."""
        if not isinstance(ref, str):
            raise SpecError(
                f"'from' must name tensors (a layer name, input or prev), got {describe(ref)}",
                where,
            )
        if ref == "prev":
            return self.prev
        if ref in self.refs:
            return self.refs[ref]
        known = sorted(self.refs)
        raise SpecError(
            f"unknown reference {short(ref)}{did_you_mean(ref, known)} "
            f"(known here: {listing([*known, 'prev'])}; only earlier items can be named)",
            where,
        )


def check_length(name: str, what: str, where: Loc) -> None:
    """Raise if ``name`` is longer than MAX_NAME characters; ``what`` says what it names."""
    if len(name) > MAX_NAME:
        raise SpecError(
            f"{what} has {len(name)} characters, more than the limit of {MAX_NAME}: {short(name)}",
            where,
        )


def full_name(prefix: tuple[str, ...], name: str, where: Loc) -> str:
    """The full name of a layer or block instance ``name`` inside the instances ``prefix``."""
    full = "_".join((*prefix, name))
    check_length(full, "the full name (block instance names and the name, joined with _)", where)
    return full


def check_reserved(name: str, what: str, where: Loc) -> None:
    """Raise if ``name`` is reserved or too long; ``what`` is the thing named (``var 'in_h'``)."""
    check_length(name, "the name", where)
    if name in RESERVED:
        raise SpecError(
            f"{what} is a reserved name ({RESERVED[name]}; reserved: {', '.join(RESERVED)})",
            where,
        )


def check_name(name: str, what: str, where: Loc) -> None:
    """Raise unless ``name`` is a valid layer or block name (``what`` says which)."""
    check_length(name, f"the {what}", where)
    if not _NAME.match(name) or name in TENSOR_NAMES:
        raise SpecError(
            f"{short(name)} is not a valid {what} (letters, digits, _ . -; not 'input' or 'prev')",
            where,
        )


def template(item: LMap, env: Mapping[str, Value], evaluator: Evaluator) -> str | None:
    """The item's ``name`` with ``{expr}`` fields filled in, or None when absent."""
    if "name" not in item:
        return None
    raw, where = item["name"], item.loc_of("name")
    if not isinstance(raw, str | int) or isinstance(raw, bool):
        raise SpecError(f"'name' must be text, got {describe(raw)}", where)

    def fill(match: re.Match[str]) -> str:
        value = evaluator.value(match.group(1), where, env)
        return str(int(value) if isinstance(value, float) and value.is_integer() else value)

    name = _TEMPLATE.sub(fill, raw) if isinstance(raw, str) and "{" in raw else str(raw)
    check_name(name, "name", where)
    return name
