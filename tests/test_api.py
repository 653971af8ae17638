"""The Python API as a user meets it: types for mypy, records, DataFrame, repr, exports."""

from __future__ import annotations

import json
import pydoc
import subprocess
import sys
from pathlib import Path

import pytest

import lightcost
from conftest import Invoke

PACKAGE = Path(lightcost.__file__).parent
USER_FILE = """\
import lightcost

cost = lightcost.analyze("mobilenet_v1", width=0.5)
reveal_type(cost)
reveal_type(cost.total().madds)
reveal_type(cost.layers[0].latency)
reveal_type(cost.to_records())
reveal_type(lightcost.diff(cost, cost))
reveal_type(lightcost.sweep("mobilenet_v1", [0.5], [128]).rows)
"""


def test_mypy_strict_sees_the_real_types(tmp_path: Path) -> None:
    """With ``py.typed`` shipped, a user's ``mypy --strict`` reads lightcost's own types."""
    assert (PACKAGE / "py.typed").is_file()
    (tmp_path / "user.py").write_text(USER_FILE, encoding="utf-8")
    cache = str(tmp_path / "cache")
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", cache, "user.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    revealed = [line.split("Revealed type is ")[1] for line in done.stdout.splitlines()[:-1]]
    assert revealed == [
        '"lightcost.cost.engine.ModelCost"',
        '"int"',
        '"float | None"',
        '"list[dict[str, Any]]"',
        '"lightcost.analysis.diff.CostDiff"',
        '"lightcost.analysis.rows.Rows"',
    ]


def test_records_have_the_json_keys(invoke: Invoke) -> None:
    cost = lightcost.analyze("mobilenet_v2", device="gtx1080ti")
    document = json.loads(
        invoke("table", "mobilenet_v2", "--device", "gtx1080ti", "-f", "json").stdout
    )
    records = cost.to_records()
    assert records == document["layers"]
    assert all(type(record) is dict for record in records)
    assert records[0]["latency"] == cost.layers[0].latency  # one name for the figure


def test_dataframe_has_one_row_per_layer() -> None:
    pandas = pytest.importorskip("pandas")
    cost = lightcost.analyze("shufflenet_v2")
    frame = cost.to_dataframe()
    assert isinstance(frame, pandas.DataFrame)
    assert list(frame.columns) == list(cost.to_records()[0])
    assert len(frame) == len(cost.layers)
    assert frame["madds"].sum() == cost.total().madds


def test_dataframe_without_pandas_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # as if not installed: import fails
    with pytest.raises(ImportError, match="needs pandas: pip install pandas"):
        lightcost.analyze("mobilenet_v1").to_dataframe()


def test_repr_and_notebook_html() -> None:
    cost = lightcost.analyze("mobilenet_v1", width=0.75, resolution=160)
    text = repr(cost)
    assert text.startswith("<ModelCost mobilenet_v1 width 0.75 input 3x160x160: 30 layers, ")
    assert "2,585,560 params (trainable)" in text and "MAC (fused, fp32)>" in text
    timed = repr(lightcost.analyze("mobilenet_v1", device="gtx1080ti"))
    assert timed.endswith(" ms>")
    html = cost._repr_html_()
    assert html.count("<tr>") == len(cost.by_type()) + 2  # head, types, total
    assert "&lt;ModelCost" in html


def test_repr_html_escapes_names() -> None:
    spec = (
        "lightcost: 1\nname: '<b>x</b>'\ninput: [3, 8, 8]\nlayers:\n  - {op: conv, k: 1, out: 4}\n"
    )
    html = lightcost.analyze("evil.yaml", text=spec)._repr_html_()
    assert "<b>" not in html and "&lt;b&gt;" in html


def test_exports_are_lazy_and_typed() -> None:
    for name in ("sweep", "check", "diff", "lint"):
        assert name in lightcost.__all__ and callable(getattr(lightcost, name))
    done = subprocess.run(
        [sys.executable, "-c", "import lightcost, sys; print(len(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    )
    bare = subprocess.run(
        [sys.executable, "-c", "import sys; print(len(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert int(done.stdout) - int(bare.stdout) <= 2  # lightcost itself, nothing it exports


def test_help_shows_real_types_and_units() -> None:
    text = pydoc.render_doc(lightcost.LayerCost)
    assert "ForwardRef" not in text
    assert "name: str" in text and "latency: float | None" in text
    assert "seconds" in text and "bytes" in text
    assert "ForwardRef" not in pydoc.render_doc(lightcost.Summary)
    assert (
        "width: float | None = None, resolution: int | tuple[int, int] | None"
        in pydoc.render_doc(lightcost.Config)
    )
