"""Spec vars: typed vars (declarations, values from the spec, variants and --set, the
bundled specs' vars) and reserved names (vars, variants, block parameters, --set)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from conftest import Invoke
from lightcost import SpecError, analyze, build
from lightcost.analysis.schema import spec_schema
from lightcost.spec.expr import LITERALS, Value
from lightcost.spec.files import find_spec
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


def line_of(path: str, text: str) -> int:
    """The 1-based line of a file that starts with ``text``."""
    with open(path, encoding="utf-8") as handle:
        return next(n for n, line in enumerate(handle, 1) if line.startswith(text))


# -- typed vars ---------------------------------------------------------------------------

TYPED = """input: [3, 32, 32]
vars:
  classes: 10
  g: {type: int, values: [1, 2, 4], default: 2, description: groups}
  c: {type: int, min: 8, max: 64, default: 16}
  s: {type: float, min: 0.25, max: 2, default: 1.0}
  relu: {type: bool, default: true}
  act: {type: str, values: [relu, hswish], default: relu}
variants:
  small: {vars: {c: 8, s: 0.5}}
  big: {vars: {c: 64, g: 4}}
variant: small
layers:
  - {op: conv, k: 3, out: 8}
  - {op: conv, k: 1, out: "int(c * s) * g", groups: g, act: act}
  - {op: relu, when: relu}
  - {op: fc, out: classes}
"""


def pointed(text: str, exc: SpecError) -> str:
    """The spec text from where an error points to the end of that line."""
    assert exc.loc is not None
    return text.splitlines()[exc.loc.line - 1][exc.loc.col - 1 :]


def test_typed_vars_take_defaults_variants_and_sets() -> None:
    graph = build("t.yaml", text=TYPED, variant="big")
    assert graph.variables == {
        "classes": 10, "g": 4, "c": 64, "s": 1.0, "relu": True, "act": "relu"
    }  # fmt: skip
    assert graph.nodes[1].out_shape[0] == 256
    sets: dict[str, Value] = {"g": 1, "c": 9, "s": 2, "relu": False, "act": "hswish"}
    graph = build("t.yaml", text=TYPED, overrides=sets)
    assert graph.variables == {"classes": 10, **sets}
    assert [node.op for node in graph.nodes] == ["conv", "conv", "fc"]
    assert graph.nodes[1].attrs["act"] == "hswish"


def test_typed_values_are_kept_as_written() -> None:
    """An int var takes 4.0 and a float var 2 as they are (the JSON output shows them)."""
    assert build("t.yaml", text=TYPED, overrides={"g": 4.0}).variables["g"] == 4.0
    assert build("t.yaml", text=TYPED, overrides={"s": 2}).variables["s"] == 2


# (declaration of var `v`, the path of the error, the text it points at, the message)
DECLARATION_ERRORS = [
    ("{type: int, values: [1, 2], default: 3}", "default", "3}",
     "var 'v' must be one of 1, 2, got 3"),
    ("{type: int, default: 2.5}", "default", "2.5}",
     "var 'v' must be a whole number (at most 1e15 in size), got 2.5"),
    ("{type: int, default: 1.0e+16}", "default", "1.0e+16}",
     "var 'v' must be a whole number (at most 1e15 in size), got 1e+16"),
    ("{type: float, default: abc}", "default", "abc}",
     "var 'v' must be a number (at most 1e15 in size), got 'abc'"),
    ("{type: float, default: .nan}", "default", ".nan}",
     "var 'v' must be a number (at most 1e15 in size), got nan"),
    ("{type: bool, default: 1}", "default", "1}", "var 'v' must be true or false, got 1"),
    ("{type: str, default: 1}", "default", "1}", "var 'v' must be text, got 1"),
    ("{type: str, default: [a]}", "default", "[a]}", "var 'v' must be text, got a list"),
    ("{type: str, values: [relu, hswish], default: hswsh}", "default", "hswsh}",
     "var 'v' must be one of relu, hswish, got 'hswsh', did you mean 'hswish'?"),
    ("{type: bool, values: [true], default: false}", "default", "false}",
     "var 'v' must be one of true, got False"),
    ("{type: int, min: 8, default: 4}", "default", "4}", "var 'v' must be at least 8, got 4"),
    ("{type: float, max: 2, default: 2.5}", "default", "2.5}",
     "var 'v' must be at most 2, got 2.5"),
    ("{type: integer, default: 1}", "type", "integer",
     "var 'v' has unknown type 'integer', did you mean 'int'? (types: int, float, bool, str)"),
    ("{default: 1}", "", "{default",
     "var 'v' needs a 'type' (types: int, float, bool, str)"),
    ("{type: int}", "", "{type", "var 'v' needs a 'default'"),
    ("{type: int, default: 1, valus: [1]}", "valus", "valus",
     "unknown key 'valus' in var 'v', did you mean 'values'?"),
    ("{type: str, min: 1, default: a}", "min", "1,", "var 'v': 'min' is for int and float vars"),
    ("{type: int, min: a, default: 1}", "min", "a,",
     "'min' of var 'v' must be a whole number (at most 1e15 in size), got 'a'"),
    ("{type: int, min: 5, max: 2, default: 3}", "max", "2,",
     "var 'v': 'max' 2 is below 'min' 5"),
    ("{type: int, values: 1, default: 1}", "values", "1,",
     "var 'v': 'values' must be a non-empty list"),
    ("{type: int, values: [], default: 1}", "values", "[]",
     "var 'v': 'values' must be a non-empty list"),
    ("{type: int, values: [1, x], default: 1}", "values[1]", "x]",
     "a value of var 'v' must be a whole number (at most 1e15 in size), got 'x'"),
    ("{type: int, max: 4, values: [1, 8], default: 1}", "values[1]", "8]",
     "a value of var 'v' must be at most 4, got 8"),
    ("{type: int, default: 1, description: [a]}", "description", "[a]",
     "var 'v': 'description' must be text"),
]  # fmt: skip


@pytest.mark.parametrize(("declaration", "path", "points_at", "message"), DECLARATION_ERRORS)
def test_declaration_errors_are_located(
    declaration: str, path: str, points_at: str, message: str
) -> None:
    text = f"input: [3, 32, 32]\nvars:\n  v: {declaration}\n{LAYERS}"
    exc = error(text)
    assert exc.loc is not None
    assert (exc.loc.line, exc.loc.path) == (3, f"vars.v.{path}".rstrip("."))
    assert pointed(text, exc).startswith(points_at)
    assert exc.message.startswith(message)


def test_variant_value_is_checked_at_the_variant() -> None:
    text = TYPED.replace("vars: {c: 8, s: 0.5}", "vars: {c: 8, s: 0.1}")
    exc = error(text)
    assert (at(exc).split()[1], pointed(text, exc)) == ("variants.small.vars.s", "0.1}}")
    assert exc.message == "var 's' must be at least 0.25, got 0.1"


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        ({"g": 3}, "--set g must be one of 1, 2, 4, got 3"),
        ({"c": 100}, "--set c must be at most 64, got 100"),
        ({"c": "x"}, "--set c must be a whole number (at most 1e15 in size), got 'x'"),
        ({"relu": "yes"}, "--set relu must be true or false, got 'yes'"),
        ({"act": "tanh"}, "--set act must be one of relu, hswish, got 'tanh'"),
        ({"classes": float("inf")},
         "--set classes must be a number (at most 1e15 in size), a boolean or text, got inf"),
    ],
)  # fmt: skip
def test_set_values_are_checked_at_the_var(sets: dict[str, Any], message: str) -> None:
    exc = error(TYPED, overrides=sets)
    (name,) = sets
    assert (at(exc).split()[1], exc.message) == (f"vars.{name}", message)
    assert pointed(TYPED, exc).startswith("{" if name != "classes" else "10")


def test_set_on_the_command_line_names_the_var_and_its_values(
    invoke: Invoke, tmp_path: Path
) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(TYPED)
    result = invoke("table", str(path), "--set", "g=3")
    assert result.exit_code == 2
    assert result.stderr == f"error: {path}:4:6: vars.g: --set g must be one of 1, 2, 4, got 3\n"


# -- the bundled specs' typed vars --------------------------------------------------------


def test_shufflenet_v1_groups_is_a_located_error(invoke: Invoke) -> None:
    """Table 1 has g = 1, 2, 3, 4, 8: another g names the var and its values (exit 2)."""
    path = find_spec("shufflenet_v1")
    line = line_of(path, "  groups:") + 1  # the declaration's mapping starts below the key
    result = invoke("table", "shufflenet_v1", "--set", "groups=5")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"error: {path}:{line}:5: vars.groups: --set groups must be one of 1, 2, 3, 4, 8, got 5\n"
    )


@pytest.mark.parametrize("name", ["mobilenet_v3_large", "mobilenet_v3_small"])
def test_mobilenet_v3_scaling_is_a_located_error(name: str) -> None:
    exc = error_of(name, {"scaling": "tfslim"})
    assert at(exc).endswith(" vars.scaling")
    assert exc.message == (
        "--set scaling must be one of torchvision, tf_slim, got 'tfslim', did you mean 'tf_slim'?"
    )


def test_shufflenet_v1_scale_must_be_a_number() -> None:
    exc = error_of("shufflenet_v1", {"scale": "half"})
    assert exc.message == "--set scale must be a number (at most 1e15 in size), got 'half'"


def error_of(spec: str, overrides: dict[str, Any]) -> SpecError:
    """The SpecError of analyzing bundled ``spec`` with ``overrides``."""
    with pytest.raises(SpecError) as info:
        analyze(spec, overrides=overrides)
    return info.value


V3_ACTIVATIONS = {"RE": "relu", "HS": "hswish"}


@pytest.mark.parametrize(
    ("name", "variables"),
    [
        ("shufflenet_v1", {"classes": 1000, "groups": 3, "scale": 1.0}),
        ("mobilenet_v3_large", {"classes": 1000, "scaling": "torchvision", **V3_ACTIVATIONS}),
        ("mobilenet_v3_small", {"classes": 1000, "scaling": "torchvision", **V3_ACTIVATIONS}),
    ],
)  # fmt: skip
def test_bundled_typed_vars_default_as_before(name: str, variables: dict[str, Any]) -> None:
    assert dict(build(name).variables) == variables


# -- the schema of vars -------------------------------------------------------------------

VALID = jsonschema.Draft202012Validator(spec_schema())


def test_schema_accepts_typed_vars() -> None:
    assert VALID.is_valid(yaml.safe_load(TYPED))


@pytest.mark.parametrize(
    "declaration",
    [
        "{type: integer, default: 1}",
        "{type: int}",
        "{default: 1}",
        "{type: int, default: 2.5}",
        "{type: str, min: 1, default: a}",
        "{type: int, values: [], default: 1}",
        "{type: int, default: 1, valus: [1]}",
    ],
)
def test_schema_and_expander_reject_bad_declarations(declaration: str) -> None:
    text = f"input: [3, 32, 32]\nvars:\n  v: {declaration}\n{LAYERS}"
    assert not VALID.is_valid(yaml.safe_load(text))
    error(text)


@pytest.mark.parametrize(
    "text",
    [
        f"input: [3, 32, 32]\nvars: {{in_h: 1}}\n{LAYERS}",
        f"input: [3, 32, 32]\nvars: {{c: 1}}\nvariants: {{a: {{vars: {{res: 2}}}}}}\n"
        f"variant: a\n{LAYERS}",
    ],
)
def test_schema_and_expander_reject_reserved_vars(text: str) -> None:
    assert not VALID.is_valid(yaml.safe_load(text))
    error(text)


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
                found |= {
                    k.value
                    for k in node.keys
                    if isinstance(k, ast.Constant) and isinstance(k.value, str)
                }
    return found


def test_reserved_table_has_every_injected_name_and_literal() -> None:
    names = injected_names()
    assert {"alpha", "res", "in", "in_h", "in_w", "block_in", "i", "row", "j"} <= names
    assert names | set(LITERALS) | {"in_"} == set(RESERVED)


def test_the_language_doc_lists_every_reserved_name() -> None:
    doc = (SPEC_PACKAGE.parents[1] / "docs" / "spec-language.md").read_text(encoding="utf-8")
    paragraph = doc[doc.index("Reserved names:") :].split("\n\n")[0]
    assert all(f"`{name}`" in paragraph for name in RESERVED)


@pytest.mark.parametrize("name", [name for name in RESERVED if name != "alpha"])  # alpha: a width
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


@pytest.mark.parametrize("name", ["in_h", "res", "true"])  # --set alpha: tests/test_spec_config.py
def test_reserved_set_is_refused(name: str) -> None:
    exc = error(f"input: [3, 32, 32]\nvars: {{c: 8}}\n{LAYERS}", overrides={name: 3})
    assert at(exc) == "2:7 vars"
    assert exc.message.startswith(f"--set {name}: '{name}' is a reserved name ({RESERVED[name]}")


def test_reserved_set_on_the_command_line(invoke: Invoke) -> None:
    result = invoke("table", "mobilenet_v1", "--set", "in_w=3")
    assert result.exit_code == 2
    assert "mobilenet_v1.yaml:13:7: vars: --set in_w: 'in_w' is a reserved name" in result.stderr
