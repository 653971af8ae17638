"""Estimated latency: a roofline per kernel on a device profile.

Each kernel (:mod:`lightcost.cost.memory`) takes
``max(2 x MAdds / peak FLOP/s, MAC bytes / bandwidth) + kernel overhead``
(the roofline model: Williams, Waterman and Patterson, CACM 52(4), 2009; the
per-kernel overhead stands for launch and dispatch costs, which is how
fragmentation slows a network, ShuffleNetV2 G3). Kernels run one after another
at batch 1; a layer's latency is the sum of its kernels'. Only conv and FC
multiply-adds count as compute: element-wise ops are bounded by their memory
traffic.

A device profile is a small YAML file (bundled ones in ``lightcost/devices/``):

```yaml
name: gtx1080ti
description: NVIDIA GeForce GTX 1080 Ti
source: where the numbers come from
peak_flops: 11.34e+12        # FLOP/s, or per dtype: {fp32: ..., fp16: ..., int8: ...}
bandwidth: 484.0e+9          # memory bandwidth, bytes/s
kernel_overhead: 5.0e-6      # seconds per kernel
```

Each figure of a profile is within its :data:`RANGES` (a :class:`Device` checks
them however it is made), so every latency is a finite number of seconds.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from lightcost.core.errors import Loc, SpecError, short
from lightcost.core.graph import Graph
from lightcost.cost.memory import DTYPES, maximum
from lightcost.ops import Kernel
from lightcost.ops.base import FLOPS_PER_MADD

FIELDS = ("name", "description", "source", "peak_flops", "bandwidth", "kernel_overhead")
MEASURED = (
    "runtime",
    "threads",
    "network",
    "spill",
    "fusions",
    "kernels",
)  # a measured profile's fields


class Range(NamedTuple):
    """The sane values of a profile figure: ``low`` to ``high`` (inclusive) ``unit``."""

    low: float
    high: float
    unit: str


RANGES = {  # from a microcontroller to beyond any accelerator; a kernel at most a second
    "peak_flops": Range(1e6, 1e18, "FLOP/s"),
    "bandwidth": Range(1e6, 1e15, "bytes/s"),
    "kernel_overhead": Range(0.0, 1.0, "s"),
}


@dataclass(frozen=True)
class Device:
    """A device profile: peak compute per dtype, memory bandwidth, per-kernel overhead."""

    name: str
    peak_flops: Mapping[str, float]  # FLOP/s per dtype
    bandwidth: float  # bytes/s
    kernel_overhead: float  # seconds
    description: str = ""
    source: str = ""

    def __post_init__(self) -> None:
        for flops in self.peak_flops.values():
            profile_value("peak_flops", flops)
        profile_value("bandwidth", self.bandwidth)
        profile_value("kernel_overhead", self.kernel_overhead)

    def flops(self, dtype: str) -> float:
        """Peak FLOP/s for ``dtype``; a SpecError names the dtypes the profile has."""
        if dtype not in self.peak_flops:
            raise SpecError(
                f"device '{self.name}' has no peak_flops for {dtype} "
                f"(it has: {', '.join(self.peak_flops)})"
            )
        return self.peak_flops[dtype]

    def method(self, batch: int = 1) -> str:
        """How this profile estimates latency for ``batch`` inputs, as outputs state it."""
        return (
            "roofline per kernel, max(2 x MAdds / peak FLOP/s, MAC bytes / bandwidth) + kernel "
            f"overhead, kernels in sequence, batch {batch}"
        )

    def graph_times(self, graph: Graph, dtype: str) -> list[Any] | None:
        """Seconds of every layer when the profile times whole graphs (a measured
        profile, :mod:`lightcost.cost.predictor`); None: each layer's kernels by roofline."""
        return None

    def describe(self, dtype: str) -> str:
        """``gtx1080ti: 11.34 TFLOP/s, 484 GB/s, 5 µs per kernel``."""
        return (
            f"{self.name}: {self.flops(dtype) / 1e12:.4g} TFLOP/s ({dtype}), "
            f"{self.bandwidth / 1e9:.4g} GB/s, {self.kernel_overhead * 1e6:.3g} µs per kernel"
        )


def kernel_time(kernel: Kernel, device: Device, dtype: str) -> float:
    """Roofline time of one kernel in seconds (module docstring)."""
    compute = FLOPS_PER_MADD * kernel.madds / device.flops(dtype)
    memory = kernel.mac * DTYPES[dtype] / device.bandwidth
    bound: float = maximum(compute, memory)
    return bound + device.kernel_overhead


def layer_time(kernels: Iterable[Kernel], device: Device, dtype: str) -> float:
    """A layer's kernels one after another, in seconds (0 for a view); always finite."""
    seconds = sum((kernel_time(k, device, dtype) for k in kernels), 0.0)
    if not finite(seconds):  # RANGES and the op limits keep it far below; never print inf
        raise SpecError(f"latency on device '{device.name}' is not a finite number")
    return seconds


def finite(value: Any) -> bool:
    """Whether a figure is finite (everywhere, for a numpy array of a vectorized sweep)."""
    if hasattr(value, "shape"):
        import numpy  # lazy: only a vectorized sweep passes arrays, and it has numpy loaded

        return bool(numpy.isfinite(value).all())
    return math.isfinite(value)


def devices_dir() -> str:
    """The directory of bundled device profiles."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "devices")


def bundled_devices() -> list[str]:
    """Names of the bundled device profiles."""
    return sorted(f[: -len(".yaml")] for f in os.listdir(devices_dir()) if f.endswith(".yaml"))


def find_device(name_or_path: str, base: str = "") -> str:
    """The profile file a name means: a path relative to ``base``, else a bundled name."""
    from lightcost.spec.files import find_file

    return find_file(name_or_path, devices_dir(), bundled_devices, "device profile", base)


def load_device(name_or_path: str, dtype: str | None = None) -> Device:
    """A device profile from a YAML file, or a bundled profile by name; SpecError if invalid
    (or, given a ``dtype``, without a peak for it: located at the file's ``peak_flops``)."""
    from lightcost.spec.files import read_text
    from lightcost.spec.located import parse_yaml

    path = find_device(name_or_path)
    return parse_device(parse_yaml(read_text(path, "device profile"), path), path, dtype)


def parse_device(data: Any, file: str, dtype: str | None = None) -> Device:
    """Validate loaded profile data (:func:`lightcost.spec.located.parse_yaml` output)."""
    from lightcost.spec.located import LMap, check_keys

    if not isinstance(data, LMap):
        raise SpecError("a device profile must be a mapping", Loc(file, 1, 1))
    check_keys(data, FIELDS + MEASURED, "device profile")
    for key in ("name", "peak_flops", "bandwidth", "kernel_overhead"):
        if key not in data:
            raise SpecError(f"device profile needs '{key}'", data.loc.at(key))
    peak = data["peak_flops"]
    if isinstance(peak, LMap):
        check_keys(peak, tuple(DTYPES), "peak_flops (dtypes)")
        if not peak:
            raise SpecError(
                f"peak_flops needs a value for at least one dtype ({', '.join(DTYPES)})",
                data.loc_of("peak_flops"),
            )
        flops = {d: profile_value("peak_flops", peak[d], peak.loc_of(d)) for d in peak}
    else:
        flops = dict.fromkeys(DTYPES, profile_value("peak_flops", peak, data.loc_of("peak_flops")))
    if dtype is not None and dtype in DTYPES and dtype not in flops:
        raise SpecError(
            f"device '{data['name']}' has no peak_flops for {dtype} (it has: {', '.join(flops)})",
            data.loc_of("peak_flops"),
        )
    base: dict[str, Any] = {
        "name": str(data["name"]),
        "peak_flops": flops,
        "bandwidth": profile_value("bandwidth", data["bandwidth"], data.loc_of("bandwidth")),
        "kernel_overhead": profile_value(
            "kernel_overhead", data["kernel_overhead"], data.loc_of("kernel_overhead")
        ),
        "description": str(data.get("description", "")),
        "source": str(data.get("source", "")),
    }
    if "kernels" in data:  # measured by `calibrate --runtime`
        from lightcost.cost.predictor import parse_measured

        return parse_measured(data, base)
    return Device(**base)


def profile_value(key: str, value: object, where: Loc | None = None) -> float:
    """``value`` as a number within ``RANGES[key]``, else a SpecError at ``where``.

    ``1e12`` written as text is accepted (YAML 1.1 reads it as a string).
    """
    bounds = RANGES[key]
    try:
        number = math.nan if isinstance(value, bool) else float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        number = math.nan
    if not bounds.low <= number <= bounds.high:  # false for nan
        raise SpecError(
            f"{key} must be a number from {bounds.low:g} to {bounds.high:g} {bounds.unit}, "
            f"got {short(value)}",
            where,
        )
    return number


def dump_device(device: Device, comment: str = "") -> str:
    """A device profile as YAML text that :func:`load_device` reads back; ``comment`` on top."""
    lines = [f"# {line}".rstrip() for line in comment.splitlines()]
    lines += [
        f"name: {json.dumps(device.name)}",
        f"description: {json.dumps(device.description)}",
        f"source: {json.dumps(device.source)}",
        "peak_flops:",
        *(f"  {dtype}: {flops:.4e}" for dtype, flops in device.peak_flops.items()),
        f"bandwidth: {device.bandwidth:.4e}",
        f"kernel_overhead: {device.kernel_overhead:.4e}",
    ]
    return "\n".join(lines) + "\n"
