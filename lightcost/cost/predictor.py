"""Measured latency: per-kernel-type fits and the runtime's fusion rules (``calibrate``).

A measured profile (written by ``lightcost calibrate --runtime onnxruntime``)
holds, for each kernel type (:func:`kernel_type`: ``conv3s2``, ``dwconv5s1``,
``gconv1``, ``fc``, ``avgpool_global``, ``add``, ``relu``, ...), a linear fit
of the kernel's measured time in seconds::

    t = overhead + per_madd x MAdds + per_mac x MAC (elements, fp32)

fitted to that type's kernels measured in context (after a convolution, as in
a network; a conv on a 1 x 1 map, squeeze-excite's, is ``conv_vec``), the time
per element a layer reads (its inputs and weights) that a network adds to its
kernels (``network``, fitted on random networks timed whole:
:mod:`lightcost.cli.networks`), and the fusion rules the runtime was found to apply
as the share of the second op's time a pair still pays (``conv+relu: 0``: a
ReLU after a conv costs nothing; 1: no fusion; a rule holds below 0.5). The
execution model of a prediction is the runtime's: each layer is split into its
op, a BN pass and an activation pass (the ``unfused`` kernels of
:mod:`lightcost.cost.memory`), and each pass costs its time times the share its
rule with the kernel before it leaves; an ``add`` whose input is a conv read
by nothing else is scaled by ``conv+add`` (and its activation by
``conv+add+ACT``). Each type has variants by :func:`variant`: ``_u`` for
channels not a multiple of 16 (padded blocks), ``_p`` for a conv the runtime
runs in the plain layout. The layout conversions the runtime inserts
(:mod:`lightcost.cost.layout`) are charged to the layer that needs them by the
``reorder_in`` and ``reorder_out`` fits (seconds per element). A kernel
type the profile did not measure takes the nearest measured type of its family
(another kernel size), else the roofline of the profile's figures (peak,
bandwidth, overhead: :mod:`lightcost.cost.latency`). Only fp32 is measured.
All arithmetic works on numpy arrays too (vectorized sweeps).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lightcost.core.errors import SpecError, short
from lightcost.core.graph import Graph, Node, elements
from lightcost.cost.fitting import Fit
from lightcost.cost.latency import Device, kernel_time
from lightcost.cost.layout import BLOCK, FOLLOW, MERGE, reorders, rule
from lightcost.cost.memory import kernels
from lightcost.ops import OPS, Kernel
from lightcost.ops.base import pair, truth

ALIGN = BLOCK  # channels per vector block (onnxruntime's NCHWc block on AVX-512)
SUFFIXES = ("", "_u", "_p")  # kernel type variants: aligned, unaligned, plain layout (convs)
FAMILIES = ("conv", "dwconv", "gconv", "stem")  # kernel types FAMILY{k}s{stride}, gconv{k}
REORDER = ("reorder_in", "reorder_out")  # kernel types: to the blocked layout, back to plain
ALIASES = {  # the kernel types of a composite op's own kernels, by op name (squeeze-excite)
    "conv": "conv_vec",
    "avgpool": "avgpool_global",
    "maxpool": "maxpool_global",
    "mul": "mul_gate",
}


@dataclass(frozen=True)
class MeasuredDevice(Device):
    """A device profile measured with a runtime: fits per kernel type and fusion rules.

    The roofline figures of :class:`Device` are the effective ones derived from
    the fits; they time the kernel types the profile has no fit for.
    """

    runtime: str = ""
    threads: int = 1
    fits: Mapping[str, Fit] = field(default_factory=dict)
    fusions: Mapping[str, float] = field(default_factory=dict)
    network: float = 0.0  # seconds per element a layer reads (inputs, weights) in a network

    def method(self, batch: int = 1) -> str:
        """How this profile estimates latency, as outputs state it: kernels are measured at
        batch 1, so ``batch`` N is N times batch 1's time."""
        rules = ", ".join(rule for rule in self.fusions if self.fused(rule)) or "none"
        times = f"batch {batch} = {batch} x batch 1" if batch != 1 else "batch 1"
        traffic = (
            f", {1e12 * self.network:.3g} ps per element read in a network" if self.network else ""
        )
        return (
            f"measured kernels ({self.runtime}, {self.threads} thread(s)): a fit per kernel "
            f"type, the runtime's fusions ({rules}), kernels in sequence{traffic}, {times}"
        )

    def graph_times(self, graph: Graph, dtype: str) -> list[Any]:
        """Predicted seconds of every layer of ``graph`` (graph order)."""
        readers: dict[str, int] = {}
        for node in graph.nodes:
            for name in node.inputs:
                readers[name] = readers.get(name, 0) + 1
        producer = {node.name: node for node in graph.nodes}
        moved = self.reorder_times(graph)
        fetched = first_reads(graph) if self.network else [0] * len(graph.nodes)
        return [
            self.node_time(node, producer, readers, dtype) + extra + self.network * count
            for node, extra, count in zip(graph.nodes, moved, fetched, strict=True)
        ]

    def reorder_times(self, graph: Graph) -> list[Any]:
        """Seconds of the layout conversions before each layer (:mod:`lightcost.cost.layout`),
        timed by the ``reorder_in`` and ``reorder_out`` fits (per element); 0 without them."""
        into, back = self.fits.get(REORDER[0]), self.fits.get(REORDER[1])
        if into is None or back is None:
            return [0.0] * len(graph.nodes)
        return [_moved(into, blocked) + _moved(back, plain) for blocked, plain in reorders(graph)]

    def node_time(
        self, node: Node, producer: Mapping[str, Node], readers: Mapping[str, int], dtype: str
    ) -> Any:
        """One layer's predicted seconds: its kernels after the fusion rules."""
        run = kernels(node, OPS[node.op].cost(node), "unfused")
        if not run:
            return 0.0
        if OPS[node.op].unfused is not None:  # a composite op: its own kernels, by op name
            return sum((self.kernel_seconds(ALIASES.get(k.op, k.op), k, dtype) for k in run), 0.0)
        family, code = _family(node), variant(node)
        total = self.kernel_seconds(kernel_type(node), run[0], dtype, code)
        if node.op == "add" and _after_conv(node, producer, readers):  # inside the conv?
            total, family = self.remaining("conv+add") * total, "conv+add"
        for extra in run[1:]:  # the BN pass and the activation pass, what fusion leaves
            share = self.remaining(f"{family}+{extra.op}")
            if share > 0:
                total = total + share * self.kernel_seconds(extra.op, extra, dtype, code)
        return total

    def fused(self, rule: str) -> bool:
        """Whether the runtime applies a fusion rule (``conv+relu``): the pair pays less
        than half of the second op."""
        return self.remaining(rule) < 0.5

    def remaining(self, rule: str) -> float:
        """The share of the second op's time a pair still pays: 0 fused, 1 not (default)."""
        return self.fusions.get(rule, 1.0)

    def kernel_seconds(self, key: str, kernel: Kernel, dtype: str, variant: Any = 0) -> Any:
        """A kernel's time by the fit of its type and :func:`variant` (0 aligned, 1 unaligned,
        2 plain layout: the ``_u`` and ``_p`` fits, each falling back to the one before;
        element-wise for numpy arrays), a neighbour's, else the roofline."""
        fit = self.fit(key)
        if fit is None:
            return kernel_time(kernel, self, dtype)
        odd = self.fit(key + SUFFIXES[1]) or fit
        ranked = (fit, odd, self.fit(key + SUFFIXES[2]) or odd)
        if not hasattr(variant, "shape"):
            return ranked[int(variant)].seconds(kernel)
        import numpy  # lazy: only a vectorized sweep passes arrays, and it has numpy loaded

        times = [f.seconds(kernel) for f in ranked]
        return numpy.select([variant == 0, variant == 1], times[:2], times[2])

    def fit(self, key: str) -> Fit | None:
        """The fit of a kernel type, or of its nearest neighbour."""
        return self.fits.get(key) or self.neighbour(key)

    def neighbour(self, key: str) -> Fit | None:
        """The fit of the same family and stride with the nearest kernel size, if any."""
        end = _suffix(key)
        parsed = _parse_type(base_type(key))
        if parsed is None:
            return None
        family, k, stride = parsed
        near = [
            (abs(p[1] - k), name)
            for name in self.fits
            if (p := _parse_type(name)) is not None
            and p[0] == family
            and p[2] == stride
            and _suffix(name) == end
        ]
        return self.fits[min(near)[1]] if near else None


def reads(node: Node) -> Any:
    """Elements a layer reads when fused: its inputs and weights (its fused MAC less its
    output, :mod:`lightcost.cost.memory`); the ``network`` term of a profile times them.
    Inside a network they come from farther than in a kernel's small context, where the
    inputs were just written and the weights stay in cache; what a layer writes is
    buffered either way (the term fitted on all traffic, outputs included, fits the
    random networks less well: 7.7-8.0 % against 7.4-7.7 %)."""
    run = kernels(node, OPS[node.op].cost(node), "fused")
    return sum((k.mac for k in run), 0) - elements(node.out_shape) if run else 0


def first_reads(graph: Graph) -> list[Any]:
    """:func:`reads` of every layer (graph order), an input another layer read before it
    left out (the layers of a block reading one tensor: the first fetches it)."""
    seen: set[str] = set()
    found = []
    for node in graph.nodes:
        count = reads(node)
        if OPS[node.op].kind != "view":
            for name, shape in zip(node.inputs, node.in_shapes, strict=True):
                count = count - elements(shape) if name in seen else count
                seen.add(name)
        found.append(count)
    return found


def _moved(fit: Fit, count: Any) -> Any:
    """A conversion's fitted seconds for ``count`` elements (0 when none move)."""
    return (count > 0) * fit.overhead + fit.per_mac * count


def kernel_type(node: Node) -> str:
    """The kernel type of a layer's main kernel: ``conv3s2``, ``dwconv5s1``, ``gconv3``,
    ``stem7s2`` (a conv of at most :data:`STEM` input channels: an image), ...; a k x k'
    kernel is typed by the odd size nearest sqrt(k k') (Inception's 1x7: 3, as its taps)."""
    attrs = node.attrs
    if node.op in ("conv", "dwconv"):
        k = _size(pair(attrs["k"]))
        stride = min(max(pair(attrs["stride"])), 2)
        if node.op == "dwconv":
            return f"dwconv{k}s{stride}"
        if int(attrs["groups"]) > 1:
            return f"gconv{k}"
        if on_vector(node):
            return "conv_vec"
        return f"{'stem' if is_stem(node) else 'conv'}{k}s{stride}"
    if node.op in ("unfold", "fold"):  # patch 1 only reshapes (ViT's flatten)
        return node.op if int(attrs["patch"]) > 1 else "flatten"
    if OPS[node.op].kind == "pool":
        return f"{node.op}_global" if attrs.get("global") else node.op
    if node.op == "mul" and truth(elements(node.in_shapes[-1]) != elements(node.out_shape)):
        return "mul_gate"  # scaled by a C x 1 x 1 gate (squeeze-excite)
    return node.op


STEM = 4  # input channels: a conv reading at most this many is a stem (RGB, gray, RGBA)


def _size(sides: tuple[Any, Any]) -> int:
    """The kernel size a k x k' kernel is typed by: k if square, else the odd size nearest
    sqrt(k k')."""
    kh, kw = int(sides[0]), int(sides[1])
    if kh == kw:
        return kh
    root = round(math.sqrt(kh * kw))
    return root if root % 2 else root + 1


def is_stem(node: Node) -> bool:
    """A conv reading at most :data:`STEM` channels: the image's own layout, whatever its
    output channels (one kernel type, no variants)."""
    return node.op == "conv" and not truth(node.in_shapes[0][0] > STEM)


def on_vector(node: Node) -> bool:
    """A conv on a 1 x 1 map (squeeze-excite's 1x1 convs): a matrix-vector product, bound by
    reading its weights, unlike a conv over a map (its own kernel type, ``conv_vec``)."""
    return not any(truth(side != 1) for side in node.in_shapes[0][1:])


def aligned(node: Node) -> Any:
    """Whether the input and output channels are multiples of :data:`ALIGN` (an array of
    booleans in a vectorized sweep)."""
    first, out = node.in_shapes[0][0] if node.in_shapes else 0, node.out_shape[0]
    both = (first % ALIGN == 0) & (out % ALIGN == 0)
    return both if hasattr(both, "shape") else bool(both)


BLOCKABLE = FOLLOW | MERGE | {"maxpool", "avgpool", "concat"}  # may run in padded blocks


def variant(node: Node) -> Any:
    """0: channels multiples of :data:`ALIGN`, or an op that always runs in the plain layout
    (FC, split, softmax, ...: padding does not concern it); 1: a layer that may run in padded
    blocks with channels not a multiple of :data:`ALIGN`; 2: a conv onnxruntime runs in the
    plain layout (:mod:`lightcost.cost.layout`). Integer arrays in a vectorized sweep."""
    odd = aligned(node) ^ True
    if node.op not in ("conv", "dwconv"):
        return odd * int(node.op in BLOCKABLE)
    if node.op == "conv" and (on_vector(node) or is_stem(node)):
        return odd * 0
    blocked = rule(node, [])[0]
    return blocked * (odd * 1) + (blocked ^ True) * 2


def base_type(key: str) -> str:
    """The kernel type a variant refines (``conv3s1_p`` -> ``conv3s1``; itself if none)."""
    end = _suffix(key)
    return key.removesuffix(end) if end else key


def _suffix(key: str) -> str:
    """The variant suffix of a kernel type name ('' for the aligned one)."""
    return next((end for end in SUFFIXES[1:] if key.endswith(end)), "")


def _family(node: Node) -> str:
    """The fusion family of a layer: ``conv`` for every convolution, else the op."""
    return "conv" if node.op in ("conv", "dwconv") else node.op


def _after_conv(node: Node, producer: Mapping[str, Node], readers: Mapping[str, int]) -> bool:
    """Whether an input of ``node`` is a conv read by nothing else (it can absorb the node)."""
    for name in node.inputs:
        before = producer.get(name)
        if before is not None and _family(before) == "conv" and readers[name] == 1:
            return True
    return False


def _parse_type(key: str) -> tuple[str, int, int] | None:
    """``conv3s2`` -> (conv, 3, 2); ``gconv3`` -> (gconv, 3, 1); None for other types."""
    for family in FAMILIES:
        rest = key[len(family) :]
        if key.startswith(family) and rest[:1].isdigit():
            k, _, stride = rest.partition("s")
            if k.isdigit() and (stride.isdigit() or not stride):
                return family, int(k), int(stride or 1)
    return None


FIT_FIELDS = ("overhead", "per_madd", "per_mac", "error", "cases", "per_spill")
FIT_HIGH = {"error": 1e3, "cases": 1e9}  # the others are seconds: at most 1


def parse_measured(data: Any, base: dict[str, Any]) -> MeasuredDevice:
    """A measured profile from located YAML data (``base``: its roofline fields, checked)."""
    from lightcost.spec.located import LMap, check_keys

    fits: dict[str, Fit] = {}
    spill = _number(data, "spill", 1e15)
    table = data["kernels"]
    if not isinstance(table, LMap):
        raise SpecError("kernels must map kernel types to fits", data.loc_of("kernels"))
    for key, value in table.items():
        if not isinstance(value, LMap):
            raise SpecError(f"kernels.{key} must be a mapping", table.loc_of(key))
        check_keys(value, FIT_FIELDS, f"kernels.{key}")
        numbers = [_number(value, name, FIT_HIGH.get(name, 1.0)) for name in FIT_FIELDS]
        overhead, per_madd, per_mac, error, cases, per_spill = numbers
        fits[str(key)] = Fit(
            overhead, per_madd, per_mac, error, int(cases), per_spill, spill if per_spill else 0.0
        )
    fusions = data.get("fusions") or LMap.empty(data.loc)
    if not isinstance(fusions, LMap):
        raise SpecError("fusions must map rules to shares from 0 to 1", data.loc_of("fusions"))
    shares = {str(rule): _number(fusions, str(rule), 1.0) for rule in fusions}
    network = _number(data, "network", 1.0)
    threads = data.get("threads", 1)
    if isinstance(threads, bool) or not isinstance(threads, int) or not 1 <= threads <= 1024:
        raise SpecError("threads must be an integer from 1 to 1024", data.loc_of("threads"))
    return MeasuredDevice(
        **base,
        runtime=str(data.get("runtime", "")),
        threads=threads,
        fits=fits,
        fusions=shares,
        network=network,
    )


def _number(mapping: Any, key: str, high: float) -> float:
    """A fit's figure: a number from 0 to ``high`` (0 when absent), else a located SpecError."""
    value = mapping.get(key, 0)
    try:
        number = math.nan if isinstance(value, bool) else float(value)
    except (TypeError, ValueError, OverflowError):
        number = math.nan
    if not 0 <= number <= high:  # false for nan
        raise SpecError(
            f"{key} must be a number from 0 to {high:g}, got {short(value)}", mapping.loc_of(key)
        )
    return number


def dump_measured(device: MeasuredDevice, comment: str = "") -> str:
    """A measured profile as YAML that :func:`lightcost.cost.latency.load_device` reads back."""
    from lightcost.cost.latency import dump_device

    lines = [
        f"runtime: {json.dumps(device.runtime)}",
        f"threads: {device.threads}",
        f"network: {device.network:.4e}  # seconds per element a layer reads inside a network",
        f"spill: {spill_of(device)}  # elements: a kernel's MAC beyond this pays per_spill more",
        "fusions:  # the share of the second op's time the pair still pays: 0 fused, 1 not",
        *(f"  {rule}: {share:g}" for rule, share in device.fusions.items()),
        "kernels:  # seconds = overhead + per_madd x MAdds + per_mac x MAC (+ per_spill x spilled)",
        *(
            f"  {key}: {{overhead: {f.overhead:.4e}, per_madd: {f.per_madd:.4e}, "
            f"per_mac: {f.per_mac:.4e}, error: {f.error:.3f}, cases: {f.cases}"
            + (f", per_spill: {f.per_spill:.4e}}}" if f.per_spill else "}")
            for key, f in device.fits.items()
        ),
    ]
    return dump_device(device, comment) + "\n".join(lines) + "\n"


def spill_of(device: MeasuredDevice) -> int:
    """The spill point of a profile's fits (elements; 0 when none has a spill term)."""
    return int(max((f.spill for f in device.fits.values() if f.per_spill), default=0))
