"""Does lightcost predict real latency? Measured onnxruntime latency against four predictors.

Models: the real-model corpus (tests/onnx_corpus, one export per network: imported by
lightcost and exported again with random weights of the same shapes), the bundled specs
with their variants and the ShuffleNetV2 guideline networks (specs/guidelines), each
exported to ONNX with random weights. Each is measured end to end with onnxruntime on
this machine (CPU, batch 1, the threads of the profile: 1 by default) in rounds over
all models (each run the fastest of a burst of 3) interleaved with the calibration: a
round before it, one after each chunk of its kernel cases, one after it. The speed of a
shared machine drifts over minutes; so the models are timed in the same states of the
machine as the kernels. A model's time is the 10 % quantile of its rounds (the
machine's quieter states, as calibrate times the kernels and random networks; the
median's scores are printed too); passes A and B (the odd and the even rounds) are
two independent measurements of it, and predicted by

(a) the measured profile (`lightcost calibrate --runtime onnxruntime`, run here first
    unless --profile gives one), its per-kernel-type fits under the runtime's fusions;
(b) the old roofline (`lightcost calibrate`'s numpy matmul and copy, fused kernels);
(c) the best linear fit of MAdds to the measured latencies (fitted on these models);
(d) the best linear fit of MAC (elements, fused) likewise.

Prints a Markdown report: per model, then Spearman, MAPE and the share within +-10 % and
+-20 % for each predictor, beside the same figures of pass B against pass A (the noise of
the measurement itself), and the order of the guideline tables
(ShuffleNetV2 Tables 1-4). Then, scored apart, 66 held-out networks: seeded width and
resolution variants of every bundled spec (4 each, at most 1 G MAdds), timed in the same
rounds; no part of the predictor was tuned on them.

Needs onnx and onnxruntime (`pip install -e '.[calibrate]'`). A benchmark, not a test.
Usage: python benchmarks/latency_validation.py [--profile FILE] [--rounds N] [--threads N]
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"  # before numpy loads its BLAS: one core, as onnxruntime

import argparse  # noqa: E402
import glob  # noqa: E402
import random  # noqa: E402
import time  # noqa: E402
from typing import Any, NamedTuple  # noqa: E402

import numpy as np  # noqa: E402

from lightcost.api import analyze, build  # noqa: E402
from lightcost.cli.calibrate import measure  # noqa: E402
from lightcost.cli.measure import QUIET, ROUNDS, Bench, median, quiet  # noqa: E402
from lightcost.cli.profiling import measure_profile  # noqa: E402
from lightcost.core.errors import SpecError  # noqa: E402
from lightcost.core.graph import Graph  # noqa: E402
from lightcost.cost.latency import Device, load_device  # noqa: E402
from lightcost.interop.onnx.exporter import export_graph  # noqa: E402
from lightcost.spec.expand import variants  # noqa: E402
from lightcost.spec.files import read_spec  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPECS = (
    "mobilenet_v1",
    "mobilenet_v2",
    "mobilenet_v3_large",
    "mobilenet_v3_small",
    "shufflenet_v1",
    "shufflenet_v2",
    "resnet50",
)
GUIDELINES = (
    "guidelines/g1_channel_ratio",
    "guidelines/g2_group_conv",
    "guidelines/g3_fragmentation",
    "guidelines/g4_elementwise",
)


class Model(NamedTuple):
    """One validated model: where it comes from, how lightcost builds it."""

    label: str
    spec: str
    variant: str | None
    group: str  # corpus, spec, a guideline table or HELD
    width: float | None = None
    resolution: int | None = None

    def build(self) -> Graph:
        """The model's layer graph."""
        return build(self.spec, self.width, self.resolution, variant=self.variant)

    def cost(self, device: Device | None = None) -> Any:
        """The model's total cost (its latency on ``device``, if one)."""
        return analyze(
            self.spec, self.width, self.resolution, variant=self.variant, device=device
        ).total()


HELD = "held-out"  # width and resolution variants of the bundled specs, scored apart
HELD_PER_SPEC = 4
MAX_HELD_MADDS = 1_000_000_000


def held_out() -> list[Model]:
    """Seeded width (0.35-1.4) and resolution (96-256) variants of every bundled spec but
    ViT-B/16, at most 1 G MAdds each: networks no part of lightcost was tuned on."""
    rng = random.Random(0)
    out = []
    for path in sorted(glob.glob(os.path.join(ROOT, "specs", "*.yaml"))):
        spec = os.path.basename(path)[: -len(".yaml")]
        found = 0
        for _ in range(10 * HELD_PER_SPEC):  # bounded: most draws qualify
            if found == HELD_PER_SPEC or spec == "vit_b_16":
                break
            width, side = round(rng.uniform(0.35, 1.4), 2), rng.randrange(96, 257, 16)
            model = Model(f"{spec} x{width} {side}px", spec, None, HELD, width, side)
            if model.cost().madds <= MAX_HELD_MADDS:
                out.append(model)
                found += 1
    return out


def models() -> list[Model]:
    """The corpus (one export per network), the bundled specs and the guideline networks."""
    out = []
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "onnx_corpus", "*.onnx"))):
        name = os.path.basename(path)[: -len(".onnx")]
        if "." not in name:  # x.dynamo, x.unfolded, x.init: the same network again
            out.append(Model(name, path, None, "corpus"))
    for spec in SPECS + GUIDELINES:
        group = spec.split("/")[-1] if spec in GUIDELINES else "spec"
        for name in list(variants(read_spec(spec)[0])) or [None]:
            out.append(Model(f"{spec}@{name}" if name else spec, spec, name, group))
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


def scores(predicted: list[float], measured: list[float]) -> str:
    """``Spearman | MAPE | within 10 % | within 20 %`` as Markdown cells."""
    p, m = np.asarray(predicted), np.asarray(measured)
    error = np.abs(p - m) / m
    return (
        f"{spearman(predicted, measured):.3f} | {100 * error.mean():.1f} % | "
        f"{100 * (error <= 0.10).mean():.0f} % | {100 * (error <= 0.20).mean():.0f} %"
    )


def linear_fit(feature: list[float], measured: list[float]) -> list[float]:
    """The least-squares fit ``a + b x`` of relative error (each model weighted 1 / measured)."""
    x, y = np.asarray(feature, float), np.asarray(measured, float)
    design = np.stack([np.ones_like(x), x], 1) / y[:, None]
    a, b = np.linalg.lstsq(design, np.ones_like(y), rcond=None)[0]
    return list(a + b * x)


def guideline_order(rows: list[dict[str, Any]], noise: float) -> list[str]:
    """Per guideline table: each pair of variants whose measured times differ by more
    than ``noise`` (a fraction), and whether the prediction orders it the same way."""
    lines = ["", "## Guideline tables (ShuffleNetV2 Tables 1-4)", ""]
    lines += ["| table | variants | measured ms | predicted ms | ordered pairs (real / got) |"]
    lines += ["|---|---|---|---|---|"]
    for table in sorted({r["group"] for r in rows} - {"corpus", "spec", HELD}):
        group = [r for r in rows if r["group"] == table]
        real = got = 0
        for i, a in enumerate(group):
            for b in group[i + 1 :]:
                if abs(a["measured"] - b["measured"]) > noise * max(a["measured"], b["measured"]):
                    real += 1
                    got += (a["measured"] < b["measured"]) == (a["new"] < b["new"])
        names = ", ".join(r["label"].split("@")[-1] for r in group)
        real_ms = ", ".join(f"{1e3 * r['measured']:.2f}" for r in group)
        new_ms = ", ".join(f"{1e3 * r['new']:.2f}" for r in group)
        lines.append(f"| {table} | {names} | {real_ms} | {new_ms} | {real} / {got} |")
    lines.append("")
    lines.append(
        f"A pair counts as ordered when its measured times differ by more than {100 * noise:.0f} %"
    )
    lines.append(
        "(twice the median pass-to-pass spread); `got`: the prediction orders it the same way."
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", help="a measured profile (default: calibrate here first)")
    parser.add_argument(
        "--rounds", type=int, default=16, help="rounds over the models with --profile"
    )
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime threads")
    args = parser.parse_args()
    start = time.perf_counter()
    chosen, graphs, onnx_models, skipped = exportable(models() + held_out())
    bench = Bench(onnx_models, args.threads)
    rounds = [bench.round()]
    if args.profile:
        device = load_device(args.profile)
        rounds += [bench.round() for _ in range(args.rounds - 1)]
    else:  # a round after each chunk of kernel cases: the same states of the machine
        device = measure_profile(
            "here", args.threads, ROUNDS, between=lambda: rounds.append(bench.round())
        ).device
        rounds.append(bench.round())
    roofline: Device = measure(size=512, mebibytes=128, repeats=5)
    per_model = list(zip(*rounds, strict=True))
    first = [quiet(times[0::2]) for times in per_model]
    second = [quiet(times[1::2]) for times in per_model]
    rows = []
    for model, graph, a, b, times in zip(chosen, graphs, first, second, per_model, strict=True):
        new, old = model.cost(device), model.cost(roofline)
        rows.append(
            {
                "label": model.label,
                "group": model.group,
                "madds": float(new.madds),
                "mac": float(old.mac),
                "measured": quiet(times),
                "median": median(times),
                "a": a,
                "b": b,
                "new": float(new.latency or 0.0),
                "old": float(old.latency or 0.0),
                "nodes": len(graph.nodes),
            }
        )
    main_rows = [r for r in rows if r["group"] != HELD]
    measured = [r["measured"] for r in main_rows]
    for key, feature in (("madds_fit", "madds"), ("mac_fit", "mac")):
        fitted = linear_fit([r[feature] for r in main_rows], measured)
        for row, value in zip(main_rows, fitted, strict=True):
            row[key] = value
    print_report(main_rows, device, args, time.perf_counter() - start)
    print_held([r for r in rows if r["group"] == HELD])
    for line in skipped:
        print(f"not measured: {line}")


def exportable(
    candidates: list[Model],
) -> tuple[list[Model], list[Graph], list[bytes], list[str]]:
    """The models that export to ONNX (with their graphs and serialized models), and a line
    for each that does not (over the exporter's weight limit: vit_b_16)."""
    chosen, graphs, onnx_models, skipped = [], [], [], []
    for model in candidates:
        graph = model.build()
        try:
            onnx_models.append(export_graph(graph).SerializeToString())
        except SpecError as error:
            skipped.append(f"{model.label}: {str(error).splitlines()[0][-120:]}")
            continue
        chosen.append(model)
        graphs.append(graph)
    return chosen, graphs, onnx_models, skipped


def print_report(rows: list[dict[str, Any]], device: Device, args: Any, seconds: float) -> None:
    """The Markdown report: per model, the totals, the guideline tables."""
    print(f"# Latency validation: {len(rows)} models, onnxruntime, {args.threads} thread(s)")
    print()
    print(f"profile: {device.describe('fp32')}; {getattr(device, 'runtime', '')}")
    print()
    print(
        "| model | MAdds M | measured ms (A / B) | spread | (a) new | err | (b) roofline "
        "| (c) MAdds fit | (d) MAC fit |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        spread = abs(r["a"] - r["b"]) / r["measured"]
        print(
            f"| {r['label']} | {r['madds'] / 1e6:.0f} | {1e3 * r['a']:.2f} / {1e3 * r['b']:.2f} | "
            f"{100 * spread:.1f} % | {1e3 * r['new']:.2f} | "
            f"{100 * (r['new'] - r['measured']) / r['measured']:+.1f} % | {1e3 * r['old']:.2f} | "
            f"{1e3 * r['madds_fit']:.2f} | {1e3 * r['mac_fit']:.2f} |"
        )
    measured = [r["measured"] for r in rows]
    print()
    print("| predictor | Spearman | MAPE | within 10 % | within 20 % |")
    print("|---|---|---|---|---|")
    repeat = scores([r["b"] for r in rows], [r["a"] for r in rows])
    print(f"| repeat: pass B against pass A | {repeat} |")
    for name, key in (
        ("(a) measured kernels + fusions", "new"),
        ("(b) old roofline (numpy calibrate)", "old"),
        ("(c) best linear fit of MAdds", "madds_fit"),
        ("(d) best linear fit of MAC", "mac_fit"),
    ):
        print(f"| {name} | {scores([r[key] for r in rows], measured)} |")
    medians = [r["median"] for r in rows]
    print(f"| (a) against the median of the rounds | {scores([r['new'] for r in rows], medians)} |")
    print(
        f"\nmeasured: the {QUIET:.0%} quantile of each model's rounds; A, B: of the odd, even ones"
    )
    noise = 2 * median([abs(r["a"] - r["b"]) / r["measured"] for r in rows])
    print("\n".join(guideline_order(rows, max(noise, 0.02))))
    print(f"\ntook {seconds:.0f} s")


def print_held(rows: list[dict[str, Any]]) -> None:
    """The held-out variants: per model, then the scores of (a) on them."""
    if not rows:
        return
    print(f"\n## Held out: {len(rows)} width and resolution variants of the bundled specs\n")
    print("| model | MAdds M | measured ms | (a) new | err |\n|---|---|---|---|---|")
    for r in rows:
        error = 100 * (r["new"] - r["measured"]) / r["measured"]
        print(
            f"| {r['label']} | {r['madds'] / 1e6:.0f} | {1e3 * r['measured']:.2f} | "
            f"{1e3 * r['new']:.2f} | {error:+.1f} % |"
        )
    print("\n| predictor | Spearman | MAPE | within 10 % | within 20 % |\n|---|---|---|---|---|")
    held = scores([r["new"] for r in rows], [r["measured"] for r in rows])
    print(f"| (a) measured kernels + fusions, held out | {held} |")


if __name__ == "__main__":
    main()
