"""Stated limits (docs/spec-language.md, "Limits") and hostile input: errors, time, memory."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import Invoke
from lightcost import SpecError, analyze, ops
from lightcost.core.errors import MAX_DIGITS, Loc
from lightcost.cost.engine import LayerCost
from lightcost.spec import expand, expr, located, names, scalars

ROOT = Path(__file__).parents[1]
CORPUS = Path(__file__).parent / "bad_specs"
MEMORY_LIMIT_MIB = 200


def limits_section() -> str:
    text = (ROOT / "docs" / "spec-language.md").read_text()
    return text[text.index("## Limits") :]


@pytest.mark.parametrize(
    ("limit", "value", "written"),
    [
        (located.MAX_BYTES, 4 * 2**20, "at most 4 MiB"),
        (located.MAX_NODES, 200_000, "200,000 after expanding aliases"),
        (located.MAX_DEPTH, 64, "64 levels"),
        (scalars.MAX_NUMBER, 100, "A number has at most 30 digits and 100 characters"),
        (MAX_DIGITS, 30, "A number has at most 30 digits and 100 characters"),
        (expand.MAX_NAME, 128, "at most 128 characters"),
        (ops.MAX_CHANNELS, 2**20, "1 to 1,048,576 (2^20)"),
        (ops.MAX_SIZE, 2**16, "1 to 65,536 (2^16)"),
        (ops.MAX_ELEMENTS, 2**36, "at most 2^36"),
        (ops.MAX_WORK, 2**40, "at most 2^40"),
        (expand.MAX_GRAPH_NODES, 20_000, "20,000 after expansion"),
        (expand.MAX_STEPS, 100_000, "100,000 items visited"),
        (expand.MAX_BLOCK_DEPTH, 16, "16 levels"),
        (expand.MAX_WIDTH, 16, "in (0, 16]"),
        (expr.MAX_MAGNITUDE, 10**15, "at most 1e15 in size"),
        (expr.MAX_LENGTH, 400, "at most 400 characters"),
        (expr.MAX_EXPONENT, 64, "exponent at most 64"),
    ],
)
def test_docs_state_each_limit(limit: float, value: float, written: str) -> None:
    assert limit == value
    assert written in limits_section()


# -- per-layer and total figures stay far below int64 ----------------------------------------


def spec(shape: str, *layers: str) -> str:
    """A spec with input ``shape`` and one layer per item of ``layers``."""
    return f"input: {shape}\nlayers:\n" + "".join(f"  - {layer}\n" for layer in layers)


WORST_LAYERS = {  # one layer each at the work limit (2^40) or the elements limit (2^36)
    "1x1 conv": spec("[1024, 1024, 1024]", "{op: conv, k: 1, out: 1024, bias: true, act: hswish}"),
    "one input channel": spec(
        "[1, 1024, 1024]", "{op: conv, k: 1, out: 65536, bias: true, act: hswish}"
    ),
    "8x8 conv": spec("[16, 1024, 1024]", "{op: conv, k: 8, out: 1024}"),
    "depthwise 16x16": spec("[65536, 256, 256]", "{op: dwconv, k: 16, bias: true, act: hswish}"),
    "pooling 256x256": spec("[1, 4096, 4096]", "{op: maxpool, k: 256, stride: 1}"),
    "global pooling": spec("[16, 65536, 65536]", "{op: avgpool, global: true}"),
    "fc": spec("[1048576, 1, 1]", "{op: fc, out: 1048576, act: hswish}"),
    "squeeze-excite": spec("[1048576, 1, 1]", "{op: se, squeeze: 1048576, gate: hswish}"),
    "add": spec(
        "[1, 1024, 1024]",
        "{op: conv, k: 1, out: 512, name: a}",
        "{op: conv, k: 1, out: 512, from: input, name: b}",
        "{op: add, from: [a, b], act: hswish}",
    ),
}


@pytest.mark.parametrize("params", ["trainable", "weights", "deployed"])
@pytest.mark.parametrize("name", WORST_LAYERS)
def test_layer_figures_at_the_limit_stay_below_2_to_46(name: str, params: str) -> None:
    cost = analyze(f"{name}.yaml", text=WORST_LAYERS[name], params=params)
    for layer in cost.layers:
        for field in LayerCost._fields:
            value = getattr(layer, field)
            if isinstance(value, int):
                assert value < 2**46, (layer.name, field, value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (WORST_LAYERS["1x1 conv"].replace("1024]", "1025]"), "layer too large"),
        (WORST_LAYERS["depthwise 16x16"].replace("k: 16", "k: 17"), "layer too large"),
        (WORST_LAYERS["one input channel"].replace("65536", "65537"), "elements"),
    ],
)
def test_one_more_is_too_large(text: str, message: str) -> None:
    with pytest.raises(SpecError, match=message) as info:
        analyze("big.yaml", text=text)
    assert info.value.loc == Loc("big.yaml", 3, 5, "layers[0]")


def test_totals_of_the_largest_network_stay_below_2_to_61() -> None:
    per_layer = (
        "input: [1024, 1024, 1024]\nblocks:\n  b:\n    nodes: [{op: conv, k: 1, out: 1024}]\n"
    )
    text = per_layer + f"layers:\n  - {{repeat: b, n: {expand.MAX_GRAPH_NODES}}}\n"
    cost = analyze("largest.yaml", text=text)
    total = cost.total()
    assert len(cost.layers) == expand.MAX_GRAPH_NODES
    assert total.madds == expand.MAX_GRAPH_NODES * ops.MAX_WORK
    for figure in (total.params, total.madds, total.other_ops, total.mac, total.mac_bytes):
        assert figure < 2**61


# -- time and memory of the worst inputs, in a child process ---------------------------------


def alias_bomb(levels: int = 12) -> str:
    """Each level is a list of ten aliases of the one before: 10**levels strings expanded."""
    rows = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    rows += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, levels)]
    return "\n".join(rows) + "\n"


def doubling_layers(levels: int = 24) -> str:
    """``layers`` as 2**levels relu items through aliases of aliases."""
    rows = ["input: [3, 8, 8]", "x0: &x0 [{op: relu}, {op: relu}]"]
    rows += [f"x{i}: &x{i} [*x{i - 1}, *x{i - 1}]" for i in range(1, levels)]
    return "\n".join([*rows, f"layers: *x{levels - 1}"]) + "\n"


def nested_repeats(levels: int = 8) -> str:
    """Blocks repeating each other 20,000 times per level, around a layer that is skipped."""
    rows = ["input: [3, 8, 8]", "blocks:", "  b0:", "    nodes: [{op: relu, when: false}]"]
    for i in range(1, levels):
        rows += [f"  b{i}:", f"    nodes: [{{repeat: b{i - 1}, n: 20000}}]"]
    return "\n".join([*rows, "layers:", f"  - {{repeat: b{levels - 1}, n: 20000}}"]) + "\n"


def repeated_layers(nodes: str, n: int = 20_000) -> str:
    """``n`` repeats of a block of ``nodes`` on a 64 x 128 x 128 input."""
    head = "input: [64, 128, 128]\nblocks:\n  b:\n    nodes: "
    return f"{head}{nodes}\nlayers:\n  - {{repeat: b, n: {n}}}\n"


# name: (spec text, exit status, text on stderr)
WORST_INPUTS = {
    "alias bomb": (alias_bomb(), 2, "alias '*a4' expands to 111111 YAML nodes"),
    "alias bomb of layers": (doubling_layers(), 2, "YAML nodes after expanding aliases"),
    "huge repeat": ((CORPUS / "huge_repeat.yaml").read_text(), 2, "must be at most 20000"),
    "nested repeats of a skipped layer": (nested_repeats(), 2, "more than 100000 expansion steps"),
    "repeat past the layer limit": (
        repeated_layers("[{op: conv, k: 3, out: 64}, {op: se}, {op: add, from: [input, prev]}]"),
        2,
        "more than 20000 layers",
    ),
    "the largest network": (repeated_layers("[{op: conv, k: 3, out: 64}]"), 0, ""),
    "4 MiB of list items": (
        "vars:\n  x: [" + "0," * (2 * 2**20 - 10) + "0]\n",
        2,
        "a spec may have at most 200000 YAML nodes",
    ),
    "over 4 MiB": ("# " + "x" * (4 * 2**20) + "\n", 2, "spec is larger than 4 MiB"),
    "names at the limit": (  # 20,000 full layer names of 128 characters
        "input: [3, 8, 8]\nblocks:\n  b:\n    nodes: [{op: relu, name: n}]\nlayers:\n"
        "  - {repeat: b, n: 20000, name: '" + "r" * 121 + "{i + 10000}'}\n",
        0,
        "",
    ),
    "2 MiB block instance name": (  # joined into 20,000 layer names: 4 GiB, a MemoryError
        "input: [3, 8, 8]\nblocks:\n  b:\n    nodes: [{op: relu}]\n"
        "  c:\n    nodes: [{repeat: b, n: 20000}]\n"
        "layers:\n  - {use: c, name: " + "a" * 2 * 2**20 + "}\n",
        2,
        "layers[0].name: the name has 2097152 characters, more than the limit of 128",
    ),
    "3.8 MB base-60 value": (  # YAML 1.1's base-60 constructor is quadratic: 600 s and more
        "input: [3, 8, 8]\nvars:\n  x: " + ":".join(["1"] * 1_900_000) + "\nlayers: [{op: relu}]\n",
        2,
        "vars.x: number too long (1900000 digits; at most 30)",
    ),
}


# The child reports its own peak (VmHWM: the high-water mark of this program's memory; a
# parent's max RSS of the child would include the forked copy of the test process).
PEAK_PROBE = """
import atexit, os, sys
def report():
    with open("/proc/self/status") as status, open(os.environ["PEAK_FILE"], "w") as out:
        out.write(next(line for line in status if line.startswith("VmHWM:")))
atexit.register(report)
sys.argv[0] = "lightcost"
from lightcost.cli.main import main
main()
"""


def run_measured(args: list[str], tmp_path: Path) -> tuple[int, str, float, float]:
    """Exit status, stderr, wall seconds and peak memory (MiB) of ``lightcost ARGS``."""
    if not Path("/proc/self/status").exists():
        pytest.skip("needs /proc (Linux) to read a process's peak memory")
    peak_file = tmp_path / "peak.txt"
    env = {**os.environ, "NO_COLOR": "1", "PEAK_FILE": str(peak_file)}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", PEAK_PROBE, *args], capture_output=True, text=True, env=env
    )
    elapsed = time.perf_counter() - start
    kib = int(peak_file.read_text().split()[1])
    return done.returncode, done.stderr, elapsed, kib / 1024


@pytest.mark.parametrize("name", WORST_INPUTS)
def test_worst_inputs_stay_under_200_mib_and_a_few_seconds(tmp_path: Path, name: str) -> None:
    text, status, message = WORST_INPUTS[name]
    path = tmp_path / "worst.yaml"
    path.write_text(text)
    code, stderr, seconds, peak = run_measured(["table", str(path)], tmp_path)
    assert code == status, stderr
    assert message in stderr
    assert len(stderr.splitlines()) == (1 if status else 0)
    assert seconds < 20, f"{name}: {seconds:.1f} s"
    assert peak < MEMORY_LIMIT_MIB, f"{name}: {peak:.0f} MiB"


# -- options and API arguments at their extremes ---------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--res", "65537"], "Invalid value for '--res'"),  # click: the range is 1 to 2**16
        (["--res", "0"], "Invalid value for '--res'"),
        (["--width", "0"], "Invalid value for '--width'"),
        (["--width", "16.5"], "Invalid value for '--width'"),
        (["--width", "nan"], "width multiplier must be in (0, 16], got nan"),
        (["--width", "16", "--res", "4096"], "above the limit"),
        (["--set", "classes=.inf"], "vars.classes: --set classes must be a number"),
        (["--set", "classes=99999999999999999999"], "at most 1e15 in size"),
        (["--set", "classes=1e999"], "(at most 1e15 in size), a boolean or text, got inf"),
        (["--set", "classes=0"], "'out' must be at least 1, got 0"),
        (["--set", "classes=[1]"], "Invalid value for --set"),
        (["--set", "classes=[1"], "Invalid value for --set"),
        (["--set", "clases=10"], "no var 'clases', did you mean 'classes'?"),
        (["--variant", "9x"], "unknown variant '9x'"),
        (["--depth", "0"], "Invalid value for '--depth'"),
    ],
)
def test_option_extremes_exit_2_with_one_line(
    invoke: Invoke, args: list[str], message: str
) -> None:
    result = invoke("table", "mobilenet_v1", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output
    if "Invalid value" not in message:  # click's usage errors print a usage line first
        assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    "arguments",
    [
        {"resolution": 0},
        {"resolution": 2**16 + 1},
        {"resolution": 1.5},
        {"resolution": True},
        {"width": 0.0},
        {"width": 16.01},
        {"width": float("nan")},
        {"width": float("inf")},
        {"overrides": {"classes": None}},
        {"overrides": {"classes": [1]}},
        {"overrides": {"classes": float("nan")}},
        {"overrides": {"classes": 10**400}},
    ],
)
def test_api_arguments_at_extremes_are_spec_errors(arguments: dict[str, object]) -> None:
    with pytest.raises(SpecError):
        analyze("mobilenet_v1", **arguments)  # type: ignore[arg-type]


# -- what the loader accepts ------------------------------------------------------------------


def test_merge_keys_let_the_mapping_own_keys_win() -> None:
    text = (
        "input: [3, 32, 32]\nbase: &base {op: conv, k: 3, out: 16}\nlayers:\n"
        "  - {<<: *base, k: 1, name: a}\n  - {<<: [*base, {act: relu}], name: b}\n"
    )
    spec = located.parse_yaml(text, "merge.yaml")
    layers = spec["layers"]
    assert dict(layers[0]) == {"op": "conv", "k": 1, "out": 16, "name": "a"}
    assert dict(layers[1]) == {"op": "conv", "k": 3, "out": 16, "act": "relu", "name": "b"}
    assert layers[0].key_loc("k") == Loc("merge.yaml", 4, 17, "layers[0].k")
    assert layers[0].loc_of("out").line == 2  # a merged value stands where it was written


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("name: '2024-01-01'\n", "2024-01-01"),  # a quoted date is text
        ("name: =\n", "="),
        ("\ufeffname: bom\n", "bom"),
        ("name: !!str 12\n", "12"),
        ("name: 0x1F\n", 31),
        ("name: ~\n", None),
    ],
)
def test_scalars(text: str, value: object) -> None:
    assert located.parse_yaml(text, "s.yaml")["name"] == value


@pytest.mark.parametrize(
    ("written", "value"),
    [  # YAML 1.2 core schema
        ("12", 12),
        ("-0", 0),
        ("0o17", 15),
        ("0xff", 255),
        ("1e3", 1000.0),
        ("-.5", -0.5),
        ("1.", 1.0),
        ("2.5E-1", 0.25),
        ("-.inf", float("-inf")),
        ("TRUE", True),
        ("False", False),
        ("Null", None),
        ("", None),
        ("y", "y"),  # a boolean in the YAML 1.1 draft only: PyYAML and YAML 1.2 read text
        ("n", "n"),
        ("'010'", "010"),  # quoted: text
        ('"3:3"', "3:3"),
        ("!!int 0x10", 16),
        ("!!float 3", 3.0),
        ("!!bool true", True),
        ("!!null ~", None),
    ],
)
def test_scalars_read_as_yaml_1_2(written: str, value: object) -> None:
    assert located.parse_yaml(f"a: {written}\n", "s.yaml")["a"] == value


@pytest.mark.parametrize(
    ("written", "message"),
    [  # where YAML 1.1 and YAML 1.2 read a plain scalar differently
        ("3:3", "'3:3' is a number in YAML 1.1 but text in YAML 1.2"),  # base 60: 183
        ("-1:30.5", "'-1:30.5' is a number in YAML 1.1"),
        ("010", "'010' has a leading zero: YAML 1.1 reads it as octal, YAML 1.2 as decimal"),
        ("-007", "'-007' has a leading zero"),
        ("0b101", "'0b101' is a number in YAML 1.1"),
        ("1_000", "'1_000' is a number in YAML 1.1"),
        ("1_0.5", "'1_0.5' is a number in YAML 1.1"),
        ("-0x1F", "'-0x1F' is a number in YAML 1.1"),
        ("yes", "'yes' is a boolean in YAML 1.1 but text in YAML 1.2"),
        ("Off", "'Off' is a boolean in YAML 1.1"),
        ("2001-12-14", "'2001-12-14' is a date in YAML 1.1 but text in YAML 1.2"),
        ("2001-12-14t21:59:43.10-05:00", "is a date in YAML 1.1"),
        ("!!int 010", "'010' has a leading zero"),
        ("!!int 3:3", "'3:3' is not a valid YAML int"),
        ("!!bool yes", "'yes' is not a valid YAML bool"),
        ("!!null 0", "'0' is not a valid YAML null"),
        ("!!timestamp 2001-12-14", "YAML tag 'tag:yaml.org,2002:timestamp' is not allowed"),
        ("1" * 31, "number too long (31 digits; at most 30)"),
        ("!!int " + "1" * 5000, "number too long (5000 digits; at most 30)"),
        ("1:" * 60 + "1", "number too long (61 digits; at most 30)"),
        ("1." + "_" * 100, "is longer than 100 characters, too long for a number"),
    ],
)
def test_yaml_1_1_only_forms_are_located_errors(written: str, message: str) -> None:
    with pytest.raises(SpecError) as info:
        located.parse_yaml(f"a: [1, {written}]\n", "s.yaml")
    assert info.value.loc == Loc("s.yaml", 1, 8, "a[1]")
    assert message in info.value.message


def test_long_text_is_text() -> None:
    text = "a long description, " * 1000
    assert located.parse_yaml(f"a: {text}\n", "s.yaml")["a"] == text.strip()


@pytest.mark.parametrize(
    ("text", "at", "message"),
    [
        ("name: a\ud800b\n", (1, 8), "not valid Unicode text"),
        ("a: 1\nb: \x1b[31m\n", (2, 4), "invalid character"),
        ("a: &x 1\nb: &x 2\n", (2, 4), "duplicate anchor '&x'"),
        ("? [a, b]\n: 1\n", (1, 3), "a mapping key must be a plain scalar"),
        ("a: !!float one\n", (1, 4), "'one' is not a valid YAML float"),
        ("a: !!set {x}\n", (1, 4), "YAML tag 'tag:yaml.org,2002:set' is not allowed"),
        ("a: [1, 2\n", (2, 1), "YAML syntax error: did not find expected ',' or ']'"),
    ],
)
def test_loader_errors_are_located(text: str, at: tuple[int, int], message: str) -> None:
    with pytest.raises(SpecError) as info:
        located.parse_yaml(text, "bad.yaml")
    assert info.value.loc is not None
    assert (info.value.loc.line, info.value.loc.col) == at
    assert message in info.value.message


LONG = "x" * (names.MAX_NAME + 1)
RELU = "layers: [{op: relu}]\n"


@pytest.mark.parametrize(
    ("text", "at", "message"),
    [
        (f"blocks:\n  {LONG}: {{nodes: [{{op: relu}}]}}\n{RELU}", (3, 3), "the block name has 129"),
        (f"variants:\n  {LONG}: {{}}\nvariant: a\n{RELU}", (3, 3), "the variant name has 129"),
        (
            f"blocks:\n  b: {{params: {{{LONG}: int}}, nodes: [{{op: relu}}]}}\n"
            "layers: [{use: b}]\n",
            (3, 16),
            "the name has 129 characters, more than the limit of 128",
        ),
        (  # a template filled in to 129 characters
            f"vars:\n  t: {LONG[1:]}\nlayers: [{{op: relu, name: 'a{{t}}'}}]\n",
            (4, 27),
            "the name has 129 characters",
        ),
    ],
)
def test_names_are_at_most_128_characters(text: str, at: tuple[int, int], message: str) -> None:
    with pytest.raises(SpecError) as info:
        analyze("names.yaml", text=f"input: [3, 8, 8]\n{text}")
    assert info.value.loc is not None
    assert (info.value.loc.line, info.value.loc.col) == at
    assert message in info.value.message


# -- values that were accepted silently -------------------------------------------------------


@pytest.mark.parametrize(
    ("layer", "shape"),
    [
        ("{op: maxpool, k: 2, padding: 1}", (3, 5, 5)),  # at most half the window
        ("{op: avgpool, k: 3, stride: 1, padding: 1}", (3, 8, 8)),
        ("{op: maxpool, k: 3, dilation: 2, stride: 1, padding: 2}", (3, 8, 8)),  # window 5
        ("{op: conv, k: 2, out: 4, padding: 5}", (4, 17, 17)),  # conv: any padding (PyTorch)
        ("{op: conv, k: 1, out: 'div(12, 4.0)'}", (12, 8, 8)),
        ("{op: conv, k: 1, out: 'ch(0.5)'}", (1, 8, 8)),
        ("{op: relu, when: 'in == 3 and not false'}", (3, 8, 8)),
        ('{op: conv, k: 1, out: "4 if in - 3 else 2"}', (2, 8, 8)),  # numbers: 0 is false
    ],
)
def test_values_within_the_rules(layer: str, shape: tuple[int, int, int]) -> None:
    graph = analyze("ok.yaml", text=spec("[3, 8, 8]", layer)).graph
    assert graph.nodes[-1].out_shape == shape


@pytest.mark.parametrize(
    ("layer", "message"),
    [
        ("{op: maxpool, k: 3, padding: 2}", "padding 2 is more than half the pooling window (3)"),
        ("{op: avgpool, k: 3, dilation: 2, padding: 3}", "half the pooling window (5): at most 2"),
        ("{op: conv, k: 1, out: 'div(0)'}", "div() takes a positive channel count, got 0"),
        ("{op: conv, k: 1, out: 'ch(0)'}", "ch() takes a positive channel count, got 0"),
        ("{op: conv, k: 1, out: 'div(16, -8)'}", "divisor must be a whole number from 1 up"),
        ("{op: relu, when: 1}", "'when' must be true or false, got 1"),
        ("{op: relu, when: 'not \"false\"'}", "a condition must be true, false or a number, got"),
        ("{op: relu, when: 'in > 1 and \"no\"'}", "must be true, false or a number, got 'no'"),
        ("{op: relu, when: 'in * 2'}", "'when' must be true or false, got 6"),
    ],
)
def test_values_that_were_accepted_silently_are_errors(layer: str, message: str) -> None:
    with pytest.raises(SpecError, match=re.escape(message)) as info:
        analyze("bad.yaml", text=spec("[3, 8, 8]", layer))
    assert info.value.loc is not None
    assert info.value.loc.line == 3


def test_messages_are_one_line() -> None:
    error = SpecError("unknown op 'a\nb\x1b[2J'\u2028", Loc("f.yaml", 1, 2, "layers[0].op"))
    assert str(error) == "f.yaml:1:2: layers[0].op: unknown op 'a\\nb\\x1b[2J'\\u2028"
