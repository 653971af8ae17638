"""Time and peak memory of `lightcost table` (and `lint`) on the worst specs within (and just past)
the limits.

Each case is a spec built here, written to a temporary directory and costed by
the installed `lightcost` console script as a whole process (`table`, and
`table --format json` for the networks that cost): wall seconds and peak
memory (max RSS from ``os.wait4``, the child's ``resource`` usage). The cases
(docs/spec-language.md, "Limits"):

* 20,000 layers, the expander's maximum (conv 3x3 on 64 x 128 x 128);
* a concat of 19,998 branches (activation memory keeps them all alive);
* names at the limit: 20,000 layers whose full names (a block instance name
  and the layer's, joined with ``_``) are 128 characters;
* a 2 MiB block instance name over 20,000 inner layers (an error at the name);
* a 3.8 MB YAML 1.1 base-60 value ``1:1:...`` (an error, found in linear time);
* a chain of 20,000 channel shuffles through ``lint`` (G4 merges chains of copies:
  linear in the layers, not quadratic).

Target for every case: under 10 s and under 200 MiB, with the exit status
shown. Prints one line per run; exits 1 when a target is missed.
Usage: python benchmarks/limits.py [--only NAME]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

TARGET_SECONDS = 10.0
TARGET_MIB = 200.0
LAYERS = 20_000  # expand.MAX_GRAPH_NODES
NAME = 128  # names.MAX_NAME


def largest() -> str:
    """20,000 conv 3x3 layers on a 64 x 128 x 128 input."""
    return (
        "input: [64, 128, 128]\nblocks:\n  b:\n    nodes: [{op: conv, k: 3, out: 64}]\n"
        f"layers:\n  - {{repeat: b, n: {LAYERS}}}\n"
    )


def wide_concat() -> str:
    """19,998 relus of the input, then one concat of them all."""
    count = LAYERS - 2
    rows = [f"  - {{op: relu, from: input, name: r{i}}}" for i in range(count)]
    refs = ", ".join(f"r{i}" for i in range(count))
    rows.append(f"  - {{op: concat, from: [{refs}]}}")
    return "input: [3, 8, 8]\nlayers:\n" + "\n".join(rows) + "\n"


def long_names(length: int = NAME) -> str:
    """20,000 layers whose full names (block instance name + layer name) are ``length`` long."""
    numbered = "'" + "r" * (length - 7) + "{i + 10000}'"  # 10001 to 30000, then _n
    return (
        f"name: {'s' * length}\ninput: [3, 8, 8]\nvars:\n  {'v' * length}: 1\n"
        "blocks:\n  b:\n    nodes: [{op: relu, name: n}]\n"
        f"layers:\n  - {{repeat: b, n: {LAYERS}, name: {numbered}}}\n"
    )


def huge_name() -> str:
    """The hostile form: a 2 MiB block instance name over 20,000 inner layers."""
    return (
        "input: [3, 8, 8]\nblocks:\n  b:\n    nodes: [{op: relu}]\n"
        f"  c:\n    nodes: [{{repeat: b, n: {LAYERS}}}]\n"
        f"layers:\n  - {{use: c, name: {'a' * 2 * 2**20}}}\n"
    )


def copy_chain() -> str:
    """20,000 channel shuffles in a row: one chain of copies for lint's G4."""
    return f"input: [4, 8, 8]\nlayers:\n  - {{repeat: s, n: {LAYERS}}}\n" + (
        "blocks:\n  s:\n    nodes: [{op: shuffle, groups: 2}]\n"
    )


def base60() -> str:
    """A 3.8 MB plain scalar ``1:1:...``: a YAML 1.1 base-60 integer."""
    value = ":".join(["1"] * 1_900_000)
    return f"input: [3, 8, 8]\nvars:\n  x: {value}\nlayers: [{{op: relu}}]\n"


# name: (spec builder, expected exit status, also run --format json, command)
CASES: dict[str, tuple[Callable[[], str], int, bool, str]] = {
    "20,000 layers": (largest, 0, True, "table"),
    "concat of 19,998 branches": (wide_concat, 0, True, "table"),
    "names at the limit": (long_names, 0, True, "table"),
    "2 MiB block instance name": (huge_name, 2, False, "table"),
    "3.8 MB base-60 value": (base60, 2, False, "table"),
    "lint of 20,000 shuffles": (copy_chain, 1, False, "lint"),  # G4 findings: exit 1
}


def script() -> str:
    """The lightcost console script installed beside this Python."""
    return os.path.join(os.path.dirname(sys.executable), "lightcost")


def run(args: list[str]) -> tuple[int, float, float]:
    """Exit status, wall seconds and peak RSS (MiB) of one ``lightcost ARGS`` process."""
    env = {**os.environ, "NO_COLOR": "1"}
    start = time.perf_counter()
    child = subprocess.Popen(
        [script(), *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    return os.waitstatus_to_exitcode(status), elapsed, usage.ru_maxrss / 1024  # Linux: KiB


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=list(CASES), help="run one case")
    args = parser.parse_args()
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for name, (build, status, json, command) in CASES.items():
            if args.only and name != args.only:
                continue
            path = Path(tmp) / "case.yaml"
            path.write_text(build())
            size = path.stat().st_size
            for extra in [[], ["--format", "json"]] if json else [[]]:
                code, seconds, mib = run([command, str(path), *extra])
                met = code == status and seconds < TARGET_SECONDS and mib < TARGET_MIB
                ok = ok and met
                shown = f"{name} ({size / 2**20:.1f} MiB spec){' json' if extra else ''}"
                print(
                    f"{shown:44} exit {code} (want {status})  {seconds:6.2f} s  {mib:6.1f} MiB"
                    f"  {'ok' if met else 'TARGET MISSED'}"
                )
    print(f"targets: the expected exit status, under {TARGET_SECONDS:g} s and {TARGET_MIB:g} MiB")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
