"""Laws that hold for every input (hypothesis)."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from lightcost import analyze, separable_pairs
from lightcost.spec.files import bundled_names

SEPARABLE = """
input: [{m}, {size}, {size}]
layers:
  - {{op: dwconv, k: {k}, stride: {s}}}
  - {{op: conv, k: 1, out: {n}}}
"""
STANDARD = (
    "input: [{m}, {size}, {size}]\nlayers:\n  - {{op: conv, k: {k}, stride: {s}, out: {n}}}\n"
)


@given(
    m=st.integers(1, 512),
    n=st.integers(1, 1024),
    k=st.sampled_from([1, 3, 5, 7]),
    s=st.sampled_from([1, 2]),
    size=st.integers(1, 64),
)
@settings(max_examples=200, deadline=None)
def test_separable_over_standard_is_one_over_n_plus_one_over_k_squared(
    m: int, n: int, k: int, s: int, size: int
) -> None:
    # MobileNetV1 Sec. 3.1, eq. 5: (Dk^2 M Df^2 + M N Df^2) / (Dk^2 M N Df^2) = 1/N + 1/Dk^2
    fields = {"m": m, "n": n, "k": k, "s": s, "size": size}
    separable = analyze("sep.yaml", text=SEPARABLE.format(**fields)).total().madds
    standard = analyze("std.yaml", text=STANDARD.format(**fields)).total().madds
    assert Fraction(separable, standard) == Fraction(1, n) + Fraction(1, k * k)
    pairs = separable_pairs(analyze("sep.yaml", text=SEPARABLE.format(**fields)))
    assert len(pairs) == 1
    assert pairs[0].standard_madds == standard
    assert pairs[0].ratio == pairs[0].formula


@given(
    spec=st.sampled_from(bundled_names()),
    res_a=st.integers(64, 320),
    res_b=st.integers(64, 320),
)
@settings(max_examples=60, deadline=None)
def test_params_do_not_depend_on_resolution(spec: str, res_a: int, res_b: int) -> None:
    a = analyze(spec, resolution=res_a).total().params
    b = analyze(spec, resolution=res_b).total().params
    assert a == b


@given(base=st.integers(2, 10), factor=st.integers(1, 3))
@settings(max_examples=30, deadline=None)
def test_conv_madds_scale_with_resolution_squared(base: int, factor: int) -> None:
    # At multiples of 32 every stride-2 halving of MobileNetV1 is exact (no rounding), so the
    # conv MAdds scale with rho^2 exactly; only the FC (resolution-independent) does not.
    def conv_madds(res: int) -> int:
        cost = analyze("mobilenet_v1", resolution=res)
        return sum(layer.madds for layer in cost.layers if layer.op != "fc")

    assert conv_madds(32 * base * factor) == factor**2 * conv_madds(32 * base)
