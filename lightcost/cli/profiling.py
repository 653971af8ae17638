"""A measured device profile: time the kernel grid and the fusion tests, fit each kernel type.

See :mod:`lightcost.cli.kernels` for what is measured and
:mod:`lightcost.cost.predictor` for the fits and how a profile predicts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from lightcost.cli.kernels import (
    FUSION_SHAPE,
    PRE,
    Case,
    build_case,
    fusion_cases,
    grid,
    in_context,
)
from lightcost.cli.measure import median, time_models
from lightcost.cost.memory import kernels
from lightcost.cost.predictor import UNALIGNED, Fit, MeasuredDevice, aligned, fit_kernels
from lightcost.ops import OPS, Kernel


class Measured(NamedTuple):
    """What calibrate measured: the profile, kernels timed, fusion tests, cases skipped."""

    device: MeasuredDevice
    kernels: int
    fusion_times: dict[str, tuple[float, float]]  # rule: (pair - first, second alone), s
    skipped: tuple[str, ...]


def main_kernel(text: str) -> tuple[Kernel, bool] | None:
    """The op's own kernel of the one layer between ``pre`` and ``post`` of a case spec,
    and whether its channels are aligned."""
    graph = build_case(text)
    if graph is None:
        return None
    node = graph.nodes[len(PRE)]
    run = kernels(node, OPS[node.op].cost(node), "unfused")
    return (run[0], aligned(node)) if run else None


def measure_profile(
    name: str,
    threads: int,
    rounds: int,
    plan: Callable[[int], Callable[[int], None]] | None = None,
) -> Measured:
    """Time every case in context, fit each kernel type and test each fusion rule.

    ``plan(total)`` gives the ``advance(n)`` callback of a progress bar of
    ``total`` timed runs.
    """
    import datetime
    import platform

    import onnxruntime  # type: ignore[import-untyped]

    from lightcost.interop.onnx.exporter import export_graph

    cases: list[tuple[Case, Kernel]] = []
    skipped: list[str] = []
    for case in grid():
        found = main_kernel(in_context(case.shape, case.layer))
        if found is None:
            skipped.append(case.type)
        else:
            kernel, even = found
            cases.append((case._replace(type=case.type + ("" if even else UNALIGNED)), kernel))
    fusions = fusion_cases()
    base = in_context(FUSION_SHAPE)
    texts = list(
        dict.fromkeys(  # each model beside the one it is compared with
            [t for c, _ in cases for t in (in_context(c.shape), in_context(c.shape, c.layer))]
            + [t for _, pair, first, second in fusions for t in (base, second, first, pair)]
        )
    )
    models = []
    for text in texts:
        graph = build_case(text)
        assert graph is not None, text  # the grid's own specs always build
        models.append(export_graph(graph).SerializeToString())
    advance = plan(len(models) * rounds) if plan else None
    runs = dict(zip(texts, time_models(models, threads, rounds, advance=advance), strict=True))

    def delta(a: str, b: str) -> float:
        """The median over rounds of a's time minus b's (in the same round)."""
        return median([x - y for x, y in zip(runs[a], runs[b], strict=True)])

    fits = fit_types(
        [(c, k, delta(in_context(c.shape, c.layer), in_context(c.shape))) for c, k in cases]
    )
    fusion_times = {
        rule: (delta(pair, first), delta(second, base)) for rule, pair, first, second in fusions
    }
    rules = {rule: extra < 0.5 * alone for rule, (extra, alone) in fusion_times.items()}
    host = platform.node() or "this machine"
    peak, bandwidth, overhead = roofline(fits)
    device = MeasuredDevice(
        name=name or host,
        peak_flops={"fp32": peak},
        bandwidth=bandwidth,
        kernel_overhead=overhead,
        description=f"{host} ({platform.machine()}), onnxruntime CPU, {threads} thread(s)",
        source=f"lightcost calibrate --runtime onnxruntime, {datetime.date.today()}",
        runtime=f"onnxruntime {onnxruntime.__version__}",
        threads=threads,
        fits=fits,
        fusions=rules,
    )
    return Measured(device, len(cases), fusion_times, tuple(dict.fromkeys(skipped)))


def fit_types(cases: list[tuple[Case, Kernel, float]]) -> dict[str, Fit]:
    """Each kernel type's fit to its cases' (kernel, seconds), sorted by type."""
    rows: dict[str, list[tuple[float, float, float]]] = {}
    for case, kernel, seconds in cases:
        rows.setdefault(case.type, []).append((kernel.madds, kernel.mac, max(seconds, 1e-7)))
    fits = {}
    for key, value in sorted(rows.items()):
        madds, mac, times = (list(column) for column in zip(*value, strict=True))
        fits[key] = fit_kernels(madds, mac, times)
    return fits


def roofline(fits: dict[str, Fit]) -> tuple[float, float, float]:
    """The effective peak, bandwidth and overhead of the fits (for unmeasured kernel types):
    the median time of a MAdd, of an element moved, and the median overhead."""
    per_madd = [f.per_madd for f in fits.values() if f.per_madd > 0]
    per_mac = [f.per_mac for f in fits.values() if f.per_mac > 0]
    overheads = [f.overhead for f in fits.values()]
    return (
        2 / median(per_madd) if per_madd else 1e9,
        4 / median(per_mac) if per_mac else 1e9,
        median(overheads) if overheads else 0.0,
    )
