"""Time a 10,000-configuration sweep of mobilenet_v2 as a whole process (issue 4).

Target: under 1 second for the whole `lightcost sweep` process. Prints configurations
per second and the ratio to a single `lightcost table mobilenet_v2` process, both
measured in this run (median of repeated runs, bytecode caches warm).
Usage: python benchmarks/sweep.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

WIDTHS = "0.2:2.175:0.025"  # 80 widths
RESOLUTIONS = "32:528:4"  # 125 resolutions: 80 x 125 = 10,000 configurations
TARGET_SECONDS = 1.0


def script() -> str:
    """The lightcost console script installed beside this Python."""
    return os.path.join(os.path.dirname(sys.executable), "lightcost")


def median_seconds(command: list[str], runs: int) -> float:
    """Median wall time of ``runs`` runs after one warm-up (which also writes bytecode)."""
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    times = []
    for index in range(runs + 1):
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, env=env, check=True)
        if index:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    sweep = [script(), "sweep", "mobilenet_v2", "-w", WIDTHS, "-r", RESOLUTIONS, "--no-progress"]
    table = [script(), "table", "mobilenet_v2"]
    from lightcost.analysis.sweep import parse_range

    count = len(parse_range(WIDTHS)) * len(parse_range(RESOLUTIONS, integer=True))
    sweep_time = median_seconds(sweep, args.runs)
    table_time = median_seconds(table, args.runs)
    print(
        f"sweep: {count:,} configurations of mobilenet_v2 (widths {WIDTHS}, resolutions "
        f"{RESOLUTIONS}) in {sweep_time:.3f} s as a whole process"
    )
    print(f"       {count / sweep_time:,.0f} configurations per second")
    print(f"table: one `lightcost table mobilenet_v2` in {table_time:.3f} s")
    print(
        f"ratio: the sweep costs {sweep_time / table_time:.1f} table runs "
        f"({count * table_time / sweep_time:,.0f}x faster than one process per configuration)"
    )
    ok = sweep_time < TARGET_SECONDS
    print("OK" if ok else f"TARGET MISSED (target < {TARGET_SECONDS} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
