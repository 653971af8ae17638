"""Channel rounding rules against the reference implementations' values."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lightcost.core.rounding import WidthRule, make_divisible, truncate


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # make_divisible(v, 8) as TF-slim mobilenet.py / torchvision _make_divisible compute it:
        (32 * 0.35, 16),  # 11.2 -> 8 is more than 10 % below, so 16
        (16 * 0.5, 8),
        (24 * 0.75, 24),  # 18 -> 16 < 0.9 * 18 = 16.2, so 24
        (1280 * 1.4, 1792),
        (96 * 1.3, 128),  # 124.8 -> 128
        (3.0, 8),  # never below the divisor
    ],
)
def test_make_divisible(value: float, expected: int) -> None:
    assert make_divisible(value, 8) == expected


def test_truncate_is_tfslim_v1_depth() -> None:
    # TF-slim mobilenet_v1.py: depth(d) = max(int(d * depth_multiplier), min_depth=8)
    assert truncate(32 * 0.25) == 8
    assert truncate(64 * 0.25) == 16
    assert truncate(1024 * 0.75) == 768
    assert truncate(8 * 0.25) == 8


@given(st.floats(min_value=1, max_value=1e6))
def test_make_divisible_law(value: float) -> None:
    result = make_divisible(value, 8)
    assert result % 8 == 0
    assert result >= 8
    assert result >= 0.9 * value  # never more than 10 % below


def test_width_rules() -> None:
    assert WidthRule("make_divisible").apply(24, 0.75) == 24
    assert WidthRule("truncate").apply(24, 0.75) == 18
    assert WidthRule("fixed").apply(24, 0.75) == 24
    assert WidthRule("round").apply(3, 1.0) == 3
    assert WidthRule("round").apply(24, 0.3) == 7
