"""Errors that point at a place in a spec.

Every problem in a spec, from YAML syntax to a shape mismatch, is raised as a
:class:`SpecError` carrying the file, line and column (1-based, from the YAML
node marks) and the path inside the spec (``layers[3].rows[1][2]``). Its text
is always one line: characters a terminal would act on (newlines, escapes) are
shown escaped, as Python writes them in a string.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, NamedTuple

MAX_DIGITS = 30  # digits of a number as written: in a spec, budgets file, profile or --set
_NUMBER_TEXT = re.compile(
    r"\s*[-+]?(?:0[xX][0-9a-fA-F_]+|0[bBoO][0-7_]+|[0-9._:]+(?:[eE][-+]?[0-9]+)?)\s*"
)
_DIGITS = {"0x": "0123456789abcdefABCDEF", "0b": "01", "0o": "01234567"}  # after a prefix


class Loc(NamedTuple):
    """A position in a spec file: 1-based line and column, plus the path inside the spec."""

    file: str
    line: int
    col: int
    path: str = ""

    def at(self, path: str) -> Loc:
        """The same position under another spec path."""
        return Loc(self.file, self.line, self.col, path)


class SpecError(Exception):
    """A problem in a spec, located at file:line:col and a path inside the spec.

    ``within`` names the block instance being expanded when the problem was found
    (set once, by the innermost instance).
    """

    def __init__(self, message: str, loc: Loc | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.loc = loc
        self.within = ""

    def __str__(self) -> str:
        where = f"{self.loc.file}:{self.loc.line}:{self.loc.col}: " if self.loc else ""
        path = f"{shorten(self.loc.path)}: " if self.loc and self.loc.path else ""
        within = f" (in {self.within})" if self.within else ""
        return one_line(f"{where}{path}{self.message}{within}")


def shorten(path: str, limit: int = 100) -> str:
    """A spec path cut in the middle when longer than ``limit`` (deep nesting)."""
    half = limit // 2
    return path if len(path) <= limit else f"{path[:half]}...{path[-half:]}"


def one_line(text: str) -> str:
    """``text`` with every non-printable character (newline, tab, ESC...) escaped."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def listing(names: Iterable[str], limit: int = 12) -> str:
    """Names joined with commas, the first ``limit`` of them, then how many more."""
    items = list(names)
    shown = ", ".join(items[:limit])
    return f"{shown}, ... ({len(items) - limit} more)" if len(items) > limit else shown


def short(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters, for quoting a spec's value in a message."""
    try:
        text = repr(value)
    except ValueError:  # an int too long to convert to text
        return "a number with thousands of digits"
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def long_number(text: str) -> str | None:
    """``number too long (N digits; at most 30)`` when ``text`` is written as a number
    (as YAML reads ints and floats, also ``0x``, ``0b``, ``0o``) with more than
    :data:`MAX_DIGITS` digits, else None. Check before converting: Python refuses
    ints of over 4,300 digits, and a long one overflows a float.
    """
    if _NUMBER_TEXT.fullmatch(text) is None:
        return None
    body = text.strip().lstrip("+-")
    prefix = body[:2].lower()
    if prefix in _DIGITS:
        digits = sum(c in _DIGITS[prefix] for c in body[2:])
    else:
        digits = sum(c.isdigit() for c in body)
    return (
        f"number too long ({digits} digits; at most {MAX_DIGITS})" if digits > MAX_DIGITS else None
    )


def describe(value: Any) -> str:
    """A value as a message shows it: its kind for a mapping, list or null, else ``short``."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return "null" if value is None else short(value)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A ", did you mean 'x'?" suffix for the closest choice, or an empty string."""
    import difflib  # lazy: only error paths need it

    if len(word) > 100:
        return ""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f", did you mean '{close[0]}'?" if close else ""
