"""Time a 10,000-configuration sweep of mobilenet_v2 as a whole process (issue 4), and
measure a 10^6-configuration sweep written to CSV (issue 12).

Targets: under 1 second for the whole 10,000-configuration `lightcost sweep` process;
the 10^6 sweep (the default --max-configs) under 200 MiB peak memory (max RSS), its
rows held as columns and written in blocks. Prints configurations per second and the
ratio to a single `lightcost table mobilenet_v2` process, both measured in this run
(median of repeated runs, bytecode caches warm), and the 10^6 sweep's time and peak.
Usage: python benchmarks/sweep.py [--runs N] [--no-million]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

WIDTHS = "0.2:2.175:0.025"  # 80 widths
RESOLUTIONS = "32:528:4"  # 125 resolutions: 80 x 125 = 10,000 configurations
TARGET_SECONDS = 1.0
MILLION_WIDTHS = "0.2:2.675:0.0025"  # 991 widths
MILLION_RESOLUTIONS = "32:1040:1"  # 1,009 resolutions: 999,919 configurations
TARGET_MIB = 200.0


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


def peak_run(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one run of ``command``."""
    start = time.perf_counter()
    child = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, env={**os.environ, "NO_COLOR": "1"}
    )
    _, status, usage = os.wait4(child.pid, 0)
    if status != 0:
        raise SystemExit(f"{' '.join(command)} failed with status {status}")
    return time.perf_counter() - start, usage.ru_maxrss / 1024  # Linux reports KiB


def million() -> bool:
    """The 10^6-configuration sweep to CSV: its time and peak memory, against the target."""
    with tempfile.TemporaryDirectory() as folder:
        out = os.path.join(folder, "grid.csv")
        command = [script(), "sweep", "mobilenet_v2", "-w", MILLION_WIDTHS, "-r"]
        command += [MILLION_RESOLUTIONS, "--no-progress", "-o", out]
        seconds, mib = peak_run(command)
        with open(out, encoding="utf-8") as handle:
            rows = sum(1 for _ in handle) - 1
    print(
        f"large: {rows:,} configurations of mobilenet_v2 to CSV in {seconds:.1f} s "
        f"({rows / seconds:,.0f} per second), peak {mib:.1f} MiB (target < {TARGET_MIB:.0f} MiB)"
    )
    return mib < TARGET_MIB


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-million", action="store_true", help="Skip the 10^6 sweep.")
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
    if not args.no_million:
        large_ok = million()
        print("OK" if large_ok else f"TARGET MISSED (target < {TARGET_MIB:.0f} MiB)")
        ok = ok and large_ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
