"""Each figure's unit and display format: one formatter for tables, compare, sweep, check, plots."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import Invoke
from lightcost import analyze
from lightcost.cost.figures import (
    FIGURES,
    MICROSECONDS,
    MILLIONS,
    MILLISECONDS,
    Figure,
    value_text,
)
from lightcost.render.plot import terminal_scatter

# figure -> (a representative raw value, its text, its text with symbol=True)
SHOWN = {
    "params": (3_504_872, "3,504,872", "3,504,872"),
    "madds": (300_774_272, "300,774,272", "300,774,272"),
    "flops": (601_548_544, "601,548,544", "601,548,544"),
    "other_ops": (0, "0", "0"),
    "mac": (17_647_280, "17,647,280", "17,647,280"),
    "mac_bytes": (70_589_120, "70,589,120", "70,589,120 B"),
    "peak_activation": (6_021_120, "6,021,120", "6,021,120 B"),
    "latency": (0.00046785048741965115, "0.468 ms", "0.468 ms"),
}
AXES = {
    "params": "Params (millions)",
    "madds": "MAdds (millions)",
    "flops": "FLOPs (millions)",
    "other_ops": "Other ops (millions)",
    "mac": "MAC (elements) (millions)",
    "mac_bytes": "MAC (bytes) (millions)",
    "peak_activation": "Peak activation memory (millions)",
    "latency": "Estimated latency (ms)",
}


def test_every_figure_is_covered() -> None:
    assert set(SHOWN) == set(FIGURES) == set(AXES)


@pytest.mark.parametrize("name", list(SHOWN))
def test_each_figure_formats_its_values(name: str) -> None:
    value, text, alone = SHOWN[name]
    assert FIGURES[name].text(value) == text
    assert FIGURES[name].text(value, symbol=True) == alone


@pytest.mark.parametrize(("name", "label"), list(AXES.items()))
def test_plot_axis_names_the_unit(name: str, label: str) -> None:
    assert FIGURES[name].axis_label == label


def test_units_of_the_raw_values() -> None:
    units = {name: figure.unit for name, figure in FIGURES.items()}
    assert units == {name: "" for name in units} | {
        "mac_bytes": "B",
        "peak_activation": "B",
        "latency": "s",
    }


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.0, "0.000 ms"),
        (5e-6, "0.005 ms"),
        (0.0003021260770941742, "0.302 ms"),
        (0.0123456, "12.346 ms"),
        (1.5, "1,500.000 ms"),
    ],
)
def test_latency_is_always_milliseconds_with_three_decimals(seconds: float, text: str) -> None:
    assert FIGURES["latency"].text(seconds) == text


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (1024, "", "+1,024"),
        (-3, "B", "-3"),
        (0, "", "0"),
        (0.0, "s", "0"),
        (1.2e-5, "s", "+0.012 ms"),
        (-0.25, "", "-0.25"),
    ],
)
def test_changes_carry_their_sign(value: float, unit: str, text: str) -> None:
    assert value_text(value, unit, sign=True) == text


def test_fractions_and_other_units() -> None:
    assert value_text(3.0) == "3"  # a whole number shown as one
    assert value_text(0.8) == "0.8"  # four significant digits
    assert value_text(2 / 3) == "0.6667"
    assert value_text(12, "ms", symbol=True) == "12 ms"  # a figure in another unit
    figure = Figure("accuracy", "Accuracy", "", lambda c: 0.0, lower_is_better=False)
    assert figure.text(0.75) == "0.75" and figure.scale is MILLIONS


def test_scales_of_tables_grids_and_axes() -> None:
    assert MILLIONS.text(568_740_352) == "568.7"
    assert MILLISECONDS.text(0.0003021260770941742) == "0.302"
    assert MICROSECONDS.text(0.00014413) == "144.1"
    assert (MILLIONS.short, MILLISECONDS.short, MICROSECONDS.short) == ("M", "ms", "µs")
    assert FIGURES["latency"].scale is MILLISECONDS and FIGURES["madds"].scale is MILLIONS
    for value in (0.00036908238016528924, 1e-7, 0.1 + 0.2, 3.0):
        assert MILLISECONDS.of(value) == value * 1e3  # exactly: x 1000, not / 0.001
        assert MICROSECONDS.of(value) == value * 1e6
        assert MILLIONS.of(value * 1e9) == value * 1e9 / 1e6


SWEEP = ["sweep", "mobilenet_v2", "-w", "0.5,1.0", "-r", "128,224", "--no-progress"]
LATENCY_FRONT = [*SWEEP, "--front", "latency:min,params", "--device", "gtx1080ti"]


def test_sweep_front_shows_latency_in_ms(invoke: Invoke) -> None:
    result = invoke(*LATENCY_FRONT)
    assert result.exit_code == 0, result.output
    seconds = analyze("mobilenet_v2", 0.5, 128, device="gtx1080ti").total().latency
    assert seconds is not None
    row = next(line for line in result.stdout.splitlines() if line.startswith("│ 0.5 "))
    assert f" {FIGURES['latency'].text(seconds)} │" in row
    assert "0.000" not in row  # not raw seconds


def test_terminal_plot_ticks_use_the_figure_format() -> None:
    rows = [{"latency": s, "params": p} for s, p in [(0.0003, 1_000), (0.0005, 2_000_000)]]
    text = terminal_scatter(rows, rows[:1], "latency", "params", width=30, height=3)
    assert "2,000,000 |" in text and "1,000 |" in text
    assert text.splitlines()[-1].split() == ["0.300", "ms", "0.500", "ms"]


def test_plot_file_axis_says_the_unit(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    monkeypatch.setitem(matplotlib.rcParams, "svg.fonttype", "none")  # text as text
    path = tmp_path / "front.svg"
    result = invoke(*LATENCY_FRONT, "--plot", str(path))
    assert result.exit_code == 0, result.output
    svg = path.read_text()
    assert "Estimated latency (ms)" in svg and "Params (millions)" in svg


def test_check_shows_latency_in_ms(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    budget = "budgets:\n  - {spec: mobilenet_v1, device: gtx1080ti, latency: 1ms}\n"
    (tmp_path / "budgets.yaml").write_text(budget, encoding="utf-8")
    seconds = analyze("mobilenet_v1", device="gtx1080ti").total().latency
    assert seconds is not None
    result = invoke("check")
    assert result.exit_code == 0, result.output
    assert f" {FIGURES['latency'].text(seconds)} │" in result.stdout
