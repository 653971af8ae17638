"""ONNX import of the spatial ops in the forms PyTorch's classic exporter writes them.

The node chains below are those of ``torch.onnx.export(dynamo=False, opset_version=17)``
(torch 2.14) of ``nn.MaxPool2d(3, 2, ceil_mode=True)``, ``F.interpolate(scale_factor=2)``,
``F.interpolate(size=..., mode="bilinear")``, ``nn.ConvTranspose2d(8, 4, 4, 2, 1)`` and
``nn.ZeroPad2d((0, 1, 0, 1))`` (whose pads the exporter computes in the graph).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lightcost.core.errors import SpecError

pytest.importorskip("onnx")

from onnx import helper
from test_onnx import cost_of, init, model, ops


def const(name: str, values: object) -> object:
    return helper.make_node("Constant", [], [name], value=init(f"{name}_v", values=values))


def test_pytorch_forms_of_the_spatial_ops(tmp_path: Path) -> None:
    pads = [  # nn.ZeroPad2d((0, 1, 0, 1)): [left, right, top, bottom] to ONNX's order
        const("n", [4]),
        const("lrtb", [0, 1, 0, 1]),
        helper.make_node("ConstantOfShape", ["n"], ["zeros"], value=init("z", values=[0])),
        helper.make_node("Concat", ["lrtb", "zeros"], ["all"], axis=0),
        const("two_cols", [-1, 2]),
        helper.make_node("Reshape", ["all", "two_cols"], ["pairs"]),
        const("axis0", [0]),
        const("minus1", [-1]),
        const("lowest", [-9223372036854775807]),
        helper.make_node("Slice", ["pairs", "minus1", "lowest", "axis0", "minus1"], ["rev"]),
        helper.make_node("Transpose", ["rev"], ["cols"], perm=[1, 0]),
        helper.make_node("Reshape", ["cols", "minus1"], ["flat"]),
        helper.make_node("Cast", ["flat"], ["onnx_pads"], to=7),
    ]
    nodes = [
        helper.make_node(
            "MaxPool", ["x"], ["pool"], name="pool", kernel_shape=[3, 3], strides=[2, 2],
            ceil_mode=1,
        ),
        helper.make_node("Resize", ["pool", "", "scales"], ["up"], name="up", mode="nearest"),
        helper.make_node(
            "ConvTranspose", ["up", "W"], ["t"], name="t", kernel_shape=[4, 4], strides=[2, 2],
            pads=[1, 1, 1, 1],
        ),
        helper.make_node("Resize", ["t", "", "", "sizes"], ["bi"], name="bi", mode="linear"),
        *pads,
        helper.make_node("Pad", ["bi", "onnx_pads"], ["padded"], name="pad", mode="constant"),
    ]  # fmt: skip
    inits = [init("W", 8, 4, 4, 4), init("scales", values=np.array([1, 1, 2, 2], dtype=np.float32)),
             init("sizes", values=[1, 4, 30, 30])]  # fmt: skip
    cost = cost_of(model(nodes, (8, 16, 16), inits), tmp_path)
    assert ops(cost) == [("pool", "maxpool"), ("up", "upsample"), ("t", "convtranspose"),
                         ("bi", "upsample"), ("pad", "pad")]  # fmt: skip
    pool, up, t, bi, pad = cost.graph.nodes
    # torch: MaxPool2d(3, 2, ceil_mode=True) of 16x16 is 8x8 (floor would give 7x7)
    assert pool.attrs["ceil_mode"] is True and pool.out_shape == (8, 8, 8)
    assert (up.attrs["scale"], up.attrs["mode"], up.out_shape) == (2, "nearest", (8, 16, 16))
    assert t.out_shape == (4, 32, 32)
    assert cost.layers[2].madds == 8 * 4 * 4 * 4 * 16 * 16  # C_in x C_out x k x k x H_in x W_in
    assert (bi.attrs["size"], bi.attrs["mode"]) == (30, "bilinear")
    assert pad.attrs["padding"] == (0, 0, 1, 1) and pad.out_shape == (4, 31, 31)


def test_unmapped_forms_name_the_node(tmp_path: Path) -> None:
    cubic = [helper.make_node("Resize", ["x", "", "scales"], ["up"], name="up", mode="cubic")]
    scales = [init("scales", values=np.array([1, 1, 2, 2], dtype=np.float32))]
    with pytest.raises(SpecError, match=r"node 'up' \(Resize\): mode cubic"):
        cost_of(model(cubic, (2, 4, 4), scales), tmp_path)
    crop = [
        const("pads", [0, 0, -1, 0, 0, 0, 0, 0]),
        helper.make_node("Pad", ["x", "pads"], ["p"], name="crop"),
    ]
    with pytest.raises(SpecError, match=r"node 'crop' \(Pad\): negative pads"):
        cost_of(model(crop, (2, 4, 4)), tmp_path)
