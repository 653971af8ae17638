"""Expand a loaded spec into a layer graph with every shape inferred.

Walks ``layers`` in order. An item is an op node (``op:``), one block instance
(``use:``) or a stage table (``repeat:`` with ``columns`` and ``rows``, or with
``n``). Nodes run in sequence unless ``from:`` names other tensors; ``input``
is the block's (or network's) input, ``prev`` the last node. Block parameters
are typed: ``channels`` values are scaled by the spec's width rule, ``stride``
values apply to the first repeat of a row only. A literal ``out`` of a conv is
scaled too (``width: fixed`` opts out); an expression is taken as written.

Every problem is a SpecError at the value, key or item it concerns; one found
while expanding a block instance also names the instance. The walk is bounded
(docs/spec-language.md, "Limits"): :data:`MAX_GRAPH_NODES` layers,
:data:`MAX_STEPS` items visited (so repeats of blocks whose layers are all
skipped cannot run for long), :data:`MAX_BLOCK_DEPTH` levels of blocks, and
every layer within the limits of :func:`lightcost.ops.check_limits`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from lightcost.core.errors import Loc, SpecError, describe, did_you_mean, listing, short
from lightcost.core.graph import INPUT, AttrValue, Graph, Node, Shape
from lightcost.core.rounding import RULES, WidthRule
from lightcost.ops import (
    ACTIVATIONS,
    MAX_CHANNELS,
    MAX_SIZE,
    OPS,
    REQUIRED,
    Attr,
    OpDef,
    ShapeError,
    check_limits,
    check_tensor,
)
from lightcost.spec.expr import FUNCTIONS, MAX_MAGNITUDE, ExprError, Value, evaluate
from lightcost.spec.located import LList, LMap, check_keys, loc_of

MAX_GRAPH_NODES = 20_000  # layers of the expanded network
MAX_STEPS = 100_000  # items visited: layers added or skipped by `when`, block instances
MAX_BLOCK_DEPTH = 16
MAX_WIDTH = 16.0  # the width multiplier alpha is in (0, MAX_WIDTH]

TOP_KEYS = (
    "lightcost",
    "name",
    "description",
    "source",
    "input",
    "width",
    "vars",
    "variants",
    "variant",
    "defaults",
    "blocks",
    "layers",
    "budget",  # read by lightcost.analysis.budgets
)
COMMON_KEYS = ("name", "from", "when")
USE_KEYS = ("use", "with", *COMMON_KEYS)
REPEAT_KEYS = ("repeat", "columns", "rows", "n", "with", "start", *COMMON_KEYS)
NODE_KEYS = ("op", "width", *COMMON_KEYS)
BLOCK_KEYS = ("params", "nodes", "description")
PARAM_TYPES = ("channels", "stride", "int", "float", "bool", "str")
RESERVED_NAMES = (INPUT, "prev")
RESOLUTION_NAMES = {"res", "in_h", "in_w"}  # expressions reading these depend on resolution
MINIMUMS = {"truncate": 8, "round": 1, "fixed": 1}  # make_divisible: its divisor
INPUT_DIMENSIONS = ("input channels", "input height", "input width")
_TEMPLATE = re.compile(r"\{([^{}]*)\}")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


class Scope:
    """What names mean at one level: variables, tensor references and the block path."""

    __slots__ = ("counters", "env", "prefix", "prev", "refs")

    def __init__(
        self, env: dict[str, Value], refs: dict[str, str], prefix: tuple[str, ...], prev: str
    ) -> None:
        self.env = env
        self.refs = refs
        self.prefix = prefix
        self.prev = prev
        self.counters: dict[str, int] = {}

    def auto_name(self, base: str) -> str:
        """``base`` for the first use in this scope, then ``base_1``, ``base_2``..."""
        count = self.counters.get(base, 0)
        self.counters[base] = count + 1
        return base if count == 0 else f"{base}_{count}"


def expand(
    data: Any,
    file: str,
    width: float | None = None,
    resolution: int | None = None,
    overrides: Mapping[str, Value] | None = None,
    variant: str | None = None,
) -> Graph:
    """Build the layer graph of a loaded spec at a width multiplier and resolution.

    ``variant`` picks an entry of the spec's ``variants`` (its vars override the
    spec's ``vars``); ``overrides`` (``--set``) override both.
    """
    return _Expander(data, file).run(width, resolution, overrides or {}, variant)


def variants(data: Any) -> dict[str, str]:
    """Variant names of a loaded spec with their descriptions (empty if it has none)."""
    section = data.get("variants") if isinstance(data, LMap) else None
    if not isinstance(section, LMap):
        return {}
    return {
        str(name): str(entry.get("description", "")) if isinstance(entry, LMap) else ""
        for name, entry in section.items()
    }


class _Expander:
    def __init__(self, data: Any, file: str) -> None:
        if not isinstance(data, LMap):
            raise SpecError(
                "a spec must be a mapping with at least 'input' and 'layers'",
                loc_of(data, Loc(file, 1, 1)),
            )
        self.spec = data
        self.file = file
        check_keys(data, TOP_KEYS, "spec")
        version = data.get("lightcost", 1)
        if isinstance(version, bool) or version != 1:
            raise SpecError(
                f"unsupported spec version {short(version)} (this lightcost reads 1)",
                data.loc_of("lightcost"),
            )
        self.texts = {key: self._text(key) for key in ("name", "description", "source")}
        self.width_rule = self._width_rule()
        self.blocks = self._blocks()
        self.defaults = self._defaults()
        self.nodes: list[Node] = []
        self.shapes: dict[str, Shape] = {}
        self.globals: dict[str, Value] = {}
        self.functions: dict[str, Callable[..., Value]] = {}
        self.used: set[str] = set()  # names read by expressions
        self.steps = 0  # items visited, bounded by MAX_STEPS
        self.top = ""  # path of the top-level item being expanded

    # -- configuration ---------------------------------------------------------------------

    def _section(self, key: str) -> LMap:
        value = self.spec.get(key, None)
        if value is None:
            return LMap.empty(self.spec.loc)
        if not isinstance(value, LMap):
            raise SpecError(f"'{key}' must be a mapping", self.spec.loc_of(key))
        return value

    def _text(self, key: str) -> str:
        value = self.spec.get(key)
        if isinstance(value, LMap | LList):
            raise SpecError(f"'{key}' must be text, got {describe(value)}", self.spec.loc_of(key))
        return "" if value is None else str(value)

    def _width_rule(self) -> WidthRule:
        raw = self.spec.get("width", "round")
        where = self.spec.loc_of("width")
        if isinstance(raw, str):
            rule_name, raw = raw, LMap.empty(where)
            raw["rule"] = rule_name
        elif isinstance(raw, LMap):
            check_keys(raw, ("rule", "divisor", "min"), "width")
        else:
            raise SpecError("'width' must be a rule name or a mapping {rule, divisor, min}", where)
        rule = raw.get("rule", "round")
        if not isinstance(rule, str) or rule not in RULES:
            raise SpecError(
                f"unknown width rule {short(rule)}{did_you_mean(str(rule), RULES)} "
                f"(rules: {', '.join(RULES)})",
                raw.loc_of("rule"),
            )
        divisor = raw.get("divisor", 8)
        minimum = raw.get("min", divisor if rule == "make_divisible" else MINIMUMS[rule])
        for label, value in (("divisor", divisor), ("min", minimum)):
            if not whole_in(value, 1, MAX_CHANNELS):
                raise SpecError(
                    f"width {label} must be a whole number from 1 to {MAX_CHANNELS}, "
                    f"got {short(value)}",
                    raw.loc_of(label),
                )
        return WidthRule(rule, divisor, minimum)

    def _blocks(self) -> LMap:
        section = self._section("blocks")
        for name in section:
            if not _NAME.match(name) or name in RESERVED_NAMES:
                raise SpecError(
                    f"{short(name)} is not a valid block name (letters, digits, _ . -; "
                    "not 'input' or 'prev')",
                    section.key_loc(name),
                )
        return section

    def _defaults(self) -> dict[str, LMap]:
        section = self._section("defaults")
        out: dict[str, LMap] = {}
        for op, attrs in section.items():
            opdef = self._opdef(op, section.key_loc(op))
            if not isinstance(attrs, LMap):
                raise SpecError(f"defaults for '{op}' must be a mapping", section.loc_of(op))
            check_keys(attrs, tuple(opdef.attrs), f"defaults of {op}")
            out[op] = attrs
        return out

    def _opdef(self, op: Any, where: Loc) -> OpDef:
        if not isinstance(op, str) or op not in OPS:
            raise SpecError(f"unknown op {short(op)}{did_you_mean(str(op), OPS)}", where)
        return OPS[op]

    def _variant_vars(self, variant: str | None) -> tuple[str, LMap | None]:
        """The chosen (or default) variant's name and its ``vars`` mapping."""
        section = self._section("variants")
        chosen = variant if variant is not None else self.spec.get("variant")
        where = self.spec.loc_of("variant") if variant is None else section.loc
        if chosen is None:
            if section:
                raise SpecError(
                    "a spec with 'variants' must name its default in 'variant'", section.loc
                )
            return "", None
        if isinstance(chosen, LMap | LList):
            raise SpecError(f"'variant' must be text, got {describe(chosen)}", where)
        chosen = same_variant(str(chosen), list(section))
        if chosen not in section:
            raise SpecError(
                f"unknown variant {short(chosen)}{did_you_mean(chosen, section)} "
                f"(variants: {listing(section) or 'none'})",
                where,
            )
        entry = section[chosen]
        if not isinstance(entry, LMap):
            raise SpecError(f"variant '{chosen}' must be a mapping", section.loc_of(chosen))
        check_keys(entry, ("description", "vars"), f"variant '{chosen}'")
        found = entry.get("vars")
        if found is not None and not isinstance(found, LMap):
            raise SpecError("a variant's 'vars' must be a mapping", entry.loc_of("vars"))
        return chosen, found

    def _variables(
        self, overrides: Mapping[str, Value], variant_vars: LMap | None
    ) -> dict[str, Value]:
        section = self._section("vars")
        out: dict[str, Value] = {}
        for key, value in section.items():
            if key in ("alpha", "res", "in"):
                raise SpecError(
                    f"var '{key}' is a reserved name (alpha, res, in)", section.key_loc(key)
                )
            out[key] = var_value(f"var '{key}'", value, section.loc_of(key))
        chosen = variant_vars if variant_vars is not None else LMap.empty(self.spec.loc)
        for key, value in chosen.items():
            if key not in out:
                raise SpecError(
                    f"variant sets '{key}', which is not in the spec's vars"
                    f"{did_you_mean(key, out)}",
                    chosen.key_loc(key),
                )
            out[key] = var_value(f"var '{key}'", value, chosen.loc_of(key))
        for key, value in overrides.items():
            if key not in out:
                raise SpecError(
                    f"--set {key}: the spec has no var {short(key)}"
                    f"{did_you_mean(str(key), out)} (vars: {listing(out) or 'none'})",
                    section.loc,
                )
            out[key] = var_value(f"--set {key}", value, section.loc_of(key))
        return out

    def _input_shape(self, env: dict[str, Value], resolution: int | None) -> Shape:
        raw = self.spec.get("input")
        where = self.spec.loc_of("input")
        if not isinstance(raw, LList) or len(raw) != 3:
            raise SpecError("'input' must be [channels, height, width]", where)
        dims = [
            self.integer(value, raw.loc_of(i), env, what, maximum=limit)
            for i, (value, what, limit) in enumerate(
                zip(raw, INPUT_DIMENSIONS, (MAX_CHANNELS, MAX_SIZE, MAX_SIZE), strict=True)
            )
        ]
        if resolution is not None:
            if not whole_in(resolution, 1, MAX_SIZE):
                raise SpecError(  # an option, not in the spec: no location
                    f"resolution must be a whole number from 1 to {MAX_SIZE}, "
                    f"got {short(resolution)}"
                )
            dims[1] = dims[2] = resolution
        shape = (dims[0], dims[1], dims[2])
        try:
            check_tensor(shape, "the input")
        except ShapeError as exc:
            raise SpecError(str(exc), where) from None
        return shape

    # -- the walk --------------------------------------------------------------------------

    def run(
        self,
        width: float | None,
        resolution: int | None,
        overrides: Mapping[str, Value],
        variant: str | None,
    ) -> Graph:
        alpha = 1.0 if width is None else width
        if (
            isinstance(alpha, bool)
            or not isinstance(alpha, int | float)
            or not 0 < alpha <= MAX_WIDTH
        ):
            raise SpecError(  # an option, not in the spec: no location
                f"width multiplier must be in (0, {MAX_WIDTH:g}], got {short(alpha)}"
            )
        self.functions = {**FUNCTIONS, "ch": lambda c: self.width_rule.apply(c, alpha)}
        variant_name, variant_vars = self._variant_vars(variant)
        variables = self._variables(overrides, variant_vars)
        base: dict[str, Value] = {"alpha": alpha, **variables}
        shape = self._input_shape(base, resolution)
        self.globals = {**base, "res": shape[1]}
        self.shapes = {INPUT: shape}
        layers = self.spec.get("layers")
        if not isinstance(layers, LList) or not layers:
            raise SpecError("'layers' must be a non-empty list", self.spec.loc_of("layers"))
        scope = Scope(dict(self.globals), {INPUT: INPUT}, (), INPUT)
        self.items(layers, scope, depth=0)
        return Graph(
            name=self.texts["name"] or self.file,
            file=self.file,
            input_shape=shape,
            nodes=tuple(self.nodes),
            width=self.effective_width(float(alpha)),
            resolution=shape[1],
            width_rule=self.width_rule,
            variables=variables,
            variant=variant_name,
            resolution_dependent=bool(self.used & RESOLUTION_NAMES),
            description=self.texts["description"],
        )

    def step(self, where: Loc) -> None:
        """Count one item visited; the walk is bounded by MAX_STEPS."""
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise SpecError(
                f"the network takes more than {MAX_STEPS} expansion steps (layers, layers "
                "skipped by 'when', block instances)",
                where,
            )

    def effective_width(self, alpha: float) -> float:
        """``alpha``, or 1.0 when the width rule is fixed and no expression read ``alpha``."""
        return alpha if self.width_rule.rule != "fixed" or "alpha" in self.used else 1.0

    def items(self, items: LList, scope: Scope, depth: int) -> None:
        for index, item in enumerate(items):
            where = items.loc_of(index)
            if depth == 0:
                self.top = where.path
            self.step(where)
            if not isinstance(item, LMap):
                raise SpecError("a layer must be a mapping with 'op', 'use' or 'repeat'", where)
            if not self.when(item, scope):
                continue
            if "op" in item:
                self.op_node(item, scope)
            elif "use" in item:
                check_keys(item, USE_KEYS, "a block use")
                name = self.template(item, scope.env) or scope.auto_name(str(item["use"]))
                values = self.param_values(item.get("with"), item)
                self.instance(item, "use", values, name, scope, self.source(item, scope), depth)
            elif "repeat" in item:
                self.repeat(item, scope, depth)
            else:
                raise SpecError("a layer needs one of 'op', 'use' or 'repeat'", where)

    def when(self, item: LMap, scope: Scope) -> bool:
        if "when" not in item:
            return True
        env = {**scope.env, "in": self.shapes[scope.prev][0]}
        return bool(self.value(item["when"], item.loc_of("when"), env))

    def source(self, item: LMap, scope: Scope) -> str:
        """The tensor a block instance reads: its ``from`` or the previous node."""
        if "from" not in item:
            return scope.prev
        ref = item["from"]
        if not isinstance(ref, str):
            raise SpecError("'from' of a block must name one tensor", item.loc_of("from"))
        return self.resolve(ref, scope, item.loc_of("from"))

    def resolve(self, ref: Any, scope: Scope, where: Loc) -> str:
        if not isinstance(ref, str):
            raise SpecError(
                f"'from' must name tensors (a layer name, input or prev), got {describe(ref)}",
                where,
            )
        if ref == "prev":
            return scope.prev
        if ref in scope.refs:
            return scope.refs[ref]
        known = sorted(scope.refs)
        raise SpecError(
            f"unknown reference {short(ref)}{did_you_mean(ref, known)} "
            f"(known here: {listing([*known, 'prev'])}; only earlier items can be named)",
            where,
        )

    def template(self, item: LMap, env: Mapping[str, Value]) -> str | None:
        """The item's ``name`` with ``{expr}`` fields filled in, or None when absent."""
        if "name" not in item:
            return None
        raw, where = item["name"], item.loc_of("name")
        if not isinstance(raw, str | int) or isinstance(raw, bool):
            raise SpecError(f"'name' must be text, got {describe(raw)}", where)

        def fill(match: re.Match[str]) -> str:
            value = self.value(match.group(1), where, env)
            return str(int(value) if isinstance(value, float) and value.is_integer() else value)

        name = _TEMPLATE.sub(fill, raw) if isinstance(raw, str) and "{" in raw else str(raw)
        if not _NAME.match(name) or name in RESERVED_NAMES:
            raise SpecError(
                f"{short(name)} is not a valid name (letters, digits, _ . -; "
                "not 'input' or 'prev')",
                where,
            )
        return name

    # -- op nodes ----------------------------------------------------------------------------

    def op_node(self, item: LMap, scope: Scope) -> None:
        opdef = self._opdef(item["op"], item.loc_of("op"))
        check_keys(item, (*NODE_KEYS, *opdef.attrs), f"op '{opdef.name}'")
        inputs = self.node_inputs(item, scope, opdef)
        in_shapes = [self.shapes[t] for t in inputs]
        env = {**scope.env, "in": in_shapes[0][0], "in_h": in_shapes[0][1], "in_w": in_shapes[0][2]}
        fixed = self.fixed_width(item)
        defaults = self.defaults.get(opdef.name)
        attrs = {key: self.op_attr(item, opdef, defaults, key, env, fixed) for key in opdef.attrs}
        try:
            out_shape = opdef.shape(attrs, in_shapes)
            check_limits(opdef, attrs, in_shapes, out_shape)
        except ShapeError as exc:
            raise SpecError(str(exc), item.loc) from None
        name = self.template(item, scope.env) or scope.auto_name(opdef.name)
        node = Node(
            name="_".join((*scope.prefix, name)),
            op=opdef.name,
            attrs=attrs,
            inputs=tuple(inputs),
            in_shapes=tuple(in_shapes),
            out_shape=out_shape,
            block=scope.prefix,
            loc=item.loc,
        )
        self.add(node, item)
        scope.refs[name] = node.name
        scope.prev = node.name

    def op_attr(
        self,
        item: LMap,
        opdef: OpDef,
        defaults: LMap | None,
        key: str,
        env: dict[str, Value],
        fixed: bool,
    ) -> AttrValue:
        """Attribute ``key`` of an op node: as written, else the spec's default, else the op's."""
        attr = opdef.attrs[key]
        if key in item:
            return self.attr(item[key], attr, key, item.loc_of(key), env, fixed)
        if defaults is not None and key in defaults:
            try:
                return self.attr(defaults[key], attr, key, defaults.loc_of(key), env, fixed)
            except SpecError as exc:
                raise SpecError(f"{exc.message} (applied to {item.loc.path})", exc.loc) from None
        if attr.default is REQUIRED:
            raise SpecError(f"op '{opdef.name}' needs '{key}'", item.loc)
        return self.attr(attr.default, attr, key, item.loc, env, fixed)

    def node_inputs(self, item: LMap, scope: Scope, opdef: OpDef) -> list[str]:
        raw = item.get("from", "prev")
        where = item.loc_of("from")
        refs = list(raw) if isinstance(raw, LList) else [raw]
        inputs = [
            self.resolve(r, scope, raw.loc_of(i) if isinstance(raw, LList) else where)
            for i, r in enumerate(refs)
        ]
        high = opdef.max_inputs
        if len(inputs) < opdef.min_inputs or (high is not None and len(inputs) > high):
            wanted = (
                f"{opdef.min_inputs}"
                if high == opdef.min_inputs
                else f"at least {opdef.min_inputs}"
                if high is None
                else f"{opdef.min_inputs} to {high}"
            )
            raise SpecError(
                f"op '{opdef.name}' takes {wanted} inputs, 'from' gives {len(inputs)}", where
            )
        return inputs

    def fixed_width(self, item: LMap) -> bool:
        raw = item.get("width", "auto")
        if raw not in ("auto", "fixed"):
            raise SpecError(
                "a layer's 'width' must be 'auto' or 'fixed' (for an expression "
                "write it in 'out', e.g. out: \"max(1280, div(1280 * alpha))\")",
                item.loc_of("width"),
            )
        return bool(raw == "fixed")

    def attr(
        self, raw: Any, attr: Attr, key: str, where: Loc, env: dict[str, Value], fixed: bool
    ) -> AttrValue:
        if attr.kind in ("act", "padding"):
            value = env.get(raw, raw) if isinstance(raw, str) else raw
            if attr.kind == "act" and value not in ACTIVATIONS:
                raise SpecError(
                    f"unknown activation {short(value)}{did_you_mean(str(value), ACTIVATIONS)}"
                    f" (one of {', '.join(ACTIVATIONS)})",
                    where,
                )
            if attr.kind == "padding" and value not in ("same", "valid"):
                return self.integer(value, where, env, "padding", minimum=0)
            return str(value)
        if attr.kind == "bool":
            value = raw if type(raw) is bool else self.value(raw, where, env)
            if not isinstance(value, bool):
                raise SpecError(f"'{key}' must be true or false, got {short(value)}", where)
            return value
        if attr.kind == "channels" and isinstance(raw, int | float) and not isinstance(raw, bool):
            paper = self.integer(raw, where, env, "channel count")
            return paper if fixed else self.width_rule.apply(paper, float(self.globals["alpha"]))
        what = "channel count" if attr.kind == "channels" else f"'{key}'"
        return self.integer(raw, where, env, what, minimum=attr.low)

    def add(self, node: Node, item: LMap) -> None:
        if node.name in self.shapes:
            automatic = "" if "name" in item else " (an automatic name: give the layer a name)"
            raise SpecError(f"duplicate layer name '{node.name}'{automatic}", item.loc_of("name"))
        if len(self.nodes) >= MAX_GRAPH_NODES:
            raise SpecError(f"the network expands to more than {MAX_GRAPH_NODES} layers", item.loc)
        self.nodes.append(node)
        self.shapes[node.name] = node.out_shape

    # -- blocks --------------------------------------------------------------------------------

    def param_values(self, raw: Any, item: LMap) -> dict[str, tuple[Any, Loc]]:
        if raw is None:
            return {}
        if not isinstance(raw, LMap):
            raise SpecError("'with' must be a mapping of block parameters", item.loc_of("with"))
        return {key: (value, raw.loc_of(key)) for key, value in raw.items()}

    def repeat(self, item: LMap, scope: Scope, depth: int) -> None:
        check_keys(item, REPEAT_KEYS, "a repeat")
        constant = self.param_values(item.get("with"), item)
        rows: list[tuple[dict[str, tuple[Any, Loc]], int]] = []
        if "rows" in item:
            rows = self.table_rows(item, scope.env)
        else:
            rows = [({}, self.repeat_count(item.get("n", 1), item.loc_of("n"), scope.env))]
        start = self.integer(item.get("start", 1), item.loc_of("start"), scope.env, "'start'", 0)
        source = self.source(item, scope)
        index = 0
        for row_index, (values, count) in enumerate(rows):
            for j in range(count):
                self.step(item.loc)
                env = {**scope.env, "i": start + index, "row": row_index, "j": j}
                name = self.template(item, env) or scope.auto_name(str(item["repeat"]))
                params = {**constant, **values}
                self.instance(item, "repeat", params, name, scope, source, depth, first=j == 0)
                source = scope.prev
                index += 1

    def repeat_count(self, raw: Any, where: Loc, env: Mapping[str, Value]) -> int:
        return self.integer(raw, where, env, "repeat count 'n'", maximum=MAX_GRAPH_NODES)

    def table_rows(
        self, item: LMap, env: Mapping[str, Value]
    ) -> list[tuple[dict[str, tuple[Any, Loc]], int]]:
        columns, rows = item.get("columns"), item["rows"]
        if (
            not isinstance(columns, LList)
            or not all(isinstance(c, str) for c in columns)
            or len(set(columns)) != len(columns)
        ):
            raise SpecError(
                "a stage table needs 'columns', a list of distinct parameter names "
                "('n' is the repeat count)",
                item.loc_of("columns"),
            )
        if not isinstance(rows, LList):
            raise SpecError("'rows' must be a list of rows", item.loc_of("rows"))
        out = []
        for r, row in enumerate(rows):
            where = rows.loc_of(r)
            if not isinstance(row, LList) or len(row) != len(columns):
                raise SpecError(
                    f"row has {len(row) if isinstance(row, LList) else 1} values, "
                    f"columns are {len(columns)}: {listing(columns)}",
                    where,
                )
            values = {
                c: (v, row.loc_of(i)) for i, (c, v) in enumerate(zip(columns, row, strict=True))
            }
            count_raw, count_loc = values.pop("n", (1, where))
            out.append((values, self.repeat_count(count_raw, count_loc, env)))
        return out

    def instance(
        self,
        item: LMap,
        key: str,
        values: dict[str, tuple[Any, Loc]],
        name: str,
        scope: Scope,
        source: str,
        depth: int,
        first: bool = True,
    ) -> None:
        block_name = item[key]
        block = self.blocks.get(block_name) if isinstance(block_name, str) else None
        if not isinstance(block, LMap):
            raise SpecError(
                f"unknown block {short(block_name)}{did_you_mean(str(block_name), self.blocks)}"
                f" (blocks: {listing(self.blocks) or 'none'})",
                item.loc_of(key),
            )
        if depth >= MAX_BLOCK_DEPTH:
            raise SpecError(
                f"blocks nest deeper than {MAX_BLOCK_DEPTH} levels (a block that uses itself?)",
                item.loc_of(key),
            )
        check_keys(block, BLOCK_KEYS, f"block '{block_name}'")
        if name in scope.refs:
            raise SpecError(f"duplicate name '{name}'", item.loc_of("name"))
        prefix = (*scope.prefix, name)
        try:
            env = {**scope.env, "in": self.shapes[source][0]}
            params = self.block_params(block, block_name, values, env, first, item)
            inner_env = {**self.globals, **params, "block_in": self.shapes[source][0]}
            inner = Scope(inner_env, {INPUT: source}, prefix, source)
            nodes = block.get("nodes")
            if not isinstance(nodes, LList):
                raise SpecError(f"block '{block_name}' needs 'nodes', a list", block.loc)
            self.items(nodes, inner, depth + 1)
        except SpecError as exc:
            exc.within = exc.within or f"block instance '{'_'.join(prefix)}' of {self.top}"
            raise
        scope.refs[name] = inner.prev
        scope.prev = inner.prev

    def block_params(
        self,
        block: LMap,
        block_name: str,
        values: dict[str, tuple[Any, Loc]],
        env: dict[str, Value],
        first: bool,
        item: LMap,
    ) -> dict[str, Value]:
        declared = block.get("params") or LMap.empty(block.loc)
        if not isinstance(declared, LMap):
            raise SpecError("'params' must map names to types", block.loc_of("params"))
        for key, (_, where) in values.items():
            if key not in declared:
                raise SpecError(
                    f"block '{block_name}' has no parameter '{key}'{did_you_mean(key, declared)}",
                    where,
                )
        out: dict[str, Value] = {}
        for key, decl in declared.items():
            if isinstance(decl, LMap):
                check_keys(decl, ("type", "default"), f"parameter '{key}'")
                kind, default = decl.get("type"), decl.get("default")
            else:
                kind, default = decl, None
            if kind not in PARAM_TYPES:
                raise SpecError(
                    f"parameter '{key}' has unknown type {short(kind)}"
                    f"{did_you_mean(str(kind), PARAM_TYPES)} (types: "
                    f"{', '.join(PARAM_TYPES)})",
                    declared.loc_of(key),
                )
            if key in values:
                raw, where = values[key]
            elif default is not None:
                raw, where = default, declared.loc_of(key)
            else:
                raise SpecError(f"block '{block_name}' needs parameter '{key}'", item.loc)
            out[key] = self.param(raw, str(kind), where, env, first)
        return out

    def param(self, raw: Any, kind: str, where: Loc, env: dict[str, Value], first: bool) -> Value:
        if kind == "str":
            if not isinstance(raw, str):
                raise SpecError(f"expected text, got {describe(raw)}", where)
            return str(env.get(raw, raw))
        value = self.value(raw, where, env)
        if kind == "bool":
            if not isinstance(value, bool):
                raise SpecError(f"expected true or false, got {short(value)}", where)
            return value
        if kind == "float":
            return float(self.number(value, where))
        number = self.integer(value, where, env, f"{kind} value")
        if kind == "channels" and not isinstance(raw, str):
            return self.width_rule.apply(number, float(self.globals["alpha"]))
        return 1 if kind == "stride" and not first else number

    # -- values ----------------------------------------------------------------------------

    def value(self, raw: Any, where: Loc, env: Mapping[str, Value]) -> Value:
        """A literal, or the value of an expression string."""
        if isinstance(raw, bool | int | float):
            if not in_range(raw):
                raise SpecError(f"number {short(raw)} is out of range (above 1e15)", where)
            return raw
        if isinstance(raw, str):
            try:
                return evaluate(raw, env, self.functions, self.used)
            except ExprError as exc:
                raise SpecError(str(exc), where) from None
        raise SpecError(f"expected a number or an expression, got {describe(raw)}", where)

    def number(self, value: Value, where: Loc) -> int | float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SpecError(f"expected a number, got {short(value)}", where)
        return value

    def integer(
        self,
        raw: Any,
        where: Loc,
        env: Mapping[str, Value],
        what: str,
        minimum: int = 1,
        maximum: int = MAX_CHANNELS,
    ) -> int:
        """A whole number from ``minimum`` to ``maximum`` (a float must be integral)."""
        if type(raw) is int and minimum <= raw <= maximum:  # the common case, kept fast
            return raw
        value = self.number(self.value(raw, where, env), where)
        if isinstance(value, float):
            if not value.is_integer():
                raise SpecError(f"{what} must be a whole number, got {value}", where)
            value = int(value)
        if value < minimum:
            raise SpecError(f"{what} must be at least {minimum}, got {value}", where)
        if value > maximum:
            raise SpecError(f"{what} must be at most {maximum}, got {value}", where)
        return value


def whole_in(value: Any, low: int, high: int) -> bool:
    """Whether ``value`` is an int (not a bool) from ``low`` to ``high``."""
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def in_range(value: int | float) -> bool:
    """Whether a literal number is finite and at most MAX_MAGNITUDE in size (bools are)."""
    return abs(value) <= MAX_MAGNITUDE


def var_value(what: str, value: Any, where: Loc) -> Value:
    """A spec var's value: a number in range, a boolean or text."""
    if isinstance(value, str) or (isinstance(value, int | float) and in_range(value)):
        return value
    raise SpecError(
        f"{what} must be a number (at most 1e15 in size), a boolean or text, got {describe(value)}",
        where,
    )


def same_variant(name: str, names: list[str]) -> str:
    """``name``, or the variant it spells differently (``1x``, ``1.0`` and ``1.0x`` are one)."""

    def number(text: str) -> float | None:
        try:
            return float(text.removesuffix("x"))
        except ValueError:
            return None

    wanted = number(name)
    matches = [n for n in names if wanted is not None and number(n) == wanted]
    return matches[0] if name not in names and len(matches) == 1 else name
