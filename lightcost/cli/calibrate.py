"""``lightcost calibrate``: measure this machine and write a device profile.

With ``--runtime onnxruntime`` (``pip install 'lightcost[calibrate]'``): the
runtime's kernels over a designed grid of shapes, fitted per kernel type, and
its fusion rules (:mod:`lightcost.cli.profiling`). Without: a roofline profile.
Compute rate: float32 matrix products with numpy (2 n^3 FLOP each, whatever
cores numpy's BLAS uses). Memory bandwidth: copies of a float32 array larger
than the caches (bytes read + bytes written). Kernel overhead: one numpy call
on a 1-element array. Each figure is the best of several runs (the least
disturbed one). numpy is imported here only, never at start-up.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import replace
from typing import TYPE_CHECKING

import click

from lightcost.cli.measure import MAX_ROUNDS, MAX_THREADS, ROUNDS
from lightcost.cli.options import text_output_option
from lightcost.cli.output import output_file
from lightcost.render.escape import terminal

if TYPE_CHECKING:
    from lightcost.cli.profiling import Measured
    from lightcost.cost.latency import Device

# Bounds of the options. Memory: 12 n^2 bytes for the matmul (three n x n float32
# arrays), then 2 x MiB for the copy (the matmul's arrays freed first): at most 192 MiB,
# then 1 GiB; the defaults (1024, 64 MiB: above the last-level cache of most machines)
# peak under 200 MiB. Time: (repeats + 1)
# matmuls of 2 n^3 FLOP: at most 21 x 137 GFLOP.
MAX_SIZE = 4096
MAX_MIB = 512
MAX_REPEATS = 20


def best_time(run: Callable[[], object], repeats: int) -> float:
    """The fastest of ``repeats`` timed runs, after one warm-up run, in seconds."""
    run()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def matmul_rate(size: int, repeats: int) -> float:
    """FLOP per second of an n x n float32 matmul (2 n^3 FLOP), best of ``repeats``."""
    import numpy as np

    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((size, size), dtype=np.float32) for _ in range(2))
    return 2 * size**3 / best_time(lambda: a @ b, repeats)


def measure(size: int, mebibytes: int, repeats: int) -> Device:
    """This machine's fp32 matmul rate, copy bandwidth and per-call overhead."""
    import datetime
    import platform

    import numpy as np

    from lightcost.cost.latency import Device

    flops = matmul_rate(size, repeats)  # its arrays are freed before the copy's are made
    src = np.ones(mebibytes * 2**20 // 4, dtype=np.float32)
    dst = np.empty_like(src)
    bandwidth = 2 * src.nbytes / best_time(lambda: np.copyto(dst, src), repeats)
    one, out = np.ones(1, dtype=np.float32), np.empty(1, dtype=np.float32)
    calls = 1000

    def many() -> None:
        for _ in range(calls):
            np.add(one, one, out=out)

    overhead = best_time(many, repeats) / calls
    host = platform.node() or "this machine"
    return Device(
        name=host,
        peak_flops={"fp32": flops},
        bandwidth=bandwidth,
        kernel_overhead=overhead,
        description=f"{host} ({platform.machine()}), measured by lightcost calibrate",
        source=f"lightcost calibrate, numpy {np.__version__}, {datetime.date.today()}",
    )


@click.command()
@text_output_option("Profile")
@click.option("--name", default=None, help="Profile name (default: this host's name).")
@click.option(
    "--size",
    type=click.IntRange(16, MAX_SIZE),
    default=1024,
    show_default=True,
    help="Matrix size n of the n x n float32 matmul.",
)
@click.option(
    "--mib",
    type=click.IntRange(1, MAX_MIB),
    default=64,
    show_default=True,
    help="MiB of the array copied to measure bandwidth.",
)
@click.option(
    "--repeats",
    type=click.IntRange(1, MAX_REPEATS),
    default=5,
    show_default=True,
    help="Runs of each measurement; the fastest counts.",
)
@click.option(
    "--runtime",
    type=click.Choice(["roofline", "onnxruntime"]),
    default="roofline",
    show_default=True,
    help="onnxruntime: time its kernels and fusions (lightcost[calibrate]); "
    "roofline: numpy matmul and copy.",
)
@click.option(
    "--threads",
    type=click.IntRange(1, MAX_THREADS),
    default=1,
    show_default=True,
    help="onnxruntime: intra-op threads (predictions hold for this many).",
)
@click.option(
    "--rounds",
    type=click.IntRange(3, MAX_ROUNDS),
    default=ROUNDS,
    show_default=True,
    help="onnxruntime: interleaved rounds over every kernel; the 10% quantile counts.",
)
def calibrate(
    output: str,
    name: str | None,
    size: int,
    mib: int,
    repeats: int,
    runtime: str,
    threads: int,
    rounds: int,
) -> None:
    """Measure this machine and write a device profile.

    Use the profile with --device FILE: lightcost table mobilenet_v2 --device profile.yaml

    \b
    Examples:
      lightcost calibrate --runtime onnxruntime -o cpu.yaml   # kernels + fusions, ~1.5 min
      lightcost calibrate -o profile.yaml                      # roofline: matmul, copy
      lightcost calibrate --size 256 --mib 16 --repeats 2   # quick
    """
    if runtime == "onnxruntime":
        calibrate_runtime(output, name or "", threads, rounds)
        return
    import platform  # lazy, as numpy: only calibrate needs it

    from lightcost.cost.latency import dump_device

    device = measure(size, mib, repeats)
    if name:
        device = replace(device, name=name)
    comment = (
        f"Measured by `lightcost calibrate` on {platform.node()} ({platform.machine()}, "
        f"{platform.system()}).\n"
        f"- peak_flops (fp32 only): {size}x{size} float32 numpy matmul, 2 n^3 FLOP, "
        f"best of {repeats}.\n"
        f"- bandwidth: numpy copy of a {mib} MiB float32 array, bytes read + written, "
        f"best of {repeats}.\n"
        "- kernel_overhead: one numpy call on a 1-element array (1000 calls), "
        f"best of {repeats}.\n"
        "Achieved rates, not spec-sheet peaks; only fp32 was measured."
    )
    text = dump_device(device, comment)
    with output_file(output) as handle:
        handle.write(text)
    if output != "-":
        click.echo(terminal(f"wrote {output}: {device.describe('fp32')}"), err=True)


def calibrate_runtime(output: str, name: str, threads: int, rounds: int) -> None:
    """Time onnxruntime's kernels and fusions, fit them, write the profile; the fit errors
    and the fusion tests go to stderr."""
    import importlib.util
    import platform

    from lightcost.cli.sweep import progress_bar
    from lightcost.cost.predictor import dump_measured

    if not all(importlib.util.find_spec(module) for module in ("onnx", "onnxruntime")):
        raise click.ClickException(
            "--runtime onnxruntime needs onnx and onnxruntime: pip install 'lightcost[calibrate]'"
        )
    from lightcost.cli.networks import COUNT
    from lightcost.cli.profiling import measure_profile  # imports onnxruntime when run

    with ExitStack() as stack:

        def plan(total: int) -> Callable[[int], None]:
            return stack.enter_context(progress_bar(total, True, "timing", "kernel runs"))

        measured = measure_profile(name, threads, rounds, plan)
    device = measured.device
    comment = (
        f"Measured by `lightcost calibrate --runtime onnxruntime` on {platform.node()} "
        f"({platform.machine()}, {platform.system()}), {device.runtime}, {threads} thread(s).\n"
        f"{measured.kernels} kernels timed in context (after a conv and a pooling), "
        f"10 % quantile of {rounds} interleaved rounds;\n"
        "each kernel type fitted as overhead + per_madd x MAdds + per_mac x MAC (fp32)\n"
        "+ per_spill x the MAC beyond the spill point (one for all types, the best fit);\n"
        f"network: per element a layer reads (inputs, weights), fitted on {COUNT} random "
        "networks timed whole;\n"
        "fusions: a pair timed against its parts (true: the second op runs inside the first)."
    )
    with output_file(output) as handle:
        handle.write(dump_measured(device, comment))
    lines = report(measured)
    if output != "-":
        lines.append(f"wrote {output}: {device.describe('fp32')}")
    for line in lines:
        click.echo(terminal(line), err=True)


def report(measured: Measured) -> list[str]:
    """What ``calibrate --runtime`` tells on stderr: the fit error of every kernel type, the
    fusion tests, the spill point, the context's pooling and the random networks' fit."""
    from lightcost.cost.predictor import spill_of

    device = measured.device
    lines = [f"{'kernel type':16} {'cases':>5} {'fit error':>9}"]
    lines += [f"{k:16} {f.cases:5d} {100 * f.error:8.1f}%" for k, f in device.fits.items()]
    lines += [
        f"fusion {rule}: {'yes' if device.fused(rule) else 'no'}, pays "
        f"{device.remaining(rule):.0%} of the second op (pair - first {extra * 1e6:.1f} us, "
        f"second alone {alone * 1e6:.1f} us)"
        for rule, (extra, alone) in measured.fusion_times.items()
    ]
    spill = spill_of(device)
    lines.append(
        f"spill point: {spill} elements ({spill * 4 / 2**20:g} MiB of fp32)"
        if spill
        else "spill point: none (no kernel type pays more per element on large tensors)"
    )
    lines.append(
        f"context pooling: {measured.pooling * 1e9:.3f} ns per element read (removed from "
        "each case by the size of its output)"
    )
    found = measured.traffic
    lines.append(
        f"random networks: the kernels' sums off by {found.error_before:.1%} on average; with "
        f"{found.network * 1e12:.1f} ps per element read, {found.error_after:.1%}"
    )
    if measured.skipped:
        lines.append(
            f"not measured (the one-layer spec does not build): {', '.join(measured.skipped)}"
        )
    return lines
