"""Errors that point at a place in a spec.

Every problem in a spec, from YAML syntax to a shape mismatch, is raised as a
:class:`SpecError` carrying the file, line and column (1-based, from the YAML
node marks) and the path inside the spec (``layers[3].rows[1][2]``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Loc:
    """A position in a spec file: 1-based line and column, plus the path inside the spec."""

    file: str
    line: int
    col: int
    path: str = ""

    def at(self, path: str) -> Loc:
        """The same position under another spec path."""
        return Loc(self.file, self.line, self.col, path)


class SpecError(Exception):
    """A problem in a spec, located at file:line:col and a path inside the spec."""

    def __init__(self, message: str, loc: Loc | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.loc = loc

    def __str__(self) -> str:
        if self.loc is None:
            return self.message
        where = f"{self.loc.file}:{self.loc.line}:{self.loc.col}"
        path = f" {self.loc.path}:" if self.loc.path else ""
        return f"{where}:{path} {self.message}"


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A ", did you mean 'x'?" suffix for the closest choice, or an empty string."""
    import difflib  # lazy: only error paths need it

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f", did you mean '{close[0]}'?" if close else ""
