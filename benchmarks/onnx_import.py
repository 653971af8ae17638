"""Time `lightcost table FILE.onnx` as a whole process against `python -c "import onnx"`.

For a few corpus files (tests/onnx_corpus), runs the baseline and lightcost interleaved
(baseline, each file, baseline, ...) so drift in the machine's load hits both alike, with
bytecode caches as a user's would (the package is byte-compiled first). Reports each
file's median wall time, the ratio to the baseline's median and the largest peak RSS.

Target (issue 13): within 1.5x of `import onnx` and under 150 MiB for resnet50. Prints a
table and the ratios; exits 1 when the resnet50 target is missed.
Usage: python benchmarks/onnx_import.py [--runs N] [FILE ...]
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import sys

from startup import lightcost_command, run_once

CORPUS = os.path.join(os.path.dirname(__file__), "..", "tests", "onnx_corpus")
FILES = ["resnet50.onnx", "mobilenet_v2.onnx", "efficientnet_b0.onnx", "densenet121.onnx"]
BASELINE = [sys.executable, "-c", "import onnx"]
TARGET_RATIO = 1.5
TARGET_MIB = 150.0
TARGET_FILE = "resnet50.onnx"


def command(file: str) -> list[str]:
    """`lightcost table FILE` through the console script beside this Python."""
    return [*lightcost_command()[:-2], "table", os.path.join(CORPUS, file)]


def interleaved(files: list[str], runs: int) -> dict[str, list[tuple[float, float]]]:
    """Wall seconds and peak MiB of each run, by file (and ``baseline``), after a warm-up."""
    commands = {"baseline": BASELINE, **{file: command(file) for file in files}}
    for cmd in commands.values():
        run_once(cmd)
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, cmd in commands.items():
            results[name].append(run_once(cmd))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("files", nargs="*", default=FILES)
    args = parser.parse_args()
    import lightcost

    compileall.compile_dir(os.path.dirname(lightcost.__file__), quiet=1)
    results = interleaved(args.files, args.runs)
    base = statistics.median(t for t, _ in results["baseline"])
    ok = True
    print(f"{'command':38} {'median ms':>10} {'ratio':>7} {'peak MiB':>9}")
    for name, runs in results.items():
        median = statistics.median(t for t, _ in runs)
        peak = max(m for _, m in runs)
        label = "python -c 'import onnx'" if name == "baseline" else f"lightcost table {name}"
        print(f"{label:38} {median * 1000:10.1f} {median / base:6.2f}x {peak:9.1f}")
        if name == TARGET_FILE:
            ok = median / base <= TARGET_RATIO and peak < TARGET_MIB
    print(f"target: {TARGET_FILE} within {TARGET_RATIO}x of import onnx and under "
          f"{TARGET_MIB:.0f} MiB; median of {args.runs} interleaved runs each")  # fmt: skip
    print("OK" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
