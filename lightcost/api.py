"""The Python API: the same pipeline the CLI runs (load -> expand -> cost)."""

# No ``from __future__ import annotations``: help(Config) shows real types (the device
# profile class alone stays a forward reference: its module loads only for latency).
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

from lightcost.core.graph import Graph
from lightcost.cost.engine import ModelCost, cost_graph
from lightcost.spec import expand as expansion
from lightcost.spec.expr import Value
from lightcost.spec.files import read_spec
from lightcost.spec.located import parse_yaml
from lightcost.spec.sections import Resolution

if TYPE_CHECKING:
    from lightcost.cost.latency import Device

NO_OVERRIDES: Mapping[str, Value] = MappingProxyType({})


class Config(NamedTuple):
    """Everything an analysis takes besides the spec: what options and budget keys set.

    The fields are the keywords of :func:`analyze` (which see); None width and
    resolution are the spec's own (its ``alpha`` var, else 1; its input). A
    resolution is N or ``(height, width)``; ``batch`` inputs are costed at once.
    """

    width: float | None = None
    resolution: Resolution | None = None
    params: str = "trainable"
    overrides: Mapping[str, Value] = NO_OVERRIDES
    variant: str | None = None
    execution: str = "fused"
    dtype: str = "fp32"
    device: "Device | str | None" = None
    batch: int = 1

    def build(self, spec: str, text: str | None = None) -> Graph:
        """The layer graph of ``spec`` (a path or bundled name; or YAML ``text`` named ``spec``)."""
        return self.expand(*load(spec, text))

    def expand(self, data: Any, file: str) -> Graph:
        """The layer graph of spec data already loaded (:func:`load`)."""
        return expansion.expand(
            data, file, self.width, self.resolution, self.overrides, self.variant
        )

    def cost(self, graph: Graph) -> ModelCost:
        """Cost a graph under this configuration's conventions (its size is the graph's)."""
        device = profile(self.device, self.dtype)
        return cost_graph(graph, self.params, self.execution, self.dtype, device, self.batch)

    def analyze(self, spec: str, text: str | None = None) -> ModelCost:
        """Build and cost ``spec``: the one path every command and :func:`analyze` take."""
        return self.cost(self.build(spec, text))


def build(
    spec: str,
    width: float | None = None,
    resolution: Resolution | None = None,
    overrides: Mapping[str, Value] | None = None,
    text: str | None = None,
    variant: str | None = None,
) -> Graph:
    """The layer graph of ``spec`` (a path or bundled name; or YAML ``text`` named ``spec``)."""
    config = Config(width, resolution, overrides=overrides or NO_OVERRIDES, variant=variant)
    return config.build(spec, text)


def analyze(
    spec: str,
    width: float | None = None,
    resolution: Resolution | None = None,
    params: str = "trainable",
    overrides: Mapping[str, Value] | None = None,
    text: str | None = None,
    variant: str | None = None,
    execution: str = "fused",
    dtype: str = "fp32",
    device: "Device | str | None" = None,
    batch: int = 1,
) -> ModelCost:
    """Cost a spec: ``lightcost.analyze("mobilenet_v1", width=0.75, resolution=160)``.

    ``params`` is the parameter convention: ``trainable`` (PyTorch's count, the
    default), ``weights`` (conv/FC weights only, as TF-slim and the papers) or
    ``deployed`` (BN folded). ``overrides`` sets spec ``vars`` (e.g. classes);
    ``variant`` picks a family member (e.g. ``"1.5x"``). ``execution`` (``fused``
    or ``unfused``) and ``dtype`` (``fp32``, ``fp16``, ``int8``) set the memory
    access cost and activation memory; ``device`` (a :class:`Device`, a bundled
    profile name such as ``"gtx1080ti"`` or a YAML file) adds estimated latency.
    ``resolution`` is one number (height = width) or a pair ``(height, width)``;
    ``batch`` multiplies the work and activation figures, not the params.
    The same as ``Config(width, resolution, ...).analyze(spec, text)``.
    """
    overrides = overrides or NO_OVERRIDES
    config = Config(width, resolution, params, overrides, variant, execution, dtype, device, batch)
    return config.analyze(spec, text)


def load(spec: str, text: str | None = None) -> tuple[Any, str]:
    """The located data of ``spec`` (or of its YAML ``text``) and the file name of messages."""
    return (parse_yaml(text, spec), spec) if text is not None else read_spec(spec)


def profile(device: "Device | str | None", dtype: str | None = None) -> "Device | None":
    """A device profile from a bundled name or a YAML file (loaded lazily), or as given;
    a file without a peak for ``dtype`` is an error located in it."""
    if isinstance(device, str):
        from lightcost.cost.latency import load_device  # lazy: only latency needs device profiles

        return load_device(device, dtype)
    return device
