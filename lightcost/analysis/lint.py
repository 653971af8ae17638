"""Guideline lint: ShuffleNetV2's practical guidelines G1-G4 checked with numbers.

Ma et al. 2018, "ShuffleNet V2: Practical Guidelines for Efficient CNN
Architecture Design", https://arxiv.org/abs/1807.11164, Sec. 2 (the guidelines)
and Sec. 3 (which networks violate them: ShuffleNetV1's group convs G2 and its
bottleneck G1, its shortcut add G4; MobileNetV2's inverted bottleneck G1 and its
depthwise convs and ReLUs on "thick" maps G4; ShuffleNetV2 follows all four, its
concat, channel shuffle and channel split merged into one element-wise
operation). Each rule is a pure function of a :class:`ModelCost` and
:class:`Limits` returning findings (:data:`RULES`):

* **G1**, equal channel width minimizes MAC: a stride-1 1x1 conv (grouped or not,
  not depthwise) with c1 inputs, c2 outputs and g groups on an h x w map has
  MAC = hw(c1 + c2) + c1*c2/g >= 2*sqrt(hw*B*g) + B/hw, B = hw*c1*c2/g, with
  equality at c1 = c2. Reported when MAC exceeds the bound by more than
  ``g1_excess`` (20 %: a 1:4 bottleneck is 25 % above it, ShuffleNetV2's own
  1:2.4 downsampling conv 10 %).
* **G2**, excessive group convolution increases MAC: a group conv (1 < g <
  input channels) against the ungrouped conv with the same input and MAdds
  (1/g of the outputs, as many weights): MAC hw*c1 + B*g/c1 + B/hw against
  hw*c1 + B/c1 + B/hw. Reported when the overhead exceeds ``g2_overhead``.
* **G3**, network fragmentation reduces parallelism: per top-level block, the
  kernels it launches (under the cost's execution model) and its parallel
  branches (the most inputs one merge takes, or the most readers one tensor has
  inside the block). Reported above ``g3_kernels`` or ``g3_branches``.
* **G4**, element-wise operations are non-negligible, two ways: (a) the share of
  the network's MAC in element-wise kernels (ops whose kind counts as element-wise,
  ``OpDef.elementwise``: activations, BN, add, mul, the copies split/concat/shuffle,
  and depthwise convs, which the paper counts as element-wise for their high
  MAC/FLOPs ratio) above ``g4_share``; a chain of copies (concat, shuffle, split)
  runs as one kernel that reads the chain's inputs once and writes its outputs
  once (:func:`merged_copies`), as ShuffleNetV2's implementation does; (b) an
  element-wise layer on a "thick" map: more than ``g4_thick`` times the channels
  of both its top-level block's input and output (an inverted bottleneck's
  expanded map).

Findings carry the stage they are in (the output map size, ``28x28``: the blocks
of one resolution) and a severity; :func:`groups` gathers them per rule and stage
with the worst instance first. A rule can be left out with ``select``/``ignore``
or, in a spec, ``lint: {ignore: [G2]}`` (:func:`spec_ignores`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from typing import NamedTuple

from lightcost.core.errors import Loc, SpecError, did_you_mean
from lightcost.core.graph import Node, elements, readers
from lightcost.cost.engine import LayerCost, ModelCost
from lightcost.cost.memory import conv1x1_mac, mac_lower_bound, ungrouped_mac
from lightcost.ops import OPS
from lightcost.spec.files import read_spec
from lightcost.spec.located import LList, LMap, check_keys

SPEC_KEY = "lint"  # the top-level spec section: {ignore: [G2, ...]}
COPIES = frozenset(name for name, op in OPS.items() if op.kind == "copy")
MODEL_STAGE = "model"


class Limits(NamedTuple):
    """Thresholds of the rules; fractions are of the compared MAC (0.3 = 30 %).

    (NamedTuples rather than frozen dataclasses: cheaper to define at start-up.)
    """

    g1_excess: float = 0.20
    g2_overhead: float = 0.10
    g3_kernels: int = 12
    g3_branches: int = 2
    g4_share: float = 0.5
    g4_thick: float = 2.0


class Finding(NamedTuple):
    """One violation: the rule, where (a layer, a block or the model), a message, its numbers,
    its stage (output map ``28x28``, or ``model``), how bad (``severity``, larger is worse)
    and the place in the spec that wrote it."""

    rule: str
    where: str
    message: str
    values: Mapping[str, int | float | str]
    stage: str = MODEL_STAGE
    severity: float = 0.0
    loc: Loc | None = None


class Group(NamedTuple):
    """The findings of one rule in one stage, the worst first."""

    rule: str
    stage: str
    findings: tuple[Finding, ...]

    @property
    def worst(self) -> Finding:
        """The finding with the largest severity."""
        return self.findings[0]


def _ratio(c1: int, c2: int) -> str:
    """``1:2.42`` or ``3:1`` (the smaller side is 1)."""
    small, large = min(c1, c2), max(c1, c2)
    scaled = f"{large / small:.3g}"
    return f"1:{scaled}" if c1 <= c2 else f"{scaled}:1"


def _pairs(cost: ModelCost) -> list[tuple[Node, LayerCost]]:
    return list(zip(cost.graph.nodes, cost.layers, strict=True))


def stage(node: Node) -> str:
    """The stage of a layer: its output map size, ``28x28``."""
    return f"{node.out_shape[1]}x{node.out_shape[2]}"


def g1(cost: ModelCost, limits: Limits) -> list[Finding]:
    """Stride-1 1x1 convs whose MAC exceeds the lower bound of their MAdds and groups (G1)."""
    found = []
    for node, layer in _pairs(cost):
        a, c1 = node.attrs, node.in_shapes[0][0]
        groups = int(a.get("groups", 1))
        if not (node.op == "conv" and a["k"] == 1 and a["stride"] == 1 and groups < c1):
            continue
        (_, h, w), c2 = node.in_shapes[0], node.out_shape[0]
        mac, hw = conv1x1_mac(h * w, c1, c2, groups), h * w
        # 2*sqrt(hw*B*g) + B/hw: the g = 1 bound of B*g MAdds, less its weight term's excess
        bound = mac_lower_bound(hw, layer.madds * groups) - layer.madds * (groups - 1) / hw
        excess = mac / bound - 1
        if excess > limits.g1_excess:
            grouped = f" g={groups}" if groups > 1 else ""
            found.append(
                Finding(
                    "G1",
                    layer.name,
                    f"1x1 conv{grouped} {c1}->{c2} (c1:c2 = {_ratio(c1, c2)}) at {h}x{w}: MAC "
                    f"{mac:,} is {100 * excess:.1f}% above the bound {bound:,.0f} of equal "
                    "channels",
                    {
                        "c1": c1,
                        "c2": c2,
                        "groups": groups,
                        "ratio": _ratio(c1, c2),
                        "hw": h * w,
                        "mac": mac,
                        "bound": bound,
                        "excess": excess,
                    },
                    stage(node),
                    excess,
                    node.loc,
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
                    stage(node),
                    overhead,
                    node.loc,
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
                    stage(members[-1][0]),
                    max(launched / limits.g3_kernels, branches / limits.g3_branches),
                    members[0][0].loc,
                )
            )
    return found


def merged_copies(cost: ModelCost) -> dict[str, int]:
    """Copy layers (concat, shuffle, split) that run merged into one kernel, and the MAC each
    keeps: the chain reads its inputs once and writes its outputs once.

    A concat or shuffle whose every reader is a copy is not written (it runs inside its
    readers' kernel); a split ends a chain: it writes its part, the next unit's input.
    ShuffleNetV2's concat -> shuffle -> split (Sec. 3) keeps 2c per unit instead of 7c.
    """
    read_by: dict[str, set[str]] = {}  # a layer -> the ops of its readers (one pass)
    for node in cost.graph.nodes:
        for name in node.inputs:
            read_by.setdefault(name, set()).add(node.op)
    inner = {
        node.name for node in cost.graph.nodes
        if node.op in COPIES and node.op != "split" and read_by.get(node.name)
        and read_by[node.name] <= COPIES
    }  # fmt: skip
    kept: dict[str, int] = {}
    for node in cost.graph.nodes:
        if node.op not in COPIES or not (inner & {node.name, *node.inputs}):
            continue
        outside = [shape for i, shape in zip(node.inputs, node.in_shapes, strict=True)
                   if i not in inner]  # fmt: skip
        written = 0 if node.name in inner else elements(node.out_shape)
        kept[node.name] = sum(elements(shape) for shape in outside) + written
    return kept


def elementwise_mac(cost: ModelCost) -> tuple[dict[str, int], int]:
    """MAC per element-wise op type (copies merged) and the model's MAC with that merge."""
    elementwise = {name for name, op in OPS.items() if op.elementwise}
    merged = merged_copies(cost)
    by_op: dict[str, int] = {}
    total = 0
    for node, layer in _pairs(cost):
        for kernel in layer.kernels:
            mac = merged.get(node.name, kernel.mac)
            total += mac
            if kernel.op in elementwise:
                by_op[kernel.op] = by_op.get(kernel.op, 0) + mac
    return by_op, total


def _block_channels(cost: ModelCost) -> dict[str, tuple[int, int]]:
    """Per top-level block: the channels it reads from outside and the channels it writes."""
    inside: dict[str, list[Node]] = {}
    for node in cost.graph.nodes:
        if node.block:
            inside.setdefault(node.block[0], []).append(node)
    channels = {}
    for name, members in inside.items():
        own = {n.name for n in members}
        reads = [s[0] for n in members for i, s in zip(n.inputs, n.in_shapes, strict=True)
                 if i not in own]  # fmt: skip
        channels[name] = (max(reads, default=0), members[-1].out_shape[0])
    return channels


def thick_maps(cost: ModelCost, limits: Limits) -> list[Finding]:
    """Element-wise layers on maps more than ``g4_thick`` times their block's input and
    output channels (G4, Sec. 3: MobileNetV2's depthwise convs and ReLUs)."""
    blocks, found = _block_channels(cost), []
    for node, layer in _pairs(cost):
        if not node.block or not OPS[node.op].elementwise:
            continue
        c_in, c_out = blocks[node.block[0]]
        thick = node.out_shape[0] / max(c_in, c_out, 1)
        if thick > limits.g4_thick:
            act = f"+{node.attrs['act']}" if node.attrs.get("act") else ""
            found.append(
                Finding(
                    "G4",
                    layer.name,
                    f"{node.op}{act} on {node.out_shape[0]} channels, {thick:.3g}x its "
                    f"block's {c_in} in / {c_out} out: MAC {layer.mac:,}",
                    {
                        "channels": node.out_shape[0],
                        "block_in": c_in,
                        "block_out": c_out,
                        "thick": thick,
                        "mac": layer.mac,
                    },
                    stage(node),
                    layer.mac,
                    node.loc,
                )
            )
    return found


def g4(cost: ModelCost, limits: Limits) -> list[Finding]:
    """The share of MAC in element-wise kernels above the limit, and element-wise layers on
    thick maps (G4)."""
    by_op, total = elementwise_mac(cost)
    part = sum(by_op.values())
    share = part / total if total else 0.0
    found = thick_maps(cost, limits)
    if share <= limits.g4_share:
        return found
    top = ", ".join(
        f"{op} {100 * mac / total:.1f}%" for op, mac in sorted(by_op.items(), key=lambda i: -i[1])
    )
    overall = Finding(
        "G4",
        cost.graph.name,
        f"{100 * share:.1f}% of MAC ({cost.execution}) in element-wise kernels: {top}",
        {"share": share, "elementwise_mac": part, "mac": total, **by_op},
        MODEL_STAGE,
        share,
        Loc(cost.graph.file, 1, 1),
    )
    return [overall, *found]


TITLES = {
    "G1": "equal channel width minimizes MAC",
    "G2": "excessive group convolution increases MAC",
    "G3": "network fragmentation reduces parallelism",
    "G4": "element-wise operations are non-negligible",
}
RULES: dict[str, Callable[[ModelCost, Limits], list[Finding]]] = {
    "G1": g1,
    "G2": g2,
    "G3": g3,
    "G4": g4,
}


def check_rules(names: Iterable[str], where: Loc | None = None, what: str = "rule") -> set[str]:
    """Rule ids (``G1``...; any case), an unknown one a located error with a suggestion."""
    out = set()
    for name in names:
        rule = str(name).strip().upper()
        if rule not in RULES:
            raise SpecError(
                f"unknown {what} '{name}'{did_you_mean(rule, RULES)} (rules: {', '.join(RULES)})",
                where,
            )
        out.add(rule)
    return out


def spec_ignores(spec: str) -> set[str]:
    """The rules a spec's ``lint: {ignore: [G2, ...]}`` section turns off (none for an ONNX
    file or standard input, which hold no such section)."""
    if spec.endswith(".onnx") or spec == "-":
        return set()
    data, _ = read_spec(spec)
    section = data.get(SPEC_KEY) if isinstance(data, LMap) else None
    if section is None:
        return set()
    where = data.loc_of(SPEC_KEY)
    if not isinstance(section, LMap):
        raise SpecError("'lint' must be a mapping: {ignore: [G1, ...]}", where)
    check_keys(section, ("ignore",), "lint section")
    ignore = section.get("ignore", [])
    if not isinstance(ignore, LList):
        raise SpecError(
            "'lint.ignore' must be a list of rules, e.g. [G2]", section.loc_of("ignore")
        )
    return set().union(*(check_rules([r], ignore.loc_of(i)) for i, r in enumerate(ignore)))


def lint(
    cost: ModelCost, limits: Limits | None = None, rules: Collection[str] = tuple(RULES)
) -> list[Finding]:
    """The findings of ``rules`` (default every rule), rule by rule."""
    return [f for name in RULES if name in rules for f in RULES[name](cost, limits or Limits())]


def groups(findings: Iterable[Finding]) -> list[Group]:
    """Findings per rule and stage (in order of first appearance), the worst first."""
    gathered: dict[tuple[str, str], list[Finding]] = {}
    for finding in findings:
        gathered.setdefault((finding.rule, finding.stage), []).append(finding)
    return [
        Group(rule, where, tuple(sorted(members, key=lambda f: -f.severity)))
        for (rule, where), members in gathered.items()
    ]
