"""Depthwise separable convolutions against the standard convs they replace (MobileNetV1 Sec. 3.1).

A depthwise conv (multiplier 1) read only by a following 1x1 ungrouped stride-1
conv is a pair; its MAdds over those of the k x k standard conv with the same
input and output channels are exactly ``1/N + 1/Dk^2``.
"""

from __future__ import annotations

from itertools import pairwise
from typing import TYPE_CHECKING, NamedTuple

from lightcost.core.graph import readers

if TYPE_CHECKING:
    from fractions import Fraction

    from lightcost.cost.engine import ModelCost


class SeparablePair(NamedTuple):
    """A depthwise + pointwise pair against the standard conv it replaces (MobileNetV1 Sec. 3.1).

    ``ratio`` is separable / standard MAdds, exactly ``1/N + 1/Dk^2``.
    """

    depthwise: str
    pointwise: str
    kernel: int
    channels_in: int
    channels_out: int
    size: int
    standard_madds: int
    separable_madds: int

    @property
    def ratio(self) -> Fraction:
        """Separable over standard MAdds."""
        from fractions import Fraction  # lazy: fractions imports decimal (4 ms of start-up)

        return Fraction(self.separable_madds, self.standard_madds)

    @property
    def formula(self) -> Fraction:
        """``1/N + 1/Dk^2``."""
        from fractions import Fraction

        return Fraction(1, self.channels_out) + Fraction(1, self.kernel**2)


def separable_pairs(cost: ModelCost) -> list[SeparablePair]:
    """Every depthwise conv (multiplier 1) read only by a following 1x1 ungrouped conv."""
    nodes = cost.graph.nodes
    madds = {layer.name: layer.madds for layer in cost.layers}
    read = readers(nodes)
    pairs = []
    for dw, pw in pairwise(nodes):
        if (
            dw.op == "dwconv"
            and int(dw.attrs["multiplier"]) == 1
            and pw.op == "conv"
            and pw.inputs == (dw.name,)
            and read[dw.name] == 1
            and pw.attrs["k"] == 1
            and int(pw.attrs["groups"]) == 1
            and pw.attrs["stride"] == 1
            and not isinstance(dw.attrs["k"], tuple)
        ):
            k, m, (n, h, w) = int(dw.attrs["k"]), dw.in_shapes[0][0], pw.out_shape
            pairs.append(
                SeparablePair(
                    dw.name,
                    pw.name,
                    k,
                    m,
                    n,
                    h,
                    k * k * m * n * h * w,
                    madds[dw.name] + madds[pw.name],
                )
            )
    return pairs
