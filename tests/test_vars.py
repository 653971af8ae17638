"""Spec vars: reserved names (vars, variants, block parameters, --set)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conftest import Invoke
from lightcost import SpecError, analyze
from lightcost.spec.expr import LITERALS
from lightcost.spec.names import RESERVED

SPEC_PACKAGE = Path(__file__).resolve().parent.parent / "lightcost" / "spec"
LAYERS = "layers:\n  - {op: conv, k: 3, out: 16}\n"


def error(text: str, **options: object) -> SpecError:
    """The SpecError of analyzing spec ``text``."""
    with pytest.raises(SpecError) as info:
        analyze("v.yaml", text=text, **options)  # type: ignore[arg-type]
    return info.value


def at(exc: SpecError) -> str:
    """``line:col path`` of an error."""
    assert exc.loc is not None
    return f"{exc.loc.line}:{exc.loc.col} {exc.loc.path}"


# -- reserved names -----------------------------------------------------------------------


def injected_names() -> set[str]:
    """String keys of every ``{**env, "name": ...}`` dict the spec package builds.

    A dict that unpacks another (``**``) extends a scope of names, but the one
    that extends :data:`~lightcost.spec.expr.FUNCTIONS` (with ``ch``).
    """
    found = set()
    for path in SPEC_PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Dict) or None not in node.keys:
                continue
            unpacked = [
                ast.unparse(v) for k, v in zip(node.keys, node.values, strict=True) if k is None
            ]
            if unpacked != ["FUNCTIONS"]:
                found |= {k.value for k in node.keys if isinstance(k, ast.Constant)}
    return found


def test_reserved_table_has_every_injected_name_and_literal() -> None:
    names = injected_names()
    assert {"alpha", "res", "in", "in_h", "in_w", "block_in", "i", "row", "j"} <= names
    assert names | set(LITERALS) | {"in_"} == set(RESERVED)


@pytest.mark.parametrize("name", list(RESERVED))
def test_reserved_var_is_refused_at_its_key(name: str) -> None:
    exc = error(f"input: [3, 32, 32]\nvars:\n  '{name}': 7\n{LAYERS}")
    assert at(exc) == f"3:3 vars.{name}"
    assert exc.message.startswith(f"var '{name}' is a reserved name ({RESERVED[name]}; ")
    assert "reserved: alpha, res, in, in_, in_h, in_w, block_in, i, row, j, true" in exc.message


def test_reserved_var_in_a_variant_is_refused_at_its_key() -> None:
    text = (
        "input: [3, 32, 32]\nvars: {c: 8}\nvariants:\n  a: {vars: {c: 4, in_h: 7}}\n"
        f"variant: a\n{LAYERS}"
    )
    exc = error(text)
    assert at(exc) == "4:20 variants.a.vars.in_h"
    assert exc.message.startswith("var 'in_h' is a reserved name (the height of a layer's input")


def test_reserved_block_parameter_is_refused_at_its_key() -> None:
    text = (
        "input: [3, 32, 32]\nblocks:\n  b:\n    params: {c: channels, block_in: int}\n"
        "    nodes: [{op: conv, k: 1, out: c}]\nlayers:\n  - {use: b, with: {c: 8, block_in: 3}}\n"
    )
    exc = error(text)
    assert at(exc) == "4:27 blocks.b.params.block_in"
    assert exc.message.startswith("parameter 'block_in' of block 'b' is a reserved name")


@pytest.mark.parametrize("name", ["in_h", "alpha", "true"])
def test_reserved_set_is_refused(name: str) -> None:
    exc = error(f"input: [3, 32, 32]\nvars: {{c: 8}}\n{LAYERS}", overrides={name: 3})
    assert at(exc) == "2:7 vars"
    assert exc.message.startswith(f"--set {name}: '{name}' is a reserved name ({RESERVED[name]}")


def test_reserved_set_on_the_command_line(invoke: Invoke) -> None:
    result = invoke("table", "mobilenet_v1", "--set", "in_w=3")
    assert result.exit_code == 2
    assert "mobilenet_v1.yaml:13:7: vars: --set in_w: 'in_w' is a reserved name" in result.stderr
