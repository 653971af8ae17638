"""Kernel fits: a kernel type's time as a linear function of its work and traffic.

``seconds = overhead + per_madd x MAdds + per_mac x MAC (+ per_spill x MAC beyond spill)``,
fitted by least squares to kernels measured in context (``calibrate --runtime``,
:mod:`lightcost.cli.profiling`) and used by :mod:`lightcost.cost.predictor`. MAC in
elements (fp32), seconds per kernel. Numbers or numpy arrays (vectorized sweeps).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

from lightcost.ops import Kernel

SPILLS = tuple(2**n for n in range(17, 24))  # elements: the spill points calibrate tries


class Fit(NamedTuple):
    """One kernel type's fit: seconds = overhead + per_madd x MAdds + per_mac x MAC elements
    + per_spill x the MAC elements beyond ``spill`` (a kernel whose tensors outgrow the
    cache pays more per element: ``spill`` is the profile's, chosen by ``calibrate``).

    ``error`` is the fit's mean absolute percentage error on its measurements
    (a fraction), ``cases`` how many kernels it was fitted to.
    """

    overhead: float
    per_madd: float
    per_mac: float
    error: float = 0.0
    cases: int = 0
    per_spill: float = 0.0
    spill: float = 0.0  # elements: where ``per_spill`` starts (0: no spill term)

    def seconds(self, kernel: Kernel) -> Any:
        """The fitted time of one kernel (numbers or numpy arrays)."""
        time = self.overhead + self.per_madd * kernel.madds + self.per_mac * kernel.mac
        return time + self.per_spill * spilled(kernel.mac, self.spill) if self.per_spill else time

    def scaled(self, share: float, kernels: Sequence[Kernel], seconds: Sequence[float]) -> Fit:
        """This fit times ``share``, with its error on the given cases."""
        out = Fit(self.overhead * share, self.per_madd * share, self.per_mac * share)
        out = out._replace(per_spill=self.per_spill * share, spill=self.spill)
        error = relative_error([out.seconds(k) for k in kernels], seconds)
        return out._replace(error=error, cases=len(seconds))


def spilled(mac: Any, spill: float) -> Any:
    """The MAC elements beyond ``spill`` (numbers or numpy arrays); 0 when ``spill`` is 0."""
    return (mac - spill) * (mac > spill) if spill > 0 else 0 * mac


FLOOR = 5e-6  # seconds: a fit's relative error on a faster kernel is taken against this


def relative_error(predicted: Any, seconds: Any, floor: float = FLOOR) -> float:
    """Mean absolute percentage error (a fraction), each case against max(seconds, floor)."""
    import numpy as np

    t = np.asarray(seconds, dtype=float)
    return float(np.mean(np.abs(np.asarray(predicted, dtype=float) - t) / np.maximum(t, floor)))


def fit_kernels(
    madds: Sequence[float],
    mac: Sequence[float],
    seconds: Sequence[float],
    floor: float = FLOOR,
    spill: float = 0.0,
) -> Fit:
    """Least-squares fit, coefficients >= 0 (a term < 0 is dropped), unbiased in seconds;
    with ``spill`` > 0 a fourth term, per MAC element beyond ``spill`` (:class:`Fit`).

    Each row is weighted by 1 / sqrt(max(seconds, ``floor``)), between absolute error
    (large kernels dominate) and relative error (which fits low: it prefers
    under-predicting a scattered kernel), then the coefficients are scaled so the fit's
    total over the cases is their measured total: a network is a sum of kernels, so a
    bias per kernel would add up. The intercept is the per-kernel overhead.
    """
    import numpy as np

    t, moved = np.asarray(seconds, dtype=float), np.asarray(mac, float)
    terms = [np.ones_like(t), np.asarray(madds, float), moved, spilled(moved, spill)]
    columns = np.stack(terms, 1)
    weight = 1.0 / np.sqrt(np.maximum(t, floor))
    active = [i for i in range(4) if columns[:, i].any()]
    coef = np.zeros(4)
    for _ in range(3):
        scale = np.abs(columns[:, active]).max(0)  # columns of very different magnitude
        solved = np.linalg.lstsq(
            columns[:, active] / scale * weight[:, None], t * weight, rcond=None
        )[0]
        coef[:] = 0.0
        coef[active] = solved / scale
        negative = [i for i in active if coef[i] < 0]
        if not negative:
            break
        active = [i for i in active if i not in negative]
    coef = np.maximum(coef, 0.0)
    total = float((columns @ coef).sum())
    coef *= t.sum() / total if total > 0 else 1.0
    error = relative_error(columns @ coef, t, floor)
    found = Fit(float(coef[0]), float(coef[1]), float(coef[2]), error, len(t))
    return found._replace(per_spill=float(coef[3]), spill=spill) if coef[3] > 0 else found


def held_out_error(
    madds: Sequence[float], mac: Sequence[float], seconds: Sequence[float], spill: float = 0.0
) -> float:
    """The leave-one-out error of :func:`fit_kernels`: the mean relative error (against
    :data:`FLOOR`) of each case predicted by the fit of the others; how well a fit of
    these terms predicts a kernel it was not fitted to (inf with fewer than 3 cases)."""
    count = len(seconds)
    if count < 3:
        return math.inf
    total = 0.0
    for i in range(count):
        rest = [j for j in range(count) if j != i]
        fit = fit_kernels(
            [madds[j] for j in rest],
            [mac[j] for j in rest],
            [seconds[j] for j in rest],
            spill=spill,
        )
        predicted = fit.seconds(Kernel("", int(madds[i]), int(mac[i])))
        total += abs(predicted - seconds[i]) / max(seconds[i], FLOOR)
    return total / count
