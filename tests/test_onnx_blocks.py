"""Block paths: a layer's ``block`` key; imported layers grouped by their PyTorch modules."""

from __future__ import annotations

from pathlib import Path

import pytest

from lightcost.api import build
from lightcost.core.errors import SpecError
from lightcost.cost.engine import cost_graph
from lightcost.interop.onnx.importer import spec_name
from lightcost.interop.onnx.scopes import module_path

SCOPES = "pkg.torch.onnx.name_scopes"
CORPUS = Path(__file__).parent / "onnx_corpus"
RESNET_TOP = ["conv1", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool", "fc"]
SPEC = """lightcost: 1
name: t
input: [3, 32, 32]
width: fixed
layers:
  - {name: a, op: conv, out: 8, k: 3, block: [stem]}
  - {name: b, op: conv, out: 8, k: 3, block: [stage1, stage1.0]}
  - {name: c, op: conv, out: 8, k: 3, block: [stage1, stage1.1], from: a}
  - {name: d, op: add, from: [b, c]}
"""


def test_block_key_groups_rows_and_keeps_names() -> None:
    graph = build("t.yaml", text=SPEC)
    assert [n.name for n in graph.nodes] == ["a", "b", "c", "d"]
    assert [n.block for n in graph.nodes] == [("stem",), ("stage1", "stage1.0"),
                                             ("stage1", "stage1.1"), ()]  # fmt: skip
    cost = cost_graph(graph, "trainable")
    rows = cost.by_block(1)
    assert [r.label for r in rows] == ["stem", "stage1", "d"]
    assert sum(r.madds for r in rows) == cost.total().madds
    assert [r.label for r in cost.by_block(None)] == ["a", "b", "c", "d"]


@pytest.mark.parametrize(
    ("value", "message"),
    [("stem", "list of names"), ("[]", "list of names"), ("[1]", "must be text"),
     ("[input]", "not a valid block name"), ("['a b']", "not a valid block name"),
     (f"[{'x' * 100}, {'y' * 100}]", "block path")],
)  # fmt: skip
def test_bad_block_key(value: str, message: str) -> None:
    text = SPEC.replace("block: [stem]", f"block: {value}")
    with pytest.raises(SpecError, match=message):
        build("t.yaml", text=text)


@pytest.mark.parametrize("file", ["resnet18.onnx", "resnet18.dynamo.onnx"])
def test_resnet18_depth_1(file: str) -> None:
    cost = cost_graph(build(str(CORPUS / file)), "trainable")
    rows = cost.by_block(1)
    names = [r.label for r in rows]
    assert names[1:] == RESNET_TOP[1:]
    assert names[0] == ("conv1" if file == "resnet18.onnx" else "bn1")  # dynamo: the folded BN's
    assert sum(r.madds for r in rows) == cost.total().madds
    assert sum(r.params for r in rows) == cost.total().params
    assert len(cost.by_block(None)) == len(cost.layers)


class _Prop:
    def __init__(self, key: str, value: str) -> None:
        self.key, self.value = key, value


class _Node:
    def __init__(self, name: str, props: list[_Prop] | None = None) -> None:
        self.name, self.metadata_props = name, props or []


@pytest.mark.parametrize(
    ("node", "path"),
    [
        (_Node("/features/features.4/conv/conv.0/conv.0.0/Conv"),
         ("features", "features.4", "conv", "conv.0", "conv.0.0")),
        (_Node("/0/Relu"), ("n_0",)),
        (_Node("Conv_3"), ()),
        (_Node("/Conv"), ()),
        (_Node("node_Conv_1", [_Prop(SCOPES, "['', 'layer1', 'layer1.0', 'c']")]),
         ("layer1", "layer1.0")),
        (_Node("node_Conv_1", [_Prop(SCOPES, "not a list [")]), ()),
        (_Node("node_Conv_1", [_Prop(SCOPES, "[1, 2, 3]")]), ()),
        (_Node("/" + "/".join(["m" * 60] * 4) + "/Conv"), ("m" * 60, "m" * 60)),
    ],
)  # fmt: skip
def test_module_path(node: _Node, path: tuple[str, ...]) -> None:
    assert module_path(node, spec_name) == path
