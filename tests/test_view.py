"""``lightcost view``: the layered drawing, the escaping, the limit, and the page in Chromium."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from itertools import pairwise
from pathlib import Path

import numpy
import pytest

import lightcost
from conftest import Invoke
from lightcost.render import layout as layout_module
from lightcost.render import view
from lightcost.render.layout import layout

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
EVIL = "</script><script>document.title='pwned'</script><!--&amp;"
SPEC = f"""lightcost: 1
name: {json.dumps(EVIL)}
input: [3, 32, 32]
layers:
  - {{name: c1, op: conv, k: 3, out: 8}}
  - {{name: r, op: conv, k: 1, out: 8}}
  - {{name: sum, op: add, from: [c1, r]}}
"""


@pytest.mark.parametrize("name", ["shufflenet_v2", "mobilenet_v3_small", "resnet50", "xception"])
def test_layout_draws_every_edge_downwards_and_keeps_nodes_apart(name: str) -> None:
    graph = lightcost.build(name)
    drawing = layout(graph)
    assert len(drawing.x) == len(graph.nodes) + 1
    for u, v, bends in drawing.edges:
        assert drawing.layer[u] < drawing.layer[v]
        # a long edge bends once in every layer it crosses
        assert [depth for _, depth in bends] == list(range(drawing.layer[u] + 1, drawing.layer[v]))
    rows: dict[int, list[float]] = {}
    for x, depth in zip(drawing.x, drawing.layer, strict=True):
        rows.setdefault(depth, []).append(x)
    for xs in rows.values():
        xs.sort()
        assert all(b - a >= 1 - 1e-9 for a, b in pairwise(xs))


def test_branches_are_drawn_side_by_side() -> None:
    """ShuffleNetV2's down-sampling unit: its two branches share layers; its residual-free
    units route the untouched half beside the convolutions."""
    drawing = layout(lightcost.build("shufflenet_v2"))
    assert max(drawing.x) - min(drawing.x) >= 1
    assert any(bends for _, _, bends in drawing.edges)


def test_edges_from_one_source_share_their_bends() -> None:
    """DenseNet reads each tensor from many later layers: one column per source, not per edge."""
    pytest.importorskip("onnx")
    drawing = layout(
        lightcost.build(str(Path(__file__).parent / "onnx_corpus" / "densenet121.onnx"))
    )
    low, high = drawing.columns
    assert high - low < 40  # 212,359 px wide before the bends were shared


def test_too_many_bends_are_drawn_straight(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(layout_module, "MAX_BENDS", 10)
    drawing = layout(lightcost.build("shufflenet_v2"))
    assert not any(bends for _, _, bends in drawing.edges)


def test_page_escapes_text_from_the_spec(tmp_path: Path, invoke: Invoke) -> None:
    spec = tmp_path / "evil.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    page = tmp_path / "evil.html"
    result = invoke("view", str(spec), "-o", str(page))
    assert result.exit_code == 0, result.output
    html = page.read_text(encoding="utf-8")
    assert html.count("<script") == 3 and html.count("</script>") == 3  # the page's own
    assert "pwned&#x27;&lt;/script" in html and "<!--" not in html
    data = re.search(r'id="lc-data">(.*?)</script>', html, re.S)
    assert data is not None and "<" not in data.group(1)
    assert len(json.loads(data.group(1))["layers"]) == 3


def test_page_is_self_contained(tmp_path: Path, invoke: Invoke) -> None:
    page = tmp_path / "m.html"
    assert invoke("view", "mobilenet_v2", "-o", str(page)).exit_code == 0
    html = page.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert "@import" not in html and "<link" not in html
    assert html.count('<g class="n"') == len(lightcost.build("mobilenet_v2").nodes) + 1


def test_by_latency_needs_a_device(tmp_path: Path, invoke: Invoke) -> None:
    page = tmp_path / "m.html"
    result = invoke("view", "mobilenet_v1", "--by", "latency", "-o", str(page))
    assert result.exit_code == 2 and "--by latency needs --device" in result.output
    result = invoke(
        "view", "mobilenet_v1", "--by", "latency", "--device", "gtx1080ti", "-o", str(page)
    )
    assert result.exit_code == 0 and "Latency µs" in page.read_text(encoding="utf-8")


def test_too_many_layers_is_one_clean_error(
    tmp_path: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(view, "MAX_VIEW_LAYERS", 10)
    page = tmp_path / "m.html"
    result = invoke("view", "mobilenet_v1", "-o", str(page))
    assert result.exit_code == 2
    assert "30 layers, more than the 10 the graph view draws" in result.stderr
    assert not page.exists()


def test_view_of_an_onnx_file(tmp_path: Path, invoke: Invoke) -> None:
    pytest.importorskip("onnx")
    model = Path(__file__).parent / "onnx_corpus" / "googlenet.onnx"
    page = tmp_path / "g.html"
    result = invoke("view", str(model), "-o", str(page))
    assert result.exit_code == 0, result.output
    assert "<svg" in page.read_text(encoding="utf-8")


@pytest.fixture
def browser() -> None:
    """Skip without Chromium, unless LIGHTCOST_REQUIRE_BROWSER is set (.ci/run sets it)."""
    if CHROMIUM is None:
        if os.environ.get("LIGHTCOST_REQUIRE_BROWSER"):
            pytest.fail("chromium is not installed, and LIGHTCOST_REQUIRE_BROWSER is set")
        pytest.skip("chromium is not installed (.ci/run installs it: apt-get install chromium)")


def chromium(*args: str) -> str:
    """Run headless Chromium (as root it needs --no-sandbox) and return its standard output."""
    assert CHROMIUM is not None
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    done = subprocess.run(
        [CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=180, check=True
    )
    return done.stdout


@pytest.mark.usefixtures("browser")
@pytest.mark.parametrize("spec", ["shufflenet_v2", "evil"])
def test_page_runs_in_chromium_without_errors(spec: str, tmp_path: Path, invoke: Invoke) -> None:
    """The page's script ran to its end (``data-ready``) and window.onerror recorded nothing."""
    if spec == "evil":
        spec = str(tmp_path / "evil.yaml")
        Path(spec).write_text(SPEC, encoding="utf-8")
    page = tmp_path / "page.html"
    assert invoke("view", spec, "-o", str(page), "--device", "gtx1080ti").exit_code == 0
    dom = chromium("--virtual-time-budget=5000", "--dump-dom", page.as_uri())
    root = re.search(r"<html[^>]*>", dom)
    assert root is not None and 'data-ready="1"' in root.group(0), dom[:500]
    assert "data-errors" not in root.group(0)
    assert "pwned" not in dom.split("<body", 1)[0].split("<title>", 1)[0]  # the title is text


@pytest.mark.usefixtures("browser")
def test_screenshot_shows_the_graph(tmp_path: Path, invoke: Invoke) -> None:
    image = pytest.importorskip("PIL.Image")
    page, shot = tmp_path / "page.html", tmp_path / "page.png"
    assert invoke("view", "shufflenet_v2", "-o", str(page)).exit_code == 0
    chromium("--window-size=1000,800", f"--screenshot={shot}", page.as_uri())
    pixels = numpy.asarray(image.open(shot).convert("RGB"), dtype=int)
    graph = pixels[130:800, 0:700]  # below the header, left of the details
    inked = (graph.sum(axis=2) < 3 * 235).mean()  # not white: boxes, text and edges
    assert inked > 0.05


PROBE = """<script>
var head = document.querySelectorAll("#lc-table th")[6];  // MAdds
head.click();
head.click();  // largest first
var root = document.documentElement;
var first = document.querySelector("#lc-table tbody tr").cells[1].textContent;
root.setAttribute("data-first", first + "/" + head.getAttribute("data-order"));
document.querySelector('#lc-graph g.n[data-i="3"]').dispatchEvent(new MouseEvent("mouseenter"));
var hot = document.querySelector("#lc-table tr.hot").cells[1].textContent;
root.setAttribute("data-hover", document.getElementById("lc-which").textContent + hot);
</script></body>"""


@pytest.mark.usefixtures("browser")
def test_table_sorts_and_hover_marks_the_row(tmp_path: Path, invoke: Invoke) -> None:
    page = tmp_path / "page.html"
    assert invoke("view", "mobilenet_v1", "-o", str(page)).exit_code == 0
    page.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE), encoding="utf-8")
    root = re.search(r"<html[^>]*>", chromium("--dump-dom", page.as_uri()))
    assert root is not None
    records = lightcost.analyze("mobilenet_v1").to_records()
    heaviest = max(records, key=lambda r: r["madds"])["name"]
    assert f'data-first="{heaviest}/down"' in root.group(0)
    assert f'data-hover="(layer 4){records[3]["name"]}"' in root.group(0)
    assert "data-errors" not in root.group(0)
