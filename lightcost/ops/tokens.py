"""Token reshapes: ``unfold``/``fold`` (patches), ``cls_token``, ``pos_embed``, ``token``.

Tokens live in the (C, H, W) triple: a sequence of N tokens of D features is
``(D, 1, N)``; MobileViT's unfolded map is ``(C, P, N)``, P = p x p sequences
(one per position inside a patch) of N = H/p x W/p tokens (one per patch).

* ``unfold`` (``patch`` p, default 1): (C, H, W) -> (C, p*p, H/p * W/p); p = 1 is
  ViT's flatten to a sequence ``(C, 1, H*W)``. H and W must be multiples of p,
  unless ``resize``: then a bilinear resize up to whole patches first (and back in
  ``fold``), 7 other ops per element of the resized map (timm MobileViT).
  ``fold`` is its inverse, back to (C, ``h``, N*P/``h``) (``h`` 0: square), or to the
  H x W of a second input (``from: [tokens, map]``: only its size is read). Copies.
* ``cls_token`` prepends ``tokens`` learned tokens to a ``(D, 1, N)`` sequence
  (D x tokens params, ``OpCost.embed``); a copy.
* ``pos_embed`` adds a learned positional embedding: C x ``tokens`` params
  (``OpCost.embed``; ``tokens`` 0, the default, is the input's H x W), 1 other op
  per element. A table of another size than H x W is resampled to it, as timm does
  (a ViT's 197 positions stay 197 x D params at any resolution).
* ``token`` takes token ``index`` of a ``(D, 1, N)`` sequence: ``(D, 1, 1)``
  (ViT's class token before the head); a copy of D elements.

ONNX: unfold and fold are Reshape to 5-D, Transpose, Reshape (imported: any
Reshapes and Transposes regrouping patches between a map and token sequences); cls_token a Concat
with a constant along W; pos_embed an Add of a constant; token a Gather along W
(reshape and transpose: :mod:`lightcost.ops.axes`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from lightcost.core.errors import SpecError
from lightcost.core.graph import AttrValue, Node, Shape, count, elements
from lightcost.ops.axes import reshape_pattern
from lightcost.ops.base import (
    Attr,
    Attrs,
    OpCost,
    OpDef,
    ShapeError,
    dims,
    same_shape,
    truth,
)
from lightcost.ops.norm import groupnorm_pattern
from lightcost.ops.resize import BILINEAR_OPS, resize_node
from lightcost.ops.views import import_view

if TYPE_CHECKING:
    from lightcost.ops.protocols import Emitter, OnnxNode, Reader

MAX_CHAIN = 8  # Reshapes and Transposes after the first of an unfold or fold chain
UNFOLD, FOLD = [0, 2, 4, 1, 3], [0, 3, 1, 4, 2]  # Transpose perms of [C, nH, p, nW, p] and back


def isqrt(n: int) -> int:
    """The integer square root (rounded down, as :func:`math.isqrt`) of an int or,
    element-wise, of a numpy array (a sweep)."""
    if hasattr(n, "astype"):
        root: Any = (n**0.5).astype(n.dtype)  # type: ignore[attr-defined]
        root -= root * root > n  # a float root one too high or low, corrected
        return root + ((root + 1) * (root + 1) <= n)  # type: ignore[no-any-return]
    return math.isqrt(n)


def _grid(size: int, p: int, resize: AttrValue) -> int:
    """Patches along one axis: size / p, or with ``resize`` ceil(size / p)."""
    return -(-size // p) if resize else size // p


def _unfold_shape(attrs: Attrs, shapes: list[Shape]) -> Shape:
    c, h, w = shapes[0]
    p, resize = int(attrs["patch"]), attrs["resize"]
    if not resize and (truth(h % p) or truth(w % p)):
        raise ShapeError(
            f"unfold patch {p} needs a height and width that are multiples of {p}, "
            f"got {h}x{w} (resize: true resizes up to the next multiple)"
        )
    return (c, p * p, _grid(h, p, resize) * _grid(w, p, resize))


def _target(attrs: Attrs, shapes: list[Shape]) -> tuple[int, int]:
    """The folded map's height and width as given: by a second input's H x W, else by the
    ``h`` and ``w`` attributes (0: not given)."""
    if len(shapes) > 1:
        return shapes[1][1], shapes[1][2]
    return count(attrs["h"]), count(attrs["w"])


def _fold_sizes(attrs: Attrs, shapes: list[Shape]) -> tuple[int, int, int, int]:
    """Rows and columns of patches, and the output's height and width."""
    n = shapes[0][2]
    (h, w), p = _target(attrs, shapes), int(attrs["patch"])
    rows = _grid(h, p, attrs["resize"]) if truth(h) else isqrt(n)
    cols = n // rows
    if not attrs["resize"]:
        return rows, cols, rows * p, cols * p
    if len(shapes) > 1:
        return rows, cols, h, w
    return rows, cols, h or rows * p, w or h or cols * p


def _fold_shape(attrs: Attrs, shapes: list[Shape]) -> Shape:
    c, big_p, n = shapes[0]
    p, (given, given_w) = int(attrs["patch"]), _target(attrs, shapes)
    rows, cols, h, w = _fold_sizes(attrs, shapes)
    exact = attrs["resize"] or not truth(given) or not truth(rows * p != given)
    if len(shapes) > 1 and not attrs["resize"]:
        exact = exact and not truth(cols * p != given_w)
    if truth(big_p != p * p) or truth(n % rows) or truth(rows * cols != n) or not exact:
        raise ShapeError(
            f"fold patch {p} of {dims(shapes[0])} needs {p * p} rows and a number of patches "
            f"that fills {f'{given}x{given_w}' if truth(given) else 'a square'}"
        )
    return (c, h, w)


def _unfold_cost(node: Node) -> OpCost:
    """The resize up to whole patches, when needed: 7 ops per element of the resized map."""
    c, h, w = node.in_shapes[0]
    p = int(node.attrs["patch"])
    if not node.attrs["resize"]:
        return OpCost()
    rows, cols = _grid(h, p, True), _grid(w, p, True)
    changed = (h != rows * p) | (w != cols * p)
    return OpCost(other_ops=BILINEAR_OPS * c * rows * p * cols * p * changed)


def _fold_cost(node: Node) -> OpCost:
    """The resize back to (h, w), when the folded map differs: 7 ops per output element."""
    if not node.attrs["resize"]:
        return OpCost(reads=elements(node.in_shapes[0]))  # a second input gives only its size
    rows, cols, _, _ = _fold_sizes(node.attrs, list(node.in_shapes))
    c, h, w = node.out_shape
    p = int(node.attrs["patch"])
    return OpCost(
        reads=elements(node.in_shapes[0]),
        other_ops=BILINEAR_OPS * c * h * w * ((h != rows * p) | (w != cols * p)),
    )


def _patches(emitter: Emitter, x: str, name: str, five: list[int], perm: list[int]) -> str:
    """Reshape ``x`` to 5-D, Transpose, Reshape to [1, C, a*b, c*d] (named ``name``)."""
    y = emitter.emit("Reshape", [x, emitter.ints(f"{name}/grid_shape", five)], f"{name}/grid", 5)
    y = emitter.emit("Transpose", [y], f"{name}/transpose", 5, perm=perm)
    out = [1, five[0], five[perm[1]] * five[perm[2]], five[perm[3]] * five[perm[4]]]
    return emitter.emit("Reshape", [y, emitter.ints(f"{name}/out_shape", out)], name, 4)


def _unfold_export(emitter: Emitter, node: Node) -> str:
    (c, h, w), name = node.in_shapes[0], node.name
    p, resize = int(node.attrs["patch"]), node.attrs["resize"]
    rows, cols = _grid(h, p, resize), _grid(w, p, resize)
    x = emitter.as4d(emitter.inputs(node)[0], node.in_shapes[0])
    if (rows * p, cols * p) != (h, w):
        x = resize_node(emitter, x, (c, rows * p, cols * p), f"{name}/resize", "bilinear")
    return _patches(emitter, x, name, [c, rows, p, cols, p], UNFOLD)


def _fold_export(emitter: Emitter, node: Node) -> str:
    (c, h, w), name, p = node.out_shape, node.name, int(node.attrs["patch"])
    rows, cols, _, _ = _fold_sizes(node.attrs, list(node.in_shapes))
    x = emitter.as4d(emitter.inputs(node)[0], node.in_shapes[0])
    if (rows * p, cols * p) == (h, w):
        return _patches(emitter, x, name, [c, p, p, rows, cols], FOLD)
    y = _patches(emitter, x, f"{name}/fold", [c, p, p, rows, cols], FOLD)
    return resize_node(emitter, y, node.out_shape, name, "bilinear")


def _chain(reader: Reader, node: OnnxNode) -> list[OnnxNode]:
    """``node`` and the Reshapes and Transposes after it, each the only reader of the last."""
    chain = [node]
    for _ in range(MAX_CHAIN):
        after = reader.only_reader(chain[-1].output[0])
        if after is None or after.op_type not in ("Reshape", "Transpose"):
            break
        chain.append(after)
    return chain


def _regroup(start: Shape, end: Shape) -> tuple[str, dict[str, AttrValue]] | None:
    """The unfold or fold that makes ``end`` of ``start`` (same channels), if one does."""
    (c, h, w), (c2, h2, w2) = start, end
    p, q = isqrt(h2), isqrt(h)
    if c != c2 or start == end:
        return None
    if p * p == h2 and h % p == 0 and w % p == 0 and w2 == (h // p) * (w // p):
        return "unfold", {"patch": p}
    if q * q == h and h2 % q == 0 and w2 % q == 0 and w == (h2 // q) * (w2 // q):
        return "fold", {"patch": q, "h": h2}
    return None


def _patches_import(reader: Reader, node: OnnxNode) -> bool:
    """Reshapes and Transposes from a map to token sequences (or back) that regroup patches:
    ``unfold`` or ``fold`` (ViT's flatten is unfold with patch 1); the chain is one layer."""
    chain = _chain(reader, node)
    end = chain[-1].output[0]
    orders = (reader.order(node.input[0]), reader.order(end))
    if len(chain) < 2 or not set(orders) <= {"nchw", "hwc"}:
        return False
    found = _regroup(reader.shape(node.input[0], node), reader.shape(end, chain[-1]))
    if found is None:
        return False
    for after in chain[1:]:
        reader.absorb(after)
    reader.add(node, found[0], node.input[:1], found[1], end)
    return True


def import_reshape(reader: Reader, node: OnnxNode) -> None:
    """Reshape (outside a channel shuffle): patches, a GroupNorm, a view or a ``reshape``."""
    if groupnorm_pattern(reader, node) or _patches_import(reader, node):
        return
    if not reshape_pattern(reader, node):
        import_view(reader, node)


def _cls_shape(attrs: Attrs, shapes: list[Shape]) -> Shape:
    d, h, n = shapes[0]
    if truth(h != 1):
        raise ShapeError(f"cls_token needs a token sequence (D, 1, N), got {dims(shapes[0])}")
    return (d, 1, n + int(attrs["tokens"]))


def _cls_cost(node: Node) -> OpCost:
    return OpCost(embed=node.out_shape[0] * int(node.attrs["tokens"]))


def _cls_export(emitter: Emitter, node: Node) -> str:
    """Concat of the learned tokens [1, D, 1, t] and the sequence along W."""
    d, t = node.out_shape[0], int(node.attrs["tokens"])
    x = emitter.as4d(emitter.inputs(node)[0], node.in_shapes[0])
    tokens = emitter.random(f"{node.name}/tokens", [1, d, 1, t], d)
    return emitter.emit("Concat", [tokens, x], node.name, 4, axis=3)


def class_tokens(reader: Reader, node: OnnxNode) -> bool:
    """Import a Concat along the tokens of one constant (t tokens: [1, D, 1, t], or [1, t, D]
    for tokens [S, N, D]) and a sequence as ``cls_token``."""
    axis = int(reader.attr(node, "axis", 0))
    consts = [t for t in node.input if reader.const_dims(t) is not None]
    data = [t for t in node.input if t not in consts]
    if len(consts) != 1 or len(data) != 1 or reader.axis(data[0], axis) != "w":
        return False
    size = reader.const_dims(consts[0]) or [1]
    reader.add(node, "cls_token", data, {"tokens": int(size[axis])})
    return True


def _positions(node: Node) -> int:
    """The learned positions: ``tokens``, or 0 for the input's H x W."""
    _, h, w = node.out_shape
    return count(node.attrs["tokens"]) or h * w


def _pos_cost(node: Node) -> OpCost:
    c = node.out_shape[0]
    return OpCost(embed=c * _positions(node), other_ops=elements(node.out_shape))


def _pos_export(emitter: Emitter, node: Node) -> str:
    _, h, w = node.out_shape
    if _positions(node) != h * w:
        raise SpecError(
            f"layer '{node.name}': not supported by export: pos_embed of {_positions(node)} "
            f"positions on {h}x{w}"
        )
    x = emitter.as4d(emitter.inputs(node)[0], node.in_shapes[0])
    table = emitter.random(f"{node.name}/embedding", [1, *node.in_shapes[0]], 1)
    return emitter.emit("Add", [x, table], node.name, 4)


def positional(reader: Reader, node: OnnxNode) -> bool:
    """Import Add(x, a constant of C x t values) as ``pos_embed`` of t positions (x's own,
    or a table broadcast over them, such as attention's bias per head and key)."""
    consts = [t for t in node.input if reader.const_dims(t) is not None]
    data = [t for t in node.input if t not in consts]
    if len(consts) != 1 or len(data) != 1:
        return False
    size = math.prod(reader.const_dims(consts[0]) or [0])
    c, h, w = reader.shape(data[0], node)
    if size % c or size // c > h * w or size // c <= 1:
        return False
    reader.add(node, "pos_embed", data, {} if size == c * h * w else {"tokens": size // c})
    return True


def _token_shape(attrs: Attrs, shapes: list[Shape]) -> Shape:
    d, h, n = shapes[0]
    if truth(h != 1) or truth(n <= int(attrs["index"])):
        raise ShapeError(
            f"token {attrs['index']} of {dims(shapes[0])}: "
            "needs a sequence (D, 1, N) longer than the index"
        )
    return (d, 1, 1)


def _token_cost(node: Node) -> OpCost:
    return OpCost(reads=node.out_shape[0])


def _token_export(emitter: Emitter, node: Node) -> str:
    x = emitter.as4d(emitter.inputs(node)[0], node.in_shapes[0])
    index = emitter.ints(f"{node.name}/index", [int(node.attrs["index"])])
    return emitter.emit("Gather", [x, index], node.name, 4, axis=3)


def _import_gather(reader: Reader, node: OnnxNode) -> None:
    """Gather of one token along the last axis of a sequence: ``token``."""
    index = reader.values(node.input[1])
    axis = int(reader.attr(node, "axis", 0))
    if index is None or len(index) != 1 or reader.axis(node.input[0], axis) != "w":
        raise reader.fail(node, "only a Gather of one token of a sequence is mapped")
    reader.add(node, "token", node.input[:1], {"index": int(index[0])})


def _patch_label(node: Node) -> str:
    return f"{node.op} p{node.attrs['patch']}"


OPDEFS = (
    OpDef(
        name="unfold",
        summary="patches to token sequences: (C, H, W) -> (C, p*p, H/p * W/p); p 1 flattens",
        kind="copy",
        attrs={"patch": Attr("int", 1), "resize": Attr("bool", False)},
        shape=_unfold_shape,
        cost=_unfold_cost,
        label=_patch_label,
        export=_unfold_export,
        imports={},  # Reshape, Transpose, Reshape: by the Reshape handler
    ),
    OpDef(
        name="fold",
        summary="patches back to a map: (C, p*p, N) -> (C, h, N*p*p / h), or a 2nd input's H x W",
        kind="copy",
        attrs={
            "patch": Attr("int", 1),
            "h": Attr("int", 0, low=0),
            "w": Attr("int", 0, low=0),
            "resize": Attr("bool", False),
        },
        shape=_fold_shape,
        cost=_fold_cost,
        max_inputs=2,
        label=_patch_label,
        export=_fold_export,
        imports={},  # Reshape, Transpose, Reshape: by the Reshape handler
    ),
    OpDef(
        name="cls_token",
        summary="learned tokens prepended to a (D, 1, N) sequence (D x tokens params)",
        kind="copy",
        attrs={"tokens": Attr("int", 1)},
        shape=_cls_shape,
        cost=_cls_cost,
        export=_cls_export,
        imports={},  # Concat with a constant, by concat's handler
    ),
    OpDef(
        name="pos_embed",
        summary="learned positional embedding added (C x tokens params; tokens 0: H x W)",
        kind="elementwise",
        attrs={"tokens": Attr("int", 0, low=0)},
        shape=same_shape,
        cost=_pos_cost,
        export=_pos_export,
        imports={},  # Add of a constant, by add's handler
    ),
    OpDef(
        name="token",
        summary="one token (`index`) of a (D, 1, N) sequence: (D, 1, 1)",
        kind="copy",
        attrs={"index": Attr("int", 0, low=0)},
        shape=_token_shape,
        cost=_token_cost,
        export=_token_export,
        imports={"Gather": _import_gather},
    ),
)
