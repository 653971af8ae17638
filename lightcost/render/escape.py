"""Escape file-controlled text for each output format: one function per format.

Anything that came from a spec, a budgets file, a device file or an option (a
model, layer, block or variant name, a var value, a description, a file path)
may hold characters a reader acts on: a terminal's escape sequences, a bidi
override (CVE-2021-42574), a newline that starts a GitHub workflow command, a
Markdown link or HTML tag, a character XML 1.0 forbids, a spreadsheet formula.
Every renderer passes such text through the function of its format:

- :func:`terminal` (text tables and lines, stderr, JUnit text): every
  non-printable character shown escaped as Python writes it (``\\x1b``,
  ``\\n``, ``\\u202e``): C0, DEL, C1, the bidi controls and every other format,
  separator and unassigned character. The result is one printable line, which
  XML 1.0 admits as it is.
- :func:`clip`: a name in a text table cut to :data:`NAME_LIMIT` characters.
- :func:`github_data`, :func:`github_property`: GitHub's toolkit escaping of a
  workflow command's message and property values.
- :func:`markdown`: Markdown and HTML metacharacters neutralised; text marked
  :class:`Markup` (the renderer's own markup) passes unchanged.
- :func:`csv_cell`: a text cell that a spreadsheet would read as a formula
  gets a leading ``'``.
- :func:`mathtext`: a plot title without matplotlib's math mode (``$``).

JSON needs nothing here: ``json.dumps`` escapes control characters and, with
its default ``ensure_ascii``, writes every non-ASCII character as ``\\uXXXX``.
"""

from __future__ import annotations

from lightcost.core.errors import one_line

NAME_LIMIT = 48  # characters of a name cell in a text table (a layer, model, block, variant)
ELLIPSIS = "…"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # OWASP CSV injection: cells a sheet evaluates
MARKDOWN_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
MARKDOWN_SPECIAL = frozenset("\\`*_~#$[]()!|")  # escaped with a backslash
GITHUB_DATA = {"%": "%25", "\r": "%0D", "\n": "%0A"}
GITHUB_PROPERTY = GITHUB_DATA | {":": "%3A", ",": "%2C"}


def terminal(text: str) -> str:
    """``text`` as one printable line: non-printable characters shown as escapes."""
    return one_line(text)


def clip(text: str, limit: int = NAME_LIMIT) -> str:
    """``text`` cut to ``limit`` characters, the last one an ellipsis, when longer."""
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def _replace(text: str, table: dict[str, str]) -> str:
    return "".join(table.get(char, char) for char in text)


def github_data(text: str) -> str:
    """A workflow command's message: one printable line, ``%``, CR and LF percent-encoded."""
    return _replace(terminal(text), GITHUB_DATA)


def github_property(text: str) -> str:
    """A workflow command's property value: as :func:`github_data`, ``:`` and ``,`` too."""
    return _replace(terminal(text), GITHUB_PROPERTY)


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
    line = terminal(text)
    return "".join(
        MARKDOWN_ENTITIES.get(c) or (f"\\{c}" if c in MARKDOWN_SPECIAL else c) for c in line
    )


def mathtext(text: str) -> str:
    """Text for a matplotlib label: ``$`` escaped, so no mathtext is parsed (or fails)."""
    return text.replace("$", "\\$")


def csv_cell(value: object) -> object:
    """A text cell starting with ``=``, ``+``, ``-``, ``@``, tab or CR behind a ``'``.

    Numbers stay numbers (a negative count is no formula).
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
