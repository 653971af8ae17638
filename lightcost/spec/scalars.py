"""YAML scalars read as YAML 1.2 reads them (its core schema), in linear time.

A plain (unquoted) scalar is null (``~``, ``null``, nothing), a boolean (``true``
or ``false``, also ``True``, ``TRUE``...), an integer (decimal, ``0o`` octal,
``0x`` hexadecimal), a float (with a ``.`` or an exponent; ``.inf``, ``.nan``)
or else text. A quoted scalar is text. An explicit tag (``!!int``, ``!!float``,
``!!bool``, ``!!null``, ``!!str``) takes its YAML 1.2 form.

YAML 1.1 (PyYAML's default) guesses more: ``3:3`` is the base-60 number 183,
``010`` the octal 8, ``yes`` and ``off`` booleans, ``2001-12-14`` a date,
``1_000`` a thousand. Where YAML 1.1 and YAML 1.2 read a plain scalar differently
the scalar is an error naming the form (write the YAML 1.2 number or boolean,
or quote the text), so no spec means one thing to lightcost and another to
another YAML reader. Those forms are recognized by PyYAML's own resolver (its
patterns are linear; its base-60 constructor, quadratic, is never called). A
number is at most :data:`MAX_NUMBER` characters.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from lightcost.core.errors import long_number, short

MAX_NUMBER = 100  # characters of a number literal (numbers are at most 1e15 in size)
TAG = "tag:yaml.org,2002:"

_NULL = {"", "~", "null", "Null", "NULL"}
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_SPECIAL = {f"{s}.{w}": float(f"{s}inf") for s in ("", "+", "-") for w in ("inf", "Inf", "INF")}
_SPECIAL.update({f".{w}": math.nan for w in ("nan", "NaN", "NAN")})
_DECIMAL = re.compile(r"[-+]?[0-9]+")
_LEADING_ZERO = re.compile(r"[-+]?0[0-9]+")  # YAML 1.1 octal (010 is 8), YAML 1.2 decimal
_OCTAL = re.compile(r"0o[0-7]+")
_HEX = re.compile(r"0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_NUMBER_HINT = "write a decimal number (0o or 0x for octal or hexadecimal), or quote it for text"
_NUMBER_LIKE = re.compile(r"[-+.0-9][-+0-9a-fA-FxXoO_:.]*")  # every number but .inf, .nan
_YAML11_FORMS = {  # YAML 1.1 tags of plain scalars YAML 1.2 reads as text: what to write
    f"{TAG}int": ("a number", _NUMBER_HINT),
    f"{TAG}float": ("a number", _NUMBER_HINT),
    f"{TAG}bool": ("a boolean", "write true or false, or quote it for text"),
    f"{TAG}timestamp": ("a date", "quote it for text"),
}


class ScalarError(ValueError):
    """A scalar that is not allowed or not valid; the caller adds the location."""


def _too_long(text: str) -> bool:
    """Whether ``text`` is longer than MAX_NUMBER characters: an error if it could be a number.

    A number of more than :data:`lightcost.core.errors.MAX_DIGITS` digits is an
    error whatever its length (the rule of budgets files, profiles and ``--set``).
    """
    if (problem := long_number(text)) is not None:
        raise ScalarError(problem)
    if len(text) <= MAX_NUMBER:
        return False
    if _NUMBER_LIKE.fullmatch(text):
        raise ScalarError(
            f"{short(text)} is longer than {MAX_NUMBER} characters, too long for a number "
            "(quote it for text)"
        )
    return True


def _integer(text: str) -> int | None:
    """The YAML 1.2 integer ``text`` spells, else None."""
    if _DECIMAL.fullmatch(text):
        if _LEADING_ZERO.fullmatch(text):
            raise ScalarError(
                f"{short(text)} has a leading zero: YAML 1.1 reads it as octal, YAML 1.2 as "
                "decimal; write it without the zero (0o for octal), or quote it for text"
            )
        return int(text)
    if _OCTAL.fullmatch(text):
        return int(text[2:], 8)
    if _HEX.fullmatch(text):
        return int(text[2:], 16)
    return None


def _number(text: str) -> int | float | None:
    """The YAML 1.2 integer or float ``text`` spells, else None."""
    if text in _SPECIAL:
        return _SPECIAL[text]
    whole = _integer(text)
    if whole is not None:
        return whole
    return float(text) if _FLOAT.fullmatch(text) else None


def plain(text: str, yaml11_tag: Callable[[str], str]) -> Any:
    """The value of a plain scalar; ``yaml11_tag`` gives the tag YAML 1.1 would resolve."""
    if text in _NULL:
        return None
    if text in _BOOL:
        return _BOOL[text]
    if _too_long(text):
        return text  # no number or boolean in YAML 1.1 or 1.2: the patterns need not run
    value = _number(text)
    if value is not None:
        return value
    yaml11 = _YAML11_FORMS.get(yaml11_tag(text))
    if yaml11 is not None:
        form, hint = yaml11
        raise ScalarError(
            f"{short(text)} is {form} in YAML 1.1 but text in YAML 1.2, which lightcost reads: "
            f"{hint}"
        )
    return text


def tagged(tag: str, text: str) -> Any:
    """The value of a scalar with an explicit ``!!int``, ``!!float``, ``!!bool`` or ``!!null``."""
    kind = tag[len(TAG) :]
    if kind == "null" and text in _NULL:
        return None
    value: Any = None
    if not _too_long(text):
        if kind == "int":
            value = _integer(text)
        elif kind == "float":
            number = _number(text)
            value = None if number is None else float(number)
        elif kind == "bool":
            value = _BOOL.get(text)
    if value is None:
        raise ScalarError(f"{short(text)} is not a valid YAML {kind}")
    return value
