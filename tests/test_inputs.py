"""Hostile files, revisions and names: every one fails with one line and exit 2, bounded.

The files lightcost reads (specs, budgets files, device profiles) go through one
bounded reader (:func:`lightcost.spec.files.read_text`); ``diff --rev`` runs git
without letting a revision become an option; a name means one file or is an error.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
import yaml

from conftest import Invoke
from lightcost import SpecError, analyze
from lightcost.analysis.budgets import project_budgets
from lightcost.cost.latency import Device, load_device
from lightcost.spec.files import read_spec
from lightcost.spec.located import MAX_BYTES

NET = "input: [3, 32, 32]\nlayers:\n  - {op: conv, k: 3, out: 16}\n"
PROFILE = "name: toy\npeak_flops: 1e12\nbandwidth: 1e11\nkernel_overhead: 1e-6\n"
FILE_OPTIONS = {  # what reads a file -> the arguments that make lightcost read FILE
    "spec": ("table", "FILE"),
    "budgets file": ("check", "--budgets", "FILE"),
    "device profile": ("table", "mobilenet_v1", "--device", "FILE"),
}


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def fails(invoke: Invoke, *args: str) -> str:
    """The one error line of ``lightcost ARGS``, checked to exit 2 with nothing on stdout."""
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: "), result.stderr
    return result.stderr.rstrip("\n")


def with_file(what: str, path: str | Path) -> list[str]:
    """The arguments that make lightcost read ``path`` as a ``what``."""
    return [str(path) if arg == "FILE" else arg for arg in FILE_OPTIONS[what]]


# -- one bounded reader ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("what", "special", "kind"),
    [
        *((what, "/dev/zero", "a character device") for what in FILE_OPTIONS),
        ("spec", ".", "a directory"),  # (click refuses a directory for --budgets)
        ("device profile", ".", "a directory"),
    ],
)
def test_special_files_are_refused_unread(
    invoke: Invoke, what: str, special: str, kind: str
) -> None:
    line = fails(invoke, *with_file(what, special))
    assert line == f"error: {special}:1:1: {what} is not a regular file ({kind})"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize("what", FILE_OPTIONS)
def test_a_fifo_never_blocks(tmp_path: Path, what: str) -> None:
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    done = subprocess.run(  # a real process with a timeout: a blocking read would hang here
        [sys.executable, "-m", "lightcost", *with_file(what, fifo)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr == f"error: {fifo}:1:1: {what} is not a regular file (a FIFO)\n"


READERS = {
    "spec": read_spec,
    "budgets file": project_budgets,
    "device profile": load_device,
}


@pytest.mark.parametrize("what", READERS)
def test_a_huge_file_is_refused_before_reading(tmp_path: Path, what: str) -> None:
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as handle:
        handle.truncate(2**30)  # sparse: 1 GiB that takes no disk
    tracemalloc.start()
    try:
        with pytest.raises(SpecError) as info:
            READERS[what](str(huge))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert str(info.value) == f"{huge}:1:1: {what} is larger than 4 MiB"
    assert peak < 2**20, f"{peak / 2**20:.0f} MiB allocated to refuse it"


@pytest.mark.parametrize("what", FILE_OPTIONS)
def test_just_over_the_limit_and_invalid_utf8(invoke: Invoke, here: Path, what: str) -> None:
    big = here / "big.yaml"
    big.write_bytes(b"#" * MAX_BYTES + b"\n")
    assert fails(invoke, *with_file(what, big)).endswith(f"{what} is larger than 4 MiB")
    bad = here / "bad.yaml"
    bad.write_bytes(b"name: x\nbad: \xff\n")
    assert fails(invoke, *with_file(what, bad)) == (
        f"error: {bad}:2:6: {what} is not valid UTF-8 text"
    )


# -- the corpus: tests/bad_inputs/ --------------------------------------------------------------

CORPUS = Path(__file__).parent / "bad_inputs"
EXPECTED: dict[str, dict[str, str]] = yaml.safe_load((CORPUS / "expected.yaml").read_text())
CORPUS_FILES = sorted(p.name for p in CORPUS.glob("*.yaml") if p.name != "expected.yaml")
CORPUS_KINDS = {"budgets": "budgets file", "device": "device profile", "spec": "spec"}


def test_every_corpus_file_has_an_expectation() -> None:
    assert sorted(EXPECTED) == CORPUS_FILES


@pytest.mark.parametrize("name", CORPUS_FILES)
def test_corpus_file_fails_with_one_located_line(
    invoke: Invoke, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(CORPUS)
    entry = EXPECTED[name]
    line = fails(invoke, *with_file(CORPUS_KINDS[name.split("_")[0]], name))
    start = f"error: {entry.get('file', name)}:{entry['at']}: {entry['path']}: "
    assert line.startswith(start), line
    assert entry["message"] in line
    assert line.isprintable()


def test_latency_is_finite_however_a_device_is_made() -> None:
    with pytest.raises(SpecError, match="kernel_overhead must be a number from 0 to 1 s"):
        Device("api", {"fp32": 1e12}, bandwidth=1e9, kernel_overhead=math.inf)
    with pytest.raises(SpecError, match="peak_flops must be a number from 1e"):
        Device("api", {"fp32": math.nan}, bandwidth=1e9, kernel_overhead=0)
    slowest = Device("slowest", {"fp32": 1e6}, bandwidth=1e6, kernel_overhead=1)
    assert slowest.bandwidth == 1e6  # the bounds themselves are sane
    cost = analyze("mobilenet_v1", device=slowest)
    assert math.isfinite(cost.total().latency or math.inf)
    layers = [layer.latency for layer in cost.layers]
    assert all(t is not None and math.isfinite(t) for t in layers)
    object.__setattr__(slowest, "kernel_overhead", math.inf)  # past the checks: the guard
    with pytest.raises(SpecError, match=r"^latency on device 'slowest' is not a finite number$"):
        analyze("mobilenet_v1", device=slowest)


@pytest.mark.parametrize("digits", [31, 401, 5001])
def test_set_option_numbers_are_bounded(invoke: Invoke, digits: int) -> None:
    result = invoke("table", "mobilenet_v1", "--set", f"classes=1{'0' * (digits - 1)}")
    assert result.exit_code == 2
    assert f"'classes': number too long ({digits} digits; at most 30)" in result.stderr
    assert invoke("table", "mobilenet_v1", "--set", f"classes={'1' * 15}").exit_code == 2
    assert invoke("table", "mobilenet_v1", "--set", "classes=1e3").exit_code == 0


# -- git: diff --rev ---------------------------------------------------------------------------


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def repo(here: Path) -> Path:
    """A git repository in the current directory with ``net.yaml`` committed."""
    if shutil.which("git") is None:
        pytest.skip("needs git")
    (here / "net.yaml").write_text(NET, encoding="utf-8")
    git(here, "init", "-q")
    git(here, "add", "net.yaml")
    git(here, "commit", "-q", "-m", "net")
    return here


@pytest.mark.parametrize(
    "rev", ["--output=pwned.txt", "-o", "--exec=touch pwned.txt", "", "HEAD\n"]
)
def test_a_revision_is_never_an_option(invoke: Invoke, repo: Path, rev: str) -> None:
    line = fails(invoke, "diff", "net.yaml", f"--rev={rev}")
    assert "a revision may not be empty or start with '-'" in line
    assert sorted(p.name for p in repo.iterdir()) == [".git", "net.yaml"]


def test_a_revision_names_a_commit(invoke: Invoke, repo: Path) -> None:
    assert invoke("diff", "net.yaml", "--rev", "HEAD").exit_code == 0
    for rev in ("HEAD:net.yaml", "HEAD^{tree}", "nosuch"):
        line = fails(invoke, "diff", "net.yaml", "--rev", rev)
        assert line.startswith(f"error: cannot read net.yaml at revision '{rev}': ")
    assert line.endswith("'nosuch': no such commit")
    line = fails(invoke, "diff", "net.yaml", "--rev", "HEAD~3")
    assert line == "error: cannot read net.yaml at revision 'HEAD~3': no such commit"


def test_a_huge_file_at_a_revision_is_refused_unread(invoke: Invoke, repo: Path) -> None:
    (repo / "net.yaml").write_text(NET + "#" * MAX_BYTES + "\n", encoding="utf-8")
    git(repo, "commit", "-q", "-am", "huge")
    (repo / "net.yaml").write_text(NET, encoding="utf-8")
    line = fails(invoke, "diff", "net.yaml", "--rev", "HEAD")
    assert line == "error: net.yaml@HEAD:1:1: spec is larger than 4 MiB"
    (repo / "net.yaml").write_bytes(NET.encode() + b"# \xff\n")
    git(repo, "commit", "-q", "-am", "binary")
    line = fails(invoke, "diff", "net.yaml", "--rev", "HEAD", "mobilenet_v1")
    assert line == "error: net.yaml@HEAD:4:3: spec is not valid UTF-8 text"


# -- which file a name means -------------------------------------------------------------------

AMBIGUOUS = (
    "'{name}' is ambiguous: the bundled {kind}, or the file {file}? (write '{name}.yaml' "
    "for the file; rename the file to use the bundled {kind})"
)


def test_a_bundled_name_next_to_a_file_of_that_name_is_ambiguous(
    invoke: Invoke, here: Path
) -> None:
    (here / "mobilenet_v2.yaml").write_text(NET, encoding="utf-8")
    (here / "budgets.yaml").write_text("budgets:\n  - spec: mobilenet_v2\n    madds: 600M\n")
    message = AMBIGUOUS.format(name="mobilenet_v2", kind="spec", file="mobilenet_v2.yaml")
    assert fails(invoke, "check") == f"error: budgets.yaml:2:11: budgets[0].spec: {message}"
    assert fails(invoke, "table", "mobilenet_v2") == f"error: {message}"
    (here / "budgets.yaml").write_text("budgets:\n  - spec: mobilenet_v2.yaml\n    madds: 1k\n")
    written = invoke("check", "--format", "json")  # the path as written: the file
    assert written.exit_code == 1
    assert json.loads(written.stdout)["specs"] == ["mobilenet_v2.yaml"]
    (here / "gtx1080ti.yaml").write_text(PROFILE, encoding="utf-8")
    message = AMBIGUOUS.format(name="gtx1080ti", kind="device profile", file="gtx1080ti.yaml")
    assert fails(invoke, "table", "mobilenet_v1", "--device", "gtx1080ti") == f"error: {message}"


def test_project_file_paths_are_relative_to_the_project_file(invoke: Invoke, here: Path) -> None:
    (here / "sub").mkdir()
    (here / "net.yaml").write_text(NET, encoding="utf-8")  # beside the command, not the file
    (here / "sub" / "budgets.yaml").write_text("budgets:\n  - spec: net.yaml\n    madds: 1G\n")
    line = fails(invoke, "check", "--budgets", "sub/budgets.yaml")
    assert line.startswith("error: sub/budgets.yaml:2:11: budgets[0].spec: no spec file 'net.yaml'")
    (here / "sub" / "mobilenet_v1.yaml").write_text(NET, encoding="utf-8")
    (here / "sub" / "budgets.yaml").write_text("budgets:\n  - spec: mobilenet_v1\n    madds: 1G\n")
    line = fails(invoke, "check", "--budgets", "sub/budgets.yaml")
    assert "is ambiguous: the bundled spec, or the file sub/mobilenet_v1.yaml?" in line


def test_a_file_named_with_an_at_sign_wins_over_name_at_variant(invoke: Invoke, here: Path) -> None:
    (here / "my@net.yaml").write_text(NET, encoding="utf-8")
    result = invoke("compare", "my@net.yaml", "mobilenet_v1", "--format", "json")
    assert result.exit_code == 0, result.output
    assert '"my@net.yaml"' in result.stdout
    assert invoke("compare", "shufflenet_v2@1.5x", "mobilenet_v1").exit_code == 0
    line = fails(invoke, "compare", "other@net.yaml", "mobilenet_v1")
    assert line.startswith("error: no spec file 'other'")


def test_a_folder_of_a_bundled_name_does_not_hide_the_bundled_spec(
    invoke: Invoke, here: Path
) -> None:
    (here / "resnet50").mkdir()  # say, checkpoints
    assert invoke("table", "resnet50").exit_code == 0
    (here / "nets").mkdir()
    assert (
        fails(invoke, "table", "nets")
        == "error: nets:1:1: spec is not a regular file (a directory)"
    )


def test_a_profile_without_the_dtype_is_located_in_the_profile(
    invoke: Invoke, tmp_path: Path
) -> None:
    # fuzzer finding: the error named the profile's name: but not its file
    profile = tmp_path / "dev.yaml"
    profile.write_text("name: d\npeak_flops: {fp32: 1e12}\nbandwidth: 1e9\nkernel_overhead: 0\n")
    result = invoke("table", "mobilenet_v1", "--device", str(profile), "--dtype", "int8")
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {profile}:2:13: peak_flops: device 'd' has no peak_flops for int8 (it has: fp32)\n"
    )


def test_a_budgets_glob_matches_a_bounded_number_of_paths(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("lightcost.analysis.budgets.MAX_MATCHES", 3)
    for i in range(4):
        (tmp_path / f"n{i}.yaml").write_text("input: [3, 8, 8]\nlayers: [{op: relu}]\n")
    budgets = tmp_path / "budgets.yaml"
    budgets.write_text("budgets:\n  - {spec: 'n*.yaml', params: 1k}\n")
    result = invoke("check", "--budgets", str(budgets))
    assert result.exit_code == 2
    assert "'n*.yaml' matches more than 3 paths" in result.stderr
