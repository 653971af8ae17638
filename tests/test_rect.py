"""Rectangular windows: ``k``, ``stride``, ``dilation`` and ``padding`` written ``[h, w]``."""

from __future__ import annotations

import pytest

from lightcost.api import build
from lightcost.core.errors import SpecError
from lightcost.core.graph import Pair
from lightcost.cost.engine import cost_graph
from lightcost.ops import OPS
from lightcost.spec.expand import expand
from lightcost.spec.located import parse_yaml

# Inception-style factorised 7x7: a 1x7 then a 7x1 conv, and a rectangular pool.
SPEC = """\
input: [16, 17, 17]
layers:
  - {name: a, op: conv, k: [1, 7], out: 24, padding: [0, 3], bn: false}
  - {name: b, op: conv, k: [7, 1], out: 32, padding: [3, 0]}
  - {name: c, op: conv, k: [3, 3], stride: [2, 2], out: 8, padding: valid, bn: false}
  - {name: d, op: dwconv, k: [1, 3], stride: [1, 2], bn: false}
  - {name: e, op: maxpool, k: [3, 1]}
"""


def test_rectangular_convs_cost_by_hand() -> None:
    graph = build("rect.yaml", text=SPEC)
    nodes = {node.name: node for node in graph.nodes}
    assert nodes["a"].out_shape == (24, 17, 17)
    assert nodes["b"].out_shape == (32, 17, 17)
    assert nodes["c"].out_shape == (8, 8, 8)
    assert nodes["d"].out_shape == (8, 8, 4)  # SAME: ceil(8 / 1) x ceil(8 / 2)
    assert nodes["e"].out_shape == (8, 3, 4)  # stride 0 is the kernel: ceil(8/3) x ceil(4/1)
    assert nodes["c"].attrs["k"] == 3 and nodes["c"].attrs["stride"] == 2  # square: one int
    assert nodes["a"].attrs["k"] == Pair(1, 7)
    costs = {row.name: row for row in cost_graph(graph, "weights").layers}
    assert costs["a"].params == 1 * 7 * 16 * 24
    assert costs["a"].madds == 1 * 7 * 16 * 24 * 17 * 17
    assert costs["b"].params == 7 * 1 * 24 * 32
    assert costs["b"].madds == 7 * 1 * 24 * 32 * 17 * 17
    assert costs["c"].madds == 3 * 3 * 32 * 8 * 8 * 8
    assert costs["d"].params == 1 * 3 * 8 and costs["d"].madds == 3 * 8 * 8 * 4
    trainable = {row.name: row for row in cost_graph(graph, "trainable").layers}
    assert trainable["b"].params == 7 * 24 * 32 + 2 * 32  # BN gamma and beta


def test_labels_and_layer_types() -> None:
    graph = build("rect.yaml", text=SPEC)
    labels = {node.name: OPS[node.op].label(node) for node in graph.nodes}
    types = {node.name: OPS[node.op].layer_type(node) for node in graph.nodes}
    assert labels == {
        "a": "conv 1x7",
        "b": "conv 7x1",
        "c": "conv 3x3 s2",
        "d": "dwconv 1x3 s1x2",
        "e": "maxpool 3x1 s3x1",
    }
    assert (types["a"], types["b"], types["c"], types["d"]) == (
        "Conv 1x7",
        "Conv 7x1",
        "Conv 3x3",
        "Conv DW 1x3",
    )


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("{op: conv, k: [1, 7, 1], out: 8}", "'k' must be one value or a list [h, w]"),
        ("{op: conv, k: [1, 0], out: 8}", "'k' must be at least 1, got 0"),
        ("{op: conv, k: 3, out: 8, padding: [1, -1]}", "'padding' must be at least 0"),
        ("{op: maxpool, k: [3, 1], padding: [2, 0]}", "more than half the pooling window"),
    ],
)
def test_bad_pairs(item: str, message: str) -> None:
    with pytest.raises(SpecError, match=message.replace("[", r"\[").replace("]", r"\]")):
        build("bad.yaml", text=f"input: [4, 8, 8]\nlayers:\n  - {item}\n")


def test_pairs_may_be_expressions() -> None:
    text = "vars: {n: 7}\ninput: [4, 8, 8]\nlayers:\n  - {op: conv, k: [1, n], out: 8}\n"
    assert build("e.yaml", text=text).nodes[0].attrs["k"] == Pair(1, 7)


def test_export_import_round_trip_keeps_pairs() -> None:
    onnx = pytest.importorskip("onnx")
    from lightcost.interop.onnx.exporter import export_graph
    from lightcost.interop.onnx.importer import onnx_spec
    from lightcost.interop.onnx.writer import spec_yaml

    text = SPEC.replace("padding: [3, 0]}", "padding: same, stride: [2, 1]}")
    graph = build("rect.yaml", text=text)
    proto = export_graph(graph)
    onnx.checker.check_model(proto, full_check=True)
    convs = [node for node in proto.graph.node if node.op_type == "Conv"]
    attrs = {a.name: list(a.ints) for a in convs[1].attribute if a.ints}
    # 17 rows at stride 2: SAME pads 3 and 3 in height; width pads 0 (kernel width 1)
    assert attrs["kernel_shape"] == [7, 1] and attrs["strides"] == [2, 1]
    assert attrs["pads"] == [3, 0, 3, 0]
    yaml_text = spec_yaml(onnx_spec(proto, "m.onnx"), "m.onnx")
    assert "k: [1, 7]" in yaml_text and "padding: [0, 3]" in yaml_text
    back = expand(parse_yaml(yaml_text, "m.onnx"), "m.onnx")
    for convention in ("trainable", "weights", "deployed"):
        a, b = cost_graph(graph, convention).total(), cost_graph(back, convention).total()
        assert (a.params, a.madds, a.other_ops) == (b.params, b.madds, b.other_ops)
    assert [n.out_shape for n in back.nodes if n.op != "bn"] == [n.out_shape for n in graph.nodes]


def test_tensorflow_same_per_axis_exports_odd_pixel_at_the_end() -> None:
    pytest.importorskip("onnx")
    from lightcost.interop.onnx.exporter import export_graph

    text = "input: [4, 8, 9]\nlayers:\n  - {op: conv, k: [2, 4], stride: [1, 2], out: 8}\n"
    proto = export_graph(build("s.yaml", text=text))
    conv = next(node for node in proto.graph.node if node.op_type == "Conv")
    pads = next(list(a.ints) for a in conv.attribute if a.name == "pads")
    # height: total 1 -> (0, 1); width: out 5, (5-1)*2+4-9 = 3 -> (1, 2)
    assert pads == [0, 1, 1, 2]
