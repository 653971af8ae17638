"""CI outputs as their consumers check them: JUnit against the Jenkins xUnit junit-10.xsd,
spec errors inside every report, GitHub paths from the repository root, the job summary."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from conftest import Invoke
from lightcost.analysis.repository import MAX_PARENTS, find_project, repository_root
from lightcost.cli.main import cli

xmlschema = pytest.importorskip("xmlschema")

# https://github.com/jenkinsci/xunit-plugin/blob/master/src/main/resources/org/jenkinsci/plugins/xunit/types/model/xsd/junit-10.xsd
# (a verbatim copy: tests/schemas/README.md)
SCHEMA = xmlschema.XMLSchema(str(Path(__file__).parent / "schemas" / "junit-10.xsd"))
BUDGETS = """\
budgets:
  - spec: specs/broken.yaml
    madds: 1M
  - spec: mobilenet_v2
    params: 3.6M
  - spec: mobilenet_v2
    madds: 200M
"""
BROKEN = "input: [3, 32, 32]\nlayers:\n  - {op: cnv, k: 3, out: 8}\n"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository (``.git``) with budgets.yaml at its root and a broken spec; cwd: specs/."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "specs").mkdir()
    (tmp_path / "budgets.yaml").write_text(BUDGETS, encoding="utf-8")
    (tmp_path / "specs" / "broken.yaml").write_text(BROKEN, encoding="utf-8")
    monkeypatch.chdir(tmp_path / "specs")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    return tmp_path


def valid_junit(result: Result) -> None:
    SCHEMA.validate(result.stdout)  # raises with the schema's complaint


def test_junit_validates_and_a_spec_error_is_an_error_case(invoke: Invoke, repo: Path) -> None:
    result = invoke("check", "--format", "junit")
    assert result.exit_code == 2  # an error outranks an exceeded budget
    valid_junit(result)
    root = SCHEMA.to_dict(result.stdout)
    (testsuite,) = root["testsuite"]
    assert (testsuite["@tests"], testsuite["@failures"], testsuite["@errors"]) == ("3", "1", "1")
    cases = testsuite["testcase"]
    error = next(c for c in cases if "error" in c)
    assert "unknown op 'cnv'" in error["error"][0]["@message"]
    assert error["system-out"][0].startswith("../specs/broken.yaml:3:")  # cwd-relative
    # the other budgets were still checked
    assert [c["@name"] for c in cases if "error" not in c] == [
        "mobilenet_v2: params <= 3.6M",
        "mobilenet_v2: madds <= 200M",
    ]
    assert "error: ../specs/broken.yaml:3:" in result.stderr


def test_passing_and_failing_junit_validate(invoke: Invoke, here_v2: Path) -> None:
    for limit, status in (("400M", 0), ("200M", 1)):
        (here_v2 / "budgets.yaml").write_text(
            f"budgets:\n  - {{spec: mobilenet_v2, madds: {limit}}}\n", encoding="utf-8"
        )
        result = invoke("check", "--format", "junit")
        assert result.exit_code == status
        valid_junit(result)
        assert " file=" not in result.stdout and " line=" not in result.stdout


@pytest.fixture
def here_v2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_json_and_markdown_carry_the_error(invoke: Invoke, repo: Path) -> None:
    result = invoke("check", "--format", "json")
    assert result.exit_code == 2
    document = json.loads(result.stdout)
    assert document["passed"] is False and document["checked"] == 2
    (error,) = document["errors"]
    assert (error["line"], error["col"]) == (3, 10)
    assert error["file"].endswith("specs/broken.yaml")
    assert "unknown op 'cnv'" in error["message"]
    markdown = invoke("check", "--format", "markdown").stdout
    assert "1 of 2 budgets exceeded (2 specs); 1 error" in markdown
    assert "- :x: error: " in markdown


def test_a_broken_budgets_file_still_gives_a_report(invoke: Invoke, repo: Path) -> None:
    (repo / "budgets.yaml").write_text("budgets:\n  - {spec: mobilenet_v2, madds: 6OOM}\n")
    for fmt in ("json", "junit", "github"):
        result = invoke("check", "--format", fmt)
        assert result.exit_code == 2
        assert "bad limit '6OOM'" in result.stdout, fmt
    valid_junit(invoke("check", "--format", "junit"))
    (error,) = json.loads(invoke("check", "--format", "json").stdout)["errors"]
    assert (error["line"], error["col"]) == (2, 33)


def test_github_paths_are_relative_to_the_repository_root(invoke: Invoke, repo: Path) -> None:
    result = invoke("check", "--format", "github")
    assert result.exit_code == 2
    lines = result.stdout.splitlines()
    assert lines[0].startswith("::error file=budgets.yaml,line=7,col=12,title=Budget exceeded")
    assert lines[1].startswith(
        "::error file=specs/broken.yaml,line=3,col=10,title=lightcost spec error::"
        "../specs/broken.yaml:3:10: layers[0].op: unknown op 'cnv'"
    )
    assert len(lines) == 2


def test_budgets_yaml_is_found_up_to_the_repository_root(tmp_path: Path) -> None:
    deep = tmp_path / "repo" / "a" / "b"
    deep.mkdir(parents=True)
    assert find_project(str(deep)) is None
    (tmp_path / "budgets.yaml").write_text("budgets: []\n")  # above the root: not searched
    (tmp_path / "repo" / ".git").write_text("gitdir: elsewhere\n")  # a worktree's .git file
    assert repository_root(str(deep)) == str(tmp_path / "repo")
    assert find_project(str(deep)) is None
    (tmp_path / "repo" / "budgets.yaml").write_text("budgets: []\n")
    assert os.path.samefile(find_project(str(deep)) or "", tmp_path / "repo" / "budgets.yaml")
    (deep / "budgets.yaml").write_text("budgets: []\n")  # the nearest wins
    assert os.path.samefile(find_project(str(deep)) or "", deep / "budgets.yaml")
    outside = tmp_path / "plain" / "x"
    outside.mkdir(parents=True)
    (tmp_path / "plain" / "budgets.yaml").write_text("budgets: []\n")
    assert find_project(str(outside)) is None  # outside a repository: only the directory


def test_the_walk_up_is_bounded(tmp_path: Path) -> None:
    deep = tmp_path.joinpath(*["d"] * (MAX_PARENTS + 2))
    deep.mkdir(parents=True)
    (tmp_path / ".git").mkdir()
    assert repository_root(str(deep)) is None  # the root is beyond MAX_PARENTS levels
    assert repository_root(str(deep.parents[MAX_PARENTS - 2])) == str(tmp_path)


def test_one_github_run_writes_the_annotations_and_the_summary(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = repo / "summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    runner = CliRunner(env={"NO_COLOR": "1", "GITHUB_STEP_SUMMARY": str(summary)})
    result = runner.invoke(cli, ["check", "--format", "github"])
    assert result.exit_code == 2
    assert result.stdout.startswith("::error file=budgets.yaml")
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n### :x: lightcost check: 1 of 2 budgets exceeded")
    other = repo / "other.md"
    result = runner.invoke(cli, ["check", "--format", "json", "--summary", str(other)])
    assert json.loads(result.stdout)["checked"] == 2
    assert other.read_text(encoding="utf-8").startswith("### :x: lightcost check")


def test_lint_junit_validates_and_github_annotates(invoke: Invoke, here_v2: Path) -> None:
    result = invoke("lint", "mobilenet_v2", "--format", "junit")
    assert result.exit_code == 1
    valid_junit(result)
    (testsuite,) = SCHEMA.to_dict(result.stdout)["testsuite"]
    cases = {c["@name"][:2]: c for c in testsuite["testcase"]}
    assert sorted(cases) == ["G1", "G2", "G3", "G4"]
    assert [rule for rule, case in sorted(cases.items()) if "failure" in case] == ["G1", "G4"]
    clean = invoke("lint", "shufflenet_v2", "--format", "junit")
    assert clean.exit_code == 0
    valid_junit(clean)
    github = invoke("lint", "mobilenet_v2", "--format", "github").stdout.splitlines()
    assert len(github) == 8  # G1 in 4 stages, G4 in 4 stages: one annotation each
    assert all(line.startswith("::error file=") for line in github)
    assert (
        ",line=36,col=9,title=G1 equal channel width minimizes MAC (56x56%2C 4 finding(s))::"
        in (github[1])
    )


@pytest.mark.parametrize("snapshot", sorted((Path(__file__).parent / "snapshots").glob("*.xml")))
def test_every_junit_snapshot_validates(snapshot: Path) -> None:
    text = snapshot.read_text(encoding="utf-8")  # paths normalised to <bundled>, <tmp>
    SCHEMA.validate(text.replace("<bundled>", "bundled").replace("<tmp>", "tmp"))
