"""A small, safe expression language for spec values (no ``eval``).

Grammar: numbers, ``true``/``false``, names of variables in scope, ``+ - * / //
% **``, comparisons, ``and or not``, ``a if cond else b`` (the operands of
``and or not`` and the condition of ``if`` are booleans or numbers, not text), and calls to
the functions in :data:`FUNCTIONS` plus the ones a scope adds (``ch``; ``ch()``
and ``div()`` take positive channel counts). The text is
parsed with :mod:`ast` and walked by a whitelist; anything else is an error.
``in`` (the input channel count of the node) is accepted although it is a
Python keyword. Results are bounded: magnitudes above 1e15 and exponents above
64 are errors, so ``9**9**9`` cannot hang or exhaust memory.
"""

from __future__ import annotations

import ast
import math
import operator
import re
import warnings
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any, NamedTuple

from lightcost.core.errors import did_you_mean, short
from lightcost.core.rounding import make_divisible

Value = int | float | bool | str
MAX_LENGTH = 400
MAX_MAGNITUDE = 10**15
MAX_EXPONENT = 64


class ExprError(ValueError):
    """An expression that cannot be evaluated; the caller adds the location."""


def channels_of(function: str, value: float) -> float:
    """``value``, a channel count passed to ``ch()`` or ``div()``, if it is positive."""
    if value <= 0:
        raise ExprError(f"{function}() takes a positive channel count, got {value}")
    return value


def _div(value: float, divisor: float = 8) -> int:
    """make_divisible(value, divisor): a positive ``value``, a whole ``divisor`` from 1."""
    if (isinstance(divisor, float) and not divisor.is_integer()) or divisor < 1:
        raise ExprError(f"div()'s divisor must be a whole number from 1 up, got {divisor}")
    return make_divisible(channels_of("div", value), int(divisor))


FUNCTIONS: dict[str, Callable[..., Value]] = {
    "div": _div,
    "min": min,
    "max": max,
    "int": int,
    "round": round,
    "ceil": math.ceil,
    "floor": math.floor,
    "abs": abs,
}

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
_IN_KEYWORD = re.compile(r"\bin\b")
LITERALS: dict[str, Value] = {"true": True, "false": False, "True": True, "False": False}


def evaluate(
    text: str,
    names: Mapping[str, Value],
    functions: Mapping[str, Callable[..., Value]] | None = None,
    used: set[str] | None = None,
) -> Value:
    """Evaluate ``text`` with the variables ``names``; raises ExprError on any problem.

    ``functions`` replaces :data:`FUNCTIONS` when given (callers extend a copy of it);
    the names the expression reads are added to ``used`` when it is given. Results
    of expressions that call only :data:`FUNCTIONS` are memoized on the values of
    the names they mention (a sweep evaluates the same expressions many times).
    """
    parsed = _parse(text)
    key = None
    if parsed.pure:  # types too: True == 1 and 1 == 1.0, but they are different values here
        values = [names.get(n, _ABSENT) for n in parsed.names]
        key = (text, *values, *map(type, values))
    if key is not None and key in _RESULTS:
        result, seen = _RESULTS[key]
    else:
        reads: set[str] = set()
        walker = _Walker(names, functions if functions is not None else FUNCTIONS, reads)
        try:
            result = walker.eval(parsed.tree.body)
        except RecursionError:
            raise ExprError(f"expression '{text}' is nested too deeply") from None
        seen = frozenset(reads)
        if key is not None:
            if len(_RESULTS) > MAX_MEMO:
                _RESULTS.clear()
            _RESULTS[key] = (result, seen)
    if used is not None:
        used.update(seen)
    return result


class _Parsed(NamedTuple):
    tree: ast.Expression
    names: tuple[str, ...]  # every variable name the expression mentions
    pure: bool  # calls only FUNCTIONS, so its value depends on those names alone


_ABSENT = object()
MAX_MEMO = 100_000
_RESULTS: dict[tuple[object, ...], tuple[Value, frozenset[str]]] = {}


@lru_cache(maxsize=4096)
def _parse(text: str) -> _Parsed:
    """The syntax tree of an expression and the names it mentions (cached)."""
    if len(text) > MAX_LENGTH:
        raise ExprError(f"expression longer than {MAX_LENGTH} characters")
    source = _IN_KEYWORD.sub("in_", text.strip())
    try:
        with warnings.catch_warnings():  # "1if x else 2" warns on stderr otherwise
            warnings.simplefilter("ignore")
            tree = ast.parse(source, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise ExprError(f"cannot parse expression '{text}'") from None
    nodes = list(ast.walk(tree))
    called = {n.func for n in nodes if isinstance(n, ast.Call)}
    names = sorted(
        {
            "in" if n.id == "in_" else n.id
            for n in nodes
            if isinstance(n, ast.Name) and n not in called
        }
    )
    pure = all(isinstance(f, ast.Name) and f.id in FUNCTIONS for f in called)
    return _Parsed(tree, tuple(names), pure)


class _Walker:
    def __init__(
        self,
        names: Mapping[str, Value],
        functions: Mapping[str, Callable[..., Value]],
        used: set[str] | None,
    ):
        self.names = names
        self.functions = functions
        self.used = used

    def eval(self, node: ast.expr) -> Value:
        result = self._eval(node)
        if isinstance(result, complex):  # (-8) ** 0.5
            raise ExprError("the result is not a real number")
        if isinstance(result, int | float) and not _in_range(result):
            raise ExprError("value out of range (magnitude above 1e15 or not finite)")
        return result

    def _eval(self, node: ast.expr) -> Value:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float | str):
            return node.value
        if isinstance(node, ast.Name):
            return self._name(node.id)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            return self._binary(node)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                return not self.condition(node.operand)
            operand = self.eval(node.operand)
            if isinstance(node.op, ast.USub):
                return -_number(operand)
            if isinstance(node.op, ast.UAdd):
                return +_number(operand)
        if isinstance(node, ast.Compare):
            return self._compare(node)
        if isinstance(node, ast.BoolOp):
            values = (self.condition(v) for v in node.values)
            return all(values) if isinstance(node.op, ast.And) else any(values)
        if isinstance(node, ast.IfExp):
            return self.eval(node.body) if self.condition(node.test) else self.eval(node.orelse)
        if isinstance(node, ast.Call):
            return self._call(node)
        raise ExprError(f"'{ast.unparse(node)}' is not allowed in an expression")

    def condition(self, node: ast.expr) -> bool:
        """An operand of ``and``, ``or``, ``not`` or ``if``: a boolean or a number (0 is false).

        Text is an error: ``'false'`` would be true.
        """
        value = self.eval(node)
        if isinstance(value, str):
            raise ExprError(f"a condition must be true, false or a number, got {short(value)}")
        return bool(value)

    def _name(self, name: str) -> Value:
        key = "in" if name == "in_" else name  # `in` was renamed to parse as Python
        if key in self.names:
            if self.used is not None:
                self.used.add(key)
            return self.names[key]
        if key in LITERALS:
            return LITERALS[key]
        raise ExprError(f"unknown name '{key}'{did_you_mean(key, self.names)}")

    def _binary(self, node: ast.BinOp) -> Value:
        left, right = _number(self.eval(node.left)), _number(self.eval(node.right))
        if isinstance(node.op, ast.Pow) and (abs(right) > MAX_EXPONENT or abs(left) > 2**20):
            raise ExprError("exponent or base too large in '**'")
        if isinstance(node.op, ast.Div | ast.FloorDiv | ast.Mod) and right == 0:
            raise ExprError("division by zero")
        try:
            return _BINARY[type(node.op)](left, right)  # type: ignore[no-any-return]
        except OverflowError:
            raise ExprError("value out of range (magnitude above 1e15 or not finite)") from None
        except (ZeroDivisionError, ValueError) as exc:
            raise ExprError(f"arithmetic error: {exc}") from None

    def _compare(self, node: ast.Compare) -> bool:
        left = self.eval(node.left)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = self.eval(right_node)
            if type(op) not in _COMPARE:
                raise ExprError("only == != < <= > >= comparisons are allowed")
            try:
                holds = _COMPARE[type(op)](left, right)
            except TypeError:
                raise ExprError(f"cannot compare {short(left)} with {short(right)}") from None
            if not holds:
                return False
            left = right
        return True

    def _call(self, node: ast.Call) -> Value:
        if not isinstance(node.func, ast.Name) or node.keywords:
            raise ExprError("only plain calls like div(x) are allowed")
        name = node.func.id
        if name not in self.functions:
            raise ExprError(f"unknown function '{name}'{did_you_mean(name, self.functions)}")
        args = [_number(self.eval(a)) for a in node.args]
        try:
            return self.functions[name](*args)
        except ExprError:
            raise
        except (TypeError, ValueError, OverflowError) as exc:
            raise ExprError(f"bad call {name}(): {exc}") from None


def _in_range(value: int | float) -> bool:
    """Finite and at most MAX_MAGNITUDE in size (a comparison: huge ints do not overflow)."""
    return abs(value) <= MAX_MAGNITUDE


def _number(value: Value) -> int | float:
    if isinstance(value, str):
        raise ExprError(f"'{value}' is text, a number is needed")
    return value
