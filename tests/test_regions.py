"""Attention-region matching stays bounded on graphs no exporter writes (a cycle)."""

from __future__ import annotations

from typing import Any

import pytest

helper = pytest.importorskip("onnx").helper

from lightcost.interop.onnx.regions import find_regions  # noqa: E402


class CycleModel:
    """Just what the finder reads of an OnnxModel: a Softmax read by an Identity that reads
    its own output (a cycle), all tensors data, none a graph output."""

    def __init__(self) -> None:
        self.nodes = [
            helper.make_node("Softmax", ["s"], ["p"], name="softmax"),
            helper.make_node("Identity", ["p"], ["p"], name="loop"),
        ]
        self.readers = {"s": [self.nodes[0]], "p": [self.nodes[1]]}
        self.outputs: set[str] = set()

    def const_dims(self, name: str) -> None:
        return None

    def only_reader(self, tensor: str) -> Any:
        readers = self.readers.get(tensor, [])
        return readers[0] if len(readers) == 1 else None


def test_a_cycle_after_softmax_ends_the_walk_without_a_region() -> None:
    assert find_regions(CycleModel()) == {}  # type: ignore[arg-type]
