"""Each figure's unit and display format: one formatter for tables, compare, sweep, check, plots."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import Invoke
from lightcost import analyze
from lightcost.cost.figures import (
    BYTES,
    COUNT,
    FIGURES,
    LADDERS,
    MICROSECONDS,
    MILLISECONDS,
    SECONDS,
    Figure,
    axis_scale,
    compact_text,
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
# figure -> (a representative raw value, its axis label in the unit that value picks)
AXES = {
    "params": (3_504_872, "Params (millions)"),
    "madds": (1_300_774_272, "MAdds (billions)"),
    "flops": (601_548_544, "FLOPs (millions)"),
    "other_ops": (25_000, "Other ops (thousands)"),
    "mac": (17_647_280, "MAC (elements, millions)"),
    "mac_bytes": (70_589_120, "MAC (bytes, MiB)"),
    "peak_activation": (6_021_120, "Peak activation memory (MiB)"),
    "latency": (0.00046785048741965115, "Estimated latency (µs)"),
}


def test_every_figure_is_covered() -> None:
    assert set(SHOWN) == set(FIGURES) == set(AXES)


@pytest.mark.parametrize("name", list(SHOWN))
def test_each_figure_formats_its_values(name: str) -> None:
    value, text, alone = SHOWN[name]
    assert FIGURES[name].text(value) == text
    assert FIGURES[name].text(value, symbol=True) == alone


@pytest.mark.parametrize(("name", "case"), list(AXES.items()))
def test_plot_axis_names_the_unit(name: str, case: tuple[float, str]) -> None:
    value, label = case
    assert FIGURES[name].axis_label(axis_scale(FIGURES[name].unit, value)) == label


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
    assert figure.text(0.75) == "0.75" and figure.text(0.75, compact=True) == "0.75"


def test_scales_of_latency_columns_and_axes() -> None:
    assert MILLISECONDS.text(0.0003021260770941742) == "0.302"
    assert MICROSECONDS.text(0.00014413) == "144.1"
    assert (MILLISECONDS.suffix, MICROSECONDS.suffix) == (" ms", " µs")
    for value in (0.00036908238016528924, 1e-7, 0.1 + 0.2, 3.0):
        assert MILLISECONDS.of(value) == value * 1e3  # exactly: x 1000, not / 0.001
        assert MICROSECONDS.of(value) == value * 1e6
    assert axis_scale(COUNT, 568_740_352).long == "millions"
    assert axis_scale(COUNT, 4.2e9).long == "billions"
    assert axis_scale(BYTES, 4_816_896).long == "MiB"
    assert axis_scale(SECONDS, 0.0123).long == "ms"


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (0, COUNT, "0"),
        (928, COUNT, "928"),
        (2_176, COUNT, "2.18K"),
        (16_640, COUNT, "16.6K"),
        (132_096, COUNT, "132K"),
        (999_600, COUNT, "1.00M"),  # 999.6K rounds to 1000K: the next unit
        (4_231_976, COUNT, "4.23M"),
        (568_740_352, COUNT, "569M"),
        (1_027_604_480, COUNT, "1.03G"),
        (999, BYTES, "999 B"),
        (1023, BYTES, "1.00 KiB"),  # 1023 B rounds to 1000 or more: the next unit
        (1_806_336, BYTES, "1.72 MiB"),
        (1_048_000, BYTES, "1.00 MiB"),
        (1_048_500, BYTES, "1.00 MiB"),
        (9.57e-6, SECONDS, "9.57 µs"),
        (0.000632, SECONDS, "632 µs"),
        (0.0123, SECONDS, "12.3 ms"),
        (2.5, SECONDS, "2.50 s"),
        (3e-8, SECONDS, "0.03 µs"),
    ],
)
def test_compact_values(value: float, unit: str, text: str) -> None:
    assert compact_text(value, unit) == text


def test_compact_changes_carry_their_sign() -> None:
    assert compact_text(-2_709_504, sign=True) == "-2.71M"
    assert compact_text(1_024, sign=True) == "+1.02K"
    assert compact_text(0, BYTES, sign=True) == "0"
    assert compact_text(-232) == "-232"


@pytest.mark.parametrize("unit", list(LADDERS))
def test_compact_text_is_short_and_keeps_the_order(unit: str) -> None:
    values = sorted({int(1.37**k) for k in range(80)})
    scaled = [v * 1e-9 if unit == SECONDS else v for v in values]
    texts = [compact_text(v, unit) for v in scaled]
    assert max(len(t) for t in texts) <= 8  # "16.6K", "999 KiB", "999 µs"
    ladder = [s.suffix for s in reversed(LADDERS[unit])]

    def key(text: str) -> tuple[int, float]:
        number, suffix = text.rstrip(" BKMGiµms").strip(), text[len(text.rstrip(" BKMGiµms")) :]
        rank = next((i for i, s in enumerate(ladder) if s.strip() == suffix.strip()), 0)
        return rank, float(number)

    assert [key(t) for t in texts] == sorted(key(t) for t in texts)


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
    assert "2.00M |" in text and "1.00K |" in text
    assert text.splitlines()[-1].split() == ["300", "µs", "500", "µs"]


def test_plot_file_axis_says_the_unit(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    monkeypatch.setitem(matplotlib.rcParams, "svg.fonttype", "none")  # text as text
    path = tmp_path / "front.svg"
    result = invoke(*LATENCY_FRONT, "--plot", str(path))
    assert result.exit_code == 0, result.output
    svg = path.read_text()
    assert "Estimated latency (µs)" in svg and "Params (millions)" in svg


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
