"""The op table: every op in one place, one file per op family.

Each op is an :class:`OpDef` (:mod:`lightcost.ops.base`) holding its attributes,
inputs, shape rule, cost rule, kind, channel attributes, label, layer type,
unfused kernels, ONNX export and ONNX import; :data:`OPS` is built here by
:func:`register`, which refuses an op with a part missing (:func:`missing`).
Every consumer reads the table: the expander, the cost engine, memory, lint,
sweep, the schema and ONNX interop. See docs/architecture.md, "How to add an op".
"""

from lightcost.ops import activations, channels, conv, elementwise, linear, norm, pool, se, views
from lightcost.ops.activations import ACTIVATIONS
from lightcost.ops.base import (
    REQUIRED,
    Attr,
    Kernel,
    OpCost,
    OpDef,
    ShapeError,
    no_export,
    same_pads,
    spatial,
    truth,
)
from lightcost.ops.limits import (
    MAX_CHANNELS,
    MAX_ELEMENTS,
    MAX_SIZE,
    MAX_WORK,
    check_limits,
    check_tensor,
)
from lightcost.ops.registry import OPS, missing, onnx_imports, register

for _family in (conv, linear, norm, pool, elementwise, channels, se, views, activations):
    for _opdef in _family.OPDEFS:
        register(_opdef)

__all__ = [
    "ACTIVATIONS",
    "MAX_CHANNELS",
    "MAX_ELEMENTS",
    "MAX_SIZE",
    "MAX_WORK",
    "OPS",
    "REQUIRED",
    "Attr",
    "Kernel",
    "OpCost",
    "OpDef",
    "ShapeError",
    "check_limits",
    "check_tensor",
    "missing",
    "no_export",
    "onnx_imports",
    "register",
    "same_pads",
    "spatial",
    "truth",
]
