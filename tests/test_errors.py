"""Bad specs: each gives one located message (file:line:col: path: problem) and exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import Invoke
from lightcost import SpecError, analyze
from lightcost.core.errors import Loc

HEAD = "input: [3, 32, 32]\nlayers:\n"

# (spec text, line of the problem, text the message must contain)
CASES = [
    (HEAD + "  - {op: conv, k: 3, out: 16}\n  - {op: dwconvv, k: 3}\n", 4,
     "unknown op 'dwconvv', did you mean 'dwconv'?"),
    (HEAD + "  - {op: conv, k: 3, out: 16, name: a}\n  - {op: conv, k: 3, out: 32}\n"
     "  - {op: add, from: [a, prev]}\n", 5, "add needs equal shapes, got 16x32x32 + 32x32x32"),
    (HEAD + "  - {op: conv, k: 3, out: 16, name: a}\n  - {op: add, from: [b, prev]}\n", 4,
     "unknown reference 'b'"),
    (HEAD + "  - {op: conv, k: 3, out: 16, groups: 5}\n", 3, "groups=5 must divide"),
    (HEAD + "  - {op: conv, k: 33, out: 16, padding: valid}\n", 3, "reaches 0"),
    (HEAD + "  - {op: conv, k: 3, out: 16, kernel: 3}\n", 3, "unknown key 'kernel'"),
    (HEAD + "  - {op: conv, k: 3}\n", 3, "op 'conv' needs 'out'"),
    (HEAD + "  - {op: conv, k: 3, out: 16, act: relu7}\n", 3, "unknown activation 'relu7'"),
    (HEAD + "  - {op: conv, k: 3, out: -4}\n", 3, "must be at least 1"),
    (HEAD + "  - {op: conv, k: 2.5, out: 4}\n", 3, "whole number"),
    (HEAD + "  - {op: conv, k: 3, out: \"16 / 0\"}\n", 3, "division by zero"),
    (HEAD + "  - {op: conv, k: 3, out: \"9**9**9\"}\n", 3, "too large"),
    (HEAD + "  - {use: nope}\n", 3, "unknown block 'nope'"),
    (HEAD + "  - {op: conv, k: 3, out: 16\n", 4, "YAML syntax error"),
    ("input: !!python/object/apply:os.system [ls]\nlayers: []\n", 1, "tag"),
    ("inputs: [3, 32, 32]\nlayers:\n  - {op: relu}\n", 1,
     "unknown key 'inputs' in spec, did you mean 'input'"),
    ("input: [3, 32]\nlayers:\n  - {op: relu}\n", 1, "'input' must be [channels, height, width]"),
    ("- 1\n- 2\n", 1, "a spec must be a mapping"),
    ("", 1, "spec is empty"),
    ("input: [3, 32, 32]\nblocks:\n  b:\n    params: {c: chanels}\n    nodes: [{op: relu}]\n"
     "layers:\n  - {use: b, with: {c: 8}}\n", 4, "unknown type 'chanels', did you mean 'channels'"),
    ("input: [3, 32, 32]\nblocks:\n  b:\n    params: {c: channels}\n    nodes: [{op: relu}]\n"
     "layers:\n  - {use: b, with: {d: 8}}\n", 7, "block 'b' has no parameter 'd'"),
    ("input: [3, 32, 32]\nblocks:\n  b:\n    params: {c: channels, n2: int}\n"
     "    nodes: [{op: relu}]\nlayers:\n  - repeat: b\n    columns: [c, n]\n"
     "    rows:\n      - [8, 1]\n      - [8]\n", 11,
     "row has 1 values, columns are 2"),
    ("input: [3, 32, 32]\nblocks:\n  b:\n    nodes: [{use: b}]\nlayers:\n  - {use: b}\n", 4,
     "nest deeper"),
    ("input: [3, 32, 32]\nlayers:\n  - {op: relu, name: x}\n  - {op: relu, name: x}\n", 4,
     "duplicate layer name 'x'"),
    ("input: [3, 32, 32]\nlayers:\n  - {op: relu}\n  - {op: relu}\n  - {op: split, parts: 2}\n", 5,
     "divisible by 2"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "line", "message"), CASES)
def test_api_error_is_located(text: str, line: int, message: str) -> None:
    with pytest.raises(SpecError) as info:
        analyze("bad.yaml", text=text)
    error = info.value
    assert message in error.message
    assert error.loc is not None
    assert (error.loc.file, error.loc.line) == ("bad.yaml", line)


@pytest.mark.parametrize(("text", "line", "message"), CASES[:6])
def test_cli_error_exit_2_one_line(
    invoke: Invoke, tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    result = invoke("table", str(path))
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: {path}:{line}:")
    assert message in lines[0]
    assert "Traceback" not in result.output


def test_alias_bomb_is_bounded() -> None:
    rows = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for prev, name in zip("abcdefg", "bcdefgh", strict=True):
        rows.append(f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]")
    with pytest.raises(SpecError, match="at most 200000 YAML nodes") as info:
        analyze("bomb.yaml", text="\n".join(rows) + "\n")
    # located at the alias that crosses the limit: the second *e in f
    assert info.value.loc == Loc("bomb.yaml", 6, 12, "f[1]")
    assert "alias '*e' expands to 66430 YAML nodes" in info.value.message


def test_unknown_bundled_name_suggests(invoke: Invoke) -> None:
    result = invoke("table", "mobilenet_v11")
    assert result.exit_code == 2
    assert "did you mean 'mobilenet_v1'" in result.stderr


def test_non_utf8_file(invoke: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"input: [3, 32, 32]\n\xff\xfe\x00layers: []\n")
    result = invoke("table", str(path))
    assert result.exit_code == 2
    assert f"{path}:2:1: spec is not valid UTF-8" in result.stderr


def test_unknown_var_override() -> None:
    with pytest.raises(SpecError, match="no var 'clases', did you mean 'classes'"):
        analyze("mobilenet_v1", overrides={"clases": 10})
