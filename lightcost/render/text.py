"""Building blocks of every text output: terminal style, the box-drawn table, the Markdown table.

Bold and dim apply only when the caller's ``style`` says so (:func:`use_style`:
a terminal without NO_COLOR). Both tables escape their text
(:mod:`lightcost.render.escape`): every cell and title of a box-drawn table for
the terminal, every body cell of a Markdown table for Markdown.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

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
