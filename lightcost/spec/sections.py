"""The top-level sections of a spec, checked before the walk.

:func:`read_sections` checks the keys, the version, the texts, the width rule,
the block names and the per-op defaults. :func:`variant_vars` picks a variant,
:func:`lightcost.spec.variables.variables` computes the vars and
:func:`input_shape` the input tensor; they run once per expansion (the width,
resolution, variant and ``--set`` values change them).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from lightcost.core.errors import Loc, SpecError, describe, did_you_mean, listing, short
from lightcost.core.graph import Shape
from lightcost.core.rounding import RULES, WidthRule
from lightcost.ops import MAX_CHANNELS, MAX_SIZE, ShapeError, check_tensor
from lightcost.spec.expr import Value
from lightcost.spec.located import LList, LMap, check_keys, loc_of
from lightcost.spec.names import check_length, check_name
from lightcost.spec.nodes import opdef
from lightcost.spec.values import Evaluator, whole_in

TOP_KEYS = (
    "lightcost",
    "name",
    "description",
    "source",
    "params_note",  # written by the ONNX import: what the file's params are (docs/onnx.md)
    "input",
    "width",
    "padding",
    "vars",
    "variants",
    "variant",
    "defaults",
    "blocks",
    "layers",
    "budget",  # read by lightcost.analysis.budgets
    "lint",  # read by lightcost.analysis.lint: {ignore: [G2, ...]}
)
MINIMUMS = {"truncate": 8, "round": 1, "fixed": 1}  # make_divisible: its divisor
INPUT_DIMENSIONS = ("input channels", "input height", "input width")
PADDINGS = {  # the spec's padding convention: what an op's unwritten SAME padding becomes
    "same": "SAME unless a layer says otherwise: out = ceil(in / stride) (TensorFlow)",
    "pytorch": "0 unless a layer says otherwise, as nn.Conv2d and the pools (PyTorch)",
    "symmetric": "dilation * (k - 1) // 2 per side unless a layer says otherwise "
    "(PyTorch as torchvision and timm write it)",
}


class Sections(NamedTuple):
    """A spec's checked top-level sections; ``data`` is the whole loaded spec."""

    data: LMap
    file: str
    texts: dict[str, str]  # name, description, source and params_note ("" when absent)
    width_rule: WidthRule
    blocks: LMap
    defaults: dict[str, LMap]  # op name -> its default attributes
    padding: str = "same"  # the padding convention, a key of PADDINGS


def read_sections(data: Any, file: str) -> Sections:
    """Check the keys, version, texts, width rule, blocks and defaults of a loaded spec."""
    if not isinstance(data, LMap):
        raise SpecError(
            "a spec must be a mapping with at least 'input' and 'layers'",
            loc_of(data, Loc(file, 1, 1)),
        )
    check_keys(data, TOP_KEYS, "spec")
    version = data.get("lightcost", 1)
    if isinstance(version, bool) or version != 1:
        raise SpecError(
            f"unsupported spec version {short(version)} (this lightcost reads 1)",
            data.loc_of("lightcost"),
        )
    texts = {key: _text(data, key) for key in ("name", "description", "source", "params_note")}
    check_length(texts["name"], "the spec's name", data.loc_of("name"))
    padding = data.get("padding", "same")
    if not isinstance(padding, str) or padding not in PADDINGS:
        raise SpecError(
            f"unknown padding convention {short(padding)}{did_you_mean(str(padding), PADDINGS)} "
            f"(conventions: {', '.join(PADDINGS)})",
            data.loc_of("padding"),
        )
    blocks, defaults = _blocks(data), _defaults(data)
    return Sections(data, file, texts, _width_rule(data), blocks, defaults, padding)


def section(data: LMap, key: str) -> LMap:
    """The mapping under ``key`` (empty when absent)."""
    value = data.get(key, None)
    if value is None:
        return LMap.empty(data.loc)
    if not isinstance(value, LMap):
        raise SpecError(f"'{key}' must be a mapping", data.loc_of(key))
    return value


def _text(data: LMap, key: str) -> str:
    value = data.get(key)
    if isinstance(value, LMap | LList):
        raise SpecError(f"'{key}' must be text, got {describe(value)}", data.loc_of(key))
    return "" if value is None else str(value)


def _width_rule(data: LMap) -> WidthRule:
    raw = data.get("width", "round")
    where = data.loc_of("width")
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


def _blocks(data: LMap) -> LMap:
    blocks = section(data, "blocks")
    for name in blocks:
        check_name(name, "block name", blocks.key_loc(name))
    return blocks


def _defaults(data: LMap) -> dict[str, LMap]:
    defaults = section(data, "defaults")
    out: dict[str, LMap] = {}
    for op, attrs in defaults.items():
        known = opdef(op, defaults.key_loc(op))
        if not isinstance(attrs, LMap):
            raise SpecError(f"defaults for '{op}' must be a mapping", defaults.loc_of(op))
        check_keys(attrs, tuple(known.attrs), f"defaults of {op}")
        out[op] = attrs
    return out


def variant_vars(data: LMap, variant: str | None) -> tuple[str, LMap | None]:
    """The chosen (or default) variant's name and its ``vars`` mapping."""
    found = section(data, "variants")
    for name in found:
        check_length(name, "the variant name", found.key_loc(name))
    chosen = variant if variant is not None else data.get("variant")
    where = data.loc_of("variant") if variant is None else found.loc
    if chosen is None:
        if found:
            raise SpecError("a spec with 'variants' must name its default in 'variant'", found.loc)
        return "", None
    if isinstance(chosen, LMap | LList):
        raise SpecError(f"'variant' must be text, got {describe(chosen)}", where)
    chosen = same_variant(str(chosen), list(found))
    if chosen not in found:
        raise SpecError(
            f"unknown variant {short(chosen)}{did_you_mean(chosen, found)} "
            f"(variants: {listing(found) or 'none'})",
            where,
        )
    entry = found[chosen]
    if not isinstance(entry, LMap):
        raise SpecError(f"variant '{chosen}' must be a mapping", found.loc_of(chosen))
    check_keys(entry, ("description", "vars"), f"variant '{chosen}'")
    values = entry.get("vars")
    if values is not None and not isinstance(values, LMap):
        raise SpecError("a variant's 'vars' must be a mapping", entry.loc_of("vars"))
    return chosen, values


Resolution = int | tuple[int, int]  # H = W, or (height, width)


def input_shape(
    data: LMap, env: dict[str, Value], resolution: Resolution | None, evaluator: Evaluator
) -> Shape:
    """The network input ``[channels, height, width]`` at ``resolution`` (see :func:`sized`)."""
    raw = data.get("input")
    where = data.loc_of("input")
    if not isinstance(raw, LList) or len(raw) != 3:
        raise SpecError("'input' must be [channels, height, width]", where)
    dims = [
        evaluator.integer(value, raw.loc_of(i), env, what, maximum=limit)
        for i, (value, what, limit) in enumerate(
            zip(raw, INPUT_DIMENSIONS, (MAX_CHANNELS, MAX_SIZE, MAX_SIZE), strict=True)
        )
    ]
    if resolution is not None:
        dims[1], dims[2] = sized(resolution, dims[1], dims[2])
    shape = (dims[0], dims[1], dims[2])
    try:
        check_tensor(shape, "the input")
    except ShapeError as exc:
        raise SpecError(str(exc), where) from None
    return shape


def parse_resolution(text: str) -> Resolution:
    """``224`` (height = width) or ``160x128`` (height x width), each 1 to MAX_SIZE: how
    ``--res`` and budgets write a resolution.

    Raises ValueError naming the text otherwise.
    """
    parts = text.strip().lower().split("x")
    try:
        if len(parts) > 2:
            raise ValueError
        values = [int(part) for part in parts]
    except ValueError:
        raise ValueError(
            f"{short(text)} is not a resolution: N (height = width) or HxW such as 160x128"
        ) from None
    if not all(1 <= v <= MAX_SIZE for v in values):
        raise ValueError(f"{short(text)}: each side must be from 1 to {MAX_SIZE}")
    return values[0] if len(values) == 1 else (values[0], values[1])


def sides(resolution: Resolution) -> tuple[int, int]:
    """(height, width) of a resolution (one number: both)."""
    return resolution if isinstance(resolution, tuple) else (resolution, resolution)


def resolution_text(resolution: Resolution) -> str:
    """``224``, or ``160x128`` (height x width), as ``--res`` writes it."""
    height, width = sides(resolution)
    return str(height) if height == width else f"{height}x{width}"


def sized(resolution: object, height: int, width: int) -> tuple[int, int]:
    """The input (height, width) a resolution sets on a spec whose input is height x width.

    A pair (or a list of two) is (height, width); one number sets both, and is refused
    for a spec whose input is not square (which side would it set? the message gives the
    pair that keeps the spec's aspect ratio). Each is a whole number from 1 to MAX_SIZE.
    """
    pair = tuple(resolution) if isinstance(resolution, tuple | list) else (resolution,) * 2
    if len(pair) != 2 or not all(whole_in(v, 1, MAX_SIZE) for v in pair):
        raise SpecError(  # an option, not in the spec: no location
            f"resolution must be a whole number or a pair (height, width) of whole numbers "
            f"from 1 to {MAX_SIZE}, got {short(resolution)}"
        )
    if not isinstance(resolution, tuple | list) and height != width:
        keep = max(1, round(pair[0] * width / height))
        raise SpecError(
            f"resolution {pair[0]} is square but the spec's input is {height}x{width} "
            f"(height x width): give both, e.g. --res {pair[0]}x{keep} or resolution=({pair[0]}, "
            f"{keep}) keeps its aspect ratio"
        )
    return int(pair[0]), int(pair[1])


def variants(data: Any) -> dict[str, str]:
    """Variant names of a loaded spec with their descriptions (empty if it has none)."""
    found = data.get("variants") if isinstance(data, LMap) else None
    if not isinstance(found, LMap):
        return {}
    return {
        str(name): str(entry.get("description", "")) if isinstance(entry, LMap) else ""
        for name, entry in found.items()
    }


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
