"""Fuzz lightcost over every input channel: each case must cost or fail with one clean line.

Channels, each case a ``lightcost`` command run in a child process with a time
limit and an address-space limit (``RLIMIT_AS``), in a fresh directory:

* ``spec``: a valid spec (a bundled one or one of :data:`SMALL`) with one to
  three mutations (:data:`MUTATIONS`): edits of the parsed YAML tree (delete,
  duplicate, retype or rename a key; replace a value by an extreme number, text,
  list, mapping or null; swap tensor references; repeat a subtree, which the YAML
  dump writes with aliases) or edits of the text (truncate, delete or duplicate a
  line, insert garbage characters, replace a number); run by table, lint, check,
  compare or export.
* ``budgets``: a mutated budgets file (:data:`BUDGETS`), by ``check --budgets``.
* ``device``: a mutated device profile (the bundled ones), by ``--device``.
* ``cli``: a random command with zero to four of its options (read from the
  click commands), each value a valid choice or a hostile one (:data:`CLI_VALUES`).
* ``onnx``: a small exported model (:data:`SMALL`) with one to three mutations of
  its bytes (flip, cut, insert, repeat) or its fields (dims, attributes, op
  types, names and references, node order, tensor data and type, opset, IR
  version) (:data:`ONNX_MUTATIONS`), by table, import or lint.

Outcomes (:data:`OUTCOMES`): ``ok`` (exit 0), ``error`` (exit 2 with one
``error:`` line naming the fuzzed file, or a click usage error), ``findings``
(exit 1: budgets exceeded, lint findings), and the problems: ``exit 3``,
``traceback``, ``timeout``, ``over memory`` (a MemoryError or bad_alloc under the
address-space limit), ``crash`` (a signal) and ``unclean`` (exit 2 with another
message). Before the channels, ``--in-process N`` mutated specs run through
``lightcost.analyze`` in this process (fast; :func:`outcome`, which
``tests/test_fuzz.py`` drives with hypothesis).

Usage: python benchmarks/fuzz.py [--cases 150] [--channels spec,budgets,device,cli,onnx]
[--seed 0] [--timeout 30] [--memory 1024] [--jobs N] [--in-process 2000] [--keep DIR]
Prints per channel the cases, the outcome counts, the worst time and the worst peak
memory (max RSS) of accepted and of rejected inputs; then each problem as a command
to reproduce it (its files saved under --keep); exits 1 if there is any.
"""

from __future__ import annotations

import argparse
import copy
import os
import random
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple

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


def in_process(count: int, seed: int, seconds: float) -> tuple[Counter[str], float, list[str]]:
    """Run ``count`` mutated specs through ``lightcost.analyze`` in this process (fast)."""
    rng = random.Random(seed)
    specs = seeds()
    counts: Counter[str] = Counter()
    failures: list[str] = []
    slowest = 0.0
    for _ in range(count):
        name, text = mutated(rng.randint, specs)
        began = time.perf_counter()
        kind, detail = outcome(name, text, seconds)
        slowest = max(slowest, time.perf_counter() - began)
        counts[kind] += 1
        if kind == "other":
            failures.append(f"{name}: {detail}\n{text[:2000]!r}")
    return counts, slowest, failures


# -- channels: each case is a lightcost command line and the files it reads --------------------


class Case(NamedTuple):
    """One run of ``lightcost ARGV`` in a fresh directory holding ``files``; a clean error
    names ``named`` (the fuzzed file) when set."""

    channel: str
    argv: list[str]
    files: dict[str, bytes]
    named: str | None


CLI_VALUES = [
    "0", "-1", "1", "2", "0.5", "16", "17", "224", "65536", "65537", "1e999", "nan", "inf", "-0",
    "", " ", "1,2,3", "0:1:0", "1:0:1", "0.01:16:0.0001", "1:65536:1", "2**63",
    "99999999999999999999", "a", "x" * 300, "\x1b[31m", "é", "\u2028", "classes=1e15",
    "classes=", "=1", "classes=[1", "mobilenet_v2", "../../etc/passwd", "/dev/zero", "-",
    "--width", "madds:min,params:max", "latency", "params,params", "5%", "1e3%", "HEAD~99",
    "small.yaml", "device.yaml", "model.onnx", "gtx1080ti", "1.5x", "fp16", "unfused",
]  # fmt: skip
OUTPUTS = ["out.csv", "out.json", "out.onnx", "out.yaml", "out.png", "-", "no/dir/x", "."]
SPEC_ARGS = ["mobilenet_v1", "shufflenet_v2", "small.yaml", "model.onnx", "nope", "device.yaml"]
SPEC_COMMANDS = [
    ["table"], ["table", "-f", "json"], ["table", "--by", "op", "--exec", "unfused"], ["lint"],
    ["check"], ["compare"], ["export", "-o", "out.onnx"],
]  # fmt: skip
BUDGETS = [
    "budgets:\n  - {spec: small.yaml, madds: 600M, params: 4.3M}\n"
    "  - spec: mobilenet_v2\n    width: 0.75\n    resolution: 160\n    madds: 220M\n"
    "    peak_activation: 2MiB\n    latency: 5ms\n    device: gtx1080ti\n",
    "budgets:\n  - spec: '*.yaml'\n    convention: deployed\n    set: {classes: 10}\n"
    "    params: 300k\n    mac_bytes: 512kB\n"
    "  - {spec: shufflenet_v2, variant: 0.5x, madds: 45M}\n",
]


def spec_case(pick: Picker, specs: list[tuple[str, str]]) -> Case:
    """A mutated spec through one of the commands that read a spec."""
    _, text = mutated(pick, specs)
    argv = [*choice(pick, SPEC_COMMANDS), "case.yaml"]
    return Case("spec", argv, {"case.yaml": text.encode("utf-8", "replace")}, "case.yaml")


def budgets_case(pick: Picker) -> Case:
    """A mutated budgets file, checked (the specs it names are bundled or ``small.yaml``)."""
    _, text = mutated(pick, [("budgets.yaml", seed) for seed in BUDGETS])
    files = {"budgets.yaml": text.encode("utf-8", "replace"), "small.yaml": SMALL[0].encode()}
    return Case("budgets", ["check", "--budgets", "budgets.yaml"], files, "budgets.yaml")


def device_case(pick: Picker, profiles: list[str]) -> Case:
    """A mutated device profile, read by a command that estimates latency."""
    _, text = mutated(pick, [("device.yaml", seed) for seed in profiles])
    argv = choice(pick, [["table", "small.yaml"], ["compare", "mobilenet_v1", "-w", "1,0.5"],
                         ["table", "mobilenet_v2", "--dtype", "int8"]])  # fmt: skip
    files = {"device.yaml": text.encode("utf-8", "replace"), "small.yaml": SMALL[0].encode()}
    return Case("device", [*argv, "--device", "device.yaml"], files, "device.yaml")


def device_profiles() -> list[str]:
    """The bundled device profiles as text."""
    from lightcost.cost.latency import bundled_devices, dump_device, load_device

    return [dump_device(load_device(name)) for name in bundled_devices()]


def cli_case(pick: Picker, files: dict[str, bytes]) -> Case:
    """A lightcost command with zero to four random options, each value valid or hostile
    (options and arguments read from the click commands themselves)."""
    import click

    from lightcost.cli.main import COMMANDS, cli

    name = choice(pick, list(COMMANDS))
    command = cli.get_command(click.Context(cli), name)
    assert command is not None
    argv = [name]
    options = [p for p in command.params if isinstance(p, click.Option)]
    for _ in range(pick(0, 4) if options else 0):
        option = choice(pick, options)
        argv.append(choice(pick, list(option.opts)))
        if not option.is_flag:
            argv.append(option_value(pick, option))
    for param in command.params:
        if isinstance(param, click.Argument):
            argv += [choice(pick, SPEC_ARGS) for _ in range(1 if param.nargs == 1 else 2)]
    return Case("cli", argv, files, None)


def option_value(pick: Picker, option: Any) -> str:
    """A valid choice of a Choice option (two times in three), else a hostile value."""
    import click

    if isinstance(option.type, click.Choice) and pick(0, 2):
        return str(choice(pick, list(option.type.choices)))
    if option.name in ("output", "plot"):
        return str(choice(pick, OUTPUTS))
    return str(choice(pick, CLI_VALUES))


# -- the ONNX channel: mutations of small exported models ---------------------------------------


HOSTILE_TEXT = [
    "", "x", "input", "prev", "a" * 500, "a" * 100_000, "\x00", "é", "\u2028", "\x1b[31m", "{",
    "1/0", "x\nlayers: []", "../../etc/passwd", "/dev/zero",
]  # fmt: skip
INTS = [0, -1, 1, 2, 3, 7, 2**16, 2**31, 2**62, -(2**63)]
ATTRIBUTES = ["group", "axis", "kernel_shape", "pads", "strides", "dilations", "perm", "split",
              "auto_pad", "ceil_mode", "transB", "alpha", "min", "max", "starts"]  # fmt: skip


def onnx_seeds() -> list[bytes]:
    """The small specs of :data:`SMALL` exported to ONNX."""
    from lightcost.api import build
    from lightcost.interop.onnx.exporter import export_graph

    graphs = [build(f"small_{i}.yaml", text=text) for i, text in enumerate(SMALL)]
    return [bytes(export_graph(graph).SerializeToString()) for graph in graphs]


def onnx_case(pick: Picker, models: list[bytes]) -> Case:
    """A small exported model with one to three mutations of its bytes or its fields."""
    data = choice(pick, models)
    for _ in range(pick(1, 3)):
        data = choice(pick, ONNX_MUTATIONS)(pick, data)
    argv = [*choice(pick, [["table"], ["import"], ["lint"], ["table", "--exec", "unfused"]])]
    return Case("onnx", [*argv, "case.onnx"], {"case.onnx": data}, "case.onnx")


def proto_mutation(edit: Callable[[Picker, Any], None]) -> Callable[[Picker, bytes], bytes]:
    """A byte mutation that parses the model, applies ``edit`` and serializes it again."""

    def mutate(pick: Picker, data: bytes) -> bytes:
        import onnx

        try:
            model = onnx.ModelProto.FromString(data)
            edit(pick, model)
            return bytes(model.SerializeToString())
        except Exception:  # not parseable after an earlier byte mutation; a text protobuf refuses
            return data

    return mutate


def edit_dim(pick: Picker, model: Any) -> None:
    graph = model.graph
    infos = [*graph.input, *graph.output, *graph.value_info]
    dims = [d for info in infos for d in info.type.tensor_type.shape.dim]
    if pick(0, 1) and graph.initializer:
        tensor = choice(pick, list(graph.initializer))
        if tensor.dims:
            tensor.dims[pick(0, len(tensor.dims) - 1)] = choice(pick, INTS)
    elif dims:
        dim = choice(pick, dims)
        if pick(0, 3):
            dim.dim_value = choice(pick, INTS)
        else:
            dim.dim_param = choice(pick, HOSTILE_TEXT)


def edit_attribute(pick: Picker, model: Any) -> None:
    from onnx import helper

    node = choice(pick, list(model.graph.node))
    name = choice(pick, ATTRIBUTES + [a.name for a in node.attribute])
    value = choice(pick, [choice(pick, INTS), [choice(pick, INTS) for _ in range(pick(0, 5))],
                          choice(pick, HOSTILE_TEXT), 0.5, float("nan"), [1.5, 2.5]])  # fmt: skip
    kept = [a for a in node.attribute if a.name != name]
    del node.attribute[:]
    node.attribute.extend(kept)
    if pick(0, 4):
        node.attribute.append(helper.make_attribute(name, value))


def edit_op_type(pick: Picker, model: Any) -> None:
    from lightcost.interop.onnx.importer import supported

    node = choice(pick, list(model.graph.node))
    others = ["If", "Loop", "Resize", "Softmax", "conv", *HOSTILE_TEXT]
    node.op_type = choice(pick, [*sorted(supported()), *others])
    if not pick(0, 5):
        node.domain = choice(pick, ["com.microsoft", "ai.onnx", "x"])


def edit_name(pick: Picker, model: Any) -> None:
    graph = model.graph
    node = choice(pick, list(graph.node))
    tensors = [n for n in node.input] + [t.name for t in graph.initializer] + ["", "nope"]
    value = choice(pick, HOSTILE_TEXT + tensors)
    where = pick(0, 5)
    if where == 0:
        graph.name = value
    elif where == 1:
        model.producer_name = value
    elif where == 2:
        node.name = value
    elif where == 3 and node.input:
        node.input[pick(0, len(node.input) - 1)] = value
    elif where == 4 and node.output:
        node.output[0] = value
    else:
        node.name = choice(pick, list(graph.node)).name  # a duplicate name


def edit_structure(pick: Picker, model: Any) -> None:
    nodes = model.graph.node
    index = pick(0, len(nodes) - 1)
    action = pick(0, 3)
    if action == 0:
        del nodes[index]
    elif action == 1:
        nodes.add().CopyFrom(nodes[index])
    elif action == 2:
        node = type(nodes[index])()
        node.CopyFrom(nodes[index])
        del nodes[index]
        nodes.insert(pick(0, len(nodes)), node)
    else:
        del nodes[index].input[pick(0, len(nodes[index].input)) :]


def edit_tensor(pick: Picker, model: Any) -> None:
    from onnx import TensorProto

    if not model.graph.initializer:
        return
    tensor = choice(pick, list(model.graph.initializer))
    action = pick(0, 3)
    if action == 0:
        tensor.data_location = TensorProto.EXTERNAL
        tensor.external_data.add(key="location", value=choice(pick, [*HOSTILE_TEXT, "case.onnx"]))
    elif action == 1:
        tensor.data_type = pick(0, 25)
    elif action == 2:
        tensor.raw_data = tensor.raw_data[: pick(0, len(tensor.raw_data))]
    else:
        tensor.dims.append(choice(pick, INTS))


def edit_model(pick: Picker, model: Any) -> None:
    action = pick(0, 3)
    if action == 0 and model.opset_import:
        model.opset_import[0].version = choice(pick, [1, 6, 10, 11, 13, 99, 2**62])
    elif action == 1:
        model.ir_version = choice(pick, [0, 1, 3, 99, 2**62])
    elif action == 2:
        model.doc_string = choice(pick, HOSTILE_TEXT) * pick(1, 100)
    else:
        model.graph.input.add().CopyFrom(model.graph.input[0])


def flip_bytes(pick: Picker, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(pick(1, 8)):
        if out:
            out[pick(0, len(out) - 1)] = pick(0, 255)
    return bytes(out)


def cut_bytes(pick: Picker, data: bytes) -> bytes:
    return data[: pick(0, len(data))]


def insert_bytes(pick: Picker, data: bytes) -> bytes:
    at = pick(0, len(data))
    junk = bytes(pick(0, 255) for _ in range(pick(1, 16)))
    return data[:at] + junk + data[at:]


def repeat_bytes(pick: Picker, data: bytes) -> bytes:
    start = pick(0, len(data))
    end = pick(start, min(len(data), start + 4096))
    return data[:end] + data[start:end] * pick(1, 50) + data[end:]


ONNX_MUTATIONS: list[Callable[[Picker, bytes], bytes]] = [
    *(
        proto_mutation(edit)
        for edit in (
            edit_dim,
            edit_attribute,
            edit_op_type,
            edit_name,
            edit_structure,
            edit_tensor,
            edit_model,
        )
    ),
    proto_mutation(edit_attribute),  # attributes are most of what handlers read: twice
    flip_bytes,
    cut_bytes,
    insert_bytes,
    repeat_bytes,
]


# -- running a case in a child process -----------------------------------------------------------


CHILD = """
import resource, runpy, sys
limit = int(sys.argv[1]) * 2**20
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
sys.argv = ["lightcost", *sys.argv[2:]]
runpy.run_module("lightcost", run_name="__main__")
"""
ENV = {**os.environ, "NO_COLOR": "1", "COLUMNS": "120", "OPENBLAS_NUM_THREADS": "1",
       "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}  # fmt: skip
PROBLEMS = ("exit 3", "traceback", "timeout", "over memory", "crash", "unclean")
OUTCOMES = ("ok", "error", "findings", *PROBLEMS)
# What a child at its address-space limit prints. CPython sometimes fails an allocation
# during an import without setting MemoryError ("SystemError: error return without
# exception set"): under the limit that is the same event.
MEMORY_SIGNS = (
    "MemoryError",
    "bad_alloc",
    "Cannot allocate memory",
    "out of memory",
    "error return without exception set",
)


class Run(NamedTuple):
    """A case's outcome (:data:`OUTCOMES`), wall seconds, peak memory (MiB) and stderr."""

    case: Case
    outcome: str
    seconds: float
    peak: float
    stderr: str


def run_case(case: Case, seconds: float, memory_mib: int) -> Run:
    """Run ``case`` in a child process limited to ``seconds`` and ``memory_mib`` MiB of
    address space."""
    with tempfile.TemporaryDirectory(prefix="lightcost-fuzz-") as folder:
        for name, data in case.files.items():
            with open(os.path.join(folder, name), "wb") as handle:
                handle.write(data)
        err_path = os.path.join(folder, ".stderr")
        with open(os.devnull, "wb") as out, open(err_path, "wb") as err:
            began = time.perf_counter()
            child = subprocess.Popen(
                [sys.executable, "-c", CHILD, str(memory_mib), *case.argv],
                cwd=folder, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=ENV,
                start_new_session=True,
            )  # fmt: skip
            code, usage, timed_out = wait(child, seconds)
            elapsed = time.perf_counter() - began
        with open(err_path, "rb") as handle:
            stderr = handle.read(65536).decode("utf-8", "replace")
    kind = classify(case, code, stderr, timed_out)
    return Run(case, kind, elapsed, usage.ru_maxrss / 1024, stderr)


def wait(child: subprocess.Popen[bytes], seconds: float) -> tuple[int, Any, bool]:
    """Exit status (negative: the signal), resource usage and whether it was killed on time."""
    deadline = time.monotonic() + seconds
    timed_out = False
    while True:
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            os.killpg(child.pid, signal.SIGKILL)  # the case's own process group
            _, status, usage = os.wait4(child.pid, 0)
            timed_out = True
            break
        time.sleep(0.005)
    child.returncode = os.waitstatus_to_exitcode(status)
    return child.returncode, usage, timed_out


def classify(case: Case, code: int, stderr: str, timed_out: bool) -> str:
    """One of :data:`OUTCOMES` for a finished case."""
    if timed_out:
        return "timeout"
    if any(sign in stderr for sign in MEMORY_SIGNS):
        return "over memory"
    if "Traceback" in stderr:
        return "traceback"
    if code in (0, 1, 3):
        return {0: "ok", 1: "findings", 3: "exit 3"}[code]
    if code == 2:
        return "error" if clean_error(case, stderr) else "unclean"
    return "crash"


def clean_error(case: Case, stderr: str) -> bool:
    """A click usage error, or non-empty ``error:`` lines (one per failed budget of `check`,
    one otherwise), the first naming the fuzzed file."""
    lines = stderr.splitlines()
    if any(line.startswith("Error: ") for line in lines) and "Usage: " in stderr:
        return True
    return (
        bool(lines)
        and all(line.startswith("error: ") and len(line) > len("error: ") for line in lines)
        and (case.named is None or case.named in lines[0])
    )


# -- the report -----------------------------------------------------------------------------------


def channel_cases(channel: str, count: int, rng: random.Random) -> list[Case]:
    """``count`` cases of ``channel``, drawn from ``rng``."""
    pick = rng.randint
    if channel == "spec":
        specs = seeds()
        return [spec_case(pick, specs) for _ in range(count)]
    if channel == "budgets":
        return [budgets_case(pick) for _ in range(count)]
    if channel == "device":
        profiles = device_profiles()
        return [device_case(pick, profiles) for _ in range(count)]
    models = onnx_seeds()
    if channel == "onnx":
        return [onnx_case(pick, models) for _ in range(count)]
    files = {"small.yaml": SMALL[0].encode(), "device.yaml": device_profiles()[0].encode(),
             "model.onnx": models[0]}  # fmt: skip
    return [cli_case(pick, files) for _ in range(count)]


CHANNELS = ("spec", "budgets", "device", "cli", "onnx")


def summary(channel: str, runs: list[Run]) -> str:
    """One line of figures for a channel."""
    counts = Counter(run.outcome for run in runs)
    accepted = [r.peak for r in runs if r.outcome in ("ok", "findings")]
    rejected = [r.peak for r in runs if r.outcome == "error"]
    shown = ", ".join(f"{kind} {counts[kind]}" for kind in OUTCOMES if counts[kind])
    worst = max(run.seconds for run in runs)
    return (
        f"{channel:8} {len(runs):5} cases: {shown}; worst {worst:.1f} s; peak accepted "
        f"{max(accepted, default=0):.0f} MiB, rejected {max(rejected, default=0):.0f} MiB"
    )


def keep(run: Run, folder: str, index: int) -> str:
    """Save a problem case's files under ``folder``; returns the line that reproduces it."""
    where = os.path.join(folder, f"{run.case.channel}-{index}")
    os.makedirs(where, exist_ok=True)
    for name, data in run.case.files.items():
        with open(os.path.join(where, name), "wb") as handle:
            handle.write(data)
    first = (run.stderr.strip().splitlines() or ["(no stderr)"])[-1][:300]
    return f"{run.outcome}: cd {where} && lightcost {shlex.join(run.case.argv)}\n    {first}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=150, help="cases per channel (default 150)")
    parser.add_argument("--channels", default=",".join(CHANNELS), help="comma-separated")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per case")
    parser.add_argument("--memory", type=int, default=1024, help="MiB of address space per case")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="cases at once")
    parser.add_argument(
        "--in-process", type=int, default=2000, metavar="N", help="specs costed in this process"
    )
    parser.add_argument("--keep", default="", help="folder for problem cases (default: a temp one)")
    args = parser.parse_args()
    problems: list[str] = []
    started = time.perf_counter()
    if args.in_process:
        counts, slowest, failures = in_process(args.in_process, args.seed, args.timeout)
        shown = ", ".join(f"{kind} {n}" for kind, n in counts.most_common())
        print(f"{'in-proc':8} {args.in_process:5} specs: {shown}; slowest {slowest:.2f} s")
        problems += [f"in-process {failure}" for failure in failures[:10]]
    folder = args.keep or tempfile.mkdtemp(prefix="lightcost-fuzz-problems-")
    for channel in args.channels.split(","):
        cases = channel_cases(channel, args.cases, random.Random(f"{args.seed}-{channel}"))
        with ThreadPoolExecutor(args.jobs) as pool:
            runs = list(pool.map(lambda c: run_case(c, args.timeout, args.memory), cases))
        print(summary(channel, runs), flush=True)
        bad = [run for run in runs if run.outcome in PROBLEMS]
        problems += [keep(run, folder, i) for i, run in enumerate(bad)]
    print(f"time     {time.perf_counter() - started:.0f} s (limits {args.timeout:g} s and "
          f"{args.memory} MiB per case, {args.jobs} at once)")  # fmt: skip
    for line in problems:
        print(line)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
