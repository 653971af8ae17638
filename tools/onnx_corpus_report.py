"""Run lightcost on every file of the ONNX corpus and report what imports and what fails.

Needs lightcost with its onnx extra (the project venv), not torch::

    .venv/bin/python tools/onnx_corpus_report.py                 # Markdown report
    .venv/bin/python tools/onnx_corpus_report.py --known-failing # the test's dict

For every file of ``tests/onnx_corpus/reference.json`` (written by
``tools/onnx_corpus.py``) it builds and costs the file as ``lightcost table
FILE`` does (``lightcost.api.build``) and records its first error, or checks MAdds,
``weights`` params and ``trainable`` params against the reference. A corpus
file has no weights (its external data file was deleted), so when loading is
what fails it also imports the model loaded without its external data
(``onnx.load(..., load_external_data=False)``) and reports the error beneath.
For each file it also lists the operator types lightcost does not map, with the
first node of each, and the Identity nodes that read a constant: the errors
after the first.

``--known-failing`` prints ``KNOWN_FAILING`` of ``tests/test_onnx_corpus.py``
(file -> the first error, the corpus directory left out) to paste there.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, NamedTuple

import onnx

from lightcost.api import build
from lightcost.core.errors import SpecError
from lightcost.cost.engine import cost_graph
from lightcost.interop.onnx.importer import onnx_spec, spec_yaml, supported

TESTS = Path(__file__).resolve().parent.parent / "tests"
CORPUS = TESTS / "onnx_corpus"
sys.path.insert(0, str(TESTS))
from test_onnx_corpus import first_error  # noqa: E402  (the test's own wording)

# Error message -> cause, first match wins (the report's groups).
CAUSES: tuple[tuple[str, str], ...] = (
    (r"should be stored in .*\.data", "external data missing (onnx.load loads the weights)"),
    (r"unsupported ONNX operators", "unsupported operators"),
    (r"\(Identity\): input .* is a constant", "Identity on a constant"),
    (r"kernel \d+x\d+: lightcost needs square", "rectangular kernel"),
    (r"pads .* neither symmetric", "asymmetric pads"),
    (r"cannot be expressed: padding", "window output size (ceil_mode...)"),
    (r"\(Slice\)|\(Split\)", "channel slice or split"),
    (r"\(Concat\)", "concat"),
    (r"\(Mul\)", "mul"),
    (r"\(Clip\)", "clip"),
)


class Outcome(NamedTuple):
    """What lightcost makes of one corpus file."""

    file: str
    first: str  # "" when it imports
    known: str  # the first error as KNOWN_FAILING records it
    beneath: str  # the error (or "" for success) when loaded without external data
    counts: dict[str, int]  # madds, weights, params: lightcost's when it imports
    unmapped: dict[str, list[str]]  # unmapped op type -> node names
    identity_consts: list[str]  # Identity nodes reading a constant


def short(message: str, directory: Path) -> str:
    """The message without the corpus directory and the list of mapped operators."""
    return message.replace(f"{directory}/", "").split(" (lightcost maps:")[0]


def cause(message: str) -> str:
    for pattern, name in CAUSES:
        if re.search(pattern, message):
            return name
    return "other: " + message.split(": ", 1)[-1][:80]


def costs(path: str, text: str | None = None) -> dict[str, int]:
    graph = build(path, text=text)
    trainable, weights = cost_graph(graph, "trainable"), cost_graph(graph, "weights")
    return {
        "madds": trainable.total().madds,
        "weights": weights.total().params,
        "params": trainable.total().params,
    }


def scan(model: onnx.ModelProto) -> tuple[dict[str, list[str]], list[str]]:
    """Unmapped op types (-> their nodes) and the Identity nodes reading a constant."""
    known = supported()
    constants = {t.name for t in model.graph.initializer}
    constants |= {o for n in model.graph.node if n.op_type == "Constant" for o in n.output}
    unmapped: dict[str, list[str]] = defaultdict(list)
    identities = []
    for node in model.graph.node:
        if node.op_type not in known or node.domain not in ("", "ai.onnx"):
            unmapped[node.op_type].append(node.name)
        elif node.op_type == "Identity" and node.input[0] in constants:
            identities.append(node.name)
    return dict(unmapped), identities


def outcome(file: str, directory: Path) -> Outcome:
    path = str(directory / file)
    model = onnx.load(path, load_external_data=False)
    unmapped, identities = scan(model)
    try:
        return Outcome(file, "", "", "", costs(path), unmapped, identities)
    except SpecError as exc:
        first, known = short(str(exc), directory), first_error(exc)
    if cause(first) != CAUSES[0][1]:
        return Outcome(file, first, known, first, {}, unmapped, identities)
    try:
        text = spec_yaml(onnx_spec(model, path), path)
        return Outcome(file, first, known, "", costs(path, text), unmapped, identities)
    except SpecError as exc:
        beneath = short(str(exc), directory)
        return Outcome(file, first, known, beneath, {}, unmapped, identities)


def check(counts: dict[str, int], ref: dict[str, Any]) -> str:
    """'ok', or what differs from the reference."""
    expected = {
        "madds": ref["madds"],
        "weights": ref["conv_linear_weights"],
        "params": ref["expected_params"],
    }
    wrong = [f"{k} {counts[k]} != {v}" for k, v in expected.items() if counts[k] != v]
    return "ok" if not wrong else "; ".join(wrong)


def report(outcomes: list[Outcome], reference: dict[str, Any]) -> str:
    files = reference["files"]
    lines = [
        "| file | exporter | opset | KB | torch params | torch MAdds | lightcost (as is) "
        "| without external data |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        ref = files[o.file]
        result = check(o.counts, ref) if o.counts else o.beneath
        lines.append(
            f"| {o.file} | {ref['exporter']} | {ref['opset']} | {ref['bytes'] / 1024:.0f} "
            f"| {ref['params']:,} | {ref['madds']:,} | {cause(o.first) if o.first else 'ok'} "
            f"| {result if o.first else check(o.counts, ref)} |"
        )
    lines += ["", "Causes, first error as is:", ""]
    lines += grouped(o.first for o in outcomes if o.first)
    lines += ["", "Causes, first error without external data:", ""]
    lines += grouped(o.beneath for o in outcomes if o.beneath)
    lines += ["", "Unmapped operators (files using them; nodes):", ""]
    ops: dict[str, list[str]] = defaultdict(list)
    for o in outcomes:
        for op, nodes in o.unmapped.items():
            ops[op].append(f"{o.file} ({len(nodes)}: {nodes[0]})")
    for op, where in sorted(ops.items(), key=lambda item: -len(item[1])):
        lines.append(f"- {op}: {len(where)} files: {', '.join(where)}")
    with_identity = [f"{o.file} ({len(o.identity_consts)})" for o in outcomes if o.identity_consts]
    lines.append(
        f"- Identity on a constant: {len(with_identity)} files: {', '.join(with_identity)}"
    )
    return "\n".join(lines)


def grouped(messages: Any) -> list[str]:
    by_cause = Counter(cause(m) for m in messages)
    return [f"- {name}: {count}" for name, count in by_cause.most_common()]


def known_failing(outcomes: list[Outcome]) -> str:
    """The test's KNOWN_FAILING, its entries grouped by cause (a comment each)."""
    lines = ["KNOWN_FAILING: dict[str, str] = {"]
    failing = sorted((cause(o.first), o.file, o.known) for o in outcomes if o.first)
    for group in sorted({c for c, _, _ in failing}):
        lines.append(f"    # {group}")
        lines += [f"    {json.dumps(f)}: {json.dumps(k)}," for c, f, k in failing if c == group]
    return "\n".join([*lines, "}"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--known-failing", action="store_true", help="print the test's dict")
    parser.add_argument("--json", type=Path, help="also write every outcome as JSON here")
    args = parser.parse_args(argv)
    directory = args.corpus.resolve()
    reference = json.loads((directory / "reference.json").read_text())
    outcomes = [outcome(file, directory) for file in sorted(reference["files"])]
    if args.json:
        args.json.write_text(json.dumps([o._asdict() for o in outcomes], indent=1) + "\n")
    if args.known_failing:
        print(known_failing(outcomes))
    else:
        print(report(outcomes, reference))
    return 0


if __name__ == "__main__":
    sys.exit(main())
