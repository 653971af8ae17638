"""Render guideline findings (:mod:`lightcost.analysis.lint`): text, JSON, JUnit, GitHub.

Findings are shown per rule and stage (:func:`lightcost.analysis.lint.groups`):
one line per group with its count and its worst instance, wrapped to the given
width. JUnit (one test case per rule checked) and GitHub annotations (one per
group, at the worst instance's line in the spec) go through the writers
:mod:`lightcost.render.ci` shares with ``lightcost check``.
"""

from __future__ import annotations

import textwrap
from collections.abc import Collection
from typing import Any

from lightcost.analysis.lint import RULES, TITLES, Finding, Group, Limits, groups
from lightcost.cost.engine import ModelCost
from lightcost.render.ci import Case, github_error, junit_xml
from lightcost.render.escape import clip, json_text, terminal
from lightcost.render.report import display_path
from lightcost.render.table import config, title

SOURCE = "ShuffleNetV2 (arXiv 1807.11164) Sec. 2-3"
MIN_WIDTH = 40  # narrowest text wrap


def finding_record(finding: Finding) -> dict[str, Any]:
    """A finding for JSON: its fields, the numbers and the place in the spec."""
    loc = finding.loc
    place = {"file": loc.file, "line": loc.line, "col": loc.col} if loc else None
    return finding._asdict() | {"values": dict(finding.values), "loc": place}


def place(finding: Finding, cost: ModelCost) -> str:
    """``file:line`` where the finding's layer is written (the spec's first line if unknown)."""
    loc = finding.loc
    return f"{display_path(loc.file if loc else cost.graph.file)}:{loc.line if loc else 1}"


def group_line(group: Group) -> str:
    """``28x28: 7 layers, worst stage2_2_gconv1: 1x1 conv g=3 240->60 ...``."""
    count = len(group.findings)
    worst = group.worst
    many = f"{count} layers, worst " if count > 1 else ""
    return f"{group.stage}: {many}{clip(worst.where)}: {worst.message}"


def findings_json(
    cost: ModelCost, limits: Limits, findings: list[Finding], rules: Collection[str]
) -> str:
    """The configuration, the limits, the rules checked, every finding and the groups."""
    document = {
        "config": config(cost),
        "limits": limits._asdict(),
        "rules": [r for r in RULES if r in rules],
        "clean": not findings,
        "findings": [finding_record(f) for f in findings],
        "groups": [
            {"rule": g.rule, "stage": g.stage, "count": len(g.findings), "worst": g.worst.where}
            for g in groups(findings)
        ],
    }
    return json_text(document)


def findings_text(cost: ModelCost, findings: list[Finding], width: int) -> str:
    """Per rule, one wrapped line per stage (count and worst instance); a verdict line."""
    head = terminal(f"{title(cost)}  ({cost.execution} execution)")
    wrap = max(width, MIN_WIDTH)
    if not findings:
        clean = f"no findings: the rules checked hold within the limits; {SOURCE}"
        return "\n".join([head, *textwrap.wrap(clean, wrap)])
    lines, gathered = [head], groups(findings)
    for rule in dict.fromkeys(g.rule for g in gathered):
        mine = [g for g in gathered if g.rule == rule]
        count = sum(len(g.findings) for g in mine)
        lines.append(f"{rule} {TITLES[rule]}: {count} finding{'s' * (count != 1)}")
        for group in mine:
            text = terminal(group_line(group))
            lines += textwrap.wrap(text, wrap, initial_indent="  ", subsequent_indent="      ")
    broken = ", ".join(dict.fromkeys(g.rule for g in gathered))
    lines += textwrap.wrap(f"{len(findings)} finding(s) of {broken}; {SOURCE}", wrap)
    return "\n".join(lines)


def findings_junit(cost: ModelCost, findings: list[Finding], rules: Collection[str]) -> str:
    """JUnit XML: one test case per rule checked, failed when it has findings (the groups
    in its message and system-out)."""
    cases = []
    for rule in (r for r in RULES if r in rules):
        found = [g for g in groups(findings) if g.rule == rule]
        lines = [f"{place(g.worst, cost)}: {group_line(g)}" for g in found]
        count = sum(len(g.findings) for g in found)
        message = f"{count} finding(s) in {len(found)} stage(s): " + "; ".join(
            group_line(g) for g in found
        )
        cases.append(
            Case(
                f"lightcost.lint.{cost.graph.name}",
                f"{rule}: {TITLES[rule]}",
                tuple(lines) or (f"{rule} holds",),
                "failure" if found else "",
                message if found else "",
                f"Guideline{rule}",
            )
        )
    return junit_xml(f"lightcost lint {cost.graph.name}", cases)


def findings_github(findings: list[Finding]) -> str:
    """One ``::error`` annotation per rule and stage, at the worst instance's line."""
    return "".join(
        github_error(
            g.worst.loc,
            f"{g.rule} {TITLES[g.rule]} ({g.stage}, {len(g.findings)} finding(s))",
            group_line(g),
        )
        + "\n"
        for g in groups(findings)
    )
