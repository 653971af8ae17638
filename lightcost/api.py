"""The Python API: the same pipeline the CLI runs (load -> expand -> cost)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, NamedTuple

from lightcost.core.graph import Graph
from lightcost.cost.engine import ModelCost, cost_graph
from lightcost.spec.expand import expand
from lightcost.spec.expr import Value
from lightcost.spec.files import read_spec
from lightcost.spec.located import parse_yaml

if TYPE_CHECKING:
    from lightcost.cost.latency import Device


def build(
    spec: str,
    width: float | None = None,
    resolution: int | None = None,
    overrides: Mapping[str, Value] | None = None,
    text: str | None = None,
    variant: str | None = None,
) -> Graph:
    """The layer graph of ``spec`` (a path or bundled name; or YAML ``text`` named ``spec``)."""
    data, file = (parse_yaml(text, spec), spec) if text is not None else read_spec(spec)
    return expand(data, file, width, resolution, overrides, variant)


def analyze(
    spec: str,
    width: float | None = None,
    resolution: int | None = None,
    params: str = "trainable",
    overrides: Mapping[str, Value] | None = None,
    text: str | None = None,
    variant: str | None = None,
    execution: str = "fused",
    dtype: str = "fp32",
    device: Device | str | None = None,
) -> ModelCost:
    """Cost a spec: ``lightcost.analyze("mobilenet_v1", width=0.75, resolution=160)``.

    ``params`` is the parameter convention: ``trainable`` (PyTorch's count, the
    default), ``weights`` (conv/FC weights only, as TF-slim and the papers) or
    ``deployed`` (BN folded). ``overrides`` sets spec ``vars`` (e.g. classes);
    ``variant`` picks a family member (e.g. ``"1.5x"``). ``execution`` (``fused``
    or ``unfused``) and ``dtype`` (``fp32``, ``fp16``, ``int8``) set the memory
    access cost and activation memory; ``device`` (a :class:`Device`, a bundled
    profile name such as ``"gtx1080ti"`` or a YAML file) adds estimated latency.
    """
    graph = build(spec, width, resolution, overrides, text, variant)
    return cost_graph(graph, params, execution, dtype, profile(device))


def profile(device: Device | str | None) -> Device | None:
    """A device profile from a bundled name or a YAML file (loaded lazily), or as given."""
    if isinstance(device, str):
        from lightcost.cost.latency import load_device  # lazy: only latency needs device profiles

        return load_device(device)
    return device


class Settings(NamedTuple):
    """Everything :func:`analyze` takes besides the spec, width and resolution.

    Commands that cost several configurations (compare, sweep) carry one of these.
    """

    params: str = "trainable"
    overrides: Mapping[str, Value] = MappingProxyType({})
    variant: str | None = None
    execution: str = "fused"
    dtype: str = "fp32"
    device: Device | str | None = None

    def analyze(
        self,
        spec: str,
        width: float | None = None,
        resolution: int | None = None,
        variant: str | None = None,
    ) -> ModelCost:
        """``analyze`` with these settings; ``variant`` overrides the settings' variant."""
        return analyze(
            spec,
            width,
            resolution,
            self.params,
            self.overrides,
            variant=variant or self.variant,
            execution=self.execution,
            dtype=self.dtype,
            device=self.device,
        )
