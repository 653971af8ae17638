"""Measure the text outputs of a spec whose names are huge (time, peak memory, output size).

A spec file controls its model name and layer names; a text table pads every
row of a column to its widest cell, so without a cut a 1 MiB layer name makes
every row 1 MiB wide. Here a spec with a ``--name-kib`` KiB model name and one
layer of a ``--name-kib`` KiB name among ``--layers`` layers runs through
``lightcost table``, ``lint`` and ``check`` (a budget in the spec) as whole
processes; the script prints each command's wall time, peak memory (max RSS of
the child) and stdout size. Text tables cut names at 48 characters
(``lightcost.render.escape.NAME_LIMIT``), so the output stays near the size of
the same spec with short names.

Usage: python benchmarks/long_names.py [--name-kib 1024] [--layers 200]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time


def spec_text(name_kib: int, layers: int) -> str:
    """A spec: a huge model name, a budget, a huge layer name and ``layers`` small layers."""
    huge = "n" * (name_kib * 1024)
    rows = "\n".join(f"  - {{op: relu, name: r{i}}}" for i in range(layers))
    return (
        f'name: "{huge}"\ninput: [3, 8, 8]\nbudget:\n  params: 1M\n  madds: 1M\n'
        f"layers:\n  - {{op: conv, k: 3, out: 8, name: {huge}}}\n{rows}\n"
    )


def run(command: list[str]) -> tuple[float, float, int]:
    """Wall seconds, peak RSS (MiB) and stdout bytes of one child process."""
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "160"}
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        pid = subprocess.Popen(command, stdout=out, stderr=subprocess.DEVNULL, env=env).pid
        _, _, usage = os.wait4(pid, 0)
        elapsed = time.perf_counter() - start
        size = out.seek(0, os.SEEK_END)
    return elapsed, usage.ru_maxrss / 1024, size  # Linux reports KiB


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--name-kib", type=int, default=1024)
    parser.add_argument("--layers", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "long_names.yaml")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(spec_text(args.name_kib, args.layers))
        print(f"spec: {args.name_kib} KiB names, {args.layers + 1} layers")
        for command in (["table", path], ["lint", path], ["check", path]):
            seconds, mib, size = run([sys.executable, "-m", "lightcost", *command])
            print(f"lightcost {command[0]:<6} {seconds:6.2f} s  {mib:7.1f} MiB  {size:>12,} B out")
    return 0


if __name__ == "__main__":
    sys.exit(main())
