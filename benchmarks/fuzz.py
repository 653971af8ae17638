"""Fuzz lightcost with mutated specs: each must cost or fail with a located SpecError.

Every input is a valid spec (a bundled one or one of :data:`SMALL`) with one to
three mutations (:data:`MUTATIONS`): edits of the parsed YAML tree (delete,
duplicate, retype or rename a key; replace a value by an extreme number, text,
list, mapping or null; swap tensor references; repeat a subtree, which the YAML
dump writes with aliases) or edits of the text (truncate, delete or duplicate a
line, insert garbage characters, replace a number). Each input runs through
``lightcost.analyze(name, text=...)`` under a time limit (SIGALRM). Outcomes:
``ok``, ``SpecError`` (with a file, line and column) or ``other`` (any other
exception, a SpecError without a location, or a timeout).

The mutations draw their choices from a :data:`Picker`, so the same code serves
this script (``random.Random``) and the hypothesis test (``tests/test_fuzz.py``).

Usage: python benchmarks/fuzz.py [-n 10000] [--seed 0] [--timeout 10]
Prints the count, the outcomes, the time taken and the peak memory (max RSS);
exits 1 if any outcome is ``other``.
"""

from __future__ import annotations

import argparse
import copy
import random
import resource
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import yaml

import lightcost
from lightcost.spec.files import bundled_names, read_spec

Picker = Callable[[int, int], int]  # an integer from low to high, both included

SMALL = [
    """\
input: [3, 32, 32]
width: {rule: make_divisible, divisor: 8}
vars: {classes: 10, expand: 4}
defaults:
  conv: {bn: true, act: relu6}
blocks:
  unit:
    params: {c: channels, s: stride, t: {type: float, default: 2}}
    nodes:
      - {name: pw, op: conv, k: 1, out: "div(block_in * t)", when: "t != 1"}
      - {name: dw, op: dwconv, k: 3, stride: s}
      - {name: se, op: se, squeeze: "div(in / 4)", gate: hsigmoid}
      - {name: project, op: conv, k: 1, out: c, act: none}
      - {name: add, op: add, from: [input, project], when: "s == 1 and block_in == c"}
layers:
  - {name: stem, op: conv, k: 3, stride: 2, out: 16}
  - repeat: unit
    name: "stage{row}_{j}"
    columns: [c, n, s]
    rows: [[16, 1, 1], [24, 2, 2]]
    with: {t: expand}
  - {op: avgpool, global: true}
  - {op: fc, out: classes}
""",
    """\
lightcost: 1
name: branches
input: [8, 16, 16]
vars: {groups: 2, c: 16}
variants:
  small: {description: fewer channels, vars: {c: 8}}
  large: {vars: {c: 32}}
variant: small
blocks:
  split_unit:
    params: {c: channels}
    nodes:
      - {name: left, op: split, parts: 2, index: 0, from: input}
      - {name: right, op: split, parts: 2, index: 1, from: input}
      - {op: conv, k: 1, out: "in", groups: 2, act: relu}
      - {name: cat, op: concat, from: [left, prev]}
      - {op: shuffle, groups: 2}
layers:
  - {name: head, op: conv, k: 3, out: c, padding: 1, dilation: 1}
  - {use: split_unit, name: u1, with: {c: c}}
  - {repeat: split_unit, n: 2, with: {c: c}}
  - {name: gate, op: avgpool, global: true}
  - {op: sigmoid}
  - {op: mul, from: [u1, gate]}
  - {op: maxpool, k: 3, stride: 2, padding: valid}
  - {op: flatten}
  - {op: dropout}
  - {op: fc, out: 10, bias: false}
""",
    """\
input: [3, 64, "2 * 32"]
width: truncate
blocks:
  inner:
    params: {c: int}
    nodes: [{op: conv, k: 3, out: c}, {op: bn}, {op: relu}]
  outer:
    params: {c: int}
    nodes:
      - {use: inner, with: {c: c}}
      - {use: inner, with: {c: c}, name: second}
      - {op: add, from: [input, second], when: "block_in == c"}
layers:
  - {op: conv, k: 7, stride: 2, out: 64, width: fixed}
  - {repeat: outer, n: 2, with: {c: 64}, start: 0, name: "outer{i}"}
  - {op: avgpool, k: 2, when: "res >= 32"}
  - {op: identity}
""",
]

EXTREMES: list[Any] = [
    0, -1, 1, 2, 3, 7, 0.5, -0.0, 1e-300, 2**16, 2**20 + 1, 2**31, 2**63, 10**15, 10**16,
    10**400, 1e308, float("inf"), float("-inf"), float("nan"), True, False, None, "", "x",
    "in", "input", "prev", "alpha", "res", "9**9**9", "1/0", "in * 1e9", "div(in, 0)",
    "ch(1e15)", "10**15 * 10**15", "(-8) ** 0.5", "'a' < 1", "((((", "{", "{i}", "{1/0}",
    "a" * 500, "\x00", "é", "\u2028", "\x1b[31m", [], {}, [1, 2, 3], [[1]], {"op": "conv"},
    {"type": "channels"}, "relu", "same", "valid", "channels", "conv",
]  # fmt: skip
GARBAGE = [
    "\x00", "\xff", "\ufeff", "\t", "\r", "\n", "\u2028", "\x85", "\ud800", ":", "- ", "{", "}",
    "[", "]", "&a ", "*a ", "!!python/object:os.system ", "!x ", "%YAML 1.1\n", "---\n",
    "? ", "|\n", ">", "'", '"', "#", "<<: ", "@", "`", "\\", "0x", "1e999", ".nan",
]  # fmt: skip


def choice(pick: Picker, items: list[Any]) -> Any:
    """One of ``items``."""
    return items[pick(0, len(items) - 1)]


def seeds() -> list[tuple[str, str]]:
    """(name, text) of every spec the mutations start from: bundled ones and SMALL."""
    bundled = []
    for name in bundled_names():
        _, path = read_spec(name)
        with open(path, encoding="utf-8") as handle:
            bundled.append((f"{name}.yaml", handle.read()))
    return bundled + [(f"small_{i}.yaml", text) for i, text in enumerate(SMALL)]


# -- tree mutations -----------------------------------------------------------------------------


def slots(tree: Any) -> Iterator[tuple[Any, Any]]:
    """Every (container, key or index) of a parsed YAML tree, outermost first."""
    stack = [tree]
    while stack:
        node = stack.pop()
        keys = list(node) if isinstance(node, dict) else range(len(node))
        for key in keys:
            yield node, key
            if isinstance(node[key], dict | list):
                stack.append(node[key])


def names(tree: Any) -> list[str]:
    """Every text value of the tree: candidate tensor names for swapped references."""
    return [c[k] for c, k in slots(tree) if isinstance(c[k], str)] + ["input", "prev", "nope"]


def tree_mutation(edit: Callable[[Picker, Any, Any, Any], None]) -> Callable[[Picker, str], str]:
    """A text mutation that parses the YAML, applies ``edit`` to one slot and dumps it."""

    def mutate(pick: Picker, text: str) -> str:
        try:
            tree = yaml.safe_load(text)
        except yaml.YAMLError:
            return text
        places = list(slots(tree)) if isinstance(tree, dict | list) else []
        if not places:
            return text
        container, key = choice(pick, places)
        edit(pick, tree, container, key)
        return yaml.safe_dump(tree, sort_keys=False, default_flow_style=None, width=100)

    return mutate


def delete(pick: Picker, tree: Any, container: Any, key: Any) -> None:
    del container[key]


def duplicate(pick: Picker, tree: Any, container: Any, key: Any) -> None:
    if isinstance(container, list):
        container.insert(key, container[key])  # shared: dumped as an anchor and an alias
    else:
        container[f"{key}_copy"] = copy.deepcopy(container[key])


def retype(pick: Picker, tree: Any, container: Any, key: Any) -> None:
    value = container[key]
    container[key] = choice(pick, [[value], {"value": value}, str(value), None, 1, True])


def extreme(pick: Picker, tree: Any, container: Any, key: Any) -> None:
    container[key] = copy.deepcopy(choice(pick, EXTREMES))


def rename(pick: Picker, tree: Any, container: Any, key: Any) -> None:
    if isinstance(container, dict):
        new = choice(pick, [key[:-1] if isinstance(key, str) else key, "op", "from", "n", 1])
        container[new] = container.pop(key)


def swap_reference(pick: Picker, tree: Any, container: Any, key: Any) -> None:
    container[key] = choice(pick, names(tree))


def repeat_subtree(pick: Picker, tree: Any, container: Any, key: Any) -> None:
    container[key] = [container[key]] * pick(2, 9)  # dumped with aliases


def reorder(pick: Picker, tree: Any, container: Any, key: Any) -> None:
    if isinstance(container, list) and container:
        other = pick(0, len(container) - 1)
        container[key], container[other] = container[other], container[key]


# -- text mutations ---------------------------------------------------------------------------


def truncate(pick: Picker, text: str) -> str:
    return text[: pick(0, len(text))]


def lines_edit(pick: Picker, text: str) -> str:
    """Delete or duplicate one line (a duplicated line often repeats a key)."""
    lines = text.splitlines(keepends=True)
    if not lines:
        return text
    index = pick(0, len(lines) - 1)
    lines[index : index + 1] = [] if pick(0, 1) else [lines[index]] * 2
    return "".join(lines)


def garbage(pick: Picker, text: str) -> str:
    at = pick(0, len(text))
    junk = choice(pick, GARBAGE) if pick(0, 3) else chr(pick(0, 0x10FFFF))
    return text[:at] + junk + text[at:]


def number_text(pick: Picker, text: str) -> str:
    """Replace the first number at or after a random place by an extreme one."""
    at = pick(0, len(text))
    digits = [i for i in range(at, len(text)) if text[i].isdigit()]
    if not digits:
        return text
    start = end = digits[0]
    while end < len(text) and text[end].isdigit():
        end += 1
    new = choice(pick, ["0", "-1", "1.5", "99999999999999999999", "1e400", "2**62", ".inf"])
    return text[:start] + new + text[end:]


MUTATIONS: list[Callable[[Picker, str], str]] = [
    *(
        tree_mutation(edit)
        for edit in (delete, duplicate, retype, extreme, rename, swap_reference, repeat_subtree)
    ),
    tree_mutation(extreme),  # the most productive mutation, twice as likely
    tree_mutation(reorder),
    truncate,
    lines_edit,
    garbage,
    number_text,
]


def mutated(pick: Picker, specs: list[tuple[str, str]]) -> tuple[str, str]:
    """A spec from ``specs`` with one to three mutations: (name, text)."""
    name, text = choice(pick, specs)
    for _ in range(pick(1, 3)):
        text = choice(pick, MUTATIONS)(pick, text)
    return name, text


# -- running ------------------------------------------------------------------------------------


class Timeout(BaseException):
    """Raised by the alarm when one input runs over its time limit."""


def _alarm(signum: int, frame: Any) -> None:
    raise Timeout


def outcome(name: str, text: str, seconds: float) -> tuple[str, str]:
    """("ok" | "SpecError" | "other", detail) of costing one spec text within ``seconds``."""
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        lightcost.analyze(name, text=text)
        return "ok", ""
    except lightcost.SpecError as exc:
        if exc.loc is None or exc.loc.line < 1 or exc.loc.col < 1:
            return "other", f"SpecError without a location: {exc}"
        return "SpecError", str(exc)
    except Timeout:
        return "other", f"timeout after {seconds} s"
    except Exception as exc:
        return "other", f"{type(exc).__name__}: {exc}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=10_000, help="inputs to run (default 10000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per input")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    specs = seeds()
    counts: Counter[str] = Counter()
    failures: list[tuple[str, str, str]] = []
    slowest = 0.0
    start = time.perf_counter()
    for _ in range(args.n):
        name, text = mutated(rng.randint, specs)
        began = time.perf_counter()
        kind, detail = outcome(name, text, args.timeout)
        slowest = max(slowest, time.perf_counter() - began)
        counts[kind] += 1
        if kind == "other":
            failures.append((name, text, detail))
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    for name, text, detail in failures[:10]:
        print(f"OTHER {name}: {detail}\n{text[:2000]!r}\n")
    print(f"inputs    {args.n} (seed {args.seed}, {len(specs)} seed specs)")
    print(f"outcomes  ok {counts['ok']}, SpecError {counts['SpecError']}, other {counts['other']}")
    print(f"time      {elapsed:.1f} s ({elapsed / args.n * 1000:.1f} ms per input, "
          f"slowest {slowest:.2f} s, limit {args.timeout:g} s)")  # fmt: skip
    print(f"peak      {peak:.1f} MiB (max RSS)")
    return 1 if counts["other"] else 0


if __name__ == "__main__":
    sys.exit(main())
