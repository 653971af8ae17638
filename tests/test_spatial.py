"""Spatial and channel ops: ceil_mode, per-side padding, adaptive pooling, split sizes, slice,
upsample, pad and convtranspose (shapes as PyTorch gives them, costs by hand)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lightcost.api import build
from lightcost.core.errors import SpecError
from lightcost.cost.engine import cost_graph
from lightcost.ops import spatial
from lightcost.ops.base import MAX_LIST
from lightcost.ops.pool import bins

DOCS = Path(__file__).resolve().parent.parent / "docs"


def layers(text: str, input_: str = "[4, 13, 10]") -> dict[str, tuple[int, int, int]]:
    graph = build("t.yaml", text=f"input: {input_}\nwidth: fixed\nlayers:\n{text}")
    return {node.name: node.out_shape for node in graph.nodes}


def costs(text: str, input_: str = "[4, 13, 10]") -> dict[str, tuple[int, int, int]]:
    graph = build("t.yaml", text=f"input: {input_}\nwidth: fixed\nlayers:\n{text}")
    return {row.name: (row.params, row.madds, row.other_ops) for row in cost_graph(graph).layers}


# (k, stride, padding) -> PyTorch's MaxPool2d(ceil_mode=True) output of a 13x10 input
# (measured with torch 2.14: nn.MaxPool2d(k, s, p, ceil_mode=True)(torch.zeros(1, 1, 13, 10))).
CEIL = {
    (3, 2, 0): (6, 5),
    (3, 2, 1): (7, 6),
    (2, 2, 0): (7, 5),
    (3, 3, 1): (5, 4),
    (5, 3, 2): (5, 4),
}


@pytest.mark.parametrize(("window", "expected"), list(CEIL.items()))
def test_ceil_mode_is_pytorchs(window: tuple[int, int, int], expected: tuple[int, int]) -> None:
    k, s, p = window
    shapes = layers(
        f"  - {{name: p, op: maxpool, k: {k}, stride: {s}, padding: {p}, ceil_mode: true}}\n"
    )
    assert shapes["p"][1:] == expected


def test_squeezenet_pool_needs_no_expression() -> None:
    shapes = layers("  - {name: p, op: maxpool, k: 3, stride: 2, padding: 0, ceil_mode: true}\n",
                    "[96, 111, 111]")  # fmt: skip
    assert shapes["p"] == (96, 55, 55)


@given(st.integers(1, 64), st.integers(1, 7), st.integers(1, 4), st.integers(0, 3))
def test_ceil_mode_adds_at_most_one(size: int, k: int, stride: int, pad: int) -> None:
    """Law: rounding up gives floor's size or one more, and the last window starts inside."""
    if 2 * pad > k or size + 2 * pad < k:
        return
    floor, ceil = spatial(size, k, stride, pad), spatial(size, k, stride, pad, ceil=True)
    assert ceil - floor in (0, 1)
    assert (ceil - 1) * stride < size + pad


def test_per_side_padding_shapes_and_costs() -> None:
    text = (
        "  - {name: c, op: conv, k: 3, stride: 2, padding: [0, 0, 1, 1], out: 8, bn: false}\n"
        "  - {name: d, op: dwconv, k: 3, padding: [1, 2, 1, 0], bn: false}\n"
        "  - {name: p, op: avgpool, k: 2, padding: [1, 1, 0, 0]}\n"
        "  - {name: z, op: pad, padding: [1, 0, 2, 3]}\n"
    )
    shapes = layers(text)
    assert shapes["c"] == (8, 6, 5)  # (13 + 1 - 3) // 2 + 1, (10 + 1 - 3) // 2 + 1
    assert shapes["d"] == (8, 6, 5 + 2 - 2)
    assert shapes["p"] == (8, 3, 3)
    assert shapes["z"] == (8, 6, 6)
    assert costs(text)["c"] == (3 * 3 * 4 * 8, 3 * 3 * 4 * 8 * 6 * 5, 0)


def test_four_equal_sides_are_one_integer_and_same_is_not_a_pad() -> None:
    graph = build("t.yaml", text="input: [4, 8, 8]\nlayers:\n"
                  "  - {name: z, op: pad, padding: [2, 1, 2, 1]}\n"
                  "  - {name: c, op: conv, k: 3, out: 4, padding: [1, 1, 1, 1]}\n")  # fmt: skip
    assert [n.attrs["padding"] for n in graph.nodes] == [(2, 1), 1]
    with pytest.raises(SpecError, match="pad needs an explicit padding"):
        layers("  - {op: pad, padding: same}\n")
    with pytest.raises(SpecError, match=r"'padding' must be one value, \[h, w\] or \[top"):
        layers("  - {op: conv, k: 3, out: 4, padding: [1, 2, 3]}\n")
    with pytest.raises(SpecError, match="reflect padding must be less"):
        layers("  - {op: pad, padding: 13, mode: reflect}\n")


@given(st.integers(1, 300), st.integers(1, 40))
def test_adaptive_bins_sum_in_closed_form(size: int, out: int) -> None:
    """Law: PyTorch's bins over ``size`` sum to size + out - gcd(size, out)."""
    assert bins(size, out) == size + out - math.gcd(size, out)


def test_adaptive_average_pooling() -> None:
    text = (
        "  - {name: a, op: avgpool, out_size: [2, 4]}\n"
        "  - {name: g, op: avgpool, out_size: 1, from: input}\n"
    )
    assert layers(text) == {"a": (4, 2, 4), "g": (4, 1, 1)}
    # rows 0..7 and 6..13 of 13 (overlap 6); columns 0..3, 2..5, 5..8, 7..10 of 10
    assert costs(text)["a"] == (0, 0, 4 * (7 + 7) * (3 + 3 + 3 + 3))
    assert costs(text)["g"] == (0, 0, 4 * 13 * 10)


def test_split_sizes_and_slice() -> None:
    text = (
        "  - {name: s, op: split, sizes: [1, 3], index: 1}\n"
        "  - {name: n, op: slice, start: 1, end: 3}\n"
        "  - {name: f, op: slice, end: 2, from: input}\n"
    )
    assert layers(text) == {"s": (3, 13, 10), "n": (2, 13, 10), "f": (2, 13, 10)}
    with pytest.raises(SpecError, match=r"split sizes \[1, 2\] sum to 3, not 4 channels"):
        layers("  - {op: split, sizes: [1, 2]}\n")
    with pytest.raises(SpecError, match="slice 2:5 is not a range"):
        layers("  - {op: slice, start: 2, end: 5}\n")
    with pytest.raises(SpecError, match=f"a list of 1 to {MAX_LIST} integers"):
        layers(f"  - {{op: split, sizes: [{', '.join(['1'] * (MAX_LIST + 1))}]}}\n")


def test_slice_is_width_scaled_like_out() -> None:
    text = "input: [16, 4, 4]\nlayers:\n  - {name: n, op: slice, start: 0, end: 8}\n"
    graph = build("t.yaml", text=text, width=0.5)
    assert graph.nodes[0].out_shape == (4, 4, 4)


def test_upsample_and_its_other_ops() -> None:
    text = (
        "  - {name: n, op: upsample, scale: [2, 3]}\n"
        "  - {name: b, op: upsample, mode: bilinear, size: 7}\n"
    )
    assert layers(text) == {"n": (4, 26, 30), "b": (4, 7, 7)}
    assert costs(text)["n"] == (0, 0, 0)
    assert costs(text)["b"] == (0, 0, 7 * 4 * 7 * 7)


def test_convtranspose_is_pytorchs_shape_and_fvcores_madds() -> None:
    # nn.ConvTranspose2d(4, 8, (3, 1), stride=2, padding=(1, 0), output_padding=(1, 0),
    # groups=2)(torch.zeros(1, 4, 5, 6)).shape == (1, 8, 10, 11) (torch 2.14)
    text = (
        "  - {name: t, op: convtranspose, out: 8, k: [3, 1], stride: 2, padding: [1, 0],\n"
        "     output_padding: [1, 0], groups: 2, bias: true, bn: false}\n"
    )
    assert layers(text, "[4, 5, 6]") == {"t": (8, 10, 11)}
    weights = 4 * (8 // 2) * 3 * 1
    assert costs(text, "[4, 5, 6]")["t"] == (weights + 8, weights * 5 * 6, 8 * 10 * 11)
    with pytest.raises(SpecError, match="output_padding 2 must be less"):
        layers("  - {op: convtranspose, out: 4, k: 3, stride: 2, output_padding: 2}\n")


def test_docs_state_the_list_limit() -> None:
    assert MAX_LIST == 1024
    assert "at most 1,024 values" in (DOCS / "spec-language.md").read_text()


def test_adaptive_pooling_of_unequal_bins_does_not_export() -> None:
    pytest.importorskip("onnx")
    from lightcost.interop.onnx.exporter import export_graph

    graph = build("t.yaml", text="input: [4, 13, 10]\nlayers:\n  - {op: avgpool, out_size: 3}\n")
    with pytest.raises(SpecError, match="adaptive pooling of 13x10 to 3x3 has unequal bins"):
        export_graph(graph)
    equal = build("t.yaml", text="input: [4, 12, 9]\nlayers:\n  - {op: avgpool, out_size: 3}\n")
    (node,) = export_graph(equal).graph.node
    assert node.op_type == "AveragePool"
    assert [list(a.ints) for a in node.attribute if a.name == "kernel_shape"] == [[4, 3]]
