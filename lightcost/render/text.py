"""Building blocks of every text output: terminal style, the box-drawn table, the Markdown table.

Box-drawn tables fit the terminal (:func:`fitted`): the full-precision layout
(exact counts) when it fits :attr:`View.width` or with :attr:`View.wide`, else
the compact one (``4.23M``, ``2.11 MiB``, ``302 µs``: :func:`~lightcost.cost.figures.compact_text`)
with the columns a table ranks highest that fit; :attr:`View.columns` chooses them.
The width is the ``COLUMNS`` environment variable, else the terminal's, else
unlimited (output to a file or a pipe keeps the full layout).

Bold and dim apply only when the caller's ``style`` says so (:func:`use_style`:
a terminal without NO_COLOR). Both tables escape their text
(:mod:`lightcost.render.escape`): every cell and title of a box-drawn table for
the terminal, every body cell of a Markdown table for Markdown.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import NamedTuple

from lightcost.render.escape import markdown, terminal


def use_style() -> bool:
    """Bold and dim only on a terminal, and never when NO_COLOR is set (no-color.org)."""
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def dim(text: str, style: bool) -> str:
    """Dimmed text on a styled terminal."""
    return f"\x1b[2m{text}\x1b[0m" if style else text


def bold(text: str, style: bool) -> str:
    """Bold text on a styled terminal."""
    return f"\x1b[1m{text}\x1b[0m" if style else text


def terminal_width() -> int | None:
    """Columns available: ``COLUMNS`` when set to a positive number, else the terminal's
    width when standard output is one, else None (no limit)."""
    text = os.environ.get("COLUMNS", "").strip()
    if text.isdigit() and int(text) > 0:
        return int(text)
    if sys.stdout.isatty():
        try:
            return os.get_terminal_size(sys.stdout.fileno()).columns
        except (OSError, ValueError):
            return None
    return None


class View(NamedTuple):
    """How a text table is laid out: the width it must fit, ``wide`` (full precision and
    every column whatever the width), ``columns`` (keys chosen, in order; () for all)."""

    width: int | None = None
    wide: bool = False
    columns: tuple[str, ...] = ()

    @classmethod
    def auto(cls) -> View:
        """The default layout for this terminal (:func:`terminal_width`)."""
        return cls(terminal_width())

    def fits(self, line: str) -> bool:
        """Whether ``line`` fits the width (always, without one or with ``wide``)."""
        return self.wide or self.width is None or len(line) <= self.width


UNLIMITED = View()  # no width to fit: the full layout (a default argument)


class Column(NamedTuple):
    """A column of a fitted table: its key (for ``--columns``), heading and alignment.

    ``short`` is the heading of the compact layout when shorter than ``head``.
    """

    key: str
    head: str
    right: bool = True
    short: str = ""


def table_width(widths: Sequence[int]) -> int:
    """Characters of a box-drawn line with these column widths: ``│ a │ b │``."""
    return 1 + sum(w + 3 for w in widths)


def fitted(
    title_text: str,
    columns: Sequence[Column],
    cells: Callable[[bool], Sequence[list[str]]],
    view: View,
    style: bool,
    total: bool = True,
    rank: Sequence[str] = (),
) -> str:
    """A box-drawn table laid out for ``view`` (module docstring).

    ``cells(compact)`` gives the rows of every column; ``rank`` lists the keys from
    the most to the least important (default: the columns' order). The compact
    layout takes the columns in rank order that fit, shown in table order.
    """
    keys = [c.key for c in columns]
    full = cells(False)
    heads = [c.head for c in columns]
    chosen = [keys.index(k) for k in view.columns] if view.columns else list(range(len(keys)))
    if view.wide or view.width is None or table_width(widths(full, heads, chosen)) <= view.width:
        rows, shown = full, chosen
    else:
        rows, heads = cells(True), [c.short or c.head for c in columns]
        shown = (
            chosen
            if view.columns
            else ranked(widths(rows, heads), [*rank, *keys], keys, view.width)
        )
    return boxed(
        title_text,
        [heads[i] for i in shown],
        [[row[i] for i in shown] for row in rows],
        [columns[i].right for i in shown],
        style,
        total,
    )


def widths(rows: Sequence[list[str]], heads: list[str], shown: Sequence[int] = ()) -> list[int]:
    """The width of each column ``shown`` (default: all) over its heading and cells."""
    return [max(len(terminal(r[i])) for r in [heads, *rows]) for i in shown or range(len(heads))]


def ranked(sizes: list[int], rank: Sequence[str], keys: list[str], width: int) -> list[int]:
    """The columns (indexes, in table order) taken in ``rank`` order while the table fits
    ``width``; the first ranked column always."""
    shown: list[int] = []
    for key in rank:
        index = keys.index(key) if key in keys else -1
        if index < 0 or index in shown:
            continue
        if not shown or table_width([*(sizes[i] for i in shown), sizes[index]]) <= width:
            shown.append(index)
    return sorted(shown)


def boxed(
    title_text: str,
    head: list[str],
    cells: Sequence[list[str]],
    right: Sequence[bool],
    style: bool,
    total: bool = True,
) -> str:
    """A box-drawn text table; with ``total`` the last row is ruled off and bold.

    The title, head and cells are shown through :func:`~lightcost.render.escape.terminal`
    (callers cut long names with :func:`~lightcost.render.escape.clip`).
    Drawn directly rather than with rich's Table, which costs more (about 40 ms
    to import and 50 ms to render MobileNetV1 here) than the whole budget of
    ``lightcost table`` (benchmarks/startup.py).
    """
    head = [terminal(c) for c in head]
    cells = [[terminal(c) for c in row] for row in cells]
    widths = [max(len(row[i]) for row in [head, *cells]) for i in range(len(head))]

    def line(row: list[str]) -> str:
        padded = (
            c.rjust(w) if r else c.ljust(w) for c, w, r in zip(row, widths, right, strict=True)
        )
        return "│ " + " │ ".join(padded) + " │"

    def rule(left: str, mid: str, end: str) -> str:
        return left + mid.join("─" * (w + 2) for w in widths) + end

    body = [line(row) for row in cells]
    if total and body:
        body[-1:] = [rule("├", "┼", "┤"), bold(body[-1], style)]
    return "\n".join(
        [
            bold(terminal(title_text), style),
            rule("┌", "┬", "┐"),
            bold(line(head), style),
            rule("├", "┼", "┤"),
            *body,
            rule("└", "┴", "┘"),
        ]
    )


def markdown_table(
    head: Sequence[str], cells: Sequence[Sequence[str]], right: Sequence[bool]
) -> list[str]:
    """Lines of a Markdown pipe table, ``right`` columns right-aligned.

    Body cells go through :func:`~lightcost.render.escape.markdown` (a
    :class:`~lightcost.render.escape.Markup` cell passes as it is); the head is
    the renderer's own text.
    """
    rule = "|" + "|".join("---:" if r else "---" for r in right) + "|"
    rows = ([markdown(c) for c in row] for row in cells)
    return ["| " + " | ".join(head) + " |", rule, *("| " + " | ".join(row) + " |" for row in rows)]


def columns_markdown(columns: Sequence[Column], cells: Sequence[Sequence[str]]) -> list[str]:
    """:func:`markdown_table` with the heads and alignments of ``columns``."""
    return markdown_table([c.head for c in columns], cells, [c.right for c in columns])
