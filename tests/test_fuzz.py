"""Fuzzing (hypothesis): mutated specs cost or fail with a located SpecError, in bounded time.

The mutations are those of ``benchmarks/fuzz.py`` (which runs 10,000 of them and
prints the outcome counts); here hypothesis draws their choices, a few hundred
examples per run.
"""

from __future__ import annotations

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
