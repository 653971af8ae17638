"""The writing half of ONNX import: imported layers as spec items and as readable spec YAML."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import yaml

from lightcost.core.errors import one_line
from lightcost.core.graph import INPUT, AttrValue
from lightcost.ops import OPS

MAX_TEXT = 200  # characters of a text from the model: the spec's name, description, source


@dataclass
class Layer:
    """One spec layer being built: its name, op, non-default attributes and inputs."""

    name: str
    op: str
    attrs: dict[str, AttrValue]
    inputs: list[str]
    block: tuple[str, ...] = ()  # the module path (.scopes); written as ``block`` when set


def spec_items(layers: list[Layer]) -> list[dict[str, Any]]:
    """The layers as spec items: attributes equal to the op's default left out, and
    ``from`` only when a layer does not read the one before it."""
    items: list[dict[str, Any]] = []
    prev = INPUT
    for layer in layers:
        item: dict[str, Any] = {"name": layer.name, "op": layer.op}
        defaults = OPS[layer.op].attrs
        item.update(
            (key, list(value) if isinstance(value, tuple) else value)  # a pair: [h, w]
            for key, value in layer.attrs.items()
            if key not in defaults or value != defaults[key].default
        )
        if layer.inputs != [prev]:
            item["from"] = layer.inputs[0] if len(layer.inputs) == 1 else layer.inputs
        if layer.block:
            item["block"] = list(layer.block)
        items.append(item)
        prev = layer.name
    return items


def spec_yaml(spec: dict[str, Any], source: str) -> str:
    """A readable spec: a comment header naming ``source``, one flow mapping per layer."""
    lines = [
        f"# Imported from {text(os.path.basename(source))} by `lightcost import` (docs/onnx.md).",
        "# Layers are named after the ONNX nodes; a BatchNormalization after a conv is its",
        "# `bn: true`, an activation after a conv, fc or add its `act`; widths are fixed.",
    ]
    lines += [f"{key}: {_flow(value)}" for key, value in spec.items() if key != "layers"]
    lines.append("layers:")
    lines += [f"  - {_flow(layer)}" for layer in spec["layers"]]
    return "\n".join(lines) + "\n"


def text(raw: str | bytes, limit: int = MAX_TEXT) -> str:
    """Text from a model (a graph, node or producer name, a path) as a spec or a message
    shows it: one line (non-printable characters escaped), at most ``limit`` characters."""
    line = one_line(decoded(raw))
    return line if len(line) <= limit else f"{line[: limit - 3]}..."


def decoded(raw: str | bytes) -> str:
    """A string field of the model as text: protobuf gives bytes for invalid UTF-8."""
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw


def _flow(value: Any) -> str:
    """``value`` in YAML flow style on one line."""
    text: str = yaml.safe_dump(value, default_flow_style=True, width=10**6, sort_keys=False)
    return text.removesuffix("\n").removesuffix("\n...")
