"""Channel rounding rules for the width multiplier (alpha).

Each rule maps a paper channel count ``c`` and a multiplier ``alpha`` to the
channel count the reference implementation builds. A spec picks one in its
``width:`` section; single values can opt out with ``width: fixed`` or use an
expression such as ``max(1280, div(1280 * alpha))``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Round ``value`` to the nearest multiple of ``divisor``, never more than 10 % down.

    ``new = max(min_value, int(v + divisor / 2) // divisor * divisor)``, then
    ``new += divisor`` if ``new < 0.9 * v``. ``min_value`` defaults to ``divisor``.
    Source: TF-slim ``nets/mobilenet/mobilenet.py`` ``_make_divisible``; the same
    function is in torchvision ``models/_utils.py`` and timm ``layers/helpers.py``.
    """
    if divisor <= 0:
        raise ValueError("divisor must be positive")
    floor = divisor if min_value is None else min_value
    new = max(floor, int(value + divisor / 2) // divisor * divisor)
    if new < 0.9 * value:
        new += divisor
    return new


def truncate(value: float, min_depth: int = 8) -> int:
    """TF-slim MobileNetV1's rule: ``max(int(c * alpha), min_depth)``.

    Source: TF-slim ``nets/mobilenet_v1.py``, ``depth = lambda d: max(int(d *
    depth_multiplier), min_depth)`` with ``min_depth = 8``.
    """
    return max(int(value), min_depth)


def nearest(value: float, minimum: int = 1) -> int:
    """Plain rounding, ``max(round(c * alpha), minimum)``: the identity at alpha = 1."""
    return max(round(value), minimum)


class WidthRule(NamedTuple):
    """How a spec turns a paper channel count into a built one at multiplier ``alpha``."""

    rule: str = "round"
    divisor: int = 8
    minimum: int = 1

    def apply(self, channels: float, alpha: float) -> int:
        """The channel count built for paper count ``channels`` at ``alpha``."""
        return RULES[self.rule](self, channels, alpha)

    def describe(self) -> str:
        """One line for the table footer."""
        if self.rule == "make_divisible":
            return f"make_divisible(c*alpha, {self.divisor}), min {self.minimum}"
        if self.rule == "truncate":
            return f"max(int(c*alpha), {self.minimum})"
        if self.rule == "round":
            return f"max(round(c*alpha), {self.minimum})"
        return "fixed (width multiplier ignored)"


RULES: dict[str, Callable[[WidthRule, float, float], int]] = {
    "make_divisible": lambda r, c, alpha: make_divisible(c * alpha, r.divisor, r.minimum),
    "truncate": lambda r, c, alpha: truncate(c * alpha, r.minimum),
    "round": lambda r, c, alpha: nearest(c * alpha, r.minimum),
    "fixed": lambda r, c, alpha: int(c),
}
