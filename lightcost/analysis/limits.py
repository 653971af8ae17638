"""Limits as people write them: ``600M``, ``4.3M``, ``300k``, ``2MiB``, ``5ms``, ``1e9``.

A limit is a non-negative number with an optional suffix: an SI multiplier of the
figure's own unit, or a unit of bytes or time (:data:`SCALES`), which
:func:`lightcost.analysis.budgets.limit_for` converts to the figure's unit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from lightcost.core.errors import Loc, SpecError, did_you_mean, long_number, short

LIMIT_EXAMPLES = "e.g. 600M, 4.3M, 300k, 2MiB, 5ms"
# suffix -> (dimension, factor to the dimension's base unit); dimension "" is a plain
# number in the figure's own unit.
SCALES: dict[str, tuple[str, Fraction]] = {
    **{s: ("", Fraction(f)) for s, f in
       {"": 1, "k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}.items()},
    **{s: ("bytes", Fraction(f)) for s, f in
       {"B": 1, "kB": 10**3, "KB": 10**3, "MB": 10**6, "GB": 10**9,
        "KiB": 2**10, "MiB": 2**20, "GiB": 2**30}.items()},
    **{s: ("seconds", Fraction(1, f)) for s, f in
       {"s": 1, "ms": 10**3, "us": 10**6, "µs": 10**6, "ns": 10**9}.items()},
}  # fmt: skip
MAX_NUMBER = 1e99  # a limit written as a YAML number; text has at most a 2-digit exponent
NUMBER = r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,2})?"  # non-negative, exponent within 99
_LIMIT = re.compile(rf"^\s*({NUMBER})\s*([A-Za-zµ]*)\s*$")


@dataclass(frozen=True)
class Quantity:
    """A parsed limit: ``value`` in the base unit of ``dimension`` (see :data:`SCALES`)."""

    value: Fraction
    dimension: str


def parse_limit(raw: object, where: Loc) -> Quantity:
    """Read a limit as people write it: ``600M``, ``4.3M``, ``300k``, ``2MiB``, ``5ms``, ``1e9``.

    Pure; a bad limit raises a SpecError at ``where``.
    """
    if isinstance(raw, int | float) and not isinstance(raw, bool) and 0 <= raw <= MAX_NUMBER:
        return Quantity(Fraction(raw), "")
    match = _LIMIT.match(raw) if isinstance(raw, str) else None
    if match is None:
        raise SpecError(
            f"bad limit {raw!r}: expected a non-negative number with an optional "
            f"suffix, {LIMIT_EXAMPLES}",
            where,
        )
    number, suffix = match.groups()
    if (too_long := long_number(number)) is not None:
        raise SpecError(f"bad limit {short(raw)}: {too_long}", where)
    if suffix not in SCALES:
        raise SpecError(
            f"bad limit {raw!r}: unknown suffix '{suffix}'{did_you_mean(suffix, SCALES)} "
            f"(suffixes: {', '.join(s for s in SCALES if s)})",
            where,
        )
    dimension, factor = SCALES[suffix]
    return Quantity(Fraction(number) * factor, dimension)


def unit_scale(unit: str) -> tuple[str, Fraction]:
    """The dimension and base-unit factor of a figure's unit (an unknown unit is its own)."""
    return SCALES.get(unit, (unit, Fraction(1)))
