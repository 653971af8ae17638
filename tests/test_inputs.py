"""Hostile files, revisions and names: every one fails with one line and exit 2, bounded.

The files lightcost reads (specs, budgets files, device profiles) go through one
bounded reader (:func:`lightcost.spec.files.read_text`); ``diff --rev`` runs git
without letting a revision become an option; a name means one file or is an error.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from conftest import Invoke
from lightcost import SpecError
from lightcost.analysis.budgets import project_budgets
from lightcost.cost.latency import load_device
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
