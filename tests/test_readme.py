"""Every command of the README's Usage block runs as documented (from an empty directory)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from conftest import Invoke

README = Path(__file__).resolve().parents[1] / "README.md"
# Commands that need a file of the user's (their own spec, a git history, an ONNX model,
# a budgets.yaml) are covered by their own tests: test_cli, test_diff, test_onnx, test_check.
NEEDS_USER_FILES = ("my_net.yaml", "specs/net.yaml", "model.onnx", "lightcost check")
EXIT_CODES = {"lint": 1}  # lint exits 1 when it reports findings (the example's point)


def usage_commands() -> list[str]:
    """The `lightcost ...` lines of the first sh block after '## Usage', comments removed."""
    text = README.read_text(encoding="utf-8")
    block = re.search(r"## Usage\n+```sh\n(.*?)```", text, re.S)
    assert block, "README has no Usage block"
    lines = [line.split("  #")[0].strip() for line in block.group(1).splitlines()]
    return [line for line in lines if line.startswith("lightcost ")]


COMMANDS = usage_commands()


def test_usage_block_is_found() -> None:
    assert len(COMMANDS) >= 15


@pytest.mark.parametrize("line", [c for c in COMMANDS if not any(n in c for n in NEEDS_USER_FILES)])
def test_usage_command_runs(
    invoke: Invoke, line: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    words = shlex.split(line.split(">")[0])[1:]  # drop `lightcost` and any redirection
    result = invoke(*words)
    assert result.exit_code == EXIT_CODES.get(words[0], 0), result.output
    assert result.stdout.strip()
