"""Small CLI behaviours: did-you-mean, the spec on stdin, diff --changed, --depth with --by,
shell completion of names, and the version in every JSON output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import lightcost
from conftest import Invoke
from lightcost.cli.main import cli
from lightcost.spec import files
from lightcost.spec.located import MAX_BYTES

SPEC = files.read_text(files.find_spec("mobilenet_v1"), "spec")


def test_unknown_command_suggests_the_closest(invoke: Invoke) -> None:
    result = CliRunner().invoke(cli, ["tabel", "mobilenet_v1"])
    assert result.exit_code == 2
    assert "no command 'tabel', did you mean 'table'?" in result.output
    result = CliRunner().invoke(cli, ["frobnicate"])
    assert result.exit_code == 2 and "no command 'frobnicate'" in result.output
    assert "did you mean" not in result.output


def stdin_run(text: str | bytes, *args: str) -> tuple[int, str, str]:
    """Run ``lightcost ARGS`` in-process with ``text`` on standard input (read afresh)."""
    files._READ.clear()
    result = CliRunner().invoke(cli, list(args), input=text)
    files._READ.clear()
    return result.exit_code, result.stdout, result.stderr


def test_dash_reads_the_spec_from_stdin(invoke: Invoke) -> None:
    code, out, _ = stdin_run(SPEC, "table", "-", "-f", "json")
    assert code == 0
    document = json.loads(out)
    assert document["config"]["file"] == "<stdin>"
    expected = json.loads(invoke("table", "mobilenet_v1", "-f", "json").stdout)
    assert document["totals"] == expected["totals"]


def test_stdin_is_read_once_for_two_configurations() -> None:
    code, out, _ = stdin_run(SPEC, "diff", "-", "--new-width", "0.5", "-f", "json")
    assert code == 0 and json.loads(out)["totals"]["madds"]["new"] > 0


def test_stdin_errors_are_located_and_bounded() -> None:
    bad = SPEC.replace("op: conv", "op: convv", 1)
    code, _, err = stdin_run(bad, "table", "-")
    assert code == 2 and err.startswith("error: <stdin>:") and "did you mean 'conv'" in err
    code, _, err = stdin_run(b"#" * (MAX_BYTES + 10), "table", "-")
    assert code == 2 and "spec is larger than 4 MiB" in err
    code, _, err = stdin_run(b"\xff", "table", "-")
    assert code == 2 and "not valid UTF-8" in err


def test_diff_changed_shows_only_changed_rows(invoke: Invoke) -> None:
    full = invoke("diff", "mobilenet_v2", "--new-res", "192", "-f", "json")
    document = json.loads(full.stdout)
    changed = [row["name"] for row in document["layers"] if row["status"] != "same"]
    assert 0 < len(changed) < len(document["layers"])
    only = json.loads(
        invoke("diff", "mobilenet_v2", "--new-res", "192", "--changed", "-f", "json").stdout
    )
    assert [row["name"] for row in only["layers"]] == changed
    assert only["totals"] == document["totals"]
    text = invoke("diff", "mobilenet_v2", "--changed").stdout
    assert "0 layers changed, 0 added, 0 removed, 65 the same" in text
    assert "expanded_conv" not in text


@pytest.mark.parametrize("by", ["op", "block"])
def test_depth_applies_to_layer_rows_only(invoke: Invoke, by: str) -> None:
    result = invoke("table", "mobilenet_v1", "--by", by, "--depth", "1")
    assert result.exit_code == 2
    assert f"--depth: applies to --by layer only, not --by {by}" in result.stderr


def complete(line: str) -> list[str]:
    """What bash completion offers for ``line`` (its last word, possibly empty)."""
    words = line.split(" ")
    env = os.environ | {
        "_LIGHTCOST_COMPLETE": "bash_complete",
        "COMP_WORDS": line,
        "COMP_CWORD": str(len(words) - 1),
    }
    done = subprocess.run(
        [sys.executable, "-m", "lightcost"], env=env, capture_output=True, text=True, check=True
    )
    return [line for line in done.stdout.splitlines() if line]


def test_completion_of_commands_specs_variants_and_devices() -> None:
    assert complete("lightcost ta") == ["plain,table"]
    assert complete("lightcost vi") == ["plain,view"]
    assert complete("lightcost table shufflenet_v") == [
        "plain,shufflenet_v1",
        "plain,shufflenet_v2",
        "file,shufflenet_v",
    ]
    expected = ["plain,0.5x", "plain,1.0x", "plain,1.5x", "plain,2.0x"]
    assert complete("lightcost table shufflenet_v2 --variant ") == expected
    assert complete("lightcost view --res 160 shufflenet_v2 -V 1") == expected[1:3]
    assert complete("lightcost table nowhere.yaml --variant ") == []
    assert complete("lightcost table mobilenet_v2 --device gtx") == ["plain,gtx1080ti", "file,gtx"]


def test_completion_offers_no_name_the_shell_could_misread(tmp_path: Path) -> None:
    spec = tmp_path / "v.yaml"
    spec.write_text(
        "input: [3, 8, 8]\nvariants:\n  ok: {}\n  'a b': {}\n  \"c\\nd\": {}\nvariant: ok\n"
        "layers:\n  - {op: conv, k: 1, out: 4}\n"
    )
    assert complete(f"lightcost table {spec} --variant ") == ["plain,ok"]


@pytest.mark.parametrize(
    "args",
    [
        ("table", "mobilenet_v1"),
        ("models",),
        ("lint", "mobilenet_v2"),
        ("compare", "mobilenet_v2", "shufflenet_v2"),
        ("diff", "mobilenet_v2", "--new-width", "0.75"),
    ],
    ids=lambda args: args[0],
)
def test_every_json_output_names_the_version(invoke: Invoke, args: tuple[str, ...]) -> None:
    result = invoke(*args, "--format", "json")
    document = json.loads(result.stdout)
    assert next(iter(document.items())) == ("lightcost_version", lightcost.__version__)


def test_sweep_json_names_the_version(invoke: Invoke, tmp_path: Path) -> None:
    rows = tmp_path / "rows.json"
    invoke("sweep", "mobilenet_v1", "--width", "0.5,1", "--res", "128,224", "-o", str(rows))
    document = json.loads(rows.read_text(encoding="utf-8"))
    assert document["lightcost_version"] == lightcost.__version__
