"""Load a spec: find the file, parse YAML safely, keep every node's position.

The YAML is composed with PyYAML's safe loader and converted to plain dicts and
lists that remember where each key and value came from (:class:`LMap`,
:class:`LList`), so later stages can report ``file:line:col``. Only the standard
YAML tags are accepted; the number of nodes (after alias expansion) and the
nesting depth are bounded, so an alias bomb is an error, not an out-of-memory.
"""

from __future__ import annotations

import os
from typing import Any

import yaml

from lightcost.errors import Loc, SpecError, did_you_mean

MAX_NODES = 200_000
MAX_DEPTH = 64
MAX_BYTES = 4 * 1024 * 1024

_ALLOWED_TAGS = {
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}

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


class _Converter:
    """Turns a composed YAML node tree into LMap/LList/scalars with positions."""

    def __init__(self, loader: yaml.SafeLoader, file: str) -> None:
        self.loader = loader
        self.file = file
        self.count = 0

    def loc(self, node: yaml.Node, path: str) -> Loc:
        mark = node.start_mark
        return Loc(self.file, mark.line + 1, mark.column + 1, path)

    def convert(self, node: yaml.Node, path: str, depth: int) -> Any:
        self.count += 1
        where = self.loc(node, path)
        if self.count > MAX_NODES:
            raise SpecError(
                f"spec has more than {MAX_NODES} YAML nodes (after expanding aliases)", where
            )
        if depth > MAX_DEPTH:
            raise SpecError(f"spec is nested deeper than {MAX_DEPTH} levels", where)
        if node.tag not in _ALLOWED_TAGS:
            raise SpecError(f"YAML tag '{node.tag}' is not allowed in a spec", where)
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, path, depth, where)
        if isinstance(node, yaml.SequenceNode):
            seq = LList()
            seq.loc = where
            seq.item_locs = []
            for i, item in enumerate(node.value):
                seq.append(self.convert(item, f"{path}[{i}]", depth + 1))
                seq.item_locs.append(self.loc(item, f"{path}[{i}]"))
            return seq
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            raise SpecError(f"bad YAML value: {exc}", where) from None

    def mapping(self, node: yaml.MappingNode, path: str, depth: int, where: Loc) -> LMap:
        self.loader.flatten_mapping(node)  # YAML merge keys (<<)
        out = LMap.empty(where)
        for key_node, value_node in node.value:
            key = self.convert(key_node, path, depth + 1)
            key_where = self.loc(key_node, path)
            if not isinstance(key, str):
                key = str(key).lower() if isinstance(key, bool) else str(key)
            sub = f"{path}.{key}" if path else key
            if key in out:
                raise SpecError(f"duplicate key '{key}'", key_where.at(sub))
            out[key] = self.convert(value_node, sub, depth + 1)
            out.key_locs[key] = key_where.at(sub)
            out.value_locs[key] = self.loc(value_node, sub)
        return out


def parse_yaml(text: str, file: str) -> Any:
    """Parse YAML text into located plain data; every failure is a SpecError."""
    if len(text) > MAX_BYTES:
        raise SpecError(f"spec is larger than {MAX_BYTES // (1024 * 1024)} MiB", Loc(file, 1, 1))
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise SpecError("spec is empty", Loc(file, 1, 1))
        return _Converter(loader, file).convert(node, "", 0)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        raise SpecError(f"YAML syntax error: {problem}", Loc(file, line, col)) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"YAML error: {exc}", Loc(file, 1, 1)) from None
    except RecursionError:
        raise SpecError("spec is nested too deeply", Loc(file, 1, 1)) from None
    finally:
        loader.dispose()


def bundled_dir() -> str:
    """The directory of bundled specs: inside an installed wheel, or the repo's ``specs/``.

    (os.path rather than pathlib: importing pathlib costs 7 ms of start-up.)
    """
    here = os.path.dirname(os.path.abspath(__file__))
    packaged = os.path.join(here, "_specs")
    return packaged if os.path.isdir(packaged) else os.path.join(os.path.dirname(here), "specs")


def bundled_names() -> list[str]:
    """Names of the bundled specs (file stems, subdirectories as ``dir/name``)."""
    root = bundled_dir()
    return sorted(
        os.path.relpath(os.path.join(folder, name), root)[: -len(".yaml")].replace(os.sep, "/")
        for folder, _, files in os.walk(root)
        for name in files
        if name.endswith(".yaml")
    )


def find_spec(name_or_path: str) -> str:
    """A spec path: an existing file, else a bundled spec by name (``.yaml`` optional)."""
    if os.path.isfile(name_or_path):
        return name_or_path
    stem = name_or_path[:-5] if name_or_path.endswith(".yaml") else name_or_path
    bundled = os.path.join(bundled_dir(), f"{stem}.yaml")
    if os.path.isfile(bundled):
        return bundled
    names = bundled_names()
    raise SpecError(
        f"no spec file '{name_or_path}' and no bundled spec of that name"
        f"{did_you_mean(stem, names)} (bundled: {', '.join(names)})"
    )


def read_spec(name_or_path: str) -> tuple[Any, str]:
    """Find and parse a spec; returns the located data and the file name used in messages."""
    file = find_spec(name_or_path)
    try:
        with open(file, "rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise SpecError(f"cannot read spec: {exc.strerror}", Loc(file, 1, 1)) from None
    if len(raw) > MAX_BYTES:
        raise SpecError(f"spec is larger than {MAX_BYTES // (1024 * 1024)} MiB", Loc(file, 1, 1))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SpecError("spec is not valid UTF-8 text", Loc(file, line, 1)) from None
    return parse_yaml(text, file), file
