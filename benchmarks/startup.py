"""Time `lightcost table mobilenet_v1` as a whole process against the bare dependency import.

Both run as a user's would: with bytecode caches (PYTHONDONTWRITEBYTECODE is removed from
the children's environment and the package is byte-compiled first).

Target (issue 2): median wall time within 1.5x of `python -c "import click, yaml, rich"`,
peak memory (max RSS of the child) under 40 MiB. Prints the figures and the ratio; exits 1
when a target is missed. Usage: python benchmarks/startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import time

BASELINE = [sys.executable, "-c", "import click, yaml, rich"]
TARGET_RATIO = 1.5
TARGET_MIB = 40.0


def lightcost_command() -> list[str]:
    """The installed console script beside this Python, else ``python -m lightcost``."""
    script = os.path.join(os.path.dirname(sys.executable), "lightcost")
    if os.path.exists(script):
        return [script, "table", "mobilenet_v1"]
    found = shutil.which("lightcost")
    return [found, "table", "mobilenet_v1"] if found else [sys.executable, "-m", "lightcost"]


def run_once(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one child process."""
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "160"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    start = time.perf_counter()
    pid = subprocess.Popen(command, stdout=subprocess.DEVNULL, env=env).pid
    _, status, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{' '.join(command)} failed with status {status}")
    return elapsed, usage.ru_maxrss / 1024  # Linux reports KiB


def measure(command: list[str], runs: int) -> tuple[float, float]:
    """Median wall time and the largest peak RSS over ``runs`` runs (after one warm-up)."""
    run_once(command)
    results = [run_once(command) for _ in range(runs)]
    return statistics.median(r[0] for r in results), max(r[1] for r in results)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    import lightcost

    compileall.compile_dir(os.path.dirname(lightcost.__file__), quiet=1)
    command = lightcost_command()
    base_time, base_mem = measure(BASELINE, args.runs)
    tool_time, tool_mem = measure(command, args.runs)
    ratio = tool_time / base_time
    print(f"baseline  {' '.join(BASELINE[1:])!s:45} median {base_time * 1000:7.1f} ms  "
          f"peak {base_mem:5.1f} MiB")  # fmt: skip
    print(f"lightcost {' '.join(command[-2:]):45} median {tool_time * 1000:7.1f} ms  "
          f"peak {tool_mem:5.1f} MiB")  # fmt: skip
    print(f"ratio {ratio:.2f}x (target <= {TARGET_RATIO}x); peak {tool_mem:.1f} MiB "
          f"(target < {TARGET_MIB:.0f} MiB); {args.runs} runs each")  # fmt: skip
    ok = ratio <= TARGET_RATIO and tool_mem < TARGET_MIB
    print("OK" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
