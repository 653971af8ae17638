"""Escape file-controlled text for each output format: one function per format.

Anything that came from a spec, a budgets file, a device file or an option (a
model, layer, block or variant name, a var value, a description, a file path)
may hold characters a reader acts on: a terminal's escape sequences, a bidi
override (CVE-2021-42574), a GitHub workflow command, a Markdown link or HTML
tag, a character XML 1.0 forbids, a spreadsheet formula. Every renderer passes
such text through the function of its format:

- :func:`terminal` (text tables and lines, stderr, JUnit text): every
  non-printable character shown escaped as Python writes it (``\\x1b``,
  ``\\n``, ``\\u202e``): C0, DEL, C1, the bidi controls and every other format,
  separator and unassigned character. The result is one printable line, which
  XML 1.0 admits as it is, and which the GitHub Actions runner cannot read as a
  workflow command: it reads ``::command::`` at the start of a line (after
  spaces) and the legacy ``##[command]`` anywhere in a line, so a leading
  ``::`` is shown as ``\\x3a:`` and every ``##[`` as ``##\\x5b``.
- :func:`clip`: a name in a text table cut to :data:`NAME_LIMIT` characters.
- :func:`github_data`, :func:`github_property`: GitHub's toolkit escaping of a
  workflow command's message and property values.
- :func:`markdown`: Markdown and HTML metacharacters neutralised; text marked
  :class:`Markup` (the renderer's own markup) passes unchanged.
- :func:`csv_cell`: a text cell as :func:`terminal` shows it (no raw CR or
  LF, which Python's csv module leaves unquoted with a ``\\n`` line end), and a
  leading ``'`` when a spreadsheet would read it as a formula.
- :func:`mathtext`: a plot title without matplotlib's math mode (``$``).
- :func:`json_text`: a JSON document, headed by ``lightcost_version`` (every JSON
  output of lightcost is one object written by it); ``json.dumps`` escapes control characters
  and, with its default ``ensure_ascii``, every non-ASCII character as
  ``\\uXXXX``; ``##[`` is written ``##\\u005b`` (the same string, decoded).
- :func:`html_text`: HTML text or a quoted attribute value: one printable line
  (:func:`terminal`), ``& < > " '`` as character references.
- :func:`script_json`: JSON inside an HTML ``<script>`` element: ASCII, and
  ``< > &`` written ``\\u003c \\u003e \\u0026``, so no ``</script>`` or
  ``<!--`` can end or bend the element (JSON.parse reads the same text).
"""

from __future__ import annotations

from typing import Any

from lightcost.core.errors import one_line

NAME_LIMIT = 48  # characters of a name cell in a text table (a layer, model, block, variant)
ELLIPSIS = "…"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # OWASP CSV injection: cells a sheet evaluates
MARKDOWN_SPECIAL = "\\`*_~#$[]()!|"  # escaped with a backslash
MARKDOWN = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;"} | {c: f"\\{c}" for c in MARKDOWN_SPECIAL}
)
_DATA = {"%": "%25", "\r": "%0D", "\n": "%0A"}
GITHUB_DATA = str.maketrans(_DATA)  # @actions/core escapeData
GITHUB_PROPERTY = str.maketrans(_DATA | {":": "%3A", ",": "%2C"})  # @actions/core escapeProperty


def terminal(text: str) -> str:
    """``text`` as one printable line: non-printable characters shown as escapes, and
    no workflow command (a leading ``::`` as ``\\x3a:``, ``##[`` as ``##\\x5b``)."""
    line = one_line(text).replace("##[", "##\\x5b")
    start = len(line) - len(line.lstrip(" "))
    if line.startswith("::", start):
        return f"{line[:start]}\\x3a{line[start + 1 :]}"
    return line


def clip(text: str, limit: int = NAME_LIMIT) -> str:
    """``text`` cut to ``limit`` characters, the last one an ellipsis, when longer."""
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def github_data(text: str) -> str:
    """A workflow command's message: one printable line, ``%``, CR and LF percent-encoded."""
    return terminal(text).translate(GITHUB_DATA)


def github_property(text: str) -> str:
    """A workflow command's property value: as :func:`github_data`, ``:`` and ``,`` too."""
    return terminal(text).translate(GITHUB_PROPERTY)


class Markup(str):
    """Text that is already Markdown (the renderer's own emphasis, emoji): not escaped."""

    __slots__ = ()


def markdown(text: str) -> str:
    """``text`` as inert Markdown, on one line, for a table cell, a heading or a list item.

    Non-printable characters are shown escaped (:func:`terminal`); ``&``, ``<``
    and ``>`` become entities; pipes, backslashes, backticks, emphasis
    (``* _ ~``), heading (``#``), math (``$``) and link or image syntax
    (``[ ] ( ) !``) get a backslash.
    """
    if isinstance(text, Markup):
        return text
    return terminal(text).translate(MARKDOWN)


def mathtext(text: str) -> str:
    """Text for a matplotlib label: ``$`` escaped, so no mathtext is parsed (or fails)."""
    return text.replace("$", "\\$")


def json_text(document: dict[str, Any]) -> str:
    """``document`` as indented JSON, ASCII only, with no ``##[`` (see the module doc),
    its first key ``lightcost_version``: the version of lightcost that wrote it."""
    import json  # lazy: the default text table does not need it

    from lightcost import __version__

    versioned = {"lightcost_version": __version__, **document}
    return json.dumps(versioned, indent=2).replace("##[", "##\\u005b")


def html_text(text: str) -> str:
    """``text`` for HTML content or a quoted attribute (see the module doc)."""
    import html  # lazy: only the graph view writes HTML

    return html.escape(terminal(text), quote=True)


def script_json(document: Any) -> str:
    """``document`` as compact JSON safe inside a ``<script>`` element (see the module doc)."""
    import json

    text = json.dumps(document, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def csv_cell(value: object) -> object:
    """A text cell as :func:`terminal` shows it, behind a ``'`` when the text starts with
    ``=``, ``+``, ``-``, ``@``, tab or CR (a formula to a spreadsheet). Numbers stay
    numbers (a negative count is no formula)."""
    if not isinstance(value, str):
        return value
    text = terminal(value)
    return "'" + text if value.startswith(FORMULA_STARTS) else text
