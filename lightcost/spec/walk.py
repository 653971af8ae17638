"""The walk over ``layers``: items, block instances, repeats and stage tables.

An item is an op node (``op:``, built by :class:`lightcost.spec.nodes.Layers`),
one block instance (``use:``) or a stage table (``repeat:`` with ``columns``
and ``rows``, or with ``n``). Block parameters are typed: ``channels`` values
written as numbers are scaled by the width rule, ``stride`` values apply to the
first repeat of a row only. A problem found inside a block instance also names
the instance. The walk is bounded: :data:`MAX_STEPS` items visited (layers
added or skipped by ``when``, block instances) and :data:`MAX_BLOCK_DEPTH`
levels of blocks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lightcost.core.errors import Loc, SpecError, did_you_mean, listing, short
from lightcost.core.graph import INPUT
from lightcost.spec.expr import Value
from lightcost.spec.located import LList, LMap, check_keys
from lightcost.spec.names import Scope, full_name, template
from lightcost.spec.nodes import COMMON_KEYS, MAX_GRAPH_NODES, Layers
from lightcost.spec.params import Params, block_params, param_values
from lightcost.spec.values import Evaluator

MAX_STEPS = 100_000  # items visited: layers added or skipped by `when`, block instances
MAX_BLOCK_DEPTH = 16
USE_KEYS = ("use", "with", *COMMON_KEYS)
REPEAT_KEYS = ("repeat", "columns", "rows", "n", "with", "start", *COMMON_KEYS)
BLOCK_KEYS = ("params", "nodes", "description")


class Walker:
    """Expands items into :class:`Layers`, with the spec's ``blocks`` and global names."""

    __slots__ = ("blocks", "evaluator", "globals", "layers", "steps", "top")

    def __init__(self, blocks: LMap, layers: Layers, globals_: dict[str, Value]) -> None:
        self.blocks = blocks
        self.layers = layers
        self.evaluator: Evaluator = layers.evaluator
        self.globals = globals_  # vars, alpha and res: what every block instance starts from
        self.steps = 0  # items visited, bounded by MAX_STEPS
        self.top = ""  # path of the top-level item being expanded

    def step(self, where: Loc) -> None:
        """Count one item visited; the walk is bounded by MAX_STEPS."""
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise SpecError(
                f"the network takes more than {MAX_STEPS} expansion steps (layers, layers "
                "skipped by 'when', block instances)",
                where,
            )

    def items(self, items: LList, scope: Scope, depth: int) -> None:
        """Expand a list of items (``layers`` at depth 0, a block's ``nodes`` below)."""
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
                self.layers.op_node(item, scope)
            elif "use" in item:
                check_keys(item, USE_KEYS, "a block use")
                name = template(item, scope.env, self.evaluator) or scope.auto_name(
                    str(item["use"])
                )
                values = param_values(item.get("with"), item)
                self.instance(item, "use", values, name, scope, self.source(item, scope), depth)
            elif "repeat" in item:
                self.repeat(item, scope, depth)
            else:
                raise SpecError("a layer needs one of 'op', 'use' or 'repeat'", where)

    def when(self, item: LMap, scope: Scope) -> bool:
        """Whether the item's ``when`` (default true; true or false) holds; ``in`` is the
        input channels."""
        if "when" not in item:
            return True
        env = {**scope.env, "in": self.layers.shapes[scope.prev][0]}
        where = item.loc_of("when")
        holds = self.evaluator.resolved(item["when"], where, env, "true or false")
        if not isinstance(holds, bool):
            raise SpecError(f"'when' must be true or false, got {short(holds)}", where)
        return holds

    def source(self, item: LMap, scope: Scope) -> str:
        """The tensor a block instance reads: its ``from`` or the previous node."""
        if "from" not in item:
            return scope.prev
        ref = item["from"]
        if not isinstance(ref, str):
            raise SpecError("'from' of a block must name one tensor", item.loc_of("from"))
        return scope.resolve(ref, item.loc_of("from"))

    def repeat(self, item: LMap, scope: Scope, depth: int) -> None:
        """A stage table or ``n`` repeats: block instances in sequence, row by row."""
        check_keys(item, REPEAT_KEYS, "a repeat")
        constant = param_values(item.get("with"), item)
        rows: list[tuple[Params, int]] = []
        if "rows" in item:
            rows = self.table_rows(item, scope.env)
        else:
            rows = [({}, self.repeat_count(item.get("n", 1), item.loc_of("n"), scope.env))]
        start = self.evaluator.integer(
            item.get("start", 1), item.loc_of("start"), scope.env, "'start'", 0
        )
        source = self.source(item, scope)
        index = 0
        for row_index, (values, count) in enumerate(rows):
            for j in range(count):
                self.step(item.loc)
                env = {**scope.env, "i": start + index, "row": row_index, "j": j}
                name = template(item, env, self.evaluator) or scope.auto_name(str(item["repeat"]))
                params = {**constant, **values}
                self.instance(item, "repeat", params, name, scope, source, depth, first=j == 0)
                source = scope.prev
                index += 1

    def repeat_count(self, raw: Any, where: Loc, env: Mapping[str, Value]) -> int:
        """A repeat count ``n``: 1 to MAX_GRAPH_NODES."""
        return self.evaluator.integer(raw, where, env, "repeat count 'n'", maximum=MAX_GRAPH_NODES)

    def table_rows(self, item: LMap, env: Mapping[str, Value]) -> list[tuple[Params, int]]:
        """The rows of a stage table: parameter values by column, and the repeat count."""
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
        values: Params,
        name: str,
        scope: Scope,
        source: str,
        depth: int,
        first: bool = True,
    ) -> None:
        """One instance of the block ``item[key]`` reading ``source``, named ``name``."""
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
        instance_name = full_name(scope.prefix, name, item.loc_of("name"))
        prefix = (*scope.prefix, name)
        try:
            channels = self.layers.shapes[source][0]
            env = {**scope.env, "in": channels}
            params = block_params(block, block_name, values, env, first, item, self.evaluator)
            inner_env = {**self.globals, **params, "block_in": channels}
            inner = Scope(inner_env, {INPUT: source}, prefix, source)
            nodes = block.get("nodes")
            if not isinstance(nodes, LList):
                raise SpecError(f"block '{block_name}' needs 'nodes', a list", block.loc)
            self.items(nodes, inner, depth + 1)
        except SpecError as exc:
            exc.within = exc.within or f"block instance '{instance_name}' of {self.top}"
            raise
        scope.refs[name] = inner.prev
        scope.prev = inner.prev
