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
* tables, grids and plot axes that name the unit in their heading show bare
  numbers in the figure's scale: counts and bytes in millions with one
  decimal (``568.7``, "MAdds (millions)"), seconds in ms with three
  decimals (``0.302``, "Estimated latency (ms)"). Per-layer latency columns use
  :data:`MICROSECONDS` (``144.1``, "Latency µs").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from lightcost.core.errors import SpecError
from lightcost.cost.engine import ModelCost

COUNT, BYTES, SECONDS = "", "B", "s"


class Scale(NamedTuple):
    """Bare numbers under a heading that names the unit: ``size`` raw units per shown unit."""

    size: float
    short: str  # in table titles and column heads: "M", "ms", "µs"
    long: str  # on plot axes: "millions", "ms"
    digits: int

    def of(self, value: float) -> float:
        """``value`` in this scale (sub-units multiply by the whole factor, e.g. x 1000 for ms)."""
        return value / self.size if self.size >= 1 else value * round(1 / self.size)

    def text(self, value: float) -> str:
        """``value`` in this scale with separators and :attr:`digits` decimals: ``568.7``."""
        return f"{self.of(value):,.{self.digits}f}"


MILLIONS = Scale(1e6, "M", "millions", 1)
MILLISECONDS = Scale(1e-3, "ms", "ms", 3)
MICROSECONDS = Scale(1e-6, "µs", "µs", 1)


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

    def text(self, value: float, symbol: bool = False, sign: bool = False) -> str:
        """``value`` of this figure for display (:func:`value_text`)."""
        return value_text(value, self.unit, symbol, sign)

    @property
    def scale(self) -> Scale:
        """The scale of grids and plot axes: ms for seconds, millions otherwise."""
        return MILLISECONDS if self.unit == SECONDS else MILLIONS

    @property
    def axis_label(self) -> str:
        """A plot axis: ``MAdds (millions)``, ``Estimated latency (ms)``."""
        return f"{self.label} ({self.scale.long})"


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
        Figure("flops", "FLOPs", COUNT, lambda c: 2 * c.total().madds),
        Figure("other_ops", "Other ops", COUNT, lambda c: c.total().other_ops),
        Figure("mac", "MAC (elements)", COUNT, lambda c: c.total().mac),
        Figure("mac_bytes", "MAC (bytes)", BYTES, lambda c: c.total().mac_bytes),
        Figure("peak_activation", "Peak activation memory", BYTES, lambda c: c.activations.peak),
        Figure("latency", "Estimated latency", SECONDS, latency, device=True),
    ]
}
