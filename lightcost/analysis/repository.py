"""Where a CI run stands: the git repository around the current directory and its budgets file.

Paths in GitHub annotations are relative to the repository root (what GitHub
resolves them against); ``lightcost check`` looks for ``budgets.yaml`` from the
current directory up to that root. Walks are bounded by :data:`MAX_PARENTS`.
"""

from __future__ import annotations

import os

PROJECT_FILE = "budgets.yaml"
MAX_PARENTS = 64  # directories walked up looking for a git repository or budgets.yaml


def ancestors(start: str) -> list[str]:
    """``start`` (absolute) and its parents, at most :data:`MAX_PARENTS` of them."""
    folders = [os.path.abspath(start)]
    while len(folders) < MAX_PARENTS and (up := os.path.dirname(folders[-1])) != folders[-1]:
        folders.append(up)
    return folders


def repository_root(start: str = ".") -> str | None:
    """The nearest folder at or above ``start`` holding ``.git`` (a directory, or the file of
    a worktree), within :data:`MAX_PARENTS` levels; None outside a repository."""
    return next((f for f in ancestors(start) if os.path.exists(os.path.join(f, ".git"))), None)


def find_project(start: str = ".") -> str | None:
    """``budgets.yaml`` in ``start`` or the nearest folder above it, up to the repository
    root (outside a repository: ``start`` only), relative to the current directory; None
    when there is none."""
    folders, root = ancestors(start), repository_root(start)
    searched = folders[: folders.index(root) + 1] if root else folders[:1]
    for folder in searched:
        path = os.path.join(folder, PROJECT_FILE)
        if os.path.isfile(path):
            return os.path.relpath(path)
    return None


def repository_path(path: str, start: str = ".") -> str:
    """``path`` relative to the repository root around ``start`` when it lies inside it,
    else relative to ``start`` when inside that, else as given."""
    for base in (repository_root(start), os.path.abspath(start)):
        if base is not None:
            relative = os.path.relpath(os.path.abspath(path), base)
            if not relative.startswith(os.pardir):
                return relative
    return path
