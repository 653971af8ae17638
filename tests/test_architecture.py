"""The package layout shows the flow: a module imports only from layers to its left.

Layers, left to right: ``core`` (errors, graph, width rules) -> ``ops`` (the op
table) -> ``interop`` (ONNX to spec data, graph to ONNX) -> ``spec`` (files,
located YAML, expressions, expansion) -> ``cost`` (engine, memory, latency,
figures) -> ``api`` -> ``analysis`` (compare, sweep, diff, budgets, lint) ->
``render`` (strings) -> ``cli`` (the only printer). Imports inside a layer are
free; every import counts, lazy ones and ``TYPE_CHECKING`` ones included.
See docs/architecture.md.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "lightcost"
LAYERS = ("core", "ops", "interop", "spec", "cost", "api", "analysis", "render", "cli")
ENTRY = {"__init__", "__main__"}  # the package's re-exports and `python -m lightcost`


def layer_of(module: str) -> str | None:
    """The layer of a ``lightcost.X...`` module name (None for the entry modules)."""
    parts = module.split(".")
    if parts[0] != "lightcost" or len(parts) < 2 or parts[1] in ENTRY or parts[1] == "__version__":
        return None
    return parts[1] if parts[1] in LAYERS else "api"  # `from lightcost import analyze`


def imported(tree: ast.AST) -> list[tuple[int, str]]:
    """Every ``lightcost`` module an AST imports, with its line."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
            if node.module == "lightcost":
                found += [(node.lineno, name) for name in names]
            else:
                found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
    return [(line, name) for line, name in found if name.split(".")[0] == "lightcost"]


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_belongs_to_a_layer() -> None:
    for path in MODULES:
        module = ".".join(("lightcost", *path.relative_to(PACKAGE).with_suffix("").parts))
        layer = layer_of(module)
        assert layer is None or layer in LAYERS, f"{module}: not in a layer of {LAYERS}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_run_left_to_right(path: Path) -> None:
    module = ".".join(("lightcost", *path.relative_to(PACKAGE).with_suffix("").parts))
    own = layer_of(module)
    if own is None:
        return
    wrong = [
        f"line {line}: {name} ({layer_of(name)})"
        for line, name in imported(ast.parse(path.read_text(encoding="utf-8")))
        if (layer := layer_of(name)) is not None and LAYERS.index(layer) > LAYERS.index(own)
    ]
    assert not wrong, f"{module} ({own}) imports from layers to its right: {wrong}"


MAX_FUNCTION_LINES = 60
MAX_MODULE_LINES = 450
# Still too long; each entry is to be split (issue 11). The list only shrinks.
LONG = {}


MAX_CLASS_LINES = 300


def too_long() -> dict[str, int]:
    """Modules, functions and classes of the package over their limit, with their lines."""
    found = {}
    for path in MODULES:
        name = path.relative_to(PACKAGE.parent).as_posix()
        text = path.read_text(encoding="utf-8")
        if text.count("\n") > MAX_MODULE_LINES:
            found[name] = text.count("\n")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                limit = MAX_CLASS_LINES if isinstance(node, ast.ClassDef) else MAX_FUNCTION_LINES
                if lines > limit:
                    found[f"{name}:{node.name}"] = lines
    return found


def test_modules_and_functions_stay_short() -> None:
    """No module over 450 lines, class over 300, function over 60, but the LONG ones."""
    found = too_long()
    grown = {k: v for k, v in found.items() if v > LONG.get(k, 0)}
    assert not grown, f"split these: {grown}"
    assert set(LONG) <= set(found), "shrunk below the limit: remove from LONG"
