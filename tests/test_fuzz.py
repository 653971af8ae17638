"""Fuzzing (hypothesis): mutated specs cost or fail with a located SpecError, in bounded time;
and the helpers of the channels of ``benchmarks/fuzz.py`` (cases, child runs, outcomes).

The spec mutations are those of ``benchmarks/fuzz.py`` (which runs them in
this process and every channel in child processes, and prints the outcome
counts); here hypothesis draws their choices, a few hundred examples per run.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lightcost
from lightcost import SpecError, analyze

_FUZZ = Path(__file__).parents[1] / "benchmarks" / "fuzz.py"
_SPEC = importlib.util.spec_from_file_location("lightcost_fuzz", _FUZZ)
assert _SPEC is not None and _SPEC.loader is not None
fuzz = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(fuzz)

SEEDS = fuzz.seeds()
SECONDS = 10.0  # per example; a timeout is an "other" outcome
SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large]


def test_seeds_are_valid_and_cover_the_bundled_specs() -> None:
    for name, text in SEEDS:
        assert analyze(name, text=text).layers
    assert len(SEEDS) == len(fuzz.bundled_names()) + len(fuzz.SMALL)


@given(data=st.data())
@settings(max_examples=300, deadline=None, suppress_health_check=SLOW)
def test_mutated_specs_cost_or_fail_located(data: st.DataObject) -> None:
    name, text = fuzz.mutated(lambda low, high: data.draw(st.integers(low, high)), SEEDS)
    kind, detail = fuzz.outcome(name, text, SECONDS)
    assert kind in ("ok", "SpecError"), f"{detail}\n{text}"


@given(text=st.text(max_size=400))
@settings(max_examples=200, deadline=None)
def test_any_text_costs_or_fails_located(text: str) -> None:
    kind, detail = fuzz.outcome("any.yaml", text, SECONDS)
    assert kind in ("ok", "SpecError"), f"{detail}\n{text!r}"


def test_outcome_reports_a_timeout_and_an_unlocated_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def hang(*args: object, **kwargs: object) -> None:
        while True:
            pass

    def unlocated(*args: object, **kwargs: object) -> None:
        raise SpecError("no place")

    monkeypatch.setattr(lightcost, "analyze", hang)
    assert fuzz.outcome("x.yaml", "", 0.2) == ("other", "timeout after 0.2 s")
    monkeypatch.setattr(lightcost, "analyze", unlocated)
    assert fuzz.outcome("x.yaml", "", 1.0) == ("other", "SpecError without a location: no place")


# -- the channels of benchmarks/fuzz.py: cases, the child process, the outcomes ---------------


@functools.cache
def models() -> list[bytes]:
    """The ONNX channel's seed models (made once, when a test needs them)."""
    return list(fuzz.onnx_seeds())


def case(*argv: str, named: str | None = None) -> object:
    return fuzz.Case("test", list(argv), {"small.yaml": fuzz.SMALL[0].encode()}, named)


@pytest.mark.parametrize(
    ("code", "stderr", "named", "kind"),
    [
        (0, "", None, "ok"),
        (1, "", None, "findings"),
        (2, "error: small.yaml:1:2: bad\n", "small.yaml", "error"),
        (2, "error: bad\n", "small.yaml", "unclean"),  # does not name the file
        (2, "error: \n", None, "unclean"),  # an empty message
        (2, "error: a\nerror: b\n", None, "error"),  # check: one line per failed budget
        (2, "error: a\nnoise\n", None, "unclean"),
        (
            2,
            "Usage: lightcost table\nTry 'lightcost table -h'\n\nError: No such option\n",
            None,
            "error",
        ),
        (3, "internal error: KeyError: 'x'\n", None, "exit 3"),
        (3, "internal error: MemoryError: \n", None, "over memory"),
        (1, "SystemError: error return without exception set\n", None, "over memory"),
        (1, "Traceback (most recent call last):\n", None, "traceback"),
        (-11, "", None, "crash"),
    ],
)
def test_classify(code: int, stderr: str, named: str | None, kind: str) -> None:
    assert fuzz.classify(case(named=named), code, stderr, False) == kind
    assert fuzz.classify(case(), code, stderr, True) == "timeout"


def test_run_case_runs_lightcost_in_a_child_and_measures_it() -> None:
    run = fuzz.run_case(case("table", "small.yaml"), 60.0, 2048)
    assert (run.outcome, run.stderr) == ("ok", "")
    assert run.peak > 10 and run.seconds > 0
    run = fuzz.run_case(case("table", "nope.yaml", named="nope.yaml"), 60.0, 2048)
    assert run.outcome == "error"


def test_run_case_stops_a_child_on_time_and_on_memory() -> None:
    assert fuzz.run_case(case("table", "small.yaml"), 0.01, 2048).outcome == "timeout"
    assert fuzz.run_case(case("table", "small.yaml"), 60.0, 16).outcome == "over memory"


@pytest.mark.parametrize("channel", fuzz.CHANNELS)
def test_every_channel_makes_cases(channel: str) -> None:
    pytest.importorskip("onnx")
    first = fuzz.channel_cases(channel, 5, fuzz.random.Random(1))
    again = fuzz.channel_cases(channel, 5, fuzz.random.Random(1))
    assert first == again  # reproducible from the seed
    assert all(c.channel == channel and c.argv and all(c.files) for c in first)


@given(data=st.data())
@settings(max_examples=50, deadline=None, suppress_health_check=SLOW)
def test_onnx_mutations_make_bytes(data: st.DataObject) -> None:
    pytest.importorskip("onnx")
    pick = lambda low, high: data.draw(st.integers(low, high))  # noqa: E731
    mutated = fuzz.onnx_case(pick, models())
    assert isinstance(mutated.files["case.onnx"], bytes)
