"""The two CI formats every command shares: JUnit XML test cases and GitHub annotations.

``lightcost check`` and ``lightcost lint`` both write through :func:`junit_xml`
and :func:`github_error`. JUnit XML follows the Jenkins xUnit ``junit-10.xsd``
(a copy in tests/schemas/): a test case has no file or line attribute, so its
location is in its ``system-out``. Annotation paths are relative to the root of
the git repository around the current directory (what GitHub resolves them
against), else to the current directory.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from lightcost.analysis.repository import repository_path
from lightcost.core.errors import Loc
from lightcost.render.escape import github_data, github_property, terminal


class Case(NamedTuple):
    """One JUnit test case: ``outcome`` is ``failure``, ``error`` or empty (passed); the
    location goes in ``out`` (``system-out``): the schema has no file or line attribute."""

    classname: str
    name: str
    out: tuple[str, ...]  # lines of system-out, each escaped to one line
    outcome: str = ""
    message: str = ""
    kind: str = ""  # the failure's or error's type


def junit_xml(suite: str, cases: Sequence[Case]) -> str:
    """JUnit XML valid against the Jenkins xUnit ``junit-10.xsd`` (tests/schemas/).

    Text is shown through :func:`~lightcost.render.escape.terminal`, which leaves only
    printable characters (all admitted by XML 1.0) on one line; ElementTree escapes
    ``&``, ``<``, ``>`` and quotes.
    """
    from xml.etree import ElementTree  # lazy: only this format needs it

    counts = {
        "tests": str(len(cases)),
        "failures": str(sum(c.outcome == "failure" for c in cases)),
        "errors": str(sum(c.outcome == "error" for c in cases)),
    }
    root = ElementTree.Element("testsuites", {"name": suite, **counts})
    node = ElementTree.SubElement(root, "testsuite", {"name": suite, "skipped": "0", **counts})
    for case in cases:
        element = ElementTree.SubElement(
            node, "testcase", classname=terminal(case.classname), name=terminal(case.name)
        )
        if case.outcome:
            ElementTree.SubElement(
                element, case.outcome, message=terminal(case.message), type=case.kind
            ).text = terminal(case.message)
        ElementTree.SubElement(element, "system-out").text = "\n".join(map(terminal, case.out))
    ElementTree.indent(root)
    return ElementTree.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def github_error(loc: Loc | None, title: str, message: str) -> str:
    """A ``::error file=...,line=...,col=...,title=...::message`` workflow command (escaped),
    its path relative to the repository root (no place: ``::error title=...::``)."""
    place = {"file": repository_path(loc.file), "line": loc.line, "col": loc.col} if loc else {}
    props = {**place, "title": title}
    fields = ",".join(f"{key}={github_property(str(value))}" for key, value in props.items())
    return f"::error {fields}::{github_data(message)}"
