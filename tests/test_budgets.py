"""Budgets: limit notation, budget entries, project files, selection and evaluation."""

from __future__ import annotations

import re
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import pytest

from lightcost import analyze
from lightcost.analysis.budgets import (
    Budget,
    Limit,
    Result,
    check,
    collect,
    limit_for,
    project_budgets,
)
from lightcost.analysis.limits import parse_limit
from lightcost.core.errors import Loc, SpecError
from lightcost.cost.figures import FIGURES, Figure

WHERE = Loc("budgets.yaml", 3, 12)
TINY = "name: tiny\ninput: [3, 32, 32]\n{budget}layers:\n  - {{op: conv, k: 3, out: 16}}\n"
# tiny: conv 3x3, 3 -> 16 channels at 32x32 with BN: 432 weights + 32 BN = 464 params,
# 432 * 1024 = 442,368 MAdds.
TINY_PARAMS, TINY_MADDS = 464, 442_368


@pytest.mark.parametrize(
    ("raw", "value", "dimension"),
    [
        ("600M", 600_000_000, ""),
        ("4.3M", 4_300_000, ""),
        ("3.504872M", 3_504_872, ""),
        ("300k", 300_000, ""),
        ("300K", 300_000, ""),
        ("1.2G", 1_200_000_000, ""),
        ("2T", 2 * 10**12, ""),
        ("1e9", 10**9, ""),
        (" 7 ", 7, ""),
        (".5M", 500_000, ""),
        (600, 600, ""),
        (0, 0, ""),
        (2.5, Fraction(5, 2), ""),
        ("2MiB", 2 * 2**20, "bytes"),
        ("512 KiB", 512 * 1024, "bytes"),
        ("1GiB", 2**30, "bytes"),
        ("512kB", 512_000, "bytes"),
        ("3MB", 3_000_000, "bytes"),
        ("100B", 100, "bytes"),
        ("5ms", Fraction(1, 200), "seconds"),
        ("250us", Fraction(1, 4000), "seconds"),
        ("250µs", Fraction(1, 4000), "seconds"),
        ("1.5s", Fraction(3, 2), "seconds"),
        ("40ns", Fraction(1, 25_000_000), "seconds"),
    ],
)
def test_limits_as_people_write_them(raw: object, value: Fraction, dimension: str) -> None:
    quantity = parse_limit(raw, WHERE)
    assert (quantity.value, quantity.dimension) == (value, dimension)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("600 Mb", "bad limit '600 Mb': unknown suffix 'Mb'"),
        ("5m", "unknown suffix 'm'"),
        ("4.3 MAdds", "unknown suffix 'MAdds'"),
        ("2Mib", "unknown suffix 'Mib', did you mean 'MiB'?"),
        ("lots", "bad limit 'lots': expected a non-negative number with an optional suffix"),
        ("-5M", "expected a non-negative number"),
        (-1, "bad limit -1"),
        ("", "expected a non-negative number"),
        ("M", "expected a non-negative number"),
        ("1.2.3M", "expected a non-negative number"),
        ("1,000", "expected a non-negative number"),
        (True, "bad limit True"),
        (None, "bad limit None"),
        ([1, 2], "bad limit [1, 2]"),
        (float("inf"), "bad limit inf"),
        (float("nan"), "bad limit nan"),
        ("1e999999999", "expected a non-negative number"),
    ],
)
def test_bad_limits_are_located(raw: object, problem: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_limit(raw, WHERE)
    message = str(caught.value)
    assert message.startswith("budgets.yaml:3:12: ")
    assert problem in message
    assert "\n" not in message


def test_limits_convert_to_the_figures_unit() -> None:
    memory = Figure("peak_memory", "Peak memory", "B", lambda c: 0)
    latency = Figure("latency", "Latency", "ms", lambda c: 0.0)
    assert limit_for(memory, "2MiB", WHERE).value == 2 * 2**20
    assert limit_for(memory, "1.5M", WHERE).value == 1_500_000  # a multiplier of bytes
    assert limit_for(latency, "5ms", WHERE).value == 5
    assert limit_for(latency, "0.5s", WHERE).value == 500
    assert limit_for(latency, "250us", WHERE).value == 0.25
    assert limit_for(latency, 12, WHERE).value == 12
    limit = limit_for(FIGURES["madds"], "600M", WHERE)
    assert limit == Limit("madds", 600_000_000.0, "600M", WHERE)


@pytest.mark.parametrize(
    ("figure", "raw", "problem"),
    [
        ("madds", "2MiB", "limit '2MiB' is in bytes, but madds (MAdds) is a plain number"),
        ("params", "5ms", "limit '5ms' is in seconds, but params (Params) is a plain number"),
    ],
)
def test_a_limit_in_the_wrong_unit(figure: str, raw: str, problem: str) -> None:
    with pytest.raises(SpecError, match=r"^budgets\.yaml:3:12: ") as caught:
        limit_for(FIGURES[figure], raw, WHERE)
    assert problem in str(caught.value)


def result(actual: float, limit: float, lower_is_better: bool = True) -> Result:
    figure = "madds" if lower_is_better else "accuracy"
    budget = Budget("net.yaml", {}, (), WHERE)
    return Result(budget, Limit(figure, limit, str(limit), WHERE), "net", actual)


def test_headroom_and_verdict() -> None:
    assert result(90, 100).passed
    assert result(90, 100).headroom == pytest.approx(10.0)
    assert result(100, 100).passed  # equal holds
    assert result(100, 100).headroom == 0
    assert not result(125, 100).passed
    assert result(125, 100).headroom == pytest.approx(-25.0)
    assert result(0, 0).passed
    assert result(0, 0).headroom is None


def test_a_figure_where_higher_is_better_is_a_lower_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(FIGURES, "accuracy", Figure("accuracy", "Accuracy", "", lambda c: 0, False))
    assert result(0.8, 0.75, lower_is_better=False).passed
    assert result(0.8, 0.75, lower_is_better=False).headroom == pytest.approx(100 * 0.05 / 0.75)
    assert not result(0.7, 0.75, lower_is_better=False).passed


def first_error(specs: list[str], project: str | None = None) -> str:
    """The first error of a check (each failing budget is an error of the report)."""
    report = check(specs, project)
    assert report.errors and not report.passed
    return str(report.errors[0].error)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], str]:
    """Write specs/tiny.yaml and a budgets file with the given text; returns its path."""
    write(tmp_path, "specs/tiny.yaml", TINY.format(budget=""))
    monkeypatch.chdir(tmp_path)

    def make(text: str) -> str:
        write(tmp_path, "budgets.yaml", text)
        return "budgets.yaml"

    return make


def test_project_file_globs_bundled_names_and_configurations(project: Callable[[str], str]) -> None:
    path = project(
        "budgets:\n"
        "  - spec: specs/*.yaml\n"
        "    params: 464\n"
        "    madds: 400k\n"
        "  - spec: mobilenet_v2\n"
        "    width: 0.75\n"
        "    set: {classes: 1001}\n"
        "    madds: 220M\n"
    )
    report = check([], path)
    assert [(r.model, r.limit.figure, r.actual, r.passed) for r in report.results] == [
        ("tiny", "params", TINY_PARAMS, True),
        ("tiny", "madds", TINY_MADDS, False),
        ("mobilenet_v2", "madds", analyze("mobilenet_v2", 0.75, overrides={"classes": 1001})
         .total().madds, True),
    ]  # fmt: skip
    assert [r.limit.loc.line for r in report.results] == [3, 4, 8]
    assert report.results[2].budget.config == {"width": 0.75, "set": {"classes": 1001}}
    assert report.specs[0] == "specs/tiny.yaml"
    assert not report.passed
    assert report.exceeded == [report.results[1]]


def test_paths_are_relative_to_the_budgets_file(
    project: Callable[[str], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project("budgets:\n  - {spec: specs/tiny.yaml, params: 1k}\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    report = check([], str(tmp_path / "budgets.yaml"))
    assert [r.actual for r in report.results] == [TINY_PARAMS]


def test_specs_on_the_command_line_select_the_project_entries(
    project: Callable[[str], str], tmp_path: Path
) -> None:
    write(tmp_path, "specs/other.yaml", TINY.format(budget="").replace("tiny", "other"))
    path = project(
        "budgets:\n"
        "  - {spec: specs/tiny.yaml, params: 1k}\n"
        "  - {spec: specs/other.yaml, madds: 1M}\n"
    )
    picked = collect(["specs/other.yaml"], path)
    assert [(b.spec, b.limits[0].figure) for b in picked] == [("specs/other.yaml", "madds")]
    # the same file named another way is one spec
    both = collect(
        ["specs/tiny.yaml", "./specs/tiny.yaml", str(tmp_path / "specs/other.yaml")], path
    )
    assert len(both) == 2


def test_a_spec_without_budgets_is_still_validated(
    project: Callable[[str], str], tmp_path: Path
) -> None:
    write(tmp_path, "specs/broken.yaml", "input: [3, 32, 32]\nlayers:\n  - {op: cnv}\n")
    path = project("budgets:\n  - spec: specs/*.yaml\n")
    assert re.search(r"specs/broken.yaml:3:.*unknown op 'cnv'", first_error([], path))
    report = check(["specs/tiny.yaml"], None)
    assert report.results == ()
    assert report.specs == ("specs/tiny.yaml",)
    assert report.passed


def test_budgets_in_the_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    section = "budget:\n  - {params: 1k, madds: 400k}\n  - {resolution: 16, madds: 120k}\n"
    write(tmp_path, "net.yaml", TINY.format(budget=section))
    single = TINY.format(budget="budget: {params: 1k}\n")
    write(tmp_path, "single.yaml", single)
    report = check(["net.yaml", "single.yaml"], None)
    rows = [(r.limit.figure, r.actual, r.passed, r.limit.loc.line) for r in report.results]
    assert rows == [
        ("params", TINY_PARAMS, True, 4),
        ("madds", TINY_MADDS, False, 4),
        ("madds", TINY_MADDS // 4, True, 5),
        ("params", TINY_PARAMS, True, 3),
    ]
    assert report.results[0].limit.loc.file == "net.yaml"


@pytest.mark.parametrize(
    ("text", "where", "problem"),
    [
        ("budgets:\n  - {spec: specs/tiny.yaml, mads: 1M}\n", ":2:29:",
         "unknown key 'mads' in a budget, did you mean 'madds'?"),
        ("budgets:\n  - {spec: specs/tiny.yaml, madds: 1 M B}\n", ":2:36:", "bad limit '1 M B'"),
        ("budgets:\n  - {spec: specs/*.yml, madds: 1M}\n", ":2:12:",
         "'specs/*.yml' matches no file"),
        ("budgets:\n  - {spec: mobilenet_v9, madds: 1M}\n", ":2:12:",
         "no bundled spec of that name, did you mean 'mobilenet_v2'?"),
        ("budgets:\n  - {madds: 1M}\n", ":2:5:", "a budget entry needs 'spec'"),
        ("budgets:\n  - {spec: specs/tiny.yaml, width: 0.5}\n", ":2:5:",
         "a budget with a configuration needs a limit"),
        ("budgets:\n  - {spec: specs/tiny.yaml, set: 3, params: 1k}\n", ":2:34:",
         "'set' must map spec vars to numbers or text"),
        ("budgets:\n  - {spec: specs/tiny.yaml, convention: weight, params: 1k}\n", ":2:5:",
         "unknown parameter convention 'weight'"),
        ("budgets:\n  - {spec: specs/tiny.yaml, width: [1], params: 1k}\n", ":2:36:",
         "'width' must be a number or text"),
        ("budget:\n  - {spec: specs/tiny.yaml, params: 1k}\n", ":1:1:",
         "a budgets file is a mapping with one key, 'budgets'"),
        ("budgets: []\nextra: 1\n", ":2:1:", "unknown key 'extra' in a budgets file"),
        ("budgets:\n  - {spec: specs/tiny.yaml, width: 40, params: 1k}\n", ":2:5:",
         "width multiplier must be in (0, 16], got 40 (budget for specs/tiny.yaml)"),
        ("budgets:\n  - {spec: specs/tiny.yaml\n", ":3:1:", "YAML syntax error"),
        ("budgets:\n  - {spec: specs/tiny.yaml, resolution: [0, 8], params: 1k}\n", ":2:",
         "'resolution': each side must be a whole number from 1 to 65536"),
    ],
)  # fmt: skip
def test_bad_budgets_are_located(
    project: Callable[[str], str], text: str, where: str, problem: str
) -> None:
    path = project(text)
    message = first_error([], path)
    assert message.startswith("budgets.yaml" + where), message
    assert problem in message


def test_bad_budget_in_a_spec_is_located(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "net.yaml", TINY.format(budget="budget: {params: 4.3 M, madds: 6OOM}\n"))
    assert re.match(r"net.yaml:3:32: budget.madds: bad limit '6OOM'", first_error(["net.yaml"]))
    write(tmp_path, "net.yaml", TINY.format(budget="budget: 600M\n"))
    assert re.match(r"net.yaml:3:9: .*a budget must be a mapping", first_error(["net.yaml"]))


def test_new_figures_plug_in(
    project: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A figure added to FIGURES needs no change in budgets."""
    monkeypatch.setitem(
        FIGURES, "peak_memory", Figure("peak_memory", "Peak memory", "B", lambda c: 4 * 16 * 1024)
    )
    path = project("budgets:\n  - {spec: specs/tiny.yaml, peak_memory: 64KiB}\n")
    report = check([], path)
    assert [(r.actual, r.limit.value, r.passed) for r in report.results] == [(65536, 65536, True)]


def test_project_budgets_reads_every_entry(project: Callable[[str], str]) -> None:
    path = project("budgets:\n  - {spec: specs/tiny.yaml}\n  - {spec: mobilenet_v1, madds: 600M}\n")
    entries = project_budgets(path)
    assert entries[0][0] == ["specs/tiny.yaml"]
    assert [len(b.limits) for _, b in entries] == [0, 1]
    assert entries[1][1].limits[0].value == 600_000_000
