"""Expand a loaded spec into a layer graph with every shape inferred.

The stages, one module each: :mod:`~lightcost.spec.sections` checks the
top-level sections and picks the variant, :mod:`~lightcost.spec.variables`
computes the vars, :mod:`~lightcost.spec.walk` walks ``layers`` (items, block
instances, repeats and stage tables; block parameters in
:mod:`~lightcost.spec.params`), :mod:`~lightcost.spec.nodes` builds each op
node, :mod:`~lightcost.spec.values` evaluates and checks values and
:mod:`~lightcost.spec.names` resolves names.

Every problem is a SpecError at the value, key or item it concerns; one found
while expanding a block instance also names the instance. The walk is bounded
(docs/spec-language.md, "Limits"): :data:`MAX_GRAPH_NODES` layers,
:data:`MAX_STEPS` items visited (so repeats of blocks whose layers are all
skipped cannot run for long), :data:`MAX_BLOCK_DEPTH` levels of blocks, names
and full layer names of at most :data:`MAX_NAME` characters, and every layer
within the limits of :func:`lightcost.ops.check_limits`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lightcost.core.errors import SpecError, short
from lightcost.core.graph import INPUT, MAX_NAME, Graph
from lightcost.ops import OPS
from lightcost.spec.expr import Value
from lightcost.spec.located import LList
from lightcost.spec.names import Scope
from lightcost.spec.nodes import MAX_GRAPH_NODES, NODE_KEYS, Layers
from lightcost.spec.params import PARAM_TYPES
from lightcost.spec.sections import (
    TOP_KEYS,
    Resolution,
    input_shape,
    read_sections,
    section,
    variant_vars,
    variants,
)
from lightcost.spec.values import Evaluator
from lightcost.spec.variables import DEFAULT_WIDTH, MAX_WIDTH, is_width
from lightcost.spec.variables import variables as spec_variables
from lightcost.spec.walk import (
    BLOCK_KEYS,
    MAX_BLOCK_DEPTH,
    MAX_STEPS,
    REPEAT_KEYS,
    USE_KEYS,
    Walker,
)

__all__ = [
    "BLOCK_KEYS",
    "MAX_BLOCK_DEPTH",
    "MAX_GRAPH_NODES",
    "MAX_NAME",
    "MAX_STEPS",
    "MAX_WIDTH",
    "NODE_KEYS",
    "PARAM_TYPES",
    "REPEAT_KEYS",
    "TOP_KEYS",
    "USE_KEYS",
    "expand",
    "variants",
]

RESOLUTION_NAMES = {"res", "in_h", "in_w"}  # expressions reading these depend on resolution


def expand(
    data: Any,
    file: str,
    width: float | None = None,
    resolution: Resolution | None = None,
    overrides: Mapping[str, Value] | None = None,
    variant: str | None = None,
) -> Graph:
    """Build the layer graph of a loaded spec at a width multiplier and resolution.

    ``width`` None is the spec's default (``alpha`` in its vars or variant, else 1).

    ``resolution`` is one number (height = width; refused for a spec whose input is
    not square) or a pair (height, width); ``res`` in expressions is the height.

    ``variant`` picks an entry of the spec's ``variants`` (its vars override the
    spec's ``vars``); ``overrides`` (``--set``) override both.
    """
    spec = read_sections(data, file)
    variant_name, chosen = variant_vars(spec.data, variant)
    values = spec_variables(section(spec.data, "vars"), chosen, overrides or {})
    default = values.pop(DEFAULT_WIDTH, 1.0)  # checked where the spec sets it
    alpha = default if width is None else width
    if not is_width(alpha):
        raise SpecError(  # an option, not in the spec: no location
            f"width multiplier must be in (0, {MAX_WIDTH:g}], got {short(alpha)}"
        )
    evaluator = Evaluator(spec.width_rule, alpha)
    base: dict[str, Value] = {"alpha": alpha, **values}
    shape = input_shape(spec.data, base, resolution, evaluator)
    globals_ = {**base, "res": shape[1]}
    layers = spec.data.get("layers")
    if not isinstance(layers, LList) or not layers:
        raise SpecError("'layers' must be a non-empty list", spec.data.loc_of("layers"))
    built = Layers(evaluator, spec.defaults, shape, spec.padding)
    Walker(spec.blocks, built, globals_).items(
        layers, Scope(dict(globals_), {INPUT: INPUT}, (), INPUT), depth=0
    )
    read = evaluator.used
    return Graph(
        name=spec.texts["name"] or file,
        file=file,
        input_shape=shape,
        nodes=tuple(built.nodes),
        # a fixed width rule ignores alpha unless an expression read it
        width=float(alpha) if spec.width_rule.rule != "fixed" or "alpha" in read else 1.0,
        resolution=shape[1],
        width_rule=spec.width_rule,
        variables=values,
        variant=variant_name,
        resolution_dependent=bool(read & RESOLUTION_NAMES)
        or any(not OPS[n.op].stacks for n in built.nodes),
        description=spec.texts["description"],
        params_note=spec.texts["params_note"],
        padding=spec.padding,
    )
