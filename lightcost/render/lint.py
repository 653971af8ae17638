"""Render guideline findings (:mod:`lightcost.analysis.lint`): a text table or JSON."""

from __future__ import annotations

from lightcost.analysis.lint import Finding, Limits
from lightcost.cost.engine import ModelCost
from lightcost.render.escape import clip, json_text, terminal
from lightcost.render.table import config, title
from lightcost.render.text import boxed

SOURCE = "ShuffleNetV2 (arXiv 1807.11164) Sec. 2 G1-G4"


def findings_json(cost: ModelCost, limits: Limits, findings: list[Finding]) -> str:
    """The configuration, the limits and every finding with its numbers."""
    document = {
        "config": config(cost),
        "limits": limits._asdict(),
        "clean": not findings,
        "findings": [f._asdict() | {"values": dict(f.values)} for f in findings],
    }
    return json_text(document)


def findings_text(cost: ModelCost, findings: list[Finding], style: bool) -> str:
    """A table of findings, or one line saying the spec is clean."""
    head = f"{title(cost)}  ({cost.execution} execution)"
    if not findings:
        return f"{terminal(head)}\nno findings: G1-G4 hold within the limits"
    cells = [[f.rule, clip(f.where), f.message] for f in findings]
    text = boxed(head, ["Rule", "Where", "Finding"], cells, [False] * 3, style, total=False)
    return f"{text}\n{len(findings)} finding(s); {SOURCE}"
