"""The bad-spec corpus (tests/bad_specs/): each file fails with one located line and exit 2.

``tests/bad_specs/expected.yaml`` holds, for every file, where the error points
(line:column), the spec path the message shows and a fragment of the message.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import Invoke
from lightcost import SpecError, analyze

CORPUS = Path(__file__).parent / "bad_specs"
EXPECTED: dict[str, dict[str, str]] = yaml.safe_load((CORPUS / "expected.yaml").read_text())
FILES = sorted(p.name for p in CORPUS.glob("*.yaml") if p.name != "expected.yaml")


def prefix(path: Path, name: str) -> str:
    """``error: FILE:LINE:COL: PATH: `` as the CLI prints it for corpus file ``name``."""
    entry = EXPECTED[name]
    return f"error: {path}:{entry['at']}: " + (f"{entry['path']}: " if entry["path"] else "")


def test_every_file_has_an_expectation() -> None:
    assert len(FILES) >= 40
    assert sorted(EXPECTED) == FILES


@pytest.mark.parametrize("name", FILES)
def test_cli_prints_one_located_line_and_exits_2(invoke: Invoke, name: str) -> None:
    path = CORPUS / name
    result = invoke("table", str(path))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert len(result.stderr.splitlines()) == 1
    line = result.stderr.rstrip("\n")
    assert line.startswith(prefix(path, name)), line
    assert EXPECTED[name]["message"] in line
    assert line.isprintable(), "control characters from the spec must be escaped"


@pytest.mark.parametrize("name", FILES)
def test_api_raises_a_located_spec_error(name: str) -> None:
    with pytest.raises(SpecError) as info:
        analyze(str(CORPUS / name))
    loc = info.value.loc
    assert loc is not None
    assert f"{loc.line}:{loc.col}" == EXPECTED[name]["at"]
    assert EXPECTED[name]["message"] in str(info.value)


@pytest.mark.parametrize(
    "name", ["binary.yaml", "alias_bomb.yaml", "python_tag.yaml", "escape_sequence_name.yaml"]
)
def test_real_process_shows_no_traceback(name: str) -> None:
    path = CORPUS / name
    env = {**os.environ, "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "lightcost", "table", str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [done.stderr.rstrip("\n")]
    assert done.stderr.startswith(prefix(path, name))
    assert "Traceback" not in done.stderr


def test_debug_shows_the_traceback() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "lightcost", "--debug", "table", str(CORPUS / "unknown_op.yaml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "Traceback" in done.stderr
    assert "unknown op 'dwconvv'" in done.stderr
