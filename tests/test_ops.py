"""The op table is complete and consistent: every op has every part, and every consumer reads it.

Adding an op: its file in lightcost/ops/, a row in EXAMPLES here, a row in the
table of docs/architecture.md (docs/architecture.md, "How to add an op").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import lightcost.analysis.sweep
from conftest import Invoke
from lightcost.analysis.schema import spec_schema
from lightcost.analysis.sweep import scalar_figures, sweep
from lightcost.api import analyze, build
from lightcost.core.errors import SpecError
from lightcost.cost.engine import cost_graph
from lightcost.ops import OPS, Attr, missing, no_export, onnx_imports, register
from lightcost.spec.expand import expand
from lightcost.spec.located import parse_yaml

DOC = Path(__file__).resolve().parent.parent / "docs" / "architecture.md"
STEM = "input: [4, 16, 16]\nlayers:\n  - {name: stem, op: conv, k: 1, out: 8}\n"
# One small use of every op, after an 8-channel stem (width-scaled: a sweep varies it).
EXAMPLES = {
    "conv": [
        "{op: conv, k: 3, stride: 2, out: 16, groups: 2, bias: true, act: relu6}",
        "{op: conv, k: [1, 7], stride: [1, 2], padding: [0, 3], out: 8}",
        "{op: conv, k: [7, 1], dilation: [2, 1], out: 8, act: relu}",
    ],
    "dwconv": [
        "{op: dwconv, k: 5, multiplier: 2, padding: 1, act: hswish}",
        "{op: dwconv, k: [5, 3], stride: [2, 1], dilation: [1, 2], padding: [2, 2]}",
    ],
    "convtranspose": [
        "{op: convtranspose, k: 4, stride: 2, padding: 1, out: 8, bias: true, act: relu}",
        "{op: convtranspose, k: [3, 1], stride: 2, padding: [1, 0], output_padding: [1, 0], "
        "out: 8, groups: 2, bn: false}",
    ],
    "fc": ["{op: fc, out: 10, act: relu}"],
    "bn": ["{op: bn}"],
    "avgpool": [
        "{op: avgpool, k: 3, stride: 2, padding: valid}",
        "{op: avgpool, k: [3, 1], stride: [1, 0], padding: [1, 0]}",
        "{op: avgpool, k: 3, stride: 2, padding: [0, 1, 1, 0], ceil_mode: true}",
        "{op: avgpool, out_size: [2, 4]}",
    ],
    "maxpool": [
        "{op: maxpool, k: [2, 3], padding: same}",
        "{op: maxpool, k: 3, stride: 2, padding: 1, ceil_mode: true}",
        "{op: maxpool, global: true}",
    ],
    "upsample": [
        "{op: upsample, scale: 2}",
        "{op: upsample, mode: bilinear, size: [20, 12]}",
    ],
    "pad": [
        "{op: pad, padding: [1, 0, 2, 3]}",
        "{op: pad, padding: 2, mode: reflect}",
        "{op: pad, padding: [1, 2], mode: replicate}",
    ],
    "add": ["{name: r, op: relu}", "{op: add, from: [stem, r], act: tanh}"],
    "sub": ["{name: r, op: relu}", "{op: sub, from: [r, stem]}"],
    "mul": ["{name: gap, op: avgpool, global: true}", "{op: mul, from: [stem, gap]}"],
    "concat": ["{op: concat, from: [stem, stem]}"],
    "split": ["{op: split, parts: 2, index: 1}", '{op: split, sizes: [1, "in - 1"], index: 1}'],
    "slice": ["{op: slice, end: 6}", "{op: slice, start: 2, end: 5}"],
    "shuffle": ["{op: shuffle, groups: 4}"],
    "se": ["{op: se}"],
    "flatten": ["{op: flatten}"],
    "dropout": ["{op: dropout}"],
    "identity": ["{op: identity}"],
    **{act: [f"{{op: {act}}}"] for act in ("relu", "relu6", "hswish", "hsigmoid")},
    **{act: [f"{{op: {act}}}"] for act in ("sigmoid", "swish", "silu", "tanh")},
    **{act: [f"{{op: {act}}}"] for act in ("hardtanh", "gelu", "gelu_tanh")},
    "layernorm": ["{op: layernorm}"],
    "groupnorm": ["{op: groupnorm, groups: 4}"],
    "softmax": ["{op: softmax, axis: c, scale: true}", "{op: softmax}"],
    "matmul": [
        "{name: t, op: transpose}",
        "{name: mm, op: matmul, from: [stem, t]}",
        "{op: matmul, from: [mm, stem], transpose_b: true}",
    ],
    "scale": ["{op: scale}", "{op: scale, learned: false}"],
    "attention": [
        "{op: attention, heads: 2, kv_heads: 1, kv_stride: 2, qkv_bias: false}",
        "{op: attention, heads: 4, kv_heads: 2, tokens: w, head_dim: 3, v_dim: 5, out: 6}",
        "{op: attention, heads: 2, head_dim: 4, kv_stride: 2, kv_kernel: 5, kv_bn: false, "
        "kv_bias: true}",
    ],
    "unfold": ["{op: unfold}"],
    "fold": ["{name: u, op: unfold}", "{op: fold}", "{op: fold, from: [u, stem], resize: true}"],
    "cls_token": ["{op: unfold}", "{op: cls_token, tokens: 2}"],
    "pos_embed": ["{op: pos_embed}"],
    "token": ["{op: unfold}", "{op: token, index: 3}"],
    "reshape": ["{op: reshape, h: 1, w: 1}"],
    "transpose": ["{op: transpose, perm: cwh}", "{op: transpose, perm: hwc}"],
}


def example(op: str) -> str:
    """A spec using ``op``."""
    return STEM + "".join(f"  - {item}\n" for item in EXAMPLES[op])


def test_every_op_is_complete_and_has_an_example() -> None:
    assert {name: problems for name, op in OPS.items() if (problems := missing(op))} == {}
    assert set(EXAMPLES) == set(OPS), "add a use of the new op to EXAMPLES"


def test_register_names_every_missing_or_malformed_part() -> None:
    incomplete = OPS["identity"]._replace(
        name="blob",
        summary="",
        kind="blob",
        attrs={"n": Attr("channels", 3), "mode": Attr("enum", "fast")},
        cost=None,
        export=None,
        imports={"Conv": None},
        max_inputs=0,
    )
    with pytest.raises(ValueError, match="op 'blob' cannot be registered") as info:
        register(incomplete)
    message = str(info.value)
    for part in (
        "summary is missing",
        "kind 'blob' is not one of dense,",
        "attribute 'mode': an enum without allowed values",
        "attribute 'n' holds channels but is not listed in channels",
        "cost (a function) is missing",
        "export (a function) is missing",
        "import of 'Conv': not an ONNX op type with a handler",
        "ONNX op type 'Conv' is imported by op 'conv' already",
        "inputs 1..0",
    ):
        assert part in message
    assert "blob" not in OPS
    with pytest.raises(ValueError, match="an op of this name is registered already"):
        register(OPS["relu"])


@pytest.fixture
def blob() -> Iterator[str]:
    """A registered op with no export: identity's rules under another name."""
    register(
        OPS["identity"]._replace(
            name="blob", summary="a test op without ONNX form", export=no_export, imports={}
        )
    )
    yield "blob"
    del OPS["blob"]


def test_a_registered_op_works_in_every_command(blob: str, invoke: Invoke, tmp_path: Path) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text("input: [3, 8, 8]\nlayers:\n  - {op: conv, k: 3, out: 4}\n  - {op: blob}\n")
    for args in (
        ["table", "--exec", "unfused", "--by", "op", "--device", "gtx1080ti"],
        ["lint"],
        ["sweep", "--width", "0.5,1", "--res", "8,12"],
    ):
        result = invoke(args[0], str(spec), *args[1:])
        assert result.exit_code == 0, (args, result.stderr)
    assert "op_blob" in spec_schema()["$defs"]
    pytest.importorskip("onnx")
    result = invoke("export", str(spec), "-o", str(tmp_path / "net.onnx"))
    assert result.exit_code == 2
    assert result.stderr == "error: layer 'blob': not supported by export: blob\n"


@pytest.fixture
def scaled() -> Iterator[str]:
    """A registered op with a float and an enum attribute (identity's rules otherwise)."""
    attrs = {
        "factor": Attr("float", 1.0, low=0),
        "mode": Attr("enum", "nearest", allowed=("nearest", "linear")),
    }
    register(OPS["identity"]._replace(name="scaled", summary="test op", attrs=attrs, imports={}))
    yield "scaled"
    del OPS["scaled"]


def test_float_and_enum_attributes_are_read_and_checked(scaled: str) -> None:
    def node(extra: str) -> dict[str, object]:
        text = f"input: [3, 8, 8]\nvars: {{m: linear}}\nlayers:\n  - {{op: scaled{extra}}}\n"
        return dict(build("net.yaml", text=text).nodes[0].attrs)

    assert node("") == {"factor": 1.0, "mode": "nearest"}
    assert node(", factor: '3 / 2', mode: m") == {"factor": 1.5, "mode": "linear"}
    with pytest.raises(SpecError, match=r"net.yaml:4:24: .*'mode' must be one of nearest, "
                       r"linear, got 'linaer', did you mean 'linear'\?$"):  # fmt: skip
        node(", mode: linaer")
    with pytest.raises(SpecError, match="'factor' must be at least 0, got -1"):
        node(", factor: -1")
    with pytest.raises(SpecError, match="expected a number, got 'linear'"):
        node(", factor: m")


@pytest.mark.parametrize("name", list(OPS))
def test_every_op_is_in_the_schema(name: str) -> None:
    op_schema = spec_schema()["$defs"][f"op_{name}"]
    assert op_schema["properties"]["op"] == {"const": name, "description": OPS[name].summary}
    assert set(OPS[name].attrs) <= set(op_schema["properties"])


@pytest.mark.parametrize("name", list(OPS))
def test_every_op_sweeps_as_it_costs(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The shape and cost rules give the same figures on numpy arrays as on ints."""

    def scalar_fallback(*args: object) -> None:
        raise AssertionError("the vectorized pass failed")

    if all(OPS[op].stacks for op in re.findall(r"op: (\w+)", example(name))):
        monkeypatch.setattr(lightcost.analysis.sweep, "scalar_figures", scalar_fallback)
    result = sweep(f"{name}.yaml", [0.5, 1.0], [16, 21], text=example(name))
    assert result.errors == ()
    for row in result.rows:
        cost = analyze(f"{name}.yaml", row["width"], row["resolution"], text=example(name))
        assert {k: row[k] for k in result.figures} == scalar_figures(cost, result.figures)


# ops whose export imports back as other ops (docs/onnx.md); every other op imports as itself,
# by its own handler or another op's (dwconv by conv's, attention as a region...)
IMPORTED_AS_OTHERS = {"se": "its layers: pool, convs, gate, mul", "silu": "swish, the same"}


@pytest.mark.parametrize("name", list(OPS))
def test_every_op_exports_and_imports_back(name: str) -> None:
    """Export, check, import: equal params, MAdds, other ops; the op is imported as itself."""
    onnx = pytest.importorskip("onnx")
    from lightcost.interop.onnx.exporter import export_graph
    from lightcost.interop.onnx.importer import onnx_spec
    from lightcost.interop.onnx.writer import spec_yaml

    graph = build(f"{name}.yaml", text=example(name))
    proto = export_graph(graph)
    onnx.checker.check_model(proto, full_check=True)
    back = expand(parse_yaml(spec_yaml(onnx_spec(proto, "m.onnx"), "m.onnx"), "m.onnx"), "m.onnx")
    for convention in ("trainable", "weights", "deployed"):
        a, b = cost_graph(graph, convention).total(), cost_graph(back, convention).total()
        assert (a.params, a.madds, a.other_ops) == (b.params, b.madds, b.other_ops), convention
    if name not in IMPORTED_AS_OTHERS:
        imported = {n.op for n in back.nodes} | {str(n.attrs.get("act")) for n in back.nodes}
        assert name in imported


def test_every_imported_onnx_op_type_maps_to_an_op() -> None:
    onnx = pytest.importorskip("onnx")
    from lightcost.interop.onnx.importer import supported

    mapped = onnx_imports()
    assert supported() == {*mapped, "Constant"}
    for op_type, (op, _) in mapped.items():
        assert op in OPS and op_type in OPS[op].imports
        assert onnx.defs.has(op_type), f"{op_type} (op {op}) is not an ONNX operator"


def test_the_docs_table_lists_every_op() -> None:
    """docs/architecture.md's op table: one row per op, its name, kind and summary."""
    rows = re.findall(r"^\| `(\w+)` \| (\w+) \| (.+) \|$", DOC.read_text(), re.MULTILINE)
    assert rows == [(name, op.kind, op.summary) for name, op in OPS.items()]
