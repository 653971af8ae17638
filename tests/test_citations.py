"""Sources are cited where a reader can follow them: never a file outside the repository.

A citation of a path on the machine the project was written on (the working
directory tree, a sibling ``shared`` folder, its reference notes) means nothing to
anyone else; tests, docs, benchmarks, the package and the bundled specs cite the
public source instead (a paper's arXiv URL with its table or section, a TF-slim,
torchvision, timm or Keras source URL) or quote the excerpt inline.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCANNED = ("tests", "docs", "benchmarks", "lightcost", "specs")
TEXT_SUFFIXES = {".py", ".md", ".yaml", ".yml", ".toml", ".txt", ".cfg", ".ini", ".json"}
# Joined here so that this file does not match itself.
FORBIDDEN = (
    "/" + "work/",  # an absolute path of the development machine
    "../" + "shared",  # the folder beside the repository
    "REFERENCE" + ".md",  # the notes in that folder (there is no such file in the repo)
    "seeds/" + "0",  # the study notes in that folder
)


def scanned_files() -> list[Path]:
    files = [ROOT / "README.md", ROOT / "Makefile", ROOT / "pyproject.toml"]
    for top in SCANNED:
        files += sorted(
            p for p in (ROOT / top).rglob("*") if p.is_file() and p.suffix in TEXT_SUFFIXES
        )
    return [p for p in files if "__pycache__" not in p.parts]


def test_scan_covers_every_directory() -> None:
    files = scanned_files()
    for top in SCANNED:
        assert any(p.is_relative_to(ROOT / top) for p in files), top
    assert ROOT / "tests" / "test_citations.py" in files  # this file too: needles are joined


def test_no_reference_notes_file_in_the_repository() -> None:
    # FORBIDDEN names the notes file outright; if one is ever added to the repository,
    # citing it becomes legitimate and this list must change.
    names = {p.name for p in scanned_files()} | {p.name for p in ROOT.iterdir()}
    assert FORBIDDEN[2] not in names


@pytest.mark.parametrize("needle", FORBIDDEN)
def test_nothing_cites_files_outside_the_repository(needle: str) -> None:
    hits = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in scanned_files()
        # bytes: tests/bad_specs holds deliberately undecodable specs
        for number, line in enumerate(path.read_bytes().decode(errors="replace").splitlines(), 1)
        if needle in line
    ]
    assert not hits, "\n".join(hits)
