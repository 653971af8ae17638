"""`lightcost check`: exit statuses, every output format, and the README's CI example."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest
import yaml

from conftest import Invoke
from lightcost import analyze
from lightcost.analysis.budgets import check
from lightcost.render.report import check_table

ROOT = Path(__file__).resolve().parent.parent
V2 = analyze("mobilenet_v2").total()
V2_075 = analyze("mobilenet_v2", width=0.75).total()
BUDGETS = """\
budgets:
  - spec: mobilenet_v2
    params: 3.6M
    madds: 320M
  - spec: mobilenet_v2
    width: 0.75
    madds: {limit}
"""
NET = """\
name: net
input: [3, 32, 32]
budget:
  params: 1k
  madds: 100k
layers:
  - {op: conv, k: 3, out: 16}
"""


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def budgets_file(folder: Path, limit: str) -> None:
    (folder / "budgets.yaml").write_text(BUDGETS.format(limit=limit), encoding="utf-8")


def test_exit_0_when_every_budget_holds(invoke: Invoke, here: Path) -> None:
    budgets_file(here, "220M")
    result = invoke("check")
    assert result.exit_code == 0, result.output
    assert "all 3 budgets hold (1 spec)" in result.stdout
    for text in ("3.6M", f"{V2.params:,}", f"{V2_075.madds:,}", "budgets.yaml:7", "+6.0%"):
        assert text in result.stdout
    assert "EXCEEDED" not in result.stdout


def test_exit_1_when_a_budget_is_exceeded(invoke: Invoke, here: Path) -> None:
    budgets_file(here, "200M")
    result = invoke("check")
    assert result.exit_code == 1
    assert "1 of 3 budgets exceeded" in result.stdout
    row = next(line for line in result.stdout.splitlines() if "EXCEEDED" in line)
    assert "width 0.75" in row and "200M" in row and "-4.5%" in row


@pytest.mark.parametrize(
    ("args", "files", "message"),
    [
        ((), {}, "no SPEC given and no budgets.yaml in this directory"),
        (("--budgets", "missing.yaml"), {}, "does not exist"),
        (("--format", "xml"), {"budgets.yaml": BUDGETS.format(limit="1G")}, "Invalid value"),
        (("net.yaml",), {"net.yaml": NET.replace("100k", "100 kilo")},
         "net.yaml:5:10: budget.madds: bad limit '100 kilo': unknown suffix 'kilo'"),
        (("net.yaml",), {"net.yaml": NET.replace("op: conv", "op: cnv")},
         "net.yaml:7:10: layers[0].op: unknown op 'cnv', did you mean 'conv'?"),
        ((), {"budgets.yaml": "budgets:\n  - {spec: nets/*.yaml, madds: 1G}\n"},
         "budgets.yaml:2:12: budgets[0].spec: 'nets/*.yaml' matches no file"),
        (("nothere.yaml",), {}, "no spec file 'nothere.yaml'"),
    ],
)  # fmt: skip
def test_exit_2_on_usage_and_spec_errors(
    invoke: Invoke, here: Path, args: tuple[str, ...], files: dict[str, str], message: str
) -> None:
    for name, text in files.items():
        (here / name).write_text(text, encoding="utf-8")
    result = invoke("check", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output
    if files and args != ("--format", "xml"):  # a spec error is one line
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1


def test_spec_budgets_and_specs_without_budgets(invoke: Invoke, here: Path) -> None:
    (here / "net.yaml").write_text(NET, encoding="utf-8")
    (here / "plain.yaml").write_text(NET.replace("budget:", "vars:"), encoding="utf-8")
    # net: conv 3x3 3 -> 16 with BN: 464 params, 442,368 MAdds
    result = invoke("check", "net.yaml", "plain.yaml", "-f", "json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["specs"] == ["net.yaml", "plain.yaml"]
    assert [(b["figure"], b["actual"], b["passed"], b["line"]) for b in document["budgets"]] == [
        ("params", 464, True, 4),
        ("madds", 442_368, False, 5),
    ]
    quiet = invoke("check", "plain.yaml")
    assert quiet.exit_code == 0
    assert "no budgets apply to the 1 spec checked" in quiet.stdout


def test_json(invoke: Invoke, here: Path) -> None:
    budgets_file(here, "200M")
    document = json.loads(invoke("check", "--format", "json").stdout)
    assert (document["passed"], document["checked"], document["exceeded"]) == (False, 3, 1)
    first, _, last = document["budgets"]
    assert first == {
        "spec": first["spec"],
        "model": "mobilenet_v2",
        "config": {},
        "figure": "params",
        "label": "Params",
        "unit": "",
        "limit": 3_600_000,
        "limit_text": "3.6M",
        "actual": V2.params,
        "headroom_pct": pytest.approx(100 * (3_600_000 - V2.params) / 3_600_000),
        "passed": True,
        "file": "budgets.yaml",
        "line": 3,
        "col": 13,
    }
    assert last["config"] == {"width": 0.75}
    assert (last["actual"], last["passed"], last["line"]) == (V2_075.madds, False, 7)


def test_junit_names_each_budget_as_a_testcase(invoke: Invoke, here: Path) -> None:
    budgets_file(here, "200M")
    result = invoke("check", "--format", "junit")
    assert result.exit_code == 1
    root = ElementTree.fromstring(result.stdout)
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures")) == ("3", "1")
    cases = root.findall("./testsuite/testcase")
    assert [c.get("name") for c in cases] == [
        "mobilenet_v2: params <= 3.6M",
        "mobilenet_v2: madds <= 320M",
        "mobilenet_v2 (width 0.75): madds <= 200M",
    ]
    # junit-10.xsd has no file or line attribute: the location leads the case's system-out
    assert [c.findtext("system-out", "").split(": ")[0] for c in cases] == [
        "budgets.yaml:3",
        "budgets.yaml:4",
        "budgets.yaml:7",
    ]
    assert all(c.get("file") is None and c.get("line") is None for c in cases)
    assert [c.find("failure") is not None for c in cases] == [False, False, True]
    failure = cases[2].find("failure")
    assert failure is not None
    assert failure.get("message") == (
        f"MAdds of mobilenet_v2 (width 0.75) is {V2_075.madds:,}, over its limit 200M by 4.5%"
    )


def test_github_annotations_point_at_the_limit(invoke: Invoke, here: Path) -> None:
    budgets_file(here, "200M")
    (here / "net.yaml").write_text(NET, encoding="utf-8")
    result = invoke("check", "--format", "github")
    assert result.exit_code == 1
    errors = [line for line in result.stdout.splitlines() if line.startswith("::error ")]
    assert errors == [
        "::error file=budgets.yaml,line=7,col=12,title=Budget exceeded%3A mobilenet_v2 madds::"
        f"MAdds of mobilenet_v2 (width 0.75) is {V2_075.madds:,}, over its limit 200M by 4.5%25"
    ]
    assert result.stdout.splitlines() == errors  # workflow commands only; the rest on stderr
    assert result.stderr.splitlines()[-1] == "1 of 3 budgets exceeded (1 spec)"
    in_spec = invoke("check", "net.yaml", "--format", "github")
    assert re.search(r"^::error file=net.yaml,line=5,col=10,title=.*madds::", in_spec.stdout, re.M)
    assert "ok: Params of net is 464, within 1k, 53.6% headroom [net.yaml:4]" in in_spec.stderr


def test_github_annotates_a_spec_error_too(invoke: Invoke, here: Path) -> None:
    (here / "net.yaml").write_text(NET.replace("100k", "100 kilo"), encoding="utf-8")
    result = invoke("check", "net.yaml", "--format", "github")
    assert result.exit_code == 2
    assert result.stdout.startswith(
        "::error file=net.yaml,line=5,col=10,title=lightcost spec error::net.yaml:5:10: "
        "budget.madds: bad limit '100 kilo'"
    )
    assert result.stderr.startswith("error: net.yaml:5:10: budget.madds: bad limit")


def test_markdown(invoke: Invoke, here: Path) -> None:
    budgets_file(here, "200M")
    lines = invoke("check", "--format", "markdown").stdout.splitlines()
    assert lines[0] == "### :x: lightcost check: 1 of 3 budgets exceeded (1 spec)"
    assert lines[2].startswith("| Status | Model | Configuration | Figure | Limit | Actual |")
    assert lines[3] == "|---|---|---|---|---:|---:|---:|---|"
    assert lines[6] == (
        f"| :x: **exceeded** | mobilenet\\_v2 | width 0.75 | MAdds | 200M | {V2_075.madds:,} "
        "| -4.5% | budgets.yaml:7 |"
    )
    assert len(lines) == 7


def test_exceeded_rows_are_red_on_a_terminal(here: Path) -> None:
    budgets_file(here, "200M")
    report = check([], "budgets.yaml")
    styled = check_table(report, style=True).splitlines()
    red = [line for line in styled if line.startswith("\x1b[1;31m")]
    assert len(red) == 1 and "EXCEEDED" in red[0]
    plain = check_table(report, style=False)
    assert "\x1b" not in plain


def readme_section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("## Use in CI")
    return text[start : text.index("\n## ", start + 1)]


def fenced_yaml(section: str) -> list[str]:
    return re.findall(r"^```yaml\n(.*?)^```", section, re.S | re.M)


def run_script(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def test_readme_use_in_ci_example_runs(tmp_path: Path) -> None:
    """The README's CI recipe as written, in a fresh git repository: its budgets.yaml, then
    every `run:` step of the workflow in order, lightcost installed by the recipe's own
    `pip install "$LIGHTCOST"` from this checkout (a path, as the recipe allows; no index,
    no network), then the pre-commit hook's entry."""
    budgets_text, workflow_text, hooks_text = fenced_yaml(readme_section())
    repo, site = tmp_path / "repo", tmp_path / "site"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "budgets.yaml").write_text(budgets_text, encoding="utf-8")
    workflow = yaml.safe_load(workflow_text)
    (job,) = workflow["jobs"].values()
    assert job["env"]["LIGHTCOST"].startswith("git+https://")  # a git URL, or a path
    scripts = [s["run"] for s in job["steps"] if "run" in s]
    assert scripts[0] == 'pip install "$LIGHTCOST"'
    assert not any("pip install lightcost" in s for s in scripts)
    summary = tmp_path / "summary.md"
    env = {
        **os.environ,
        "LIGHTCOST": str(ROOT),
        "PIP_TARGET": str(site),  # the runner's own environment, kept apart from this one
        "PIP_NO_INDEX": "1",
        "PIP_NO_DEPS": "1",
        "PIP_NO_BUILD_ISOLATION": "0",  # builds with this environment's hatchling
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PYTHONPATH": str(site),
        "PATH": f"{site / 'bin'}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}"
        f"{os.environ['PATH']}",
        "GITHUB_STEP_SUMMARY": str(summary),
        "NO_COLOR": "1",
    }
    for script in scripts:
        done = run_script(script, repo, env)
        assert done.returncode == 0, done.stdout + done.stderr
    installed = run_script(
        "command -v lightcost; python -c 'import lightcost as l; print(l.__file__)'", repo, env
    )
    assert installed.stdout.splitlines() == [
        str(site / "bin" / "lightcost"),
        str(site / "lightcost" / "__init__.py"),
    ]
    assert summary.read_text(encoding="utf-8").startswith(
        "### :white_check_mark: lightcost check: all 3 budgets hold"
    )
    (hook,) = yaml.safe_load(hooks_text)["repos"][0]["hooks"]
    assert "rev" not in yaml.safe_load(hooks_text)["repos"][0]  # no tag needed
    assert re.search(hook["files"], "budgets.yaml") and hook["pass_filenames"] is False
    (repo / "specs").mkdir()
    done = run_script(hook["entry"], repo / "specs", env)  # budgets.yaml found above
    assert done.returncode == 0, done.stdout + done.stderr
    assert "all 3 budgets hold" in done.stdout


def test_pre_commit_hook_runs_lightcost_check() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    hook = next(h for h in hooks if h["id"] == "lightcost-check")
    assert hook["entry"] == "lightcost check"
    assert hook["language"] == "python"
    assert re.search(hook["files"], "specs/net.yaml")


def test_memory_and_latency_budgets(invoke: Invoke, here: Path) -> None:
    """Figures in bytes and seconds take limits in MiB and ms; latency names a device."""
    (here / "budgets.yaml").write_text(
        "budgets:\n"
        "  - {spec: mobilenet_v2, peak_activation: 6MiB, mac_bytes: 100MB}\n"
        "  - {spec: mobilenet_v2, device: gtx1080ti, dtype: fp16, latency: 2ms}\n",
        encoding="utf-8",
    )
    document = json.loads(invoke("check", "-f", "json").stdout)
    peak, mac_bytes, latency = document["budgets"]
    assert (peak["limit"], peak["unit"], peak["passed"]) == (6 * 2**20, "B", True)
    assert mac_bytes["limit"] == 100_000_000
    expected = analyze("mobilenet_v2", dtype="fp16", device="gtx1080ti").total().latency
    assert (latency["limit"], latency["actual"]) == (0.002, pytest.approx(expected))
    assert latency["config"] == {"device": "gtx1080ti", "dtype": "fp16"}
    (here / "budgets.yaml").write_text(
        "budgets:\n  - {spec: mobilenet_v2, latency: 2ms}\n", encoding="utf-8"
    )
    result = invoke("check")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: budgets.yaml:2:5: budgets[0]: figure 'latency' needs")
