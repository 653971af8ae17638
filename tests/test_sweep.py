"""The vectorized sweep equals the scalar path exactly; Pareto fronts; plots; the CLI."""

from __future__ import annotations

import csv
import json
import random
import struct
from pathlib import Path
from typing import Any

import pytest

import lightcost.analysis.sweep as sweep_module
from conftest import Invoke
from lightcost import analyze
from lightcost.analysis.sweep import pareto, parse_range, recorded, sweep
from lightcost.api import Config
from lightcost.cost.figures import FIGURES
from lightcost.render.plot import terminal_scatter
from lightcost.spec.expand import variants
from lightcost.spec.files import bundled_names, read_spec

SPECS = [
    (name, variant or None)
    for name in bundled_names()
    for variant in list(variants(read_spec(name)[0]))[:2] or [""]
]


class PathSpy:
    """Records which path of :func:`sweep` costed each configuration.

    ``stacked_figures`` is the vectorized pass (one call per group of widths, every
    resolution at once); ``scalar_figures`` is called once per configuration of the
    scalar fallback. Both are looked up as module globals by ``sweep``, so replacing
    them on the module observes the path without changing the library.
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch, allow_scalar: bool) -> None:
        self.vectorized = 0  # configurations costed by stacked_figures
        self.scalar = 0  # configurations costed by scalar_figures
        self.allow_scalar = allow_scalar
        real_stacked, real_scalar = sweep_module.stacked_figures, sweep_module.scalar_figures

        def stacked(graphs: Any, resolutions: Any, *args: Any) -> Any:
            figures = real_stacked(graphs, resolutions, *args)
            self.vectorized += len(graphs) * len(resolutions)
            return figures

        def scalar(*args: Any) -> Any:
            assert self.allow_scalar, "a configuration fell back to the scalar path"
            self.scalar += 1
            return real_scalar(*args)

        monkeypatch.setattr(sweep_module, "stacked_figures", stacked)
        monkeypatch.setattr(sweep_module, "scalar_figures", scalar)


@pytest.mark.parametrize(("spec", "variant"), SPECS)
def test_vectorized_equals_scalar(
    spec: str, variant: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(f"{spec}{variant}")
    widths = sorted(rng.sample([0.25, 0.35, 0.5, 0.6, 0.75, 0.9, 1.0, 1.3, 1.4, 2.0], 3))
    resolutions = sorted(rng.sample(range(64, 336, 8), 4))
    spy = PathSpy(monkeypatch, allow_scalar=False)  # no bundled spec reads the resolution
    result = sweep(spec, widths, resolutions, Config(variant=variant))
    assert result.count == len(widths) * len(resolutions)
    # every configuration went through the vectorized pass (none fell back)
    assert (spy.vectorized, spy.scalar) == (result.count, 0)
    rows = {(r["width"], r["resolution"]): r for r in result.rows}
    errors = {(w, r) for w, r, _ in result.errors}
    for width in widths:
        for res in resolutions:
            if (width, res) in errors:
                continue
            cost = analyze(spec, width=width, resolution=res, variant=variant)
            expected = {name: FIGURES[name].get(cost) for name in result.figures}
            got = {name: rows[(width, res)][name] for name in result.figures}
            assert got == expected, (spec, variant, width, res)


# A spec whose layer reads the resolution (``res``) cannot be stacked: sweep costs it one
# configuration at a time (lightcost/analysis/sweep.py module docstring).
RESOLUTION_DEPENDENT = """
name: reads_res
input: [3, 224, 224]
layers:
  - {name: stem, op: conv, k: 3, stride: 2, out: 16}
  - {name: body, op: conv, k: 3, stride: "2 if res >= 192 else 1", out: 32}
  - {name: pool, op: avgpool, global: true}
  - {name: fc, op: fc, out: 10}
"""


def test_resolution_dependent_spec_takes_the_scalar_path(monkeypatch: pytest.MonkeyPatch) -> None:
    spy = PathSpy(monkeypatch, allow_scalar=True)
    widths, resolutions = [0.5, 1.0], [160, 224]
    result = sweep("reads_res.yaml", widths, resolutions, text=RESOLUTION_DEPENDENT)
    assert (spy.vectorized, spy.scalar) == (0, 4)
    for row in result.rows:
        cost = analyze(
            "reads_res.yaml",
            text=RESOLUTION_DEPENDENT,
            width=row["width"],
            resolution=row["resolution"],
        )
        assert row["madds"] == cost.total().madds
    # By hand at width 1: stem 3*3*3*16 = 432 weights, body 3*3*16*32 = 4608, fc 32*10 = 320.
    # 224: stem 112x112, body stride 2 -> 56x56; 160: stem 80x80, body stride 1 -> 80x80.
    madds = {(r["width"], r["resolution"]): r["madds"] for r in result.rows}
    assert madds[(1.0, 224)] == 432 * 112 * 112 + 4608 * 56 * 56 + 320 == 19_870_016
    assert madds[(1.0, 160)] == 432 * 80 * 80 + 4608 * 80 * 80 + 320 == 32_256_320


def test_invalid_configurations_are_reported_not_raised() -> None:
    # Xception's stem convs are VALID-padded: at 4x4 the map shrinks to zero (3x3 s2, then 3x3).
    result = sweep("xception", [1.0], [4, 299])
    assert [r["resolution"] for r in result.rows] == [299]
    assert len(result.errors) == 1
    width, res, message = result.errors[0]
    assert (width, res) == (1.0, 4)
    assert "reaches 0" in message


@pytest.mark.parametrize(
    ("text", "integer", "expected"),
    [
        ("0.25:1.0:0.25", False, [0.25, 0.5, 0.75, 1.0]),
        ("96:160:32", True, [96, 128, 160]),
        ("1,0.75", False, [1.0, 0.75]),
        ("224", True, [224]),
        ("0.25:2.0:0.05", False, [round(0.25 + 0.05 * i, 10) for i in range(36)]),
    ],
)
def test_parse_range(text: str, integer: bool, expected: list[float]) -> None:
    assert parse_range(text, integer) == expected


@pytest.mark.parametrize("text", ["1:2", "2:1:0.5", "1:2:0", "a,b"])
def test_parse_range_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="start:stop:step"):
        parse_range(text)


def test_pareto_front() -> None:
    rows = [
        {"madds": 10, "params": 5},
        {"madds": 20, "params": 4},  # dominated: more MAdds, fewer params than the first
        {"madds": 30, "params": 9},
        {"madds": 5, "params": 1},
        {"madds": 30, "params": 8},  # dominated by (30, 9)
    ]
    front = pareto(rows, "madds", "params")
    assert [(r["madds"], r["params"]) for r in front] == [(5, 1), (10, 5), (30, 9)]
    low = pareto(rows, "madds", "params", y_max=False)
    assert [(r["madds"], r["params"]) for r in low] == [(5, 1)]


def test_cli_sweep_writes_every_configuration(invoke: Invoke, tmp_path: Path) -> None:
    out = tmp_path / "grid.csv"
    result = invoke(
        "sweep", "mobilenet_v1", "--width", "0.25:1.0:0.25", "--res", "128:224:32", "-o", str(out)
    )
    assert result.exit_code == 0, result.output
    assert "16 configurations (0 invalid)" in result.stdout
    assert "Pareto front" in result.stdout
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 16
    full = analyze("mobilenet_v1", width=0.75, resolution=160).total()
    row = next(r for r in rows if float(r["width"]) == 0.75 and r["resolution"] == "160")
    assert int(row["madds"]) == full.madds
    assert int(row["params"]) == full.params
    as_json = tmp_path / "grid.json"
    invoke("sweep", "mobilenet_v1", "-w", "0.5,1.0", "-r", "224", "-o", str(as_json))
    assert len(json.loads(as_json.read_text())["configurations"]) == 2


def test_terminal_plot(invoke: Invoke) -> None:
    result = invoke("sweep", "mobilenet_v1", "-w", "0.25:1.0:0.25", "-r", "128:224:32", "--plot")
    assert "* = Pareto front" in result.stdout
    rows = [{"madds": m, "params": p} for m, p in [(1, 1), (2, 3), (3, 2)]]
    text = terminal_scatter(rows, rows[:2], "madds", "params", width=10, height=4)
    assert text.count("*") == 2 + 1  # two front points and the legend's star
    assert "." in text


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (after the 8-byte signature)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_plot_file_is_a_valid_image(invoke: Invoke, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    path = tmp_path / "front.png"
    result = invoke(
        "sweep", "mobilenet_v2", "-w", "0.5:1.4:0.1", "-r", "128:224:32", "--plot", str(path)
    )
    assert result.exit_code == 0, result.output
    assert png_size(path) == (1200, 750)  # the default --size, at any --dpi
    sized = tmp_path / "small.png"
    small = ["--plot", str(sized), "--size", "640x400", "--dpi", "80", "--log", "none"]
    result = invoke("sweep", "mobilenet_v2", "-w", "0.5,1.0", "-r", "160,224", *small)
    assert result.exit_code == 0, result.output
    assert png_size(sized) == (640, 400)
    svg = tmp_path / "front.svg"
    invoke("sweep", "mobilenet_v2", "-w", "0.5,1.0", "-r", "160,224", "--plot", str(svg))
    assert svg.read_text().lstrip().startswith(("<?xml", "<svg"))


def test_front_option_errors(invoke: Invoke) -> None:
    assert invoke("sweep", "mobilenet_v1", "--front", "madds").exit_code == 2
    assert invoke("sweep", "mobilenet_v1", "--front", "madds,speed").exit_code == 2


def test_sweep_honours_execution_dtype_and_device() -> None:
    config = Config(execution="unfused", dtype="fp16", device="gtx1080ti")
    result = sweep("mobilenet_v2", [0.5, 1.0], [160, 224], config)
    assert set(recorded(config)) == set(result.figures)
    assert "latency" in result.figures and "latency" not in recorded(Config())
    for row in result.rows:
        cost = config._replace(width=row["width"], resolution=row["resolution"]).analyze(
            "mobilenet_v2"
        )
        assert row["mac_bytes"] == FIGURES["mac_bytes"].get(cost)
        assert row["peak_activation"] == FIGURES["peak_activation"].get(cost)
        assert row["latency"] == pytest.approx(FIGURES["latency"].get(cost), rel=1e-12)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "nosuch=1"], "no var 'nosuch'"),
        (["--variant", "bogus"], "unknown variant"),
        (["--width", "20"], "must give values in (0, 16]"),
        (["--width", "nan"], "must give values in (0, 16]"),
        (["-o", "/nonexistent/dir/x.csv"], "does not exist"),
        (["--plot", "front.bmpx"], "a plot file ends with"),
        (["--front", "latency,params"], "latency needs --device"),
    ],
)
def test_sweep_rejects_bad_input_with_exit_2(invoke: Invoke, args: list[str], message: str) -> None:
    result = invoke("sweep", "shufflenet_v2", "-w", "1.0", "-r", "224", *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr


def test_sweep_with_nothing_valid_exits_2(invoke: Invoke) -> None:
    result = invoke("sweep", "xception", "-w", "1.0", "-r", "2,4")
    assert result.exit_code == 2
    assert "no valid configuration" in result.stderr
    assert "reaches 0" in result.stderr


def test_default_front_mixes_widths_and_resolutions() -> None:
    """The default front (most MAdds for the least MAC) is a real trade-off: a params front
    always picks the smallest resolution, params not depending on it."""
    from lightcost.analysis.sweep import DEVICE_FRONT, FRONT, default_front

    result = sweep("mobilenet_v2", [0.5, 0.75, 1.0, 1.4], [96, 128, 160, 192, 224])
    assert FRONT == "mac:min,madds:max" and default_front(Config()) == FRONT
    assert default_front(Config(device="gtx1080ti")) == DEVICE_FRONT
    front = pareto(result.rows, "mac", "madds", x_max=False, y_max=True)
    assert len({r["width"] for r in front}) > 1 and len({r["resolution"] for r in front}) > 1
    degenerate = pareto(result.rows, "madds", "params", x_max=False, y_max=True)
    assert {r["resolution"] for r in degenerate} == {96}
