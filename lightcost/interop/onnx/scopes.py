"""Module paths of ONNX nodes: the block path an imported layer is grouped under.

PyTorch's classic exporter names a node by its module path, ``/layer3/layer3.0/conv1/Conv``:
the segments before the last (the op) are the modules, outermost first. The dynamo
exporter names nodes ``node_Conv_12`` and records the path in the node's metadata,
``pkg.torch.onnx.name_scopes`` = ``['', 'layer3', 'layer3.0', 'layer3.0.conv1', 'conv2d']``
(the root module, the modules, the op). Other producers give no path: no block.
Each name is made a valid spec name; the joined path keeps to the spec's name limit
(innermost names dropped first). A block path only groups rows (``--depth``,
``--by block``): names, references and costs do not depend on it.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from lightcost.core.graph import MAX_NAME

SCOPES_KEY = "pkg.torch.onnx.name_scopes"
MAX_SCOPES = 64  # module levels kept from one node


def module_path(node: Any, valid: Callable[[str, str], str]) -> tuple[str, ...]:
    """The block path of ``node`` (a NodeProto): from its metadata, else its name;
    ``valid(raw, fallback)`` makes one module name a valid spec name."""
    names = _dynamo_scopes(node) or _classic_scopes(str(node.name))
    path = [valid(name, "module") for name in names[:MAX_SCOPES] if name]
    while path and len("_".join(path)) > MAX_NAME:
        path.pop()
    return tuple(path)


def _classic_scopes(name: str) -> list[str]:
    if not name.startswith("/"):
        return []
    return name.split("/")[1:-1]


def _dynamo_scopes(node: Any) -> list[str]:
    for prop in getattr(node, "metadata_props", ()):
        if prop.key == SCOPES_KEY:
            try:
                scopes = ast.literal_eval(prop.value)
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                return []
            if isinstance(scopes, list) and all(isinstance(s, str) for s in scopes):
                return scopes[1:-1]
            return []
    return []
