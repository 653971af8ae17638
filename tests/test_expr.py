"""The safe expression language: what it computes and what it refuses."""

from __future__ import annotations

import pytest

from lightcost.spec.expr import ExprError, evaluate


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2 + 3 * 4", 14),
        ("div(in * t)", 96),  # `in` is accepted although it is a Python keyword
        ("max(1280, div(1280 * 0.75))", 1280),
        ("div(1280 * 1.4)", 1792),
        ("in // 4", 4),
        ("1 if t != 1 else 0", 1),
        ("t == 6 and in == 16", True),
        ("not (t > 1)", False),
        ("-in + 20", 4),
        ("2 ** 10", 1024),
        ("min(3, 2, 7)", 2),
        ("ceil(7 / 2)", 4),
        ("true", True),
    ],
)
def test_evaluates(text: str, expected: object) -> None:
    assert evaluate(text, {"in": 16, "t": 6}) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("9**9**9", "too large"),
        ("10 ** 20", "out of range"),
        ("1 / 0", "division by zero"),
        ("tt * 2", "unknown name 'tt', did you mean 't'"),
        ("__import__('os')", "unknown function '__import__'"),
        ("t.real", "not allowed"),
        ("[1, 2]", "not allowed"),
        ("lambda: 1", "not allowed"),
        ("div(", "cannot parse"),
        ("x" * 500, "longer than"),
        ("'a' + 1", "text, a number is needed"),
        ("max(t=1)", "only plain calls"),
    ],
)
def test_refuses(text: str, message: str) -> None:
    with pytest.raises(ExprError, match=message.replace("(", r"\(")):
        evaluate(text, {"t": 6})
