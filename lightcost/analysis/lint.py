"""Guideline lint: ShuffleNetV2's practical guidelines G1-G4 checked with numbers.

Ma et al. 2018, "ShuffleNet V2: Practical Guidelines for Efficient CNN
Architecture Design", arXiv 1807.11164, Sec. 2. Each rule is a pure function of
a :class:`ModelCost` and :class:`Limits` returning findings (:data:`RULES`):

* **G1**, equal channel width minimizes MAC: a stride-1 ungrouped 1x1 conv
  with c1 inputs and c2 outputs on an h x w map has MAC = hw(c1 + c2) + c1*c2
  >= 2*sqrt(hw*B) + B/hw, B = hw*c1*c2, with equality at c1 = c2. Reported when
  MAC exceeds the bound by more than ``g1_excess``.
* **G2**, excessive group convolution increases MAC: a group conv (1 < g <
  input channels) against the ungrouped conv with the same input and MAdds
  (1/g of the outputs, as many weights): MAC hw*c1 + B*g/c1 + B/hw against
  hw*c1 + B/c1 + B/hw. Reported when the overhead exceeds ``g2_overhead``.
* **G3**, network fragmentation reduces parallelism: per top-level block, the
  kernels it launches (under the cost's execution model) and its parallel
  branches (the most inputs one merge takes, or the most readers one tensor has
  inside the block). Reported above ``g3_kernels`` or ``g3_branches``.
* **G4**, element-wise operations are non-negligible: the share of the
  network's MAC spent in element-wise kernels: those of ops whose kind counts as
  element-wise (``OpDef.elementwise``: activations, BN, add, mul, the copies
  split/concat/shuffle, and depthwise convs, which the paper counts as
  element-wise for their high MAC/FLOPs ratio). Reported above ``g4_share``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple

from lightcost.core.graph import Node, elements, readers
from lightcost.cost.engine import LayerCost, ModelCost
from lightcost.cost.memory import conv1x1_mac, mac_lower_bound, ungrouped_mac
from lightcost.ops import OPS


class Limits(NamedTuple):
    """Thresholds of the rules; fractions are of the compared MAC (0.3 = 30 %).

    (NamedTuples rather than frozen dataclasses: cheaper to define at start-up.)
    """

    g1_excess: float = 0.30
    g2_overhead: float = 0.10
    g3_kernels: int = 12
    g3_branches: int = 2
    g4_share: float = 0.5


class Finding(NamedTuple):
    """One violation: the rule, where (a layer, a block or the model), a message, its numbers."""

    rule: str
    where: str
    message: str
    values: Mapping[str, int | float | str]


def _ratio(c1: int, c2: int) -> str:
    """``1:2.42`` or ``3:1`` (the smaller side is 1)."""
    small, large = min(c1, c2), max(c1, c2)
    scaled = f"{large / small:.3g}"
    return f"1:{scaled}" if c1 <= c2 else f"{scaled}:1"


def _pairs(cost: ModelCost) -> list[tuple[Node, LayerCost]]:
    return list(zip(cost.graph.nodes, cost.layers, strict=True))


def g1(cost: ModelCost, limits: Limits) -> list[Finding]:
    """1x1 convs whose MAC exceeds the lower bound of their MAdds (G1)."""
    found = []
    for node, layer in _pairs(cost):
        a = node.attrs
        if not (node.op == "conv" and a["k"] == 1 and a["groups"] == 1 and a["stride"] == 1):
            continue
        (c1, h, w), c2 = node.in_shapes[0], node.out_shape[0]
        mac, bound = conv1x1_mac(h * w, c1, c2), mac_lower_bound(h * w, layer.madds)
        excess = mac / bound - 1
        if excess > limits.g1_excess:
            found.append(
                Finding(
                    "G1",
                    layer.name,
                    f"1x1 conv {c1}->{c2} (c1:c2 = {_ratio(c1, c2)}) at {h}x{w}: MAC {mac:,} is "
                    f"{100 * excess:.1f}% above the bound {bound:,.0f} of equal channels",
                    {
                        "c1": c1,
                        "c2": c2,
                        "ratio": _ratio(c1, c2),
                        "hw": h * w,
                        "mac": mac,
                        "bound": bound,
                        "excess": excess,
                    },
                )
            )
    return found


def g2(cost: ModelCost, limits: Limits) -> list[Finding]:
    """Group convs (not depthwise) and their MAC overhead against g = 1 at equal MAdds (G2)."""
    found = []
    for node, layer in _pairs(cost):
        groups, c1 = int(node.attrs.get("groups", 1)), node.in_shapes[0][0]
        if node.op != "conv" or not 1 < groups < c1:
            continue
        reads, out = elements(node.in_shapes[0]), elements(node.out_shape)
        mac = reads + out + layer.weights
        single = ungrouped_mac(reads, out, layer.weights, groups)
        overhead = mac / single - 1
        if overhead > limits.g2_overhead:
            found.append(
                Finding(
                    "G2",
                    layer.name,
                    f"group conv g={groups} {c1}->{node.out_shape[0]}: MAC {mac:,} is "
                    f"{100 * overhead:.1f}% above {single:,} of the g=1 conv with equal "
                    f"input and MAdds",
                    {
                        "groups": groups,
                        "c1": c1,
                        "c2": node.out_shape[0],
                        "mac": mac,
                        "mac_g1": single,
                        "overhead": overhead,
                    },
                )
            )
    return found


def _branches(nodes: list[Node]) -> int:
    """The most inputs one merge takes, or the most readers one tensor has, among ``nodes``."""
    merges = [len(n.inputs) for n in nodes if OPS[n.op].merges]
    return max([1, *merges, *readers(nodes).values()])


def g3(cost: ModelCost, limits: Limits) -> list[Finding]:
    """Top-level blocks with many kernels or many parallel branches (G3)."""
    blocks: dict[str, list[tuple[Node, LayerCost]]] = {}
    for node, layer in _pairs(cost):
        if node.block:
            blocks.setdefault(node.block[0], []).append((node, layer))
    found = []
    for name, members in blocks.items():
        launched = sum(len(layer.kernels) for _, layer in members)
        branches = _branches([node for node, _ in members])
        if launched > limits.g3_kernels or branches > limits.g3_branches:
            found.append(
                Finding(
                    "G3",
                    name,
                    f"block of {len(members)} layers: {launched} kernels ({cost.execution}), "
                    f"{branches} parallel branches",
                    {"layers": len(members), "kernels": launched, "branches": branches},
                )
            )
    return found


def g4(cost: ModelCost, limits: Limits) -> list[Finding]:
    """The share of MAC in element-wise kernels, if above the limit (G4)."""
    elementwise = {name for name, op in OPS.items() if op.elementwise}
    by_op: dict[str, int] = {}
    for layer in cost.layers:
        for kernel in layer.kernels:
            if kernel.op in elementwise:
                by_op[kernel.op] = by_op.get(kernel.op, 0) + kernel.mac
    total, part = cost.total().mac, sum(by_op.values())
    share = part / total if total else 0.0
    if share <= limits.g4_share:
        return []
    top = ", ".join(
        f"{op} {100 * mac / total:.1f}%" for op, mac in sorted(by_op.items(), key=lambda i: -i[1])
    )
    return [
        Finding(
            "G4",
            cost.graph.name,
            f"{100 * share:.1f}% of MAC ({cost.execution}) in element-wise kernels: {top}",
            {"share": share, "elementwise_mac": part, "mac": total, **by_op},
        )
    ]


RULES: dict[str, Callable[[ModelCost, Limits], list[Finding]]] = {
    "G1": g1,
    "G2": g2,
    "G3": g3,
    "G4": g4,
}


def lint(cost: ModelCost, limits: Limits | None = None) -> list[Finding]:
    """Every rule's findings, rule by rule."""
    return [f for rule in RULES.values() for f in rule(cost, limits or Limits())]
