"""The model-level figures lightcost computes, by name: one registry for every consumer.

``compare``, ``sweep`` and budgets look figures up here, so a new figure is
added once. Each getter is a pure function of a :class:`ModelCost` and works
on numpy arrays of figures too (vectorized sweeps).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lightcost.cost import ModelCost


@dataclass(frozen=True)
class Figure:
    """A named figure: how to read it from a ModelCost, its unit, and whether lower is better."""

    name: str
    label: str
    unit: str
    get: Callable[[ModelCost], int | float]
    lower_is_better: bool = True


FIGURES: dict[str, Figure] = {
    f.name: f
    for f in [
        Figure("params", "Params", "", lambda c: c.total().params),
        Figure("madds", "MAdds", "", lambda c: c.total().madds),
        Figure("flops", "FLOPs", "", lambda c: 2 * c.total().madds),
        Figure("other_ops", "Other ops", "", lambda c: c.total().other_ops),
        Figure("mac", "MAC (elements)", "", lambda c: c.total().mac),
    ]
}
