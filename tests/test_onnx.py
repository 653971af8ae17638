"""ONNX interop: import (every mapped operator, against hand calculations), export, round trip.

Hand calculations follow the conventions of lightcost.cost.engine: conv weights
k*k*(C_in/groups)*C_out, MAdds weights x output H x W, BN 2 params per channel
(trainable), other ops per output element (BN 2, bias 1, ReLU 1, ReLU6 2,
h-sigmoid 4, h-swish 5, sigmoid 4, swish 5, tanh 5, add 1 per extra input, mul 1,
pooling k*k, global pooling C*H*W).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import Invoke
from lightcost.api import analyze, build
from lightcost.core.errors import SpecError
from lightcost.core.graph import Graph
from lightcost.cost.engine import ModelCost, cost_graph
from lightcost.spec.expand import expand
from lightcost.spec.files import bundled_names
from lightcost.spec.located import parse_yaml

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from lightcost.interop.onnx.exporter import MAX_VALUES, export_graph  # noqa: E402
from lightcost.interop.onnx.importer import onnx_spec  # noqa: E402
from lightcost.interop.onnx.writer import spec_yaml  # noqa: E402
from lightcost.ops import same_pads  # noqa: E402


def init(name: str, *shape: int, values: Any = None) -> TensorProto:
    """An initializer (zeros, or ``values``) of float32, or int64 when ``values`` are ints."""
    array = np.zeros(shape, dtype=np.float32) if values is None else np.asarray(values)
    if array.dtype.kind == "i":
        array = array.astype(np.int64)
    return numpy_helper.from_array(array, name)


def model(nodes: list[Any], shape: tuple[int, int, int], inits: Sequence[Any] = ()) -> Any:
    """A model reading ``x`` of ``[1, *shape]``, returning the last node's first output."""
    graph = helper.make_graph(
        nodes,
        "test_net",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, *shape])],
        [helper.make_tensor_value_info(nodes[-1].output[0], TensorProto.FLOAT, None)],
        list(inits),
    )
    result = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    result.ir_version = 8
    return result


def cost_of(proto: Any, tmp_path: Path, params: str = "trainable") -> ModelCost:
    """Save ``proto`` and cost it through the public API (the loader's .onnx hook)."""
    path = tmp_path / "model.onnx"
    onnx.save(proto, str(path))
    return analyze(str(path), params=params)


def ops(cost: ModelCost) -> list[tuple[str, str]]:
    return [(layer.name, layer.op) for layer in cost.layers]


def conv_node(name: str, x: str, w: str, bias: str | None = None, **attrs: Any) -> Any:
    inputs = [x, w] if bias is None else [x, w, bias]
    return helper.make_node("Conv", inputs, [name], name=name, **attrs)


def bn_inits(name: str, c: int) -> list[TensorProto]:
    return [init(f"{name}_{p}", c) for p in ("s", "b", "m", "v")]


def bn_node(name: str, x: str) -> Any:
    inputs = [x, *(f"{name}_{p}" for p in ("s", "b", "m", "v"))]
    return helper.make_node("BatchNormalization", inputs, [name], name=name)


# -- convolutions -------------------------------------------------------------------------------


def test_conv_bn_relu_fold_into_one_layer(tmp_path: Path) -> None:
    # 3x8x8 -> conv 3x3 s2 pad 1, 16 out, no bias -> 16x4x4; weights 3*3*3*16 = 432,
    # BN 2*16 = 32: 464 params; MAdds 432 * 4*4 = 6912; other ops 16*4*4 * (BN 2 + ReLU 1).
    proto = model(
        [
            conv_node("conv1", "x", "W", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
            bn_node("bn1", "conv1"),
            helper.make_node("Relu", ["bn1"], ["relu1"], name="relu1"),
        ],
        (3, 8, 8),
        [init("W", 16, 3, 3, 3), *bn_inits("bn1", 16)],
    )
    cost = cost_of(proto, tmp_path)
    (layer,) = cost.layers
    assert (layer.name, layer.op, layer.out_shape) == ("conv1", "conv", (16, 4, 4))
    assert (layer.params, layer.madds, layer.other_ops) == (464, 6912, 16 * 16 * 3)
    assert cost_of(proto, tmp_path, "deployed").total().params == 432 + 16  # BN folded: a bias


def test_depthwise_grouped_dilated_and_same_padding(tmp_path: Path) -> None:
    proto = model(
        [
            # group = input channels (8), 16 outputs: dwconv, multiplier 2; weights 9 * 16 = 144,
            # bias 16; 8x8 -> 8x8: MAdds 144 * 64 = 9216
            conv_node("dw", "x", "Wdw", "Bdw", kernel_shape=[3, 3], group=8, pads=[1, 1, 1, 1]),
            # group 2, 16 -> 16, 1x1: weights (16 / 2) * 16 = 128; MAdds 128 * 64 = 8192
            conv_node("gconv", "dw", "Wg", group=2),
            # 3x3 dilation 2 pad 2 keeps 8x8: weights 9 * 16 * 4 = 576; MAdds 576 * 64 = 36864
            conv_node(
                "dil", "gconv", "Wd", kernel_shape=[3, 3], dilations=[2, 2], pads=[2, 2, 2, 2]
            ),
            # TF SAME, s2 on 8: total pad (4 - 1) * 2 + 3 - 8 = 1 -> [0, 0, 1, 1]; 8x8 -> 4x4;
            # weights 9 * 4 * 4 = 144; MAdds 144 * 16 = 2304
            conv_node("same", "dil", "Ws", kernel_shape=[3, 3], strides=[2, 2], pads=[0, 0, 1, 1]),
        ],
        (8, 8, 8),
        [
            init("Wdw", 16, 1, 3, 3),
            init("Bdw", 16),
            init("Wg", 16, 8, 1, 1),
            init("Wd", 4, 16, 3, 3),
            init("Ws", 4, 4, 3, 3),
        ],
    )
    cost = cost_of(proto, tmp_path)
    assert ops(cost) == [("dw", "dwconv"), ("gconv", "conv"), ("dil", "conv"), ("same", "conv")]
    assert [(la.params, la.madds) for la in cost.layers] == [
        (144 + 16, 9216),
        (128, 8192),
        (576, 36864),
        (144, 2304),
    ]
    dw, gconv, dil, same = (la for la in cost.graph.nodes)
    assert (dw.attrs["multiplier"], gconv.attrs["groups"], dil.attrs["dilation"]) == (2, 2, 2)
    assert same.attrs["padding"] == "same" and same.out_shape == (4, 4, 4)
    assert same_pads(8, 3, 2) == (0, 1)


def test_asymmetric_pads_that_are_not_same_are_per_side_padding(tmp_path: Path) -> None:
    proto = model(
        [conv_node("odd", "x", "W", kernel_shape=[3, 3], pads=[2, 0, 0, 0])],
        (3, 8, 8),
        [init("W", 4, 3, 3, 3)],
    )
    (odd,) = cost_of(proto, tmp_path).graph.nodes
    assert odd.attrs["padding"] == (2, 0, 0, 0) and odd.out_shape == (4, 8, 6)


# -- fully connected ----------------------------------------------------------------------------


def test_flatten_gemm_and_matmul_add_are_one_fc(tmp_path: Path) -> None:
    # 4x2x2 = 16 features -> 10: weights 160 + bias 10 = 170 params, MAdds 160.
    gemm = model(
        [
            helper.make_node("Flatten", ["x"], ["flat"], name="flat", axis=1),
            helper.make_node("Gemm", ["flat", "W", "B"], ["fc"], name="fc", transB=1),
        ],
        (4, 2, 2),
        [init("W", 10, 16), init("B", 10)],
    )
    matmul = model(
        [
            helper.make_node("Flatten", ["x"], ["flat"], name="flat", axis=1),
            helper.make_node("MatMul", ["flat", "W"], ["mm"], name="fc"),
            helper.make_node("Add", ["mm", "B"], ["out"], name="bias"),
        ],
        (4, 2, 2),
        [init("W", 16, 10), init("B", 10)],
    )
    for proto in (gemm, matmul):
        cost = cost_of(proto, tmp_path)
        assert ops(cost) == [("fc", "fc")]
        assert (cost.total().params, cost.total().madds) == (170, 160)


# -- normalization and activations ----------------------------------------------------------------


def test_bn_not_after_a_conv_is_a_bn_layer(tmp_path: Path) -> None:
    # the conv's output is read twice (BN and the add), so BN cannot fold: a bn layer with
    # 2 * 4 params; conv 1x1 4 -> 4: 16 weights.
    proto = model(
        [
            conv_node("conv", "x", "W"),
            bn_node("bn", "conv"),
            helper.make_node("Add", ["conv", "bn"], ["add"], name="add"),
        ],
        (4, 3, 3),
        [init("W", 4, 4, 1, 1), *bn_inits("bn", 4)],
    )
    cost = cost_of(proto, tmp_path)
    assert ops(cost) == [("conv", "conv"), ("bn", "bn"), ("add", "add")]
    assert [la.params for la in cost.layers] == [16, 8, 0]


def test_activations_and_swish(tmp_path: Path) -> None:
    # each activation reads the previous activation (not a conv, so no folding); 2x3x3 = 18
    # elements: relu6 2, hswish 5, hsigmoid 4, sigmoid 4, tanh 5, relu 1, swish 5 per element
    names = ["clip", "hswish", "hsig", "sig", "tanh", "relu"]
    nodes = [
        helper.make_node("Clip", ["x", "zero", "six"], ["clip"], name="clip"),
        helper.make_node("HardSwish", ["clip"], ["hswish"], name="hswish"),
        helper.make_node("HardSigmoid", ["hswish"], ["hsig"], name="hsig", alpha=1 / 6),
        helper.make_node("Sigmoid", ["hsig"], ["sig"], name="sig"),
        helper.make_node("Tanh", ["sig"], ["tanh"], name="tanh"),
        helper.make_node("Relu", ["tanh"], ["relu"], name="relu"),
        helper.make_node("Sigmoid", ["relu"], ["gate"], name="gate"),
        helper.make_node("Mul", ["relu", "gate"], ["swish"], name="swish"),
    ]
    scalars = [init("zero", values=np.float32(0)), init("six", values=np.float32(6))]
    cost = cost_of(model(nodes, (2, 3, 3), scalars), tmp_path)
    assert ops(cost) == [
        *zip(names, ["relu6", "hswish", "hsigmoid", "sigmoid", "tanh", "relu"], strict=True),
        ("swish", "swish"),
    ]
    assert [la.other_ops for la in cost.layers] == [18 * n for n in (2, 5, 4, 4, 5, 1, 5)]


def test_clip_other_than_relu6_is_an_error(tmp_path: Path) -> None:
    nodes = [helper.make_node("Clip", ["x", "zero", "three"], ["c"], name="c3")]
    scalars = [init("zero", values=np.float32(0)), init("three", values=np.float32(3))]
    with pytest.raises(SpecError, match=r"node 'c3' \(Clip\): Clip\(0.0, 3.0\)"):
        cost_of(model(nodes, (2, 3, 3), scalars), tmp_path)


def test_squeeze_excite_as_exported_by_frameworks(tmp_path: Path) -> None:
    # x 16x4x4; pool; 1x1 conv 16 -> 4 with bias (64 + 4), ReLU; 1x1 conv 4 -> 16 with bias
    # (64 + 16), h-sigmoid; scale: 148 params, MAdds 64 + 64 = 128 (lightcost's se op: the
    # same 2 * C * squeeze MAdds and 2 * C * squeeze + squeeze + C params).
    nodes = [
        helper.make_node("GlobalAveragePool", ["x"], ["pool"], name="pool"),
        conv_node("fc1", "pool", "W1", "B1"),
        helper.make_node("Relu", ["fc1"], ["r"], name="r"),
        conv_node("fc2", "r", "W2", "B2"),
        helper.make_node("HardSigmoid", ["fc2"], ["g"], name="g", alpha=1 / 6),
        helper.make_node("Mul", ["g", "x"], ["scale"], name="scale"),  # gate first: reordered
    ]
    inits = [init("W1", 4, 16, 1, 1), init("B1", 4), init("W2", 16, 4, 1, 1), init("B2", 16)]
    cost = cost_of(model(nodes, (16, 4, 4), inits), tmp_path)
    assert ops(cost) == [("pool", "avgpool"), ("fc1", "conv"), ("fc2", "conv"), ("scale", "mul")]
    assert (cost.total().params, cost.total().madds) == (148, 128)
    assert [n.attrs.get("act") for n in cost.graph.nodes[1:3]] == ["relu", "hsigmoid"]
    assert cost.graph.nodes[-1].inputs == ("input", "fc2")


# -- element-wise, data movement, pooling ----------------------------------------------------------


def test_add_concat_split_slice_shuffle_pools_views(tmp_path: Path) -> None:
    # x 8x8x8
    nodes = [
        helper.make_node("Relu", ["x"], ["r"], name="r"),
        helper.make_node("Add", ["x", "r"], ["add"], name="add"),  # 1 per element
        helper.make_node("Relu", ["add"], ["add_relu"], name="add_relu"),  # folded: act
        helper.make_node("Split", ["add_relu"], ["s0", "s1"], name="split", axis=1),
        helper.make_node("Slice", ["add_relu", "st", "en", "ax"], ["sl"], name="slice"),
        helper.make_node("Concat", ["s1", "s0"], ["cat"], name="cat", axis=1),
        helper.make_node("Reshape", ["cat", "shape5"], ["g"], name="shuffle"),
        helper.make_node("Transpose", ["g"], ["t"], name="t", perm=[0, 2, 1, 3, 4]),
        helper.make_node("Reshape", ["t", "shape4"], ["shuf"], name="back"),
        helper.make_node(
            "AveragePool", ["shuf"], ["ap"], name="ap", kernel_shape=[2, 2], strides=[2, 2]
        ),
        helper.make_node(
            "MaxPool",
            ["ap"],
            ["mp"],
            name="mp",
            kernel_shape=[3, 3],
            strides=[2, 2],
            pads=[1, 1, 1, 1],
        ),
        helper.make_node("Identity", ["mp"], ["id"], name="id"),
        helper.make_node("Dropout", ["id"], ["drop"], name="drop"),
        helper.make_node("GlobalMaxPool", ["drop"], ["gmp"], name="gmp"),
        helper.make_node("GlobalAveragePool", ["sl"], ["gap"], name="gap"),
        helper.make_node("Flatten", ["gap"], ["flat"], name="flat"),  # keeps 2x1x1: a view
        helper.make_node("Unsqueeze", ["flat", "axes23"], ["unsq"], name="unsq"),
        helper.make_node("Mul", ["drop", "gmp"], ["out"], name="mul"),
    ]
    inits = [
        init("st", values=[2]),
        init("en", values=[4]),
        init("ax", values=[1]),
        init("shape5", values=[1, 2, 4, 8, 8]),
        init("shape4", values=[1, 8, 8, 8]),
        init("axes23", values=[2, 3]),
    ]
    proto = model(nodes, (8, 8, 8), inits)
    proto.graph.output.append(helper.make_tensor_value_info("unsq", TensorProto.FLOAT, None))
    cost = cost_of(proto, tmp_path)
    layers = {la.name: la for la in cost.layers}
    assert ops(cost) == [
        ("r", "relu"),
        ("add", "add"),
        ("split_0", "split"),
        ("split_1", "split"),
        ("slice", "split"),
        ("cat", "concat"),
        ("shuffle", "shuffle"),
        ("ap", "avgpool"),
        ("mp", "maxpool"),
        ("id", "identity"),
        ("drop", "dropout"),
        ("gmp", "maxpool"),
        ("gap", "avgpool"),
        ("mul", "mul"),
    ]
    nodes_by_name = {n.name: n for n in cost.graph.nodes}
    assert nodes_by_name["add"].attrs["act"] == "relu"
    assert layers["add"].other_ops == 512 * 2  # add 1 + ReLU 1 per element
    assert [nodes_by_name[n].attrs["index"] for n in ("split_0", "split_1")] == [0, 1]
    # channels 2:4 of 8 are part 1 of 4 equal parts
    assert (nodes_by_name["slice"].attrs["parts"], nodes_by_name["slice"].attrs["index"]) == (4, 1)
    assert nodes_by_name["shuffle"].attrs["groups"] == 2
    assert layers["ap"].out_shape == (8, 4, 4) and layers["ap"].other_ops == 4 * 128
    assert layers["mp"].out_shape == (8, 2, 2) and layers["mp"].other_ops == 9 * 32
    assert layers["gmp"].other_ops == 32 and layers["gap"].other_ops == 2 * 64
    assert layers["mul"].other_ops == 32  # 8x2x2 scaled by an 8x1x1 gate
    assert cost.total().madds == 0 and cost.total().params == 0


def opset(proto: Any, version: int) -> Any:
    """``proto`` declaring opset ``version``."""
    del proto.opset_import[:]
    proto.opset_import.append(helper.make_opsetid("", version))
    return proto


def test_reduce_mean_over_h_and_w_is_a_global_avgpool(tmp_path: Path) -> None:
    # opset 17 (axes attribute) keepdims 1 and 0; opset 18 (axes input) with negative axes:
    # each a global average pool of 8x4x4 (other ops 128); [N, C] is C x 1 x 1 to lightcost.
    nodes17 = [
        helper.make_node("ReduceMean", ["x"], ["m1"], name="m1", axes=[2, 3], keepdims=1),
        helper.make_node("ReduceMean", ["x"], ["m0"], name="m0", axes=[-1, -2], keepdims=0),
        helper.make_node("Unsqueeze", ["m0", "axes23"], ["m0u"], name="unsq"),
        helper.make_node("Add", ["m1", "m0u"], ["out"], name="add"),
    ]
    cost = cost_of(model(nodes17, (8, 4, 4), [init("axes23", values=[2, 3])]), tmp_path)
    assert ops(cost) == [("m1", "avgpool"), ("m0", "avgpool"), ("add", "add")]
    assert [la.other_ops for la in cost.layers[:2]] == [128, 128]
    assert cost.layers[1].out_shape == (8, 1, 1)
    for axes in ([-2, -1], [2, 3]):
        nodes18 = [helper.make_node("ReduceMean", ["x", "axes"], ["m"], name="m", keepdims=0)]
        proto = opset(model(nodes18, (8, 4, 4), [init("axes", values=axes)]), 18)
        cost = cost_of(proto, tmp_path)
        assert ops(cost) == [("m", "avgpool")] and cost.layers[0].out_shape == (8, 1, 1)


@pytest.mark.parametrize("axes", [[1], [1, 2, 3], [3]])
def test_reduce_mean_over_other_axes_is_an_error(tmp_path: Path, axes: list[int]) -> None:
    nodes = [helper.make_node("ReduceMean", ["x"], ["m"], name="mean", axes=axes)]
    with pytest.raises(SpecError, match=r"node 'mean' \(ReduceMean\): axes .* only H and W"):
        cost_of(model(nodes, (8, 4, 4)), tmp_path)


def test_identity_of_a_constant_is_the_constant(tmp_path: Path) -> None:
    # the classic exporter shares equal initializers through Identity nodes: two convs
    # 8 -> 8 1x1 reading one weight (64 params each), no identity layer
    nodes = [
        helper.make_node("Identity", ["W"], ["W2"], name="Identity_0"),
        helper.make_node("Identity", ["W2"], ["W3"], name="Identity_1"),
        conv_node("c1", "x", "W"),
        conv_node("c2", "c1", "W3"),
    ]
    cost = cost_of(model(nodes, (8, 4, 4), [init("W", 8, 8, 1, 1)]), tmp_path)
    assert ops(cost) == [("c1", "conv"), ("c2", "conv")]
    assert (cost.total().params, cost.total().madds) == (128, 128 * 16)


def test_shape_arithmetic_folds_to_constants(tmp_path: Path) -> None:
    # x.chunk(2, dim=1) as the classic exporter writes it: Shape -> Gather -> Add -> Div ->
    # Mul -> Slice ends; and Shape -> Cast -> Div -> Floor -> Cast -> Sub, Unsqueeze, Concat,
    # ConstantOfShape: channels 0:4 and 4:8 of 8 are parts 0 and 1 of 2.
    def const(name: str, values: Any) -> Any:
        return helper.make_node("Constant", [], [name], value=init(name, values=values))

    nodes = [
        helper.make_node("Shape", ["x"], ["shape"], name="shape"),
        const("one", [1]),
        helper.make_node("Gather", ["shape", "one"], ["c"], name="gather", axis=0),
        helper.make_node("Add", ["c", "one"], ["c1"], name="add1"),
        const("two", [2]),
        helper.make_node("Div", ["c1", "two"], ["half"], name="div"),
        helper.make_node("Mul", ["half", "two"], ["end"], name="mul"),
        const("zero", [0]),
        helper.make_node("Slice", ["x", "zero", "half", "one"], ["a"], name="lo"),
        helper.make_node("Slice", ["x", "half", "end", "one"], ["b"], name="hi"),
        helper.make_node("Cast", ["c"], ["cf"], name="cast", to=TensorProto.FLOAT),
        const("twof", np.array([2.0], dtype=np.float32)),
        helper.make_node("Div", ["cf", "twof"], ["hf"], name="divf"),
        helper.make_node("Floor", ["hf"], ["ff"], name="floor"),
        helper.make_node("Cast", ["ff"], ["h"], name="cast2", to=TensorProto.INT64),
        helper.make_node("Sub", ["end", "h"], ["start"], name="sub"),
        helper.make_node("Squeeze", ["start"], ["s0"], name="sq"),
        helper.make_node("Unsqueeze", ["s0", "zero"], ["s1"], name="unsq"),
        helper.make_node("Concat", ["s1", "end"], ["se"], name="cat", axis=0),
        helper.make_node("ConstantOfShape", ["one"], ["ax"], value=init("v", values=[1])),
        helper.make_node("Slice", ["se", "zero", "one"], ["st"], name="first"),
        helper.make_node("Slice", ["x", "st", "end", "ax"], ["b2"], name="hi2"),
        helper.make_node("Concat", ["b", "a"], ["cat2"], name="swap", axis=1),
        helper.make_node("Concat", ["b2", "a"], ["cat3"], name="swap2", axis=1),
        helper.make_node("Add", ["cat2", "cat3"], ["out"], name="out"),
    ]
    cost = cost_of(model(nodes, (8, 2, 2)), tmp_path)
    assert ops(cost) == [
        ("lo", "split"),
        ("hi", "split"),
        ("hi2", "split"),
        ("swap", "concat"),
        ("swap2", "concat"),
        ("out", "add"),
    ]
    split = {n.name: (n.attrs["parts"], n.attrs["index"]) for n in cost.graph.nodes[:3]}
    assert split == {"lo": (2, 0), "hi": (2, 1), "hi2": (2, 1)}


@pytest.mark.parametrize(("graph_name", "title"), [("main_graph", "model"), ("net", "net")])
def test_exporter_default_graph_name_gives_the_file_name(
    tmp_path: Path, graph_name: str, title: str
) -> None:
    proto = model([helper.make_node("Relu", ["x"], ["r"], name="r")], (2, 2, 2))
    proto.graph.name = graph_name
    assert cost_of(proto, tmp_path).graph.name == title


def test_unequal_split_and_slice_are_sizes_and_slice(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Split", ["x", "sizes"], ["a", "b"], name="sp", axis=1),
        helper.make_node("Slice", ["b", "zero", "two", "one"], ["c"], name="narrow"),
        helper.make_node("Concat", ["a", "c"], ["out"], name="cat", axis=1),
    ]
    consts = [init("sizes", values=[1, 3]), init("zero", values=[0]), init("two", values=[2])]
    cost = cost_of(model(nodes, (4, 2, 2), [*consts, init("one", values=[1])]), tmp_path)
    assert ops(cost) == [("sp_0", "split"), ("sp_1", "split"), ("narrow", "slice"),
                         ("cat", "concat")]  # fmt: skip
    assert cost.graph.nodes[1].attrs["sizes"] == (1, 3) and cost.graph.nodes[1].out_shape[0] == 3
    assert cost.graph.nodes[2].out_shape == (2, 2, 2)


def test_unknown_operators_are_listed_by_name_and_count(tmp_path: Path, invoke: Invoke) -> None:
    nodes = [
        helper.make_node("Sin", ["x"], ["e1"], name="e1"),
        helper.make_node("Sin", ["e1"], ["e2"], name="e2"),
        helper.make_node("Cos", ["e2"], ["sm"], name="sm"),
        helper.make_node("Relu", ["sm"], ["r"], name="r"),
    ]
    message = (
        "unsupported ONNX operators: Sin x2 (first: e1, e2), Cos x1 (first: sm); "
        "see docs/onnx.md for what is mapped"
    )
    with pytest.raises(SpecError, match=re.escape(message)):
        cost_of(model(nodes, (4, 2, 2)), tmp_path)
    result = invoke("table", str(tmp_path / "model.onnx"))
    assert result.exit_code == 2
    assert f"model.onnx: {message}" in result.stderr
    assert "Relu" not in result.stderr  # no list of mapped operators


def test_unknown_operator_names_are_bounded_and_escaped(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Sin", ["x"], ["e1"], name="a\nb\x1b[31m"),
        helper.make_node("Sin", ["e1"], ["e2"], name="n" * 500),
        helper.make_node("Sin", ["e2"], ["e3"], name="third"),
        helper.make_node("Sin", ["e3"], ["e4"]),
    ]
    with pytest.raises(SpecError) as raised:
        cost_of(model(nodes, (4, 2, 2)), tmp_path)
    message = str(raised.value)
    assert message.isprintable() and "third" not in message
    assert "Sin x4 (first: a\\nb\\x1b[31m, nnn" in message
    assert len(message) < 400


# -- export and round trip -------------------------------------------------------------------------

ZOO = """
name: zoo
input: [8, 16, 16]
layers:
  - {name: stem, op: conv, k: 3, stride: 2, out: 16, bias: true, act: swish}
  - {name: dw, op: dwconv, k: 5, multiplier: 2, act: hsigmoid}
  - {name: se, op: se, squeeze: 8, act: silu, gate: sigmoid}
  - {name: bn, op: bn}
  - {name: t, op: tanh}
  - {name: sig, op: sigmoid}
  - {name: a, op: split, parts: 4, index: 3}
  - {name: b, op: split, parts: 4, index: 1, from: sig}
  - {name: sum, op: add, from: [a, b, a], act: relu}
  - {name: shuffle, op: shuffle, groups: 4}
  - {name: cat, op: concat, from: [shuffle, a]}
  - {name: pool, op: avgpool, k: 3, stride: 2, padding: valid}
  - {name: mp, op: maxpool, k: 2, dilation: 2}
  - {name: flat, op: flatten}
  - {name: fc, op: fc, out: 24, act: hswish}
  - {name: proj, op: conv, k: 1, out: 12, groups: 4, bn: false, from: fc}
  - {name: gate, op: relu6}
  - {name: drop, op: dropout}
  - {name: id, op: identity}
  - {name: gap, op: maxpool, global: true, from: cat}
  - {name: scaled, op: mul, from: [cat, gap]}
  - {name: head, op: fc, out: 10, bias: false}
"""


def assert_round_trip(spec: str, text: str | None = None, **config: Any) -> None:
    """Export, check, import: params (every convention), MAdds and other ops are equal."""
    graph = build(spec, text=text, **config)
    proto = export_graph(graph)
    onnx.checker.check_model(proto, full_check=True)
    back = expand(parse_yaml(spec_yaml(onnx_spec(proto, "m.onnx"), "m.onnx"), "m.onnx"), "m.onnx")
    for convention in ("trainable", "weights", "deployed"):
        a, b = cost_graph(graph, convention).total(), cost_graph(back, convention).total()
        assert (a.params, a.madds, a.other_ops) == (b.params, b.madds, b.other_ops), convention


def test_every_op_round_trips_and_runs() -> None:
    assert_round_trip("zoo.yaml", ZOO)
    ort = pytest.importorskip("onnxruntime")
    proto = export_graph(build("zoo.yaml", text=ZOO))
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    (out,) = session.run(None, {"input": np.ones((1, 8, 16, 16), dtype=np.float32)})
    assert out.shape == (1, 10)


# Ops reading learned tensors: layers' weights, LayerNorm's gamma and beta, layer scale and
# GroupNorm's per-channel gamma (Mul) and beta (Add), positional embeddings (Add), class
# tokens (Concat). InstanceNormalization's unit scale and zero shift (GroupNorm) are helpers.
LAYER_WEIGHT_OPS = ("Conv", "Gemm", "BatchNormalization", "LayerNormalization", "Mul", "Add")
LEARNED_CONCAT = "Concat"


def stored_weights(proto: Any) -> int:
    """Elements of the initializers that are layer weights: inputs 1.. of Conv, Gemm, BN.

    The exporter also writes helper constants as initializers: Clip's 0 and 6 (float
    scalars read by Clip), Reshape target shapes and Slice starts/ends/axes (int64).
    A weight is told apart by who reads it: an initializer feeding a Conv (W, B), a
    Gemm (W, B) or a BatchNormalization (scale, shift, mean, var). Every other
    initializer must be a helper constant (asserted), so no weight is left uncounted.
    """
    initializers = {t.name: t for t in proto.graph.initializer}
    weights = {
        name
        for node in proto.graph.node
        if node.op_type in (*LAYER_WEIGHT_OPS, LEARNED_CONCAT)
        for name in node.input[
            node.op_type in ("Conv", "Gemm", "BatchNormalization", "LayerNormalization") :
        ]
        if node.op_type in LAYER_WEIGHT_OPS[:4]
        or (name in initializers and initializers[name].dims)
    }
    helpers = {n for node in proto.graph.node if node.op_type == "InstanceNormalization"
               for n in node.input[1:]}  # fmt: skip
    assert weights <= set(initializers)  # every weight input is stored, not computed
    for name, tensor in initializers.items():
        if name in weights:
            assert tensor.data_type == TensorProto.FLOAT, name
        else:  # a helper constant: an int64 shape/index tensor or a float scalar (Clip)
            assert (
                tensor.data_type == TensorProto.INT64 or list(tensor.dims) == [] or name in helpers
            ), name
    return sum(int(np.prod(initializers[name].dims)) for name in weights)


def bn_channels(graph: Graph) -> int:
    """Channels normalized by a BatchNorm: conv/dwconv with ``bn``, standalone bn layers and
    the K and V reductions of an attention with ``kv_stride`` (a BN each)."""
    return sum(
        node.out_shape[0]
        for node in graph.nodes
        if node.op == "bn" or (node.op in ("conv", "dwconv") and node.attrs["bn"])
    ) + sum(
        2 * node.in_shapes[0][0]
        for node in graph.nodes
        if node.op == "attention" and int(node.attrs["kv_stride"]) > 1
    )


@pytest.mark.parametrize("name", bundled_names())
def test_bundled_spec_round_trip_is_exact(name: str) -> None:
    if cost_graph(build(name), "weights").total().params > MAX_VALUES:  # ViT-B/16: 86 M
        with pytest.raises(SpecError, match="the ONNX export would hold more than"):
            export_graph(build(name))
        return  # a narrower configuration round-trips in tests/test_zoo_vit.py
    assert_round_trip(name)
    # Independent of the importer: what the file stores equals the trainable params plus
    # the BN running statistics (mean and variance: 2 per BN channel) counted on the spec.
    graph = build(name)
    trainable = cost_graph(graph, "trainable").total().params
    assert stored_weights(export_graph(graph)) == trainable + 2 * bn_channels(graph)


# Published counts of the same networks, plus BN running statistics (2 per BN channel):
# * torchvision ``num_params`` of the weights metadata (trainable: weights, biases, BN
#   gamma and beta; buffers excluded), https://pytorch.org/vision/stable/models.html
#   (per-model pages list ``num_params``); source:
#   https://github.com/pytorch/vision/blob/main/torchvision/models/mobilenetv2.py
#   (MobileNet_V2_Weights, "num_params": 3504872) and .../models/resnet.py
#   (ResNet50_Weights, "num_params": 25557032).
# * Keras Applications table, "Parameters" column (Keras counts BN moving mean and
#   variance as non-trainable params, so its totals already include them):
#   docs/templates/applications.md of https://github.com/keras-team/keras (Keras 2.x
#   docs, "Documentation for individual models"): Xception 22,910,480 (= 22,855,952
#   trainable + 54,528 BN moving statistics), MobileNet 4,253,864; rounded to "22.9M"
#   and "4.3M" on today's https://keras.io/api/applications/.
#   timm ``legacy_xception`` has the same 22,855,952 trainable params.
PUBLISHED_WITH_BN_STATISTICS = [
    ("mobilenet_v2", 3_504_872, 17_056, 3_538_984),
    ("resnet50", 25_557_032, 26_560, 25_610_152),
    ("xception", 22_855_952, 27_264, 22_910_480),
    ("mobilenet_v1", 4_231_976, 10_944, 4_253_864),
]


@pytest.mark.parametrize(("name", "trainable", "channels", "stored"), PUBLISHED_WITH_BN_STATISTICS)
def test_exported_weights_match_published_counts(
    name: str, trainable: int, channels: int, stored: int
) -> None:
    assert trainable + 2 * channels == stored  # the literals are consistent
    graph = build(name)
    assert bn_channels(graph) == channels
    assert cost_graph(graph, "trainable").total().params == trainable
    assert stored_weights(export_graph(graph)) == stored


def test_stored_weights_tells_helpers_from_weights() -> None:
    # mobilenet_v2 stores Clip's 0 and 6 as float scalars (2 elements beyond the weights);
    # shufflenet_v2 stores Reshape shapes and Slice bounds as int64 tensors.
    for name, helpers in (("mobilenet_v2", 2), ("shufflenet_v2", None)):
        proto = export_graph(build(name))
        total = sum(int(np.prod(t.dims)) for t in proto.graph.initializer)
        weights = stored_weights(proto)
        if helpers is not None:
            assert total - weights == helpers
        else:
            ints = [t for t in proto.graph.initializer if t.data_type == TensorProto.INT64]
            assert ints and total - weights == sum(int(np.prod(t.dims)) for t in ints)


@pytest.mark.parametrize(
    ("name", "config"),
    [
        ("shufflenet_v2", {"variant": "0.5x"}),
        ("shufflenet_v1", {"overrides": {"groups": 8}}),
        ("mobilenet_v2", {"width": 0.75, "resolution": 163}),  # odd sizes: asymmetric SAME
    ],
)
def test_configured_round_trip_is_exact(name: str, config: dict[str, Any]) -> None:
    assert_round_trip(name, **config)


# -- CLI -----------------------------------------------------------------------------------------


def test_cli_export_import_table(tmp_path: Path, invoke: Invoke) -> None:
    onnx_file, spec_file = str(tmp_path / "v1.onnx"), str(tmp_path / "v1.yaml")
    assert invoke("export", "mobilenet_v1", "-o", onnx_file).exit_code == 0
    onnx.checker.check_model(onnx_file)
    table = invoke("table", onnx_file, "--format", "json")
    assert table.exit_code == 0, table.stderr
    assert '"Conv2d_1_depthwise"' in table.stdout
    result = invoke("import", onnx_file, "-o", spec_file)
    assert result.exit_code == 0, result.stderr
    text = Path(spec_file).read_text()
    assert text.startswith("# Imported from v1.onnx by `lightcost import`")
    # MobileNetV1 with the FC: TF-slim mobilenet_v1.py docstring conv weights 3,185,088 and
    # 567,716,352 MAdds (test_zoo_reference.TF_SLIM_224) + FC 1024 x 1000 (+ 1000 bias) +
    # BN gamma and beta 2 x 10,944 = 4,231,976 trainable params, 568,740,352 MAdds
    original, imported = analyze("mobilenet_v1").total(), analyze(spec_file).total()
    assert (imported.params, imported.madds) == (original.params, original.madds)
    # the figures the comment cites, so that the round trip is not only self-consistent
    assert (
        (imported.params, imported.madds)
        == (
            3_185_088 + 1024 * 1000 + 1000 + 2 * 10_944,
            567_716_352 + 1024 * 1000,
        )
        == (4_231_976, 568_740_352)
    )


def test_missing_onnx_is_a_clean_error(
    tmp_path: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)  # `import onnx` raises ImportError
    result = invoke("table", str(tmp_path / "model.onnx"))
    assert result.exit_code == 2
    assert "model.onnx: reading ONNX needs the onnx package: pip install 'lightcost[onnx]'" in (
        result.stderr
    )


def test_stripped_weights_print_the_same_table(tmp_path: Path, invoke: Invoke) -> None:
    """Weights never count: a file with its weights and the same file stripped of them (saved
    as external data and the data file deleted, as tools/onnx_corpus.py strips the corpus)
    print the same table."""
    full, stripped = tmp_path / "full.onnx", tmp_path / "stripped.onnx"
    assert invoke("export", "mobilenet_v2", "-o", str(full)).exit_code == 0
    onnx.save_model(
        onnx.load(str(full)),
        str(stripped),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location="stripped.onnx.data",
        size_threshold=1024,
    )
    (tmp_path / "stripped.onnx.data").unlink()
    assert stripped.stat().st_size < full.stat().st_size // 10
    for fmt in ("table", "json"):
        outputs = [invoke("table", str(path), "--format", fmt) for path in (full, stripped)]
        assert all(result.exit_code == 0 for result in outputs), outputs[1].stderr
        texts = [
            r.stdout.replace(str(p), "FILE") for r, p in zip(outputs, (full, stripped), strict=True)
        ]
        assert texts[0] == texts[1]


@pytest.mark.parametrize(("approximate", "op"), [("none", "gelu"), ("tanh", "gelu_tanh")])
def test_onnx_gelu_reads_its_approximate_attribute(
    tmp_path: Path, approximate: str, op: str
) -> None:
    """ONNX Gelu (opset 20) stores ``approximate`` as bytes: ``tanh`` is ``gelu_tanh``."""
    proto = model([helper.make_node("Gelu", ["x"], ["y"], approximate=approximate)], (8, 4, 4))
    proto.opset_import[0].version = 20
    proto.ir_version = 9
    assert [layer.op for layer in cost_of(proto, tmp_path).layers] == [op]
