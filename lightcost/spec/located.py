"""Located YAML: parse safely, keep every node's position, validate keys.

The YAML is read event by event with PyYAML's safe (libyaml) parser and built
into plain dicts and lists that remember where each key and value came from
(:class:`LMap`, :class:`LList`), so later stages can report ``file:line:col``
and the path inside the spec. Scalars are read as YAML 1.2 reads them
(:mod:`lightcost.spec.scalars`: a YAML 1.1-only form such as ``3:3``, ``010``,
``yes`` or a date is an error). Only the standard scalar, mapping and sequence
tags are accepted. An alias shares the
anchored value rather than copying it, but counts as its expanded size, so
:data:`MAX_NODES` (after expanding aliases) and :data:`MAX_DEPTH` bound both the
memory a file can take and the work later stages can do: an alias bomb is an
error at the alias that crosses the limit, not an out-of-memory. Merge keys
(``<<``) follow YAML: the mapping's own keys win, then the first source.
"""

from __future__ import annotations

from typing import Any

import yaml

from lightcost.core.errors import Loc, SpecError, did_you_mean, short
from lightcost.spec.scalars import TAG, ScalarError, plain, tagged

MAX_NODES = 200_000
MAX_DEPTH = 64
MAX_BYTES = 4 * 1024 * 1024

_SCALAR_TAGS = {f"{TAG}{name}" for name in ("int", "float", "bool", "null")}
_COLLECTION_TAGS = {None, "!", f"{TAG}map", f"{TAG}seq"}
_MERGE = f"{TAG}merge"

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class LMap(dict[str, Any]):
    """A mapping that knows where it, each key and each value stand in the file."""

    loc: Loc
    key_locs: dict[str, Loc]
    value_locs: dict[str, Loc]

    @classmethod
    def empty(cls, loc: Loc) -> LMap:
        """An empty mapping standing at ``loc`` (for an absent optional section)."""
        out = cls()
        out.loc, out.key_locs, out.value_locs = loc, {}, {}
        return out

    def loc_of(self, key: str) -> Loc:
        """Where the value of ``key`` stands (the mapping itself if the key is absent)."""
        return self.value_locs.get(key, self.loc)

    def key_loc(self, key: str) -> Loc:
        """Where ``key`` itself stands."""
        return self.key_locs.get(key, self.loc)


class LList(list[Any]):
    """A sequence that knows where it and each item stand in the file."""

    loc: Loc
    item_locs: list[Loc]

    def loc_of(self, index: int) -> Loc:
        """Where item ``index`` stands."""
        return self.item_locs[index] if 0 <= index < len(self.item_locs) else self.loc


def loc_of(value: Any, fallback: Loc) -> Loc:
    """The position of a loaded mapping or list, or ``fallback`` for a scalar."""
    return value.loc if isinstance(value, LMap | LList) else fallback


class _Built:
    """A finished YAML node: its value, where it starts, its expanded size and height.

    ``size`` counts nodes after expanding aliases, ``height`` the levels below it,
    ``merge`` marks the merge key ``<<``.
    """

    __slots__ = ("height", "loc", "merge", "size", "value")

    def __init__(
        self, value: Any, loc: Loc, size: int = 1, height: int = 0, merge: bool = False
    ) -> None:
        self.value = value
        self.loc = loc
        self.size = size
        self.height = height
        self.merge = merge


class _Open:
    """A mapping or sequence being built, with its pending key and merge sources."""

    __slots__ = ("anchor", "built", "key", "merges")

    def __init__(self, built: _Built, anchor: str | None) -> None:
        self.built = built
        self.anchor = anchor
        self.key: _Built | None = None
        self.merges: list[_Built] = []

    def child_path(self) -> str:
        """The spec path of the next child (a key stands at its mapping's path)."""
        path, value = self.built.loc.path, self.built.value
        if isinstance(value, LList):
            return f"{path}[{len(value)}]"
        if self.key is None:
            return path
        key = _key_text(self.key)
        return f"{path}.{key}" if path else key


class _Builder:
    """Builds located plain data from parser events (see the module docstring)."""

    def __init__(self, loader: yaml.SafeLoader, file: str) -> None:
        self.loader: Any = loader  # the parser and resolver methods are untyped
        self.file = file
        self.count = 0
        self.anchors: dict[str, _Built] = {}
        self.open_anchors: set[str] = set()
        self.scalars: dict[tuple[str, str | None, tuple[bool, bool]], tuple[Any, bool]] = {}

    def loc(self, event: Any, path: str) -> Loc:
        mark = event.start_mark
        return Loc(self.file, mark.line + 1, mark.column + 1, path)

    def document(self) -> Any:
        """The single document of the stream (None if there is none)."""
        self.loader.get_event()  # StreamStartEvent
        if self.loader.check_event(yaml.StreamEndEvent):
            return None
        self.loader.get_event()  # DocumentStartEvent
        value = self.node()
        self.loader.get_event()  # DocumentEndEvent
        if not self.loader.check_event(yaml.StreamEndEvent):
            raise SpecError(
                "a spec is one YAML document ('---' starts a second one)",
                self.loc(self.loader.peek_event(), ""),
            )
        return value

    def node(self) -> Any:
        """Read one node and everything inside it; returns its value."""
        stack: list[_Open] = []
        while True:
            path = stack[-1].child_path() if stack else ""
            event = self.loader.get_event()
            if isinstance(event, yaml.CollectionStartEvent):
                stack.append(self.start(event, path, len(stack)))
                continue
            if isinstance(event, yaml.CollectionEndEvent):
                done = self.end(stack.pop())
            elif isinstance(event, yaml.AliasEvent):
                done = self.alias(event, path, len(stack))
            else:
                done = self.scalar(event, path, len(stack))
            if not stack:
                return done.value
            self.attach(stack[-1], done)

    def counted(self, built: _Built, depth: int, what: str) -> None:
        """Count a node of ``built.size`` nodes, ``built.height`` levels below ``depth``."""
        self.count += built.size
        if self.count > MAX_NODES:
            raise SpecError(
                f"{what}: a spec may have at most {MAX_NODES} YAML nodes after expanding aliases",
                built.loc,
            )
        if depth + built.height > MAX_DEPTH:
            raise SpecError(f"spec is nested deeper than {MAX_DEPTH} levels", built.loc)

    def start(self, event: Any, path: str, depth: int) -> _Open:
        where = self.loc(event, path)
        if event.tag not in _COLLECTION_TAGS:
            raise SpecError(f"YAML tag '{event.tag}' is not allowed in a spec", where)
        if isinstance(event, yaml.MappingStartEvent):
            value: LMap | LList = LMap.empty(where)
        else:
            value = LList()
            value.loc, value.item_locs = where, []
        built = _Built(value, where)
        self.counted(built, depth, "too many YAML nodes")
        if event.anchor is not None:
            self.check_anchor(event.anchor, where)
            self.open_anchors.add(event.anchor)
        return _Open(built, event.anchor)

    def check_anchor(self, anchor: str, where: Loc) -> None:
        if anchor in self.anchors or anchor in self.open_anchors:
            raise SpecError(f"duplicate anchor '&{anchor}'", where)

    def end(self, frame: _Open) -> _Built:
        built = frame.built
        if isinstance(built.value, LMap):
            for source in frame.merges:
                merge(built.value, source)
        if frame.anchor is not None:
            self.open_anchors.discard(frame.anchor)
            self.anchors[frame.anchor] = built
        return built

    def alias(self, event: Any, path: str, depth: int) -> _Built:
        where = self.loc(event, path)
        anchor = event.anchor
        if anchor in self.open_anchors:
            raise SpecError(f"alias '*{anchor}' refers to a node that contains it", where)
        if anchor not in self.anchors:
            raise SpecError(
                f"unknown anchor '*{anchor}'{did_you_mean(anchor, self.anchors)}", where
            )
        target = self.anchors[anchor]
        built = _Built(target.value, where, target.size, target.height)
        self.counted(built, depth, f"alias '*{anchor}' expands to {target.size} YAML nodes")
        return built

    def scalar(self, event: Any, path: str, depth: int) -> _Built:
        where = self.loc(event, path)
        key = (event.value, event.tag, event.implicit)
        if key not in self.scalars:
            self.scalars[key] = self.construct(event, where)
        value, is_merge = self.scalars[key]
        built = _Built(value, where, merge=is_merge)
        self.counted(built, depth, "too many YAML nodes")
        if event.anchor is not None:
            self.check_anchor(event.anchor, where)
            self.anchors[event.anchor] = built
        return built

    def construct(self, event: Any, where: Loc) -> tuple[Any, bool]:
        """A scalar's value and whether it is the merge key (cached: specs repeat values)."""
        tag, text = event.tag, event.value
        try:
            if tag is None and event.implicit[0]:  # plain: YAML 1.2 core schema
                return (text, True) if text == "<<" else (plain(text, self.yaml11_tag), False)
            if tag in (None, "!", f"{TAG}str"):  # quoted, or `!` / `!!str`: text
                return text, False
            if tag == _MERGE:
                return text, True
            if tag not in _SCALAR_TAGS:
                raise SpecError(f"YAML tag '{tag}' is not allowed in a spec", where)
            return tagged(tag, text), False
        except ScalarError as exc:
            raise SpecError(str(exc), where) from None

    def yaml11_tag(self, text: str) -> str:
        """The tag YAML 1.1 (PyYAML's resolver) gives the plain scalar ``text``."""
        return str(self.loader.resolve(yaml.ScalarNode, text, (True, False)))

    def attach(self, frame: _Open, child: _Built) -> None:
        """Put a finished child into its open mapping or sequence."""
        parent = frame.built
        parent.size += child.size
        parent.height = max(parent.height, child.height + 1)
        if isinstance(parent.value, LList):
            parent.value.append(child.value)
            parent.value.item_locs.append(child.loc)
            return
        if frame.key is None:
            frame.key = child
            return
        key_node, frame.key = frame.key, None
        if key_node.merge:
            frame.merges.append(child)
            return
        key, target = _key_text(key_node), parent.value
        key_loc = key_node.loc.at(child.loc.path)
        if key in target:
            raise SpecError(f"duplicate key '{key}'", key_loc)
        target[key] = child.value
        target.key_locs[key] = key_loc
        target.value_locs[key] = child.loc


def merge(target: LMap, source: _Built) -> None:
    """Merge key ``<<``: add the keys of a mapping (or list of mappings) not yet set."""
    items = source.value if isinstance(source.value, LList) else [source.value]
    for item in items:
        if not isinstance(item, LMap):
            raise SpecError("a merge key '<<' needs a mapping or a list of mappings", source.loc)
        for key, value in item.items():
            if key not in target:
                target[key] = value
                target.key_locs[key] = item.key_loc(key)
                target.value_locs[key] = item.loc_of(key)


def _key_text(key: _Built) -> str:
    """A mapping key as text (numbers and booleans as YAML writes them)."""
    value = key.value
    if isinstance(value, LMap | LList):
        raise SpecError("a mapping key must be a plain scalar, not a mapping or list", key.loc)
    if value is None:
        return "null"
    return str(value).lower() if isinstance(value, bool) else str(value)


def line_col(text: str, index: int) -> tuple[int, int]:
    """Line and column (1-based) of character ``index`` of ``text``."""
    return text.count("\n", 0, index) + 1, index - text.rfind("\n", 0, index)


def _syntax_error(exc: yaml.MarkedYAMLError, text: str, file: str) -> SpecError:
    """A YAML syntax error at its problem mark, naming where the construct began."""
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    message = f"YAML syntax error: {exc.problem or exc.context or 'invalid YAML'}"
    context = exc.context_mark
    if exc.problem and exc.context and context and context.line + 1 != line:
        message += f" ({exc.context} at line {context.line + 1})"
    rows = text.split("\n")
    if line <= len(rows) and rows[line - 1][col - 1 : col] == "\t":
        message += " (a tab: YAML indents with spaces)"
    return SpecError(message, Loc(file, line, col))


def parse_yaml(text: str, file: str) -> Any:
    """Parse YAML text into located plain data; every failure is a SpecError."""
    if len(text) > MAX_BYTES:
        raise SpecError(f"spec is larger than {MAX_BYTES // (1024 * 1024)} MiB", Loc(file, 1, 1))
    try:
        loader = _Loader(text)
    except UnicodeEncodeError as exc:
        line, col = line_col(text, exc.start)
        raise SpecError("spec is not valid Unicode text", Loc(file, line, col)) from None
    try:
        data = _Builder(loader, file).document()
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, text, file) from None
    except yaml.reader.ReaderError as exc:
        # libyaml counts UTF-8 bytes
        index = len(text.encode()[: exc.position].decode("utf-8", "ignore"))
        line, col = line_col(text, index)
        raise SpecError(f"invalid character: {exc.reason}", Loc(file, line, col)) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"YAML error: {exc}", Loc(file, 1, 1)) from None
    finally:
        loader.dispose()
    if data is None:
        raise SpecError("spec is empty", Loc(file, 1, 1))
    return data


def check_keys(mapping: LMap, allowed: tuple[str, ...], what: str) -> None:
    """Reject keys a mapping may not have, with a did-you-mean."""
    for key in mapping:
        if key not in allowed:
            raise SpecError(
                f"unknown key {short(key)} in {what}{did_you_mean(key, allowed)} "
                f"(allowed: {', '.join(allowed)})",
                mapping.key_loc(key),
            )
