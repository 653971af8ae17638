"""The Python API: the same pipeline the CLI runs (load -> expand -> cost)."""

from __future__ import annotations

from collections.abc import Mapping

from lightcost.cost import ModelCost, cost_graph
from lightcost.expand import expand
from lightcost.expr import Value
from lightcost.graph import Graph
from lightcost.loader import parse_yaml, read_spec


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
) -> ModelCost:
    """Cost a spec: ``lightcost.analyze("mobilenet_v1", width=0.75, resolution=160)``.

    ``params`` is the parameter convention: ``trainable`` (PyTorch's count, the
    default), ``weights`` (conv/FC weights only, as TF-slim and the papers) or
    ``deployed`` (BN folded). ``overrides`` sets spec ``vars`` (e.g. classes);
    ``variant`` picks a family member (e.g. ``"1.5x"``).
    """
    graph = build(spec, width, resolution, overrides, text, variant)
    return cost_graph(graph, params)
