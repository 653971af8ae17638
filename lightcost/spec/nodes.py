"""Op nodes: one layer of the network from an ``op:`` item, its attributes and shapes.

An attribute is taken as written, else from the spec's ``defaults`` for the op,
else the op's own default. A conv's ``out`` written as a number is a paper
channel count, scaled by the width rule (``width: fixed`` opts out); an
expression is taken as written. Every layer is checked against the limits of
:func:`lightcost.ops.check_limits`, and there are at most
:data:`MAX_GRAPH_NODES` of them.
"""

from __future__ import annotations

from typing import Any

from lightcost.core.errors import Loc, SpecError, did_you_mean, short
from lightcost.core.graph import INPUT, AttrValue, Node, Shape
from lightcost.ops import ACTIVATIONS, OPS, REQUIRED, Attr, OpDef, ShapeError, check_limits
from lightcost.ops.base import square
from lightcost.spec.expr import Value
from lightcost.spec.located import LList, LMap, check_keys
from lightcost.spec.names import Scope, check_length, check_name, full_name, template
from lightcost.spec.values import Evaluator, number

MAX_GRAPH_NODES = 20_000  # layers of the expanded network
COMMON_KEYS = ("name", "from", "when")
NODE_KEYS = ("op", "width", *COMMON_KEYS, "block")


def opdef(op: Any, where: Loc) -> OpDef:
    """The op named ``op``, or a SpecError at ``where`` with a did-you-mean."""
    if not isinstance(op, str) or op not in OPS:
        raise SpecError(f"unknown op {short(op)}{did_you_mean(str(op), OPS)}", where)
    return OPS[op]


class Layers:
    """The layers built so far in order, with the shape of every tensor by name."""

    __slots__ = ("defaults", "evaluator", "nodes", "shapes")

    def __init__(self, evaluator: Evaluator, defaults: dict[str, LMap], input_shape: Shape):
        self.evaluator = evaluator
        self.defaults = defaults  # the spec's per-op default attributes
        self.nodes: list[Node] = []
        self.shapes: dict[str, Shape] = {INPUT: input_shape}

    def op_node(self, item: LMap, scope: Scope) -> None:
        """Add the layer of an ``op:`` item; it becomes the scope's ``prev``."""
        op = opdef(item["op"], item.loc_of("op"))
        check_keys(item, (*NODE_KEYS, *op.attrs), f"op '{op.name}'")
        inputs = self.node_inputs(item, scope, op)
        in_shapes = [self.shapes[t] for t in inputs]
        env = {**scope.env, "in": in_shapes[0][0], "in_h": in_shapes[0][1], "in_w": in_shapes[0][2]}
        fixed = fixed_width(item)
        defaults = self.defaults.get(op.name)
        attrs = {key: self.op_attr(item, op, defaults, key, env, fixed) for key in op.attrs}
        try:
            out_shape = op.shape(attrs, in_shapes)
            check_limits(op, attrs, in_shapes, out_shape)
        except ShapeError as exc:
            raise SpecError(str(exc), item.loc) from None
        name = template(item, scope.env, self.evaluator) or scope.auto_name(op.name)
        node = Node(
            name=full_name(scope.prefix, name, item.loc_of("name")),
            op=op.name,
            attrs=attrs,
            inputs=tuple(inputs),
            in_shapes=tuple(in_shapes),
            out_shape=out_shape,
            block=(*scope.prefix, *block_path(item)),
            loc=item.loc,
        )
        self.add(node, item)
        scope.refs[name] = node.name
        scope.prev = node.name

    def op_attr(
        self,
        item: LMap,
        op: OpDef,
        defaults: LMap | None,
        key: str,
        env: dict[str, Value],
        fixed: bool,
    ) -> AttrValue:
        """Attribute ``key`` of an op node: as written, else the spec's default, else the op's."""
        attr = op.attrs[key]
        if key in item:
            return self.attr(item[key], attr, key, item.loc_of(key), env, fixed)
        if defaults is not None and key in defaults:
            try:
                return self.attr(defaults[key], attr, key, defaults.loc_of(key), env, fixed)
            except SpecError as exc:
                raise SpecError(f"{exc.message} (applied to {item.loc.path})", exc.loc) from None
        if attr.default is REQUIRED:
            raise SpecError(f"op '{op.name}' needs '{key}'", item.loc)
        return self.attr(attr.default, attr, key, item.loc, env, fixed)

    def node_inputs(self, item: LMap, scope: Scope, op: OpDef) -> list[str]:
        """The tensors an op node reads (its ``from``, default ``prev``), counted for the op."""
        raw = item.get("from", "prev")
        where = item.loc_of("from")
        refs = list(raw) if isinstance(raw, LList) else [raw]
        inputs = [
            scope.resolve(r, raw.loc_of(i) if isinstance(raw, LList) else where)
            for i, r in enumerate(refs)
        ]
        high = op.max_inputs
        if len(inputs) < op.min_inputs or (high is not None and len(inputs) > high):
            wanted = (
                f"{op.min_inputs}"
                if high == op.min_inputs
                else f"at least {op.min_inputs}"
                if high is None
                else f"{op.min_inputs} to {high}"
            )
            raise SpecError(
                f"op '{op.name}' takes {wanted} inputs, 'from' gives {len(inputs)}", where
            )
        return inputs

    def attr(
        self, raw: Any, attr: Attr, key: str, where: Loc, env: dict[str, Value], fixed: bool
    ) -> AttrValue:
        """One attribute value checked by its kind; a literal channel count is width-scaled."""
        if attr.kind in ("pair", "padding") and isinstance(raw, LList):
            return self.pair(raw, attr, key, where, env)
        if attr.kind in ("act", "enum"):
            value = env.get(raw, raw) if isinstance(raw, str) else raw
            allowed = ACTIVATIONS if attr.kind == "act" else attr.allowed
            if value not in allowed:
                if attr.kind == "act":  # no did-you-mean: a near name is another function
                    raise SpecError(
                        f"unknown activation {short(value)}: not supported "
                        f"(lightcost has: {', '.join(allowed)})",
                        where,
                    )
                problem = f"'{key}' must be one of {', '.join(allowed)}, got {short(value)}"
                raise SpecError(f"{problem}{did_you_mean(str(value), allowed)}", where)
            return str(value)
        if attr.kind == "padding":
            value = env.get(raw, raw) if isinstance(raw, str) else raw
            if value in ("same", "valid"):
                return str(value)
            return self.evaluator.integer(value, where, env, "padding", minimum=0)
        if attr.kind == "bool":
            value = raw if type(raw) is bool else self.evaluator.value(raw, where, env)
            if not isinstance(value, bool):
                raise SpecError(f"'{key}' must be true or false, got {short(value)}", where)
            return value
        if attr.kind == "float":
            amount = number(self.evaluator.value(raw, where, env), where)
            if amount < attr.low:
                raise SpecError(f"'{key}' must be at least {attr.low}, got {amount}", where)
            return float(amount)
        if attr.kind == "channels" and isinstance(raw, int | float) and not isinstance(raw, bool):
            paper = self.evaluator.integer(raw, where, env, "channel count")
            return paper if fixed else self.evaluator.scale(paper)
        what = "channel count" if attr.kind == "channels" else f"'{key}'"  # int, pair
        return self.evaluator.integer(raw, where, env, what, minimum=attr.low)

    def pair(
        self, raw: LList, attr: Attr, key: str, where: Loc, env: dict[str, Value]
    ) -> AttrValue:
        """A list ``[h, w]`` of a ``pair`` or integer ``padding``: one integer when square."""
        if len(raw) != 2:
            raise SpecError(f"'{key}' must be one value or a list [h, w], got {short(raw)}", where)
        low = 0 if attr.kind == "padding" else attr.low
        h, w = (
            self.evaluator.integer(value, raw.loc_of(i), env, f"'{key}'", minimum=low)
            for i, value in enumerate(raw)
        )
        return square(h, w)

    def add(self, node: Node, item: LMap) -> None:
        """Append a layer; its name must be new and the network within MAX_GRAPH_NODES."""
        if node.name in self.shapes:
            automatic = "" if "name" in item else " (an automatic name: give the layer a name)"
            raise SpecError(f"duplicate layer name '{node.name}'{automatic}", item.loc_of("name"))
        if len(self.nodes) >= MAX_GRAPH_NODES:
            raise SpecError(f"the network expands to more than {MAX_GRAPH_NODES} layers", item.loc)
        self.nodes.append(node)
        self.shapes[node.name] = node.out_shape


def fixed_width(item: LMap) -> bool:
    """Whether a layer opts out of width scaling (``width: fixed``; default ``auto``)."""
    raw = item.get("width", "auto")
    if raw not in ("auto", "fixed"):
        raise SpecError(
            "a layer's 'width' must be 'auto' or 'fixed' (for an expression "
            "write it in 'out', e.g. out: \"max(1280, div(1280 * alpha))\")",
            item.loc_of("width"),
        )
    return bool(raw == "fixed")


def block_path(item: LMap) -> tuple[str, ...]:
    """A layer's own ``block`` path below its scope's (an imported model's module path,
    outermost first): it groups layers in ``--depth`` and ``--by block`` rows and never
    changes a name, a reference or a cost."""
    if "block" not in item:
        return ()
    raw, where = item["block"], item.loc_of("block")
    if not isinstance(raw, LList) or not raw:
        raise SpecError("a layer's 'block' must be a list of names, outermost first", where)
    for index, name in enumerate(raw):
        if not isinstance(name, str):
            raise SpecError(f"a block name must be text, got {short(name)}", raw.loc_of(index))
        check_name(name, "block name", raw.loc_of(index))
    check_length("_".join(raw), "the block path (its names joined with _)", where)
    return tuple(raw)
