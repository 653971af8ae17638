"""Comparisons: one configuration against the baseline, or several specs side by side.

MobileNetV1 (arXiv 1704.04861) Sec. 3.2-3.3: a width multiplier alpha scales
MAdds and params by about alpha^2, a resolution multiplier rho scales MAdds by
rho^2. :func:`versus` sets these predictions beside the actual ratios, so the
effect of channel rounding (and of the resolution-independent FC) is visible.
Grids of widths x resolutions are sweeps (:mod:`lightcost.analysis.sweep`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from lightcost.api import Config
from lightcost.core.graph import Graph
from lightcost.cost.engine import ModelCost
from lightcost.cost.figures import FIGURES

COMPARED = ("params", "madds", "mac", "peak_activation", "other_ops")
MAX_GRID = 10_000  # configurations of a compare grid (tables to read; larger grids: sweep)
Number = int | float


def default_figures(config: Config) -> tuple[str, ...]:
    """The figures compared when none are named: :data:`COMPARED`, plus latency with a device."""
    return (*COMPARED, "latency") if config.device is not None else COMPARED


@dataclass(frozen=True)
class Ratio:
    """One figure at the baseline and at the configuration, with the alpha^2 rho^2 prediction."""

    figure: str
    baseline: Number
    value: Number
    predicted: float | None  # predicted ratio, None where no simple law applies

    @property
    def ratio(self) -> float:
        """Configuration over baseline."""
        return self.value / self.baseline if self.baseline else float("nan")


@dataclass(frozen=True)
class Versus:
    """A configuration against the spec's baseline (width 1.0 at the spec's resolution)."""

    spec: str
    baseline: ModelCost
    config: ModelCost
    rows: tuple[Ratio, ...]


def predicted_ratio(figure: str, alpha: float, rho: float) -> float | None:
    """MobileNetV1's laws: MAdds ~ alpha^2 rho^2, params ~ alpha^2; None for other figures."""
    if figure in ("madds", "flops"):
        return alpha**2 * rho**2
    if figure == "params":
        return alpha**2
    return None


def resolution_ratio(base: Graph, graph: Graph) -> float:
    """MobileNetV1's rho: the input side over the baseline's (non-square: sqrt of the areas)."""
    (h0, w0), (h, w) = base.input_shape[1:], graph.input_shape[1:]
    return float(math.sqrt(h * w / (h0 * w0)))


def versus(spec: str, config: Config, figures: Sequence[str] = COMPARED) -> Versus:
    """The spec at ``config`` against itself at width 1.0 and its own input."""
    base = config._replace(width=None, resolution=None).analyze(spec)
    cost = config.analyze(spec)
    alpha = cost.graph.width / base.graph.width
    rho = resolution_ratio(base.graph, cost.graph)
    rows = tuple(
        Ratio(
            name,
            FIGURES[name].get(base),
            FIGURES[name].get(cost),
            predicted_ratio(name, alpha, rho),
        )
        for name in figures
    )
    return Versus(spec, base, cost, rows)


@dataclass(frozen=True)
class Column:
    """One model in a side-by-side comparison."""

    label: str
    cost: ModelCost
    values: Mapping[str, Number]


def side_by_side(
    specs: Sequence[str], config: Config, figures: Sequence[str] = COMPARED
) -> list[Column]:
    """Each spec at ``config`` (``name@variant`` picks a variant over the config's)."""
    columns = []
    for spec in specs:
        name, variant = split_variant(spec)
        cost = config._replace(variant=variant or config.variant).analyze(name)
        label = name + (f" {cost.graph.variant}" if cost.graph.variant else "")
        columns.append(Column(label, cost, {f: FIGURES[f].get(cost) for f in figures}))
    return columns


def split_variant(spec: str) -> tuple[str, str | None]:
    """``shufflenet_v2@1.5x`` -> (``shufflenet_v2``, ``1.5x``); no ``@``, or a file of
    that name (``my@net.yaml``): no variant."""
    if os.path.lexists(spec):
        return spec, None
    name, _, variant = spec.partition("@")
    return name, variant or None


def winners(columns: Sequence[Column], figures: Sequence[str]) -> dict[str, list[int]]:
    """Per figure, the indices of the best columns (lowest unless the figure says otherwise)."""
    best: dict[str, list[int]] = {}
    for name in figures:
        values = [c.values[name] for c in columns]
        target = min(values) if FIGURES[name].lower_is_better else max(values)
        best[name] = [i for i, v in enumerate(values) if v == target]
    return best
