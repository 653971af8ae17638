"""Spec values: literals and expressions, checked as numbers and whole numbers.

An :class:`Evaluator` evaluates the values of one expansion, at one width
multiplier: its expressions may call ``ch(x)`` (the spec's width rule at that
multiplier) and it records every name they read (``res``, ``in_h`` or ``in_w``
make a network resolution-dependent). A literal number is finite and at most
:data:`~lightcost.spec.expr.MAX_MAGNITUDE` in size, as every computed one is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from lightcost.core.errors import Loc, SpecError, describe, short
from lightcost.core.rounding import WidthRule
from lightcost.ops import MAX_CHANNELS
from lightcost.spec.expr import FUNCTIONS, MAX_MAGNITUDE, ExprError, Value, channels_of, evaluate


class Evaluator:
    """Evaluates spec values at width multiplier ``alpha`` with the spec's width ``rule``."""

    __slots__ = ("alpha", "functions", "rule", "used")

    def __init__(self, rule: WidthRule, alpha: int | float) -> None:
        self.rule = rule
        self.alpha = alpha
        self.functions: dict[str, Callable[..., Value]] = {**FUNCTIONS, "ch": self.scale}
        self.used: set[str] = set()  # names read by expressions

    def scale(self, channels: float) -> int:
        """A paper channel count (positive) as built at ``alpha`` (the spec's width rule)."""
        return self.rule.apply(channels_of("ch", channels), self.alpha)

    def value(self, raw: Any, where: Loc, env: Mapping[str, Value]) -> Value:
        """A literal, or the value of an expression string."""
        if isinstance(raw, bool | int | float):
            if not in_range(raw):
                raise SpecError(f"number {short(raw)} is out of range (above 1e15)", where)
            return raw
        if isinstance(raw, str):
            try:
                return evaluate(raw, env, self.functions, self.used)
            except ExprError as exc:
                raise SpecError(str(exc), where) from None
        raise SpecError(f"expected a number or an expression, got {describe(raw)}", where)

    def resolved(
        self, raw: Any, where: Loc, env: Mapping[str, Value], wanted: str = "a number"
    ) -> Value:
        """:meth:`value`, where the name of a text var written alone gives the value of the
        expression it holds (``x: "2 * 3"`` then ``out: x``; one level: that text is not
        looked up again). For places that take no text: numbers and booleans."""
        value = self.value(raw, where, env)
        if isinstance(raw, str) and isinstance(env.get(raw.strip()), str):  # a text var, alone
            try:
                value = self.value(value, where, env)
            except SpecError as exc:
                raise SpecError(
                    f"expected {wanted}, got {short(value)} ({exc.message})", where
                ) from None
        return value

    def numeric(self, raw: Any, where: Loc, env: Mapping[str, Value]) -> int | float:
        """A number: a literal, an expression or a text var holding one (:meth:`resolved`)."""
        return number(self.resolved(raw, where, env), where)

    def integer(
        self,
        raw: Any,
        where: Loc,
        env: Mapping[str, Value],
        what: str,
        minimum: int = 1,
        maximum: int = MAX_CHANNELS,
    ) -> int:
        """A whole number from ``minimum`` to ``maximum`` (a float must be integral)."""
        if type(raw) is int and minimum <= raw <= maximum:  # the common case, kept fast
            return raw
        value = self.numeric(raw, where, env)
        if isinstance(value, float):
            if not value.is_integer():
                raise SpecError(f"{what} must be a whole number, got {value}", where)
            value = int(value)
        if value < minimum:
            raise SpecError(f"{what} must be at least {minimum}, got {value}", where)
        if value > maximum:
            raise SpecError(f"{what} must be at most {maximum}, got {value}", where)
        return value


def number(value: Value, where: Loc) -> int | float:
    """``value`` if it is a number (not a bool), else a SpecError at ``where``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SpecError(f"expected a number, got {short(value)}", where)
    return value


def whole_in(value: Any, low: int, high: int) -> bool:
    """Whether ``value`` is an int (not a bool) from ``low`` to ``high``."""
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def in_range(value: int | float) -> bool:
    """Whether a literal number is finite and at most MAX_MAGNITUDE in size (bools are)."""
    return abs(value) <= MAX_MAGNITUDE
