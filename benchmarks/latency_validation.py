"""Does lightcost's estimated latency rank real latencies better than MAdds do?

For the lightweight bundled specs (MobileNetV1/V2/V3, every ShuffleNetV1/V2 variant and
the ShuffleNetV2 guideline networks) this exports each to ONNX (random weights), measures
single-thread CPU latency with onnxruntime (batch 1, the median of repeated runs after
warm-up), estimates latency with lightcost on a profile of this machine measured in-process
by `lightcost calibrate`'s function (with numpy's BLAS on one thread, as onnxruntime runs),
and prints the Spearman rank correlation of (a) estimated latency and (b) MAdds against
the measured latency, for the fused and the unfused execution model.

Needs onnx and onnxruntime. Usage: python benchmarks/latency_validation.py [--repeats N]
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"  # before numpy loads its BLAS: calibrate one core

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from lightcost.api import analyze, build  # noqa: E402
from lightcost.cli.calibrate import measure  # noqa: E402
from lightcost.cost.latency import Device  # noqa: E402
from lightcost.spec.expand import variants  # noqa: E402
from lightcost.spec.located import read_spec  # noqa: E402

SPECS = (
    "mobilenet_v1",
    "mobilenet_v2",
    "mobilenet_v3_large",
    "mobilenet_v3_small",
    "shufflenet_v1",
    "shufflenet_v2",
    "guidelines/g1_channel_ratio",
    "guidelines/g2_group_conv",
    "guidelines/g3_fragmentation",
    "guidelines/g4_elementwise",
)


def configurations() -> list[tuple[str, str | None]]:
    """(spec, variant) for every spec of SPECS and each of its variants."""
    out: list[tuple[str, str | None]] = []
    for spec in SPECS:
        names = list(variants(read_spec(spec)[0])) or [None]
        out += [(spec, name) for name in names]
    return out


def ranks(values: list[float]) -> np.ndarray[Any, Any]:
    """Ranks 1..n, ties sharing the mean of their ranks."""
    array = np.asarray(values, dtype=float)
    order = array.argsort(kind="stable")
    result = np.empty(len(array))
    result[order] = np.arange(1, len(array) + 1)
    for value in np.unique(array):
        tied = array == value
        result[tied] = result[tied].mean()
    return result


def spearman(x: list[float], y: list[float]) -> float:
    """Spearman's rho: the Pearson correlation of the ranks."""
    return float(np.corrcoef(ranks(x), ranks(y))[0, 1])


def measured_seconds(spec: str, variant: str | None, repeats: int) -> float:
    """Median single-thread onnxruntime latency of the exported spec, batch 1."""
    import onnxruntime as ort

    from lightcost.interop.onnx.exporter import export_graph

    graph = build(spec, variant=variant)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(
        export_graph(graph).SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    feed = {"input": np.random.default_rng(0).standard_normal((1, *graph.input_shape), np.float32)}
    for _ in range(3):
        session.run(None, feed)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        session.run(None, feed)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30, help="timed runs per model")
    args = parser.parse_args()
    device: Device = measure(size=512, mebibytes=128, repeats=5)
    print(f"profile: {device.describe('fp32')} (numpy on 1 thread)")
    rows = []
    print(f"{'model':44} {'MAdds':>10} {'fused ms':>9} {'unfused ms':>10} {'measured ms':>11}")
    for spec, variant in configurations():
        label = f"{spec}@{variant}" if variant else spec
        fused = analyze(spec, variant=variant, device=device).total()
        unfused = analyze(spec, variant=variant, device=device, execution="unfused").total()
        real = measured_seconds(spec, variant, args.repeats)
        rows.append((fused.madds, fused.latency or 0.0, unfused.latency or 0.0, real))
        print(
            f"{label:44} {fused.madds / 1e6:9.1f}M {1e3 * rows[-1][1]:9.3f} "
            f"{1e3 * rows[-1][2]:10.3f} {1e3 * real:11.3f}"
        )
    madds, fused_s, unfused_s, real_s = (list(column) for column in zip(*rows, strict=True))
    print(f"models: {len(rows)}; onnxruntime 1 thread, median of {args.repeats} runs")
    print(f"Spearman(estimated latency, fused, measured)   = {spearman(fused_s, real_s):.3f}")
    print(f"Spearman(estimated latency, unfused, measured) = {spearman(unfused_s, real_s):.3f}")
    print(f"Spearman(MAdds, measured)                      = {spearman(madds, real_s):.3f}")


if __name__ == "__main__":
    main()
