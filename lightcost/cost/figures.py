"""The model-level figures lightcost computes, by name, with their unit and display format.

``compare``, ``sweep``, budgets and every renderer look figures up here, so a
new figure is added once. Each getter is a pure function of a
:class:`ModelCost` and works on numpy arrays of figures too (vectorized sweeps).

A figure's ``unit`` is the unit of its raw value: ``""`` a count (params,
MAdds, FLOPs, other ops, MAC elements), ``"B"`` bytes, ``"s"`` seconds.
Machine formats (JSON, CSV) carry raw values in that unit. Every text output
and plot displays a figure through :meth:`Figure.text` or its :attr:`Figure.scale`:

* counts and bytes exactly, with thousands separators: ``3,504,872``; bytes
  carry ``B`` where a value stands alone (budget checks, diffs): ``6,021,120 B``;
* seconds always in milliseconds with three decimals (1 µs resolution): ``0.468 ms``;
* a value that is not a whole number of its unit (never a count lightcost
  computes) to four significant digits;
* compact layouts (a table narrowed to the terminal, :func:`compact_text`) and plot
  axes (:func:`axis_scale`) show three significant digits in the largest unit of the
  value's ladder (:data:`LADDERS`): counts ``928``, ``16.6K``, ``4.23M``, ``1.03G``;
  bytes ``928 B``, ``2.11 MiB``; seconds ``9.60 µs``, ``302 µs``, ``1.23 ms``.
  Per-layer latency columns of full tables use :data:`MICROSECONDS` (``144.1``,
  "Latency µs").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from lightcost.core.errors import SpecError
from lightcost.cost.engine import ModelCost
from lightcost.ops.base import FLOPS_PER_MADD

COUNT, BYTES, SECONDS = "", "B", "s"
# compute units: name, MAdds factor
UNITS = {"madds": ("MAdds", 1), "flops": ("FLOPs", FLOPS_PER_MADD)}


class Scale(NamedTuple):
    """A unit of display: ``size`` raw units per shown unit, and its suffix and axis name."""

    size: float
    suffix: str  # after a compact value: "M", " MiB", " ms"
    long: str  # on plot axes: "millions", "MiB", "ms"
    digits: int = 1  # decimals of :meth:`text`

    def of(self, value: float) -> float:
        """``value`` in this scale (sub-units multiply by the whole factor, e.g. x 1000 for ms)."""
        return value / self.size if self.size >= 1 else value * round(1 / self.size)

    def text(self, value: float) -> str:
        """``value`` in this scale with separators and :attr:`digits` decimals: ``144.1``."""
        return f"{self.of(value):,.{self.digits}f}"


MILLISECONDS = Scale(1e-3, " ms", "ms", 3)
MICROSECONDS = Scale(1e-6, " µs", "µs", 1)
# the units of each raw unit, largest first; the last is used for anything smaller
LADDERS: dict[str, tuple[Scale, ...]] = {
    COUNT: (Scale(1e9, "G", "billions"), Scale(1e6, "M", "millions"),
            Scale(1e3, "K", "thousands"), Scale(1, "", "")),
    BYTES: (Scale(2**30, " GiB", "GiB"), Scale(2**20, " MiB", "MiB"),
            Scale(2**10, " KiB", "KiB"), Scale(1, " B", "bytes")),
    SECONDS: (Scale(1, " s", "s"), MILLISECONDS, MICROSECONDS),
}  # fmt: skip


def axis_scale(unit: str, magnitude: float) -> Scale:
    """The largest unit of ``unit``'s ladder in which ``magnitude`` is at least 1."""
    ladder = LADDERS.get(unit, LADDERS[COUNT])
    return next((s for s in ladder if abs(magnitude) >= s.size), ladder[-1])


def significant(number: float) -> str:
    """A non-negative number to three significant digits without exponent: 1.05, 16.6, 132."""
    return f"{number:.{2 if number < 10 else 1 if number < 100 else 0}f}"


def compact_text(value: float, unit: str = COUNT, sign: bool = False) -> str:
    """``value`` in three significant digits and the largest fitting unit (module docstring).

    Whole counts under 1,000 and bytes under 1 KiB are exact; ``sign`` shows a
    change (``+1.02K``, ``-2.71M``, ``0``).
    """
    if sign and not value:
        return "0"
    ladder = LADDERS.get(unit, LADDERS[COUNT])
    size = abs(value)
    index = ladder.index(axis_scale(unit, size))
    number = significant(size / ladder[index].size)
    if float(number) >= 1000 and index:  # 999.7K rounds to 1.00M
        index -= 1
        number = significant(size / ladder[index].size)
    if ladder[index].size == 1 and float(size).is_integer():
        number = str(int(size))
    prefix = "-" if value < 0 else "+" if sign else ""
    return f"{prefix}{number}{ladder[index].suffix}"


def value_text(value: float, unit: str = COUNT, symbol: bool = False, sign: bool = False) -> str:
    """A value in ``unit`` as every text output shows it (see the module docstring).

    ``symbol`` appends a unit other than seconds (``6,021,120 B``); ``sign`` shows a
    change: ``+1,024``, ``-0.012 ms``, and ``0`` for no change.
    """
    if sign and not value:
        return "0"
    plus = "+" if sign else ""
    if unit == SECONDS:
        return f"{MILLISECONDS.of(value):{plus},.{MILLISECONDS.digits}f} ms"
    whole = float(value).is_integer()
    number = f"{int(value):{plus},}" if whole else f"{value:{plus}.4g}"
    return f"{number} {unit}" if symbol and unit else number


class Figure(NamedTuple):
    """A named figure: how to read it from a ModelCost, its unit, and whether lower is better.

    A NamedTuple, not a dataclass: the table path imports this module for the
    display format, and a frozen dataclass costs about 2 ms to define.
    """

    name: str
    label: str
    unit: str  # of the raw value: COUNT, BYTES or SECONDS (budgets convert limits to it)
    get: Callable[[ModelCost], int | float]
    lower_is_better: bool = True
    device: bool = False  # needs a device profile on the ModelCost (analyze(..., device=...))
    short: str = ""  # the label in compact layouts, when shorter than ``label``

    @property
    def short_label(self) -> str:
        """The label of compact layouts: ``Peak activation`` for ``Peak activation memory``."""
        return self.short or self.label

    def text(
        self, value: float, symbol: bool = False, sign: bool = False, compact: bool = False
    ) -> str:
        """``value`` of this figure for display: :func:`value_text`, or with ``compact``
        :func:`compact_text` (which always shows a unit other than a count's)."""
        return (
            compact_text(value, self.unit, sign)
            if compact
            else value_text(value, self.unit, symbol, sign)
        )

    def axis_label(self, scale: Scale) -> str:
        """A plot axis in ``scale`` (:func:`axis_scale`): ``MAdds (millions)``,
        ``MAC (bytes, MiB)``."""
        if not scale.long:
            return self.label
        if self.label.endswith(")"):
            return f"{self.label[:-1]}, {scale.long})"
        return f"{self.label} ({scale.long})"


def latency(cost: ModelCost) -> float:
    """Estimated seconds on the ModelCost's device; a SpecError without one."""
    if cost.device is None:
        raise SpecError(
            "figure 'latency' needs a device profile: --device NAME|FILE, "
            "analyze(..., device=...) or a budget's 'device' key"
        )
    total = cost.total().latency
    assert total is not None  # every layer of a model costed with a device has a latency
    return total


FIGURES: dict[str, Figure] = {
    f.name: f
    for f in [
        Figure("params", "Params", COUNT, lambda c: c.total().params),
        Figure("madds", "MAdds", COUNT, lambda c: c.total().madds),
        Figure("flops", "FLOPs", COUNT, lambda c: FLOPS_PER_MADD * c.total().madds),
        Figure("other_ops", "Other ops", COUNT, lambda c: c.total().other_ops),
        Figure("mac", "MAC (elements)", COUNT, lambda c: c.total().mac),
        Figure("mac_bytes", "MAC (bytes)", BYTES, lambda c: c.total().mac_bytes),
        Figure(
            "peak_activation",
            "Peak activation memory",
            BYTES,
            lambda c: c.activations.peak,
            short="Peak activation",
        ),
        Figure("latency", "Estimated latency", SECONDS, latency, device=True, short="Latency"),
    ]
}
