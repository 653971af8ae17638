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
from lightcost.core.graph import INPUT, AttrValue, Ints, Node, Shape
from lightcost.ops import ACTIVATIONS, OPS, REQUIRED, Attr, OpDef, ShapeError, check_limits
from lightcost.ops.base import MAX_LIST, padding_sides, pair, square
from lightcost.spec.expr import Value
from lightcost.spec.located import LList, LMap, check_keys
from lightcost.spec.names import Scope, check_length, check_name, full_name, template
from lightcost.spec.values import Evaluator

MAX_GRAPH_NODES = 20_000  # layers of the expanded network
COMMON_KEYS = ("name", "from", "when")
NODE_KEYS = ("op", "width", *COMMON_KEYS, "block")


# Framework layer names (PyTorch, Keras, ONNX; compared lowercase without "_", "nn." or
# "torch.") -> the lightcost op that writes them, with how, for unknown-op messages.
FRAMEWORK_NAMES = {
    **dict.fromkeys(("linear", "dense", "gemm"), "fc"),
    **dict.fromkeys(("conv2d", "convolution"), "conv"),
    **dict.fromkeys(("depthwiseconv2d", "depthwiseconv"), "dwconv"),
    **dict.fromkeys(("batchnorm2d", "batchnorm", "batchnormalization"), "bn"),
    **dict.fromkeys(("maxpool2d", "maxpooling2d", "maxpooling"), "maxpool"),
    **dict.fromkeys(("avgpool2d", "averagepool", "averagepooling2d"), "avgpool"),
    **dict.fromkeys(("adaptivemaxpool2d", "globalmaxpool", "globalmaxpooling2d"), "maxpool"),
    **dict.fromkeys(
        ("adaptiveavgpool2d", "globalavgpool", "globalaveragepool", "globalaveragepooling2d"),
        "avgpool",
    ),
    **dict.fromkeys(("hardswish", "hswish"), "hswish"),
    **dict.fromkeys(("hardsigmoid",), "hsigmoid"),
    **dict.fromkeys(("sum",), "add"),
    **dict.fromkeys(("cat", "concatenate"), "concat"),
    **dict.fromkeys(("channelshuffle",), "shuffle"),
    **dict.fromkeys(("squeezeexcite", "squeezeexcitation", "seblock", "semodule"), "se"),
    **dict.fromkeys(("dropout2d", "droppath"), "dropout"),
    **dict.fromkeys(("layernormalization", "layernorm2d"), "layernorm"),
    **dict.fromkeys(("convtranspose2d", "conv2dtranspose"), "convtranspose"),
    **dict.fromkeys(("multiheadattention", "selfattention"), "attention"),
    **dict.fromkeys(("upsamplingnearest2d", "upsamplingbilinear2d", "interpolate"), "upsample"),
    **dict.fromkeys(("zeropad2d", "zeropadding2d", "constantpad2d"), "pad"),
}
HOW = {  # how a framework op that is an attribute in lightcost is written
    "globalavgpool": "global: true",
    "adaptiveavgpool2d": "global: true, or out_size",
    "globalaveragepool": "global: true",
    "globalaveragepooling2d": "global: true",
    "adaptivemaxpool2d": "global: true",
    "globalmaxpool": "global: true",
    "globalmaxpooling2d": "global: true",
    "depthwiseconv2d": "or conv with groups",
}


def op_hint(op: str) -> str:
    """``, did you mean 'fc'?`` for a framework name (:data:`FRAMEWORK_NAMES`) of an op
    lightcost has, else the closest op name."""
    key = op.lower().removeprefix("torch.").removeprefix("nn.").replace("_", "")
    target = FRAMEWORK_NAMES.get(key, key)
    if target in OPS and target != op:
        how = f" ({HOW[key]})" if key in HOW else ""
        return f", did you mean '{target}'{how}?"
    return did_you_mean(op, OPS)


def opdef(op: Any, where: Loc) -> OpDef:
    """The op named ``op``, or a SpecError at ``where`` with a did-you-mean."""
    if not isinstance(op, str) or op not in OPS:
        raise SpecError(f"unknown op {short(op)}{op_hint(str(op))}", where)
    return OPS[op]


class Layers:
    """The layers built so far in order, with the shape of every tensor by name."""

    __slots__ = ("defaults", "evaluator", "nodes", "padding", "shapes")

    def __init__(
        self,
        evaluator: Evaluator,
        defaults: dict[str, LMap],
        input_shape: Shape,
        padding: str = "same",
    ):
        self.evaluator = evaluator
        self.defaults = defaults  # the spec's per-op default attributes
        self.padding = padding  # the spec's padding convention (sections.PADDINGS)
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
        if attrs.get("padding") == "same" and not written("padding", item, defaults):
            attrs["padding"] = convention_padding(self.padding, attrs)
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
        if attr.kind == "ints" or (attr.kind in ("pair", "padding") and isinstance(raw, LList)):
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
            value = raw if type(raw) is bool else self.evaluator.resolved(raw, where, env, "a bool")
            if not isinstance(value, bool):
                raise SpecError(f"'{key}' must be true or false, got {short(value)}", where)
            return value
        if attr.kind == "float":
            amount = self.evaluator.numeric(raw, where, env)
            if amount < attr.low:
                raise SpecError(f"'{key}' must be at least {attr.low}, got {amount}", where)
            return float(amount)
        if attr.kind == "channels" and isinstance(raw, int | float) and not isinstance(raw, bool):
            paper = self.evaluator.integer(raw, where, env, "channel count", minimum=attr.low)
            return paper if fixed or not paper else self.evaluator.scale(paper)  # 0 stays 0
        what = "channel count" if attr.kind == "channels" else f"'{key}'"  # int, pair
        return self.evaluator.integer(raw, where, env, what, minimum=attr.low)

    def pair(self, raw: Any, attr: Attr, key: str, where: Loc, env: dict[str, Value]) -> AttrValue:
        """A list ``[h, w]`` of a ``pair`` or integer ``padding`` (one integer when square),
        ``[top, left, bottom, right]`` of a ``padding``, or the integers of an ``ints`` (its
        default ``Ints()``: not given)."""
        if raw == Ints():
            return Ints()
        sizes = {"pair": (2,), "padding": (2, 4), "ints": range(1, MAX_LIST + 1)}[attr.kind]
        if not isinstance(raw, LList) or len(raw) not in sizes:
            wanted = {
                "pair": "one value or a list [h, w]",
                "padding": "one value, [h, w] or [top, left, bottom, right]",
                "ints": f"a list of 1 to {MAX_LIST} integers",
            }[attr.kind]
            raise SpecError(f"'{key}' must be {wanted}, got {short(raw)}", where)
        low = 0 if attr.kind == "padding" else attr.low
        values = [
            self.evaluator.integer(value, raw.loc_of(i), env, f"'{key}'", minimum=low)
            for i, value in enumerate(raw)
        ]
        if attr.kind == "ints":
            return Ints(values)
        return square(*values) if len(values) == 2 else padding_sides(*values)

    def add(self, node: Node, item: LMap) -> None:
        """Append a layer; its name must be new and the network within MAX_GRAPH_NODES."""
        if node.name in self.shapes:
            automatic = "" if "name" in item else " (an automatic name: give the layer a name)"
            raise SpecError(f"duplicate layer name '{node.name}'{automatic}", item.loc_of("name"))
        if len(self.nodes) >= MAX_GRAPH_NODES:
            raise SpecError(f"the network expands to more than {MAX_GRAPH_NODES} layers", item.loc)
        self.nodes.append(node)
        self.shapes[node.name] = node.out_shape


def written(key: str, item: LMap, defaults: LMap | None) -> bool:
    """Whether a layer or the spec's ``defaults`` for its op give attribute ``key``."""
    return key in item or (defaults is not None and key in defaults)


def convention_padding(convention: str, attrs: dict[str, AttrValue]) -> AttrValue:
    """The padding an unwritten SAME padding becomes under the spec's ``padding`` convention:
    SAME, 0 (``pytorch``), or ``dilation * (k - 1) // 2`` per axis (``symmetric``)."""
    if convention == "pytorch":
        return 0
    if convention == "symmetric" and "k" in attrs:
        (kh, kw), (dh, dw) = pair(attrs["k"]), pair(attrs.get("dilation", 1))
        return square(dh * (kh - 1) // 2, dw * (kw - 1) // 2)
    return "same"


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
