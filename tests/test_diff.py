"""`lightcost diff`: per-layer matching, totals against `table`, --fail-above, git revisions."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import Invoke
from lightcost import analyze
from lightcost.analysis.diff import compare, match_layers
from lightcost.cost.engine import SUMMED
from lightcost.cost.figures import FIGURES

OLD = """\
name: net
input: [3, 32, 32]
layers:
  - {name: stem, op: conv, k: 3, out: 16}
  - {name: gone, op: conv, k: 3, out: 16}
  - {name: body, op: conv, k: 3, out: 32}
  - {name: head, op: fc, out: 10}
"""
NEW = OLD.replace("  - {name: gone, op: conv, k: 3, out: 16}\n", "").replace(
    "  - {name: head", "  - {name: extra, op: conv, k: 1, out: 32}\n  - {name: head"
)


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "old.yaml").write_text(OLD, encoding="utf-8")
    (tmp_path / "new.yaml").write_text(NEW, encoding="utf-8")
    return tmp_path


def cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip("│").split("│")]


def table_json(invoke: Invoke, *args: str) -> dict[str, object]:
    result = invoke("table", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    document: dict[str, object] = json.loads(result.stdout)
    return document


def test_mobilenet_v2_width_1_vs_075_matches_two_table_runs(invoke: Invoke) -> None:
    result = invoke("diff", "mobilenet_v2", "mobilenet_v2", "--new-width", "0.75", "-f", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    old, new = table_json(invoke, "mobilenet_v2"), table_json(invoke, "mobilenet_v2", "-w", "0.75")
    old_layers = {layer["name"]: layer for layer in old["layers"]}  # type: ignore[attr-defined]
    new_layers = {layer["name"]: layer for layer in new["layers"]}  # type: ignore[attr-defined]
    assert [layer["name"] for layer in document["layers"]] == list(new_layers)
    assert set(old_layers) == set(new_layers)
    for layer in document["layers"]:
        before, after = old_layers[layer["name"]], new_layers[layer["name"]]
        assert layer["old"] == before and layer["new"] == after
        assert set(layer["change"]) == set(SUMMED)
        for key in SUMMED:
            if key in after:  # table --format json carries these figures
                assert layer["change"][key] == after[key] - before[key]
        unchanged = all(after[k] == before[k] for k in (*SUMMED, "out_shape") if k in after)
        assert layer["status"] == ("same" if unchanged else "changed")
    for key, total in document["totals"].items():
        if key in old["totals"]:  # type: ignore[operator]
            assert total["old"] == old["totals"][key]  # type: ignore[index]
            assert total["new"] == new["totals"][key]  # type: ignore[index]
        assert total["change"] == total["new"] - total["old"]
        assert total["relative"] == pytest.approx(total["change"] / total["old"])
    assert set(document["totals"]) == {name for name, f in FIGURES.items() if not f.device}
    assert (document["old"]["width"], document["new"]["width"]) == (1.0, 0.75)
    # mobilenet_v2 at width 1.0 and 0.75 (torchvision's 3,504,872 / 300,774,272 at 1.0)
    assert (document["totals"]["params"]["old"], document["totals"]["params"]["new"]) == (
        3_504_872,
        2_636_424,
    )
    assert (document["totals"]["madds"]["old"], document["totals"]["madds"]["new"]) == (
        300_774_272,
        209_069_792,
    )


def test_table_shows_every_layer_and_the_totals(invoke: Invoke) -> None:
    result = invoke("diff", "mobilenet_v2", "--new-width", "0.75")
    assert result.exit_code == 0
    out = result.stdout
    for layer in analyze("mobilenet_v2").layers:
        assert f"│ {layer.name} " in out
    assert "│ Conv                       │ changed │ 32x112x112 -> 24x112x112 │" in out
    madds = next(line for line in out.splitlines() if line.startswith("│ MAdds "))
    assert cells(madds) == ["MAdds", "300,774,272", "209,069,792", "-91,704,480", "-30.49%"]
    assert "53 layers changed, 0 added, 0 removed, 12 the same" in out
    assert out.startswith("old: mobilenet_v2  width 1  input 3x224x224")


def test_added_and_removed_layers_in_place(invoke: Invoke, here: Path) -> None:
    document = json.loads(invoke("diff", "old.yaml", "new.yaml", "-f", "json").stdout)
    rows = [(layer["name"], layer["status"]) for layer in document["layers"]]
    assert rows == [
        ("stem", "same"),
        ("gone", "removed"),
        ("body", "same"),  # reads 16 channels either way (from gone, then from stem)
        ("extra", "added"),
        ("head", "same"),
    ]
    gone = document["layers"][1]
    assert gone["new"] is None and gone["change"]["params"] == -gone["old"]["params"]
    extra = document["layers"][3]
    assert extra["old"] is None and extra["change"]["madds"] == extra["new"]["madds"] > 0
    text = invoke("diff", "old.yaml", "new.yaml").stdout
    assert "│ gone  │ removed │ 16x32x32 -> -" in text
    assert "│ extra │ added   │ - -> 32x32x32" in text
    assert "1 added, 1 removed" in text


def test_match_layers_keeps_removed_layers_where_they_were() -> None:
    old = analyze("old", text=OLD).layers
    new = analyze("new", text=NEW).layers
    assert [(d.name, d.status) for d in match_layers(old, new)] == [
        ("stem", "same"),
        ("gone", "removed"),
        ("body", "same"),
        ("extra", "added"),
        ("head", "same"),
    ]
    # removed layers after the last kept one come last
    assert [d.name for d in match_layers(old, new[:1])] == ["stem", "gone", "body", "head"]


def test_fail_above(invoke: Invoke) -> None:
    grows = invoke("diff", "mobilenet_v2", "--new-width", "1.1", "--fail-above", "5%")
    assert grows.exit_code == 1
    assert "MAdds grew by +" in grows.stderr and "(more than 5%)" in grows.stderr
    small = compare(analyze("mobilenet_v2"), analyze("mobilenet_v2", width=1.1))
    growth = 100 * max(t.relative or 0 for t in small.totals)
    assert (
        invoke("diff", "mobilenet_v2", "--new-width", "1.1", "--fail-above", f"{growth + 1}")
    ).exit_code == 0
    shrinks = invoke("diff", "mobilenet_v2", "--new-width", "0.5", "--fail-above", "0%")
    assert shrinks.exit_code == 0
    same = invoke("diff", "mobilenet_v2", "--fail-above", "0")
    assert same.exit_code == 0
    bad = invoke("diff", "mobilenet_v2", "--fail-above", "five")
    assert bad.exit_code == 2
    assert "'five' is not a percentage" in bad.stderr


def test_side_options_override_the_shared_ones(invoke: Invoke) -> None:
    args = ("diff", "mobilenet_v1", "-w", "0.5", "-r", "160", "--new-res", "128", "-f", "json")
    document = json.loads(invoke(*args, "--old-set", "classes=1001").stdout)
    assert (document["old"]["width"], document["old"]["resolution"]) == (0.5, 160)
    assert (document["new"]["width"], document["new"]["resolution"]) == (0.5, 128)
    assert (document["old"]["vars"]["classes"], document["new"]["vars"]["classes"]) == (1001, 1000)
    variants = invoke("diff", "shufflenet_v2", "--old-variant", "0.5x", "--new-variant", "2x")
    assert variants.exit_code == 0
    assert "old: shufflenet_v2 0.5x" in variants.stdout
    bad = invoke("diff", "mobilenet_v1", "--new-width", "40")
    assert bad.exit_code == 2
    assert "width multiplier must be in (0, 16]" in bad.stderr


def test_markdown(invoke: Invoke, here: Path) -> None:
    out = invoke("diff", "old.yaml", "new.yaml", "-f", "markdown").stdout
    assert out.startswith("### lightcost diff\n")
    assert "| Figure | Old | New | Change | Relative |" in out
    assert "<details><summary>Per layer: 0 layers changed, 1 added, 1 removed, 3 the same" in out
    assert "| gone | removed | 16x32x32 -&gt; - |" in out


def git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}  # fmt: skip
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_diff_against_a_git_revision(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    (repo / "specs").mkdir(parents=True)
    spec = repo / "specs" / "net.yaml"
    git(repo, "init", "-q")
    spec.write_text(OLD, encoding="utf-8")
    git(repo, "add", "specs/net.yaml")
    git(repo, "commit", "-q", "-m", "old")
    spec.write_text(NEW, encoding="utf-8")
    monkeypatch.chdir(repo)
    result = invoke("diff", "specs/net.yaml", "--rev", "HEAD", "-f", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["old"]["file"] == "specs/net.yaml@HEAD"
    assert document["new"]["file"] == "specs/net.yaml"
    assert [layer["status"] for layer in document["layers"]] == [
        "same", "removed", "same", "added", "same"
    ]  # fmt: skip
    monkeypatch.chdir(tmp_path)  # the revision is read relative to the file, from anywhere
    assert invoke("diff", "repo/specs/net.yaml", "--rev", "HEAD").exit_code == 0
    git(repo, "commit", "-q", "-am", "new")
    spec.write_text(OLD.replace("out: 32", "out: 48"), encoding="utf-8")
    grown = invoke("diff", "repo/specs/net.yaml", "--rev", "HEAD~1", "--fail-above", "5%")
    assert grown.exit_code == 1
    missing = invoke("diff", "repo/specs/net.yaml", "--rev", "HEAD~5")
    assert missing.exit_code == 2
    assert missing.stderr.startswith("error: cannot read repo/specs/net.yaml at revision 'HEAD~5'")
    assert missing.stderr.count("\n") == 1
    spec.write_text("input: [3, 32, 32]\nlayers:\n  - {op: cnv}\n", encoding="utf-8")
    git(repo, "commit", "-q", "-am", "broken")
    broken = invoke("diff", "repo/specs/net.yaml", "--rev", "HEAD", "mobilenet_v1")
    assert broken.exit_code == 2
    assert broken.stderr.startswith("error: repo/specs/net.yaml@HEAD:3:10: layers[0].op: unknown")


def test_rev_outside_git_and_without_git(
    invoke: Invoke, here: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = invoke("diff", "old.yaml", "--rev", "HEAD")
    assert outside.exit_code == 2
    assert outside.stderr.startswith("error: cannot read old.yaml at revision 'HEAD': ")
    monkeypatch.setenv("PATH", str(here / "no-bin"))
    nogit = invoke("diff", "old.yaml", "--rev", "HEAD")
    assert nogit.exit_code == 2
    assert nogit.stderr.startswith("error: cannot run git for --rev HEAD: ")
    assert "Traceback" not in nogit.output
