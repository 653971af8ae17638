"""The model-level figures lightcost computes, by name: one registry for every consumer.

``compare``, ``sweep`` and budgets look figures up here, so a new figure is
added once. Each getter is a pure function of a :class:`ModelCost` and works
on numpy arrays of figures too (vectorized sweeps).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lightcost.core.errors import SpecError
from lightcost.cost.engine import ModelCost


@dataclass(frozen=True)
class Figure:
    """A named figure: how to read it from a ModelCost, its unit, and whether lower is better."""

    name: str
    label: str
    unit: str
    get: Callable[[ModelCost], int | float]
    lower_is_better: bool = True
    device: bool = False  # needs a device profile on the ModelCost (analyze(..., device=...))


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
        Figure("params", "Params", "", lambda c: c.total().params),
        Figure("madds", "MAdds", "", lambda c: c.total().madds),
        Figure("flops", "FLOPs", "", lambda c: 2 * c.total().madds),
        Figure("other_ops", "Other ops", "", lambda c: c.total().other_ops),
        Figure("mac", "MAC (elements)", "", lambda c: c.total().mac),
        Figure("mac_bytes", "MAC (bytes)", "B", lambda c: c.total().mac_bytes),
        Figure("peak_activation", "Peak activation memory", "B", lambda c: c.activations.peak),
        Figure("latency", "Estimated latency", "s", latency, device=True),
    ]
}
