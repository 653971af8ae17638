"""A measured device profile: time the kernel grid and the fusion tests, fit each kernel type.

See :mod:`lightcost.cli.kernels` for what is measured and
:mod:`lightcost.cost.predictor` for the fits and how a profile predicts.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import random
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
    post_cases,
    reorder_cases,
)
from lightcost.cli.measure import median, quiet, time_models
from lightcost.cli.networks import Timed, Traffic
from lightcost.core.graph import Graph, elements
from lightcost.cost.fitting import SPILLS, Fit, fit_kernels, held_out_error
from lightcost.cost.memory import kernels
from lightcost.cost.predictor import (
    REORDER,
    SUFFIXES,
    MeasuredDevice,
    base_type,
    variant,
)
from lightcost.ops import OPS, Kernel


class Measured(NamedTuple):
    """What calibrate measured: the profile, kernels timed, fusion tests, cases skipped."""

    device: MeasuredDevice
    kernels: int
    fusion_times: dict[str, tuple[float, float]]  # rule: (pair - first, second alone), s
    skipped: tuple[str, ...]
    pooling: float = 0.0  # seconds per element of the context's global pooling
    traffic: Traffic = Traffic(0.0, 0.0, 0.0)  # the random networks' fit


CHUNK = 50  # kernel cases timed together (interleaved); then their sessions are freed


def case_graph(text: str) -> Graph:
    """The graph of a spec of the grid's own (always builds)."""
    graph = build_case(text)
    assert graph is not None, text
    return graph


@functools.lru_cache(maxsize=4096)
def read(text: str) -> int:
    """The elements the last layer of a case spec (the context's pooling) reads."""
    return elements(case_graph(text).nodes[-1].in_shapes[0])


def main_kernel(text: str, setup: int = 0) -> tuple[Kernel, int] | None:
    """The op's own kernel of the one layer between ``pre`` and ``post`` of a case spec,
    and its variant (:func:`lightcost.cost.predictor.variant`)."""
    graph = build_case(text)
    if graph is None:
        return None
    node = graph.nodes[len(PRE) + setup]
    run = kernels(node, OPS[node.op].cost(node), "unfused")
    return (run[0], int(variant(node))) if run else None


def measure_profile(
    name: str,
    threads: int,
    rounds: int,
    plan: Callable[[int], Callable[[int], None]] | None = None,
    between: Callable[[], None] | None = None,
) -> Measured:
    """Time every case in context, fit each kernel type and test each fusion rule.

    ``plan(total)`` gives the ``advance(n)`` callback of a progress bar of
    ``total`` timed runs; ``between()`` is called after each :data:`CHUNK` of cases
    (a benchmark times its models there, in the same state of the machine).
    """
    cases, skipped = grid_cases()
    fusions = fusion_cases()
    base = in_context(FUSION_SHAPE)
    pairs = [(c.base, c.text) for c, _ in cases]  # each run beside its reference
    pairs += [
        (t, u) for _, pair, first, second in fusions for t, u in ((base, second), (first, pair))
    ]
    moving = reorder_cases()
    pairs += [pair for case in moving for pair in (case[1:3], case[3:5])]
    pooled = post_cases()
    pairs += [case[1:] for case in pooled]
    random.Random(0).shuffle(pairs)  # a type's cases spread over the run: over its drift
    advance = plan(2 * len(pairs) * rounds) if plan else None
    nets = Timed(threads)

    def each_chunk() -> None:
        nets.round()
        if between is not None:
            between()

    runs = time_pairs(pairs, threads, rounds, advance, each_chunk)

    def raw(a: str, b: str) -> float:
        """a's time minus b's (b run just before a in every round), each the :func:`quiet`
        quantile of its rounds."""
        first, second = runs[(b, a)]
        return quiet(second) - quiet(first)

    moves = fit_reorders([(c[0], raw(c[2], c[1]), raw(c[4], c[3])) for c in moving])
    post = fit_post([(c[0], raw(c[2], c[1])) for c in pooled])

    def delta(a: str, b: str) -> float:
        """a's time minus b's (:func:`raw`), less the
        layout conversions a has more than b (the predictor adds them where they happen)
        and the time the context's pooling takes more on a's tensor than on b's."""
        return raw(a, b) - (moves(a) - moves(b)) - post * (read(a) - read(b))

    timed = [(c, k, delta(c.text, c.base)) for c, k in cases]
    fits = {**fit_types(timed), **moves.fits}
    fusion_times = {
        rule: (delta(pair, first), delta(second, base)) for rule, pair, first, second in fusions
    }
    rules = {rule: share(extra, alone) for rule, (extra, alone) in fusion_times.items()}
    device = profile_device(name, threads, fits, rules)
    found = nets.fit(device)
    device = dataclasses.replace(device, network=found.network)
    return Measured(device, len(cases), fusion_times, tuple(dict.fromkeys(skipped)), post, found)


def profile_device(
    name: str, threads: int, fits: dict[str, Fit], rules: dict[str, float]
) -> MeasuredDevice:
    """The measured profile of this host from its fits and fusion rules."""
    import datetime
    import platform

    import onnxruntime  # type: ignore[import-untyped]

    host = platform.node() or "this machine"
    peak, bandwidth, overhead = roofline(fits)
    return MeasuredDevice(
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


class Reorders:
    """The fits of the layout conversions (:data:`REORDER` types); called with a case's
    spec, the seconds of the conversions in it (:mod:`lightcost.cost.layout`)."""

    def __init__(self, fits: dict[str, Fit]) -> None:
        self.fits = fits
        self.device = MeasuredDevice("reorders", {"fp32": 1e9}, 1e9, 0.0, fits=fits)
        self.seconds: dict[str, float] = {}

    def __call__(self, text: str) -> float:
        if text not in self.seconds:
            self.seconds[text] = sum(self.device.reorder_times(case_graph(text)), 0.0)
        return self.seconds[text]


def fit_reorders(found: list[tuple[int, float, float]]) -> Reorders:
    """Fit each conversion as seconds per element (and an overhead) from the reorder cases'
    (elements, to plain, both ways) seconds: the conversion to blocked is the difference."""
    if not found:
        return Reorders({})
    count = [float(n) for n, _, _ in found]
    back = [max(t, 1e-7) for _, t, _ in found]
    into = [max(both - t, 1e-7) for _, t, both in found]
    zeros = [0.0] * len(found)
    return Reorders(
        {REORDER[0]: fit_kernels(zeros, count, into), REORDER[1]: fit_kernels(zeros, count, back)}
    )


def fit_post(found: list[tuple[int, float]]) -> float:
    """Seconds per element the context's global pooling reads, fitted to the
    :func:`lightcost.cli.kernels.post_cases`' (elements, seconds); 0 without cases."""
    if not found:
        return 0.0
    count = [float(n) for n, _ in found]
    return fit_kernels([0.0] * len(found), count, [t for _, t in found]).per_mac


def grid_cases() -> tuple[list[tuple[Case, Kernel]], list[str]]:
    """The grid's cases with their kernels (types suffixed by variant), and the
    types of the cases that do not build."""
    cases: list[tuple[Case, Kernel]] = []
    skipped: list[str] = []
    for case in grid():
        found = main_kernel(case.text, len(case.setup))
        if found is None:
            skipped.append(case.type)
        else:
            kernel, code = found
            cases.append((case._replace(type=case.type + SUFFIXES[code]), kernel))
    return cases, skipped


Runs = dict[tuple[str, str], tuple[list[float], list[float]]]


def time_pairs(
    pairs: list[tuple[str, str]],
    threads: int,
    rounds: int,
    advance: Callable[[int], None] | None,
    between: Callable[[], None] | None = None,
) -> Runs:
    """Each (reference, spec) pair's seconds per round, the spec run right after its reference;
    at most :data:`CHUNK` pairs of sessions alive at once; ``between()`` after each chunk."""
    from lightcost.interop.onnx.exporter import export_graph

    runs: Runs = {}
    for start in range(0, len(pairs), CHUNK):
        chunk = pairs[start : start + CHUNK]
        texts = list(dict.fromkeys(t for pair in chunk for t in pair))
        index = {text: i for i, text in enumerate(texts)}
        models = [export_graph(case_graph(text)).SerializeToString() for text in texts]
        order = [index[t] for pair in chunk for t in pair]
        times = time_models(models, threads, rounds, advance=advance, order=order)
        runs.update({pair: (times[2 * i], times[2 * i + 1]) for i, pair in enumerate(chunk)})
        if between is not None:
            between()
    return runs


def share(extra: float, alone: float) -> float:
    """The share of the second op's time a pair still pays (0: fused), from 0 to 1."""
    return round(min(max(extra / alone, 0.0), 1.0), 2) if alone > 0 else 1.0


Columns = dict[
    str, tuple[list[float], list[float], list[float]]
]  # per kernel type: MAdds, MAC, seconds
MIN_CASES = 6  # a variant type measured on fewer cases is its base type's fit, scaled


def fit_types(cases: list[tuple[Case, Kernel, float]]) -> dict[str, Fit]:
    """Each kernel type's fit to its cases' (kernel, seconds), sorted by type.

    The spill term (:class:`lightcost.cost.fitting.Fit`) is a property of the machine's
    cache: one spill point for every type, the one of :data:`SPILLS` (or none) whose fits
    predict held-out cases best (leave-one-out); a type takes the term only where it
    predicts its own held-out cases better than the line without it (a term that a few
    large cases pull up would extrapolate wildly).

    A variant (``_u``, ``_p``) with fewer than :data:`MIN_CASES` cases is too few to place
    a line (a handful of large maps leave its overhead to chance): it is its base type's
    fit times the ratio of its measured total to what that fit gives its cases.
    """
    rows: Columns = {}
    for case, kernel, seconds in sorted(cases, key=lambda c: c[0].type):
        madds, mac, times = rows.setdefault(case.type, ([], [], []))
        madds.append(kernel.madds)
        mac.append(kernel.mac)
        times.append(max(seconds, 1e-7))
    plain = {key: (fit_kernels(*row), held_out_error(*row)) for key, row in rows.items()}
    best, least = {key: fit for key, (fit, _) in plain.items()}, _held_out(plain, rows)
    for spill in SPILLS:
        tried = {}
        for key, row in rows.items():
            madds, mac, times = row
            fit = fit_kernels(madds, mac, times, spill=spill)
            error = held_out_error(madds, mac, times, spill) if fit.per_spill else math.inf
            tried[key] = (fit, error) if error < plain[key][1] else plain[key]
        if (total := _held_out(tried, rows)) < least:
            best, least = {key: fit for key, (fit, _) in tried.items()}, total
    for key, (madds, mac, times) in rows.items():
        base = best.get(base_type(key))
        if key != base_type(key) and len(times) < MIN_CASES and base is not None:
            kernels_ = [Kernel(key, int(m), int(c)) for m, c in zip(madds, mac, strict=True)]
            share = sum(times) / sum(base.seconds(k) for k in kernels_)
            best[key] = base.scaled(share, kernels_, times)
    return best


def _held_out(fits: dict[str, tuple[Fit, float]], rows: Columns) -> float:
    """The summed leave-one-out error over all cases (types of fewer than 3 cases count 0)."""
    return sum(
        error * len(rows[key][0]) for key, (_, error) in fits.items() if math.isfinite(error)
    )


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
