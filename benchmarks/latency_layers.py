"""Are the kernel fits right on real layers? Every layer of the validation models timed
in the calibration's context, against the measured profile's prediction of it.

`make validate` scores whole models; a model off by 10 % can be a kernel type fitted
wrong on its shapes, or what a network adds to its kernels. This benchmark separates
the two. Each layer of the models of `benchmarks/latency_validation.py` whose inputs
the context can make (one input; several of one map size, made by 1x1 convs from the
context; a C x 1 x 1 gate) is written as a one-layer case and timed exactly as
`calibrate` times its grid: in context, against the context alone, the 10 % quantile
of interleaved rounds. The models are timed whole between the chunks of cases.

Prints, per kernel type, the layers' summed time in context and the profile's
prediction of it (a type far from 1.00 on many layers is mis-fitted on real shapes:
this found the RGB stems, Inception's 1x7 kernels and MobileViT's patch transposes);
then per model the prediction of its layers against their time in context, and the
whole model's time against that sum (what a network adds).

Needs onnx and onnxruntime (`pip install -e '.[calibrate]'`). A benchmark, not a test;
about 5 minutes here with calibration.
Usage: python benchmarks/latency_layers.py [--profile FILE] [--rounds N] [--top N]
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"  # before numpy loads its BLAS: one core, as onnxruntime

import argparse  # noqa: E402
import dataclasses  # noqa: E402
from collections import defaultdict  # noqa: E402
from typing import Any  # noqa: E402

import yaml  # noqa: E402
from latency_validation import exportable, models  # noqa: E402

from lightcost.cli.kernels import build_case, in_context  # noqa: E402
from lightcost.cli.measure import ROUNDS, Bench, quiet  # noqa: E402
from lightcost.cli.profiling import measure_profile, time_pairs  # noqa: E402
from lightcost.core.graph import Graph, Node  # noqa: E402
from lightcost.cost.latency import load_device  # noqa: E402
from lightcost.cost.predictor import SUFFIXES, MeasuredDevice, kernel_type, variant  # noqa: E402

Pair = tuple[str, str]  # (the context alone, the layer in it)


def layer_case(node: Node) -> Pair | None:
    """The layer as a case in the calibration's context, or None when its inputs cannot be
    made there (maps of other sizes, token sequences, more than 3 dimensions)."""
    shapes = [tuple(s) for s in node.in_shapes]
    if not shapes or any(len(s) != 3 for s in shapes):
        return None
    first, setup, sources = shapes[0], [], ["pre"]
    for i, shape in enumerate(shapes[1:]):
        if shape == first:
            sources.append("pre")
            continue
        if shape[1:] == first[1:]:
            layer = {"name": f"in{i}", "op": "conv", "k": 1, "out": shape[0], "bn": False}
        elif shape == (first[0], 1, 1):
            layer = {"name": f"in{i}", "op": "avgpool", "global": True}
        else:
            return None
        setup.append(flow({**layer, "from": "pre"}))
        sources.append(f"in{i}")
    attrs = {k: list(v) if isinstance(v, tuple) else v for k, v in node.attrs.items()}
    fields = {"name": "k", "op": node.op, **({"from": sources} if len(sources) > 1 else {})}
    layer_text = flow({**fields, **{k: v for k, v in attrs.items() if v is not None}})
    base, text = in_context(first, *setup), in_context(first, *setup, layer_text)
    return (base, text) if build_case(base) and build_case(text) else None


def flow(mapping: dict[str, Any]) -> str:
    """One spec layer in YAML flow style."""
    return yaml.safe_dump(mapping, default_flow_style=True, sort_keys=False, width=10**6).strip()


def predicted(device: MeasuredDevice, pair: Pair) -> float:
    """The profile's kernel time of the case's layer: its spec less the context's."""
    base, text = (build_case(t) for t in pair)
    assert base is not None and text is not None
    return sum(device.graph_times(text, "fp32")) - sum(device.graph_times(base, "fp32"))


def type_of(node: Node) -> str:
    """The kernel type and variant the profile times a layer by."""
    return kernel_type(node) + SUFFIXES[int(variant(node))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", help="a measured profile (default: calibrate here first)")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="rounds per layer case")
    parser.add_argument("--top", type=int, default=25, help="kernel types listed")
    args = parser.parse_args()
    chosen, graphs, onnx_models, _ = exportable(models())
    bench = Bench(onnx_models, 1)
    rounds = [bench.round()]
    if args.profile:
        device = load_device(args.profile)
    else:
        device = measure_profile("here", 1, ROUNDS).device
    assert isinstance(device, MeasuredDevice), "a measured profile (calibrate --runtime)"
    cases = [[layer_case(node) for node in graph.nodes] for graph in graphs]
    pairs = list(dict.fromkeys(p for found in cases for p in found if p is not None))
    runs = time_pairs(pairs, 1, args.rounds, None, lambda: rounds.append(bench.round()))
    rounds.append(bench.round())
    plain = dataclasses.replace(device, network=0.0)
    timed = {p: quiet(runs[p][1]) - quiet(runs[p][0]) for p in pairs}
    guess = {p: predicted(plain, p) for p in pairs}
    whole = [quiet(times) for times in zip(*rounds, strict=True)]
    report(chosen, graphs, cases, timed, guess, whole, args.top)


def report(
    chosen: list[Any],
    graphs: list[Graph],
    cases: list[list[Pair | None]],
    timed: dict[Pair, float],
    guess: dict[Pair, float],
    whole: list[float],
    top: int,
) -> None:
    """The Markdown report: per kernel type, then per model."""
    types: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for graph, found in zip(graphs, cases, strict=True):
        for node, pair in zip(graph.nodes, found, strict=True):
            if pair is not None:
                row = types[type_of(node)]
                row[0], row[1], row[2] = row[0] + 1, row[1] + timed[pair], row[2] + guess[pair]
    print(f"# Kernel fits on real layers: {len(timed)} distinct layers of {len(graphs)} models")
    print("\n| kernel type | layers | in context ms | predicted ms | predicted / measured |")
    print("|---|---|---|---|---|")
    ranked = sorted(types.items(), key=lambda item: -abs(item[1][2] - item[1][1]))
    for name, (count, real, fit) in ranked[:top]:
        ratio = f"{fit / real:.2f}" if real > 0 else "-"
        print(f"| {name} | {count:.0f} | {1e3 * real:.3f} | {1e3 * fit:.3f} | {ratio} |")
    print(
        "\n| model | layers timed | whole ms | layers in context ms | predicted / in context "
        "| whole / in context |\n|---|---|---|---|---|---|"
    )
    for model, graph, found, seconds in zip(chosen, graphs, cases, whole, strict=True):
        pairs = [p for p in found if p is not None]
        real, fit = sum(timed[p] for p in pairs), sum(guess[p] for p in pairs)
        print(
            f"| {model.label} | {len(pairs)} / {len(graph.nodes)} | {1e3 * seconds:.2f} | "
            f"{1e3 * real:.2f} | {fit / real:.2f} | {seconds / real:.2f} |"
        )


if __name__ == "__main__":
    main()
