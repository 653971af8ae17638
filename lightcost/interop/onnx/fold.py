"""Constant folding before the walk: shape arithmetic on static shapes, constant aliases.

The classic PyTorch exporter computes some constants in the graph:
``x.chunk(2, dim=1)`` becomes Shape -> Gather -> Add -> Div -> Mul -> the ends
of a Slice, and it shares equal initializers through Identity nodes. With
static shapes these are constants: :func:`fold` computes them with numpy and
returns the model with each folded node replaced by an initializer holding its
output, so that shape inference, run again, knows the shapes they give.

Bounded: a node folds when every input is a constant of at most
:data:`MAX_ELEMENTS` elements held inline (or, for Shape, a tensor whose shape
is fully known) and its output has at most :data:`MAX_ELEMENTS` elements; an
Identity of a constant is an alias of any size (its data is never read). A
node that does not fold is left to the walk, which maps it or names it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import onnx

MAX_ELEMENTS = 64  # elements of a folded tensor and of each constant it reads


def fold(model: onnx.ModelProto, shapes: dict[str, list[int | None]]) -> onnx.ModelProto | None:
    """``model`` with its constant nodes folded into initializers; None when none folds.
    ``shapes``: the inferred dims of its tensors (None: unknown)."""
    import onnx

    graph = model.graph
    consts: dict[str, onnx.TensorProto] = {t.name: t for t in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
            consts[node.output[0]] = node.attribute[0].t
    folded: list[onnx.TensorProto] = []
    dropped: set[int] = set()
    for index, node in enumerate(graph.node):
        tensor = _fold_node(node, consts, shapes)
        if tensor is not None:
            consts[tensor.name] = tensor
            folded.append(tensor)
            dropped.add(index)
    if not folded:
        return None
    result = onnx.ModelProto()
    result.CopyFrom(model)
    del result.graph.node[:]
    del result.graph.value_info[:]
    result.graph.node.extend(n for i, n in enumerate(graph.node) if i not in dropped)
    result.graph.initializer.extend(folded)
    return result


def _fold_node(
    node: onnx.NodeProto,
    consts: dict[str, onnx.TensorProto],
    shapes: dict[str, list[int | None]],
) -> onnx.TensorProto | None:
    """The output of ``node`` as a constant tensor, or None when it does not fold."""
    import numpy as np
    import onnx
    from onnx import numpy_helper

    if len(node.output) != 1 or node.domain not in ("", "ai.onnx") or not node.input:
        return None
    if (node.op_type == "Identity" and node.input[0] in consts) or _same_expand(node, consts):
        alias = onnx.TensorProto()
        alias.CopyFrom(consts[node.input[0]])
        alias.name = node.output[0]
        return alias
    rule = _RULES.get(node.op_type)
    if rule is None:
        return None
    if node.op_type == "Shape":
        dims = shapes.get(node.input[0])
        if not dims or any(d is None for d in dims):
            return None
        arrays = [np.array(dims, dtype=np.int64)]
    else:
        read = [_small(consts.get(name)) if name else np.array([]) for name in node.input]
        if any(a is None for a in read):
            return None
        arrays = [a for a in read if a is not None]
    try:
        with np.errstate(all="raise"):
            array = np.asarray(rule(node, arrays))
    except (ArithmeticError, IndexError, KeyError, TypeError, ValueError):
        return None
    if array.size > MAX_ELEMENTS:
        return None
    tensor: onnx.TensorProto = numpy_helper.from_array(array, node.output[0])
    return tensor


def _same_expand(node: onnx.NodeProto, consts: dict[str, onnx.TensorProto]) -> bool:
    """Whether ``node`` is an Expand of a constant to its own shape (a class token expanded
    over a batch of 1): an alias of the constant, of any size."""
    import numpy as np

    if node.op_type != "Expand" or node.input[0] not in consts or len(node.input) < 2:
        return False
    shape = _small(consts.get(node.input[1]))
    dims = tuple(int(d) for d in consts[node.input[0]].dims)
    try:
        return shape is not None and np.broadcast_shapes(dims, tuple(shape.ravel())) == dims
    except ValueError:
        return False


def _small(tensor: onnx.TensorProto | None) -> Any:
    """The values of a small constant held inline, else None."""
    import onnx
    from onnx import numpy_helper

    if tensor is None or tensor.data_location == onnx.TensorProto.EXTERNAL:
        return None
    size = 1
    for d in tensor.dims:
        size *= int(d)
    if size > MAX_ELEMENTS:
        return None
    try:
        return numpy_helper.to_array(tensor)
    except Exception:  # data that does not match the dims or type: left to the walk
        return None


def _attr(node: onnx.NodeProto, name: str, default: Any = None) -> Any:
    import onnx

    for attribute in node.attribute:
        if attribute.name == name:
            return onnx.helper.get_attribute_value(attribute)
    return default


def _axes(node: onnx.NodeProto, arrays: list[Any]) -> list[int] | None:
    """Axes of Squeeze or Unsqueeze: the second input (opset 13+) or the attribute."""
    if len(arrays) > 1 and arrays[1].size:
        return [int(a) for a in arrays[1].ravel()]
    axes = _attr(node, "axes")
    return None if axes is None else [int(a) for a in axes]


def _shape(node: onnx.NodeProto, arrays: list[Any]) -> Any:
    start, end = _attr(node, "start", 0), _attr(node, "end")
    return arrays[0][start:end]


def _divide(node: onnx.NodeProto, arrays: list[Any]) -> Any:
    """ONNX Div: integer division truncates toward zero."""
    import numpy as np

    a, b = arrays
    if a.dtype.kind in "iu" and b.dtype.kind in "iu":
        return (np.sign(a) * np.sign(b) * (np.abs(a) // np.abs(b))).astype(a.dtype)
    return (a / b).astype(a.dtype)


def _unsqueeze(node: onnx.NodeProto, arrays: list[Any]) -> Any:
    import numpy as np

    axes = _axes(node, arrays) or []
    rank = arrays[0].ndim + len(axes)
    return np.expand_dims(arrays[0], tuple(sorted(a + rank if a < 0 else a for a in axes)))


def _squeeze(node: onnx.NodeProto, arrays: list[Any]) -> Any:
    import numpy as np

    axes = _axes(node, arrays)
    return np.squeeze(arrays[0], axis=None if axes is None else tuple(axes))


def _constant_of_shape(node: onnx.NodeProto, arrays: list[Any]) -> Any:
    import numpy as np
    from onnx import numpy_helper

    shape = [int(d) for d in arrays[0].ravel()]
    size = 1
    for d in shape:
        size *= max(d, 0)
    if size > MAX_ELEMENTS:
        raise ValueError("too large to fold")
    value = _attr(node, "value")
    fill = numpy_helper.to_array(value).ravel() if value is not None else np.zeros(1, np.float32)
    return np.full(shape, fill[0], dtype=fill.dtype)


def _slice(node: onnx.NodeProto, arrays: list[Any]) -> Any:
    """Slice with starts, ends, axes and steps as inputs (opset 10+)."""
    if len(arrays) < 3:
        raise ValueError("opset < 10 slice")
    data = arrays[0]
    starts, ends = arrays[1].ravel(), arrays[2].ravel()
    axes = arrays[3].ravel() if len(arrays) > 3 and arrays[3].size else range(len(starts))
    steps = arrays[4].ravel() if len(arrays) > 4 and arrays[4].size else [1] * len(starts)
    index = [slice(None)] * data.ndim
    for axis, start, end, step in zip(axes, starts, ends, steps, strict=True):
        index[int(axis)] = slice(int(start), int(end), int(step))
    return data[tuple(index)]


def _cast(node: onnx.NodeProto, arrays: list[Any]) -> Any:
    import onnx

    return arrays[0].astype(onnx.helper.tensor_dtype_to_np_dtype(int(_attr(node, "to"))))


def _binary(name: str) -> Callable[[onnx.NodeProto, list[Any]], Any]:
    def rule(node: onnx.NodeProto, arrays: list[Any]) -> Any:
        import numpy as np

        a, b = arrays
        return getattr(np, name)(a, b).astype(a.dtype)

    return rule


def _unary(name: str) -> Callable[[onnx.NodeProto, list[Any]], Any]:
    def rule(node: onnx.NodeProto, arrays: list[Any]) -> Any:
        import numpy as np

        return getattr(np, name)(arrays[0])

    return rule


def _equal(node: onnx.NodeProto, arrays: list[Any]) -> Any:
    import numpy as np

    return np.equal(arrays[0], arrays[1])


def _where(node: onnx.NodeProto, arrays: list[Any]) -> Any:
    import numpy as np

    return np.where(arrays[0], arrays[1], arrays[2])


def _mod(node: onnx.NodeProto, arrays: list[Any]) -> Any:
    """ONNX Mod: the sign of the divisor (``fmod`` 0), or of the dividend (``fmod`` 1)."""
    import numpy as np

    a, b = arrays
    return (np.fmod(a, b) if _attr(node, "fmod", 0) else np.mod(a, b)).astype(a.dtype)


def _reshape(node: onnx.NodeProto, arrays: list[Any]) -> Any:
    """ONNX Reshape: 0 keeps the input's dim (unless ``allowzero``), -1 is inferred."""
    data, shape = arrays[0], [int(d) for d in arrays[1].ravel()]
    if not _attr(node, "allowzero", 0):
        shape = [data.shape[i] if d == 0 else d for i, d in enumerate(shape)]
    return data.reshape(shape)


def _gather(node: onnx.NodeProto, arrays: list[Any]) -> Any:
    import numpy as np

    return np.take(arrays[0], arrays[1], axis=int(_attr(node, "axis", 0)))


def _concat(node: onnx.NodeProto, arrays: list[Any]) -> Any:
    import numpy as np

    return np.concatenate(arrays, axis=int(_attr(node, "axis")))


def _transpose(node: onnx.NodeProto, arrays: list[Any]) -> Any:
    import numpy as np

    return np.transpose(arrays[0], _attr(node, "perm"))


_RULES: dict[str, Callable[[onnx.NodeProto, list[Any]], Any]] = {
    "Shape": _shape,
    "Gather": _gather,
    "Add": _binary("add"),
    "Sub": _binary("subtract"),
    "Mul": _binary("multiply"),
    "Div": _divide,
    "Floor": _unary("floor"),
    "Ceil": _unary("ceil"),
    "Cast": _cast,
    "Unsqueeze": _unsqueeze,
    "Squeeze": _squeeze,
    "Concat": _concat,
    "ConstantOfShape": _constant_of_shape,
    "Slice": _slice,
    "Equal": _equal,
    "Where": _where,
    "Sqrt": _unary("sqrt"),
    "Mod": _mod,
    "Reshape": _reshape,
    "Transpose": _transpose,
}
