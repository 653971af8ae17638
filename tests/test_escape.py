"""Every output escapes file-controlled text for its format (lightcost/render/escape.py).

The findings of the hostile-input audit, each as a small spec through the CLI,
then a property: random hostile names (control and bidi characters, ``::``,
newlines, Markdown and HTML metacharacters, formula starts) as the model name,
variant, var value and file name of a spec, through every format of ``table``,
``check``, ``diff``, ``lint`` and ``compare`` (and the ``models`` renderers),
keep each format's invariant.
"""

from __future__ import annotations

import csv
import glob
import io
import json
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Invoke
from lightcost import analyze
from lightcost.cli.main import cli
from lightcost.cost.engine import ModelCost
from lightcost.render.escape import (
    NAME_LIMIT,
    Markup,
    clip,
    csv_cell,
    github_data,
    github_property,
    markdown,
    mathtext,
    terminal,
)
from lightcost.render.models import Entry, models_json, models_text
from lightcost.render.table import render_table
from lightcost.spec.expand import MAX_NAME

# What a terminal, a log viewer or an editor acts on: C0 (newline and CR included: an output
# line is split on "\n" only), DEL, C1, the bidi controls and the Unicode line separators.
RAW_CONTROL = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]"
)
MARKDOWN_SYNTAX = "|`*_~#$[]()!<>"


def spec_yaml(name: str, budget: str = "params: 1M") -> str:
    """A small valid spec named ``name`` (written with YAML escapes), with a budget."""
    return (
        f"name: {yaml_string(name)}\ninput: [3, 8, 8]\nbudget: {{{budget}}}\n"
        "layers:\n  - {op: conv, k: 3, out: 8}\n  - {op: relu}\n"
    )


def yaml_string(text: str) -> str:
    """``text`` as a YAML double-quoted scalar: printable ASCII as is, the rest as escapes."""
    return '"' + "".join(
        c if " " <= c <= "~" and c not in '"\\' else f"\\u{ord(c):04x}" if ord(c) < 0x10000
        else f"\\U{ord(c):08x}"
        for c in text
    ) + '"'  # fmt: skip


def write(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def raw_controls(text: str) -> list[str]:
    """Characters a terminal acts on, in any line of ``text``."""
    return [m for line in text.split("\n") for m in RAW_CONTROL.findall(line)]


# -- the functions --------------------------------------------------------------------------


def test_terminal_shows_controls_and_bidi_escaped() -> None:
    assert terminal("a\x1b[31m\n\x00\x7f\x9b\u202e\u2066\u200f\u061c\u2028b") == (
        "a\\x1b[31m\\n\\x00\\x7f\\x9b\\u202e\\u2066\\u200f\\u061c\\u2028b"
    )
    assert terminal("mobilenet_v2 µs 中 😀") == "mobilenet_v2 µs 中 😀"


def test_clip_cuts_with_an_ellipsis() -> None:
    assert clip("x" * NAME_LIMIT) == "x" * NAME_LIMIT
    assert clip("x" * (NAME_LIMIT + 1)) == "x" * (NAME_LIMIT - 1) + "…"
    assert len(clip("n" * 2**20)) == NAME_LIMIT


def test_github_escaping_follows_the_toolkit() -> None:
    assert github_data("50%\r\nx: a, b") == "50%25\\r\\nx: a, b"
    assert github_property("50%: a, b") == "50%25%3A a%2C b"


def test_markdown_neutralises_every_metacharacter() -> None:
    assert markdown("a|b\\c`d*e_f~g#h$i[j]k(l)m!n<o>p&q\nr") == (
        "a\\|b\\\\c\\`d\\*e\\_f\\~g\\#h\\$i\\[j\\]k\\(l\\)m\\!n&lt;o&gt;p&amp;q\\\\nr"
    )
    assert markdown(Markup(":x: **exceeded**")) == ":x: **exceeded**"


def test_csv_cell_guards_text_formulas_but_not_numbers() -> None:
    for text in ("=1+1", "+1", "-1", "@SUM(A1)"):
        assert csv_cell(text) == "'" + text
    assert csv_cell("\tx") == "'\\tx" and csv_cell("a\rb\n") == "a\\rb\\n"
    assert csv_cell("conv_1") == "conv_1"
    assert csv_cell(-5) == -5 and csv_cell(-0.5) == -0.5


def test_mathtext_escapes_dollars() -> None:
    assert mathtext("a$\\foo$") == "a\\$\\foo\\$"


# -- the findings, through the CLI ----------------------------------------------------------


def test_github_stdout_holds_only_workflow_commands(invoke: Invoke, tmp_path: Path) -> None:
    name = "x\n::warning file=README.md,line=1::INJECTED\n::add-mask::x"
    passing = write(tmp_path, "ok.yaml", spec_yaml(name))
    result = invoke("check", passing, "--format", "github")
    assert result.exit_code == 0
    assert result.stdout == ""  # every budget holds: no command, nothing else
    assert not [line for line in result.stderr.splitlines() if line.lstrip().startswith("::")]
    assert "ok: Params of x\\n::warning file=README.md" in result.stderr
    failing = write(tmp_path, "over.yaml", spec_yaml(name, "params: 1"))
    result = invoke("check", failing, "--format", "github")
    assert result.exit_code == 1
    (line,) = result.stdout.splitlines()
    assert line.startswith("::error file=")
    assert "title=Budget exceeded%3A x\\n%3A%3Awarning file=README.md%2Cline=1" in line
    assert "::Params of x\\n::warning file=README.md,line=1::INJECTED\\n::add-mask::x " in line


def test_markdown_check_and_diff_keep_their_structure(invoke: Invoke, tmp_path: Path) -> None:
    name = "x\n\n# INJECTED ![img](https://evil.example/p.png)"
    path = write(tmp_path, "net.yaml", spec_yaml(name))
    escaped = "x\\\\n\\\\n\\# INJECTED \\!\\[img\\]\\(https://evil.example/p.png\\)"
    check = invoke("check", path, "--format", "markdown").stdout.splitlines()
    assert len(check) == 5 and check[1] == ""
    assert check[4].startswith(f"| :white_check_mark: ok | {escaped} | defaults |")
    diff = invoke("diff", path, "--format", "markdown").stdout
    assert f"- old: {escaped}  width 1" in diff
    table = invoke("table", path, "--format", "markdown").stdout
    assert table.startswith(f"**{escaped}  width 1  input 3x8x8**\n")
    for text in (check, diff, table):
        assert "![img]" not in text and "\n# " not in text


def test_table_markdown_escapes_layer_cells() -> None:
    cost = renamed(analyze("mobilenet_v1"), "a|b<i>*c*</i>")
    lines = render_table(cost, "markdown").splitlines()
    rows = [line for line in lines if line.startswith("| a")]
    assert rows and rows[0].startswith("| a\\|b&lt;i&gt;\\*c\\*&lt;/i&gt; | conv 3x3 s2 relu6 |")
    assert all(unescaped(row, "|") == 8 for row in rows)


def test_junit_is_well_formed_with_control_characters(invoke: Invoke, tmp_path: Path) -> None:
    path = write(tmp_path, "net.yaml", spec_yaml("x\x1b[31m\x00y\ufffe", "params: 1"))
    result = invoke("check", path, "--format", "junit")
    assert result.exit_code == 1
    case = ElementTree.fromstring(result.stdout.encode()).find("testsuite/testcase")
    assert case is not None
    assert case.get("classname") == "lightcost.x\\x1b[31m\\x00y\\ufffe"


def test_table_shows_terminal_sequences_and_bidi_escaped(invoke: Invoke, tmp_path: Path) -> None:
    path = write(tmp_path, "net.yaml", spec_yaml("\x1b]0;pwned\x07\x1b[2J\u202e"))
    result = invoke("table", path)
    assert result.exit_code == 0
    assert raw_controls(result.stdout) == []
    assert result.stdout.startswith("\\x1b]0;pwned\\x07\\x1b[2J\\u202e  width 1  input 3x8x8\n")


def test_no_output_line_holds_a_workflow_command(invoke: Invoke, tmp_path: Path) -> None:
    # The Actions runner reads "::command::" at the start of a line (after spaces) and the
    # legacy "##[command]" anywhere in a line, on stdout and stderr alike.
    name = "::warning::x ##[stop-commands]t"
    path = write(tmp_path, "net.yaml", spec_yaml(name))
    table = invoke("table", path).stdout
    assert table.startswith("\\x3a:warning::x ##\\x5bstop-commands]t  width 1")
    document = invoke("table", path, "--format", "json").stdout
    assert "##[" not in document and json.loads(document)["config"]["model"] == name
    lint = invoke("lint", path).stdout
    assert "##[" not in lint and not lint.startswith("::")


def test_json_stays_ascii_and_exact(invoke: Invoke, tmp_path: Path) -> None:
    name = "\x1b[2J\u202e\n|<b>"
    path = write(tmp_path, "net.yaml", spec_yaml(name))
    out = invoke("table", path, "--format", "json").stdout
    assert out.isascii()
    assert json.loads(out)["config"]["model"] == name


def test_csv_text_cells_cannot_be_formulas() -> None:
    cost = renamed(analyze("mobilenet_v1"), '=HYPERLINK("https://evil.example")')
    rows = list(csv.DictReader(io.StringIO(render_table(cost, "csv"))))
    assert rows[0]["name"] == '\'=HYPERLINK("https://evil.example")'
    assert rows[0]["params"] == "928"  # numbers unchanged


def test_long_names_are_cut_in_text_tables(invoke: Invoke, tmp_path: Path) -> None:
    # Without the cut, every row of the table was padded to the longest name: a spec with a
    # 1 MiB layer name and 200 layers printed 226 MB (benchmarks/long_names.py). Names are now
    # at most MAX_NAME characters (a located error above), and cut to NAME_LIMIT in tables.
    huge = "n" * MAX_NAME
    layers = "".join(f"  - {{op: relu, name: r{i}}}\n" for i in range(20))
    text = (
        f"name: {huge}\ninput: [3, 8, 8]\nbudget: {{params: 1M}}\nlayers:\n"
        f"  - {{op: conv, k: 3, out: 8, name: {huge}}}\n{layers}"
    )
    path = write(tmp_path, "net.yaml", text)
    for command in ("table", "lint", "check"):
        out = invoke(command, path).stdout
        assert "n" * (NAME_LIMIT - 1) + "…" in out, command
        assert "n" * (NAME_LIMIT + 1) not in out, command


def test_error_lines_are_escaped(invoke: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    usage = invoke("table", "mobilenet_v1", "--set", "\x1b[2J\u202e")
    assert usage.exit_code == 2
    assert (
        raw_controls(usage.stderr) == [] and "'\\x1b[2J\\u202e' is not NAME=VALUE" in usage.stderr
    )

    def crash(*args: object, **kwargs: object) -> str:
        raise ValueError("bad\n::error::x\x1b[2J")

    monkeypatch.setattr("lightcost.cli.table.render_table", crash)
    internal = invoke("table", "mobilenet_v1")
    assert internal.exit_code == 3
    assert internal.stderr == (
        "internal error: ValueError: bad\\n::error::x\\x1b[2J "
        "(rerun with --debug for a traceback)\n"
    )


def test_note_on_stderr_escapes_the_name(invoke: Invoke, tmp_path: Path) -> None:
    text = spec_yaml("x\n::error::y\x1b[2J").replace("input:", "width: fixed\ninput:")
    result = invoke("table", write(tmp_path, "net.yaml", text), "--width", "0.5")
    assert result.exit_code == 0
    assert result.stderr.startswith("note: x\\n::error::y\\x1b[2J has a fixed width rule")


def test_plot_title_with_dollars_is_drawn(invoke: Invoke, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    path = write(tmp_path, "a$\\foo$.yaml", spec_yaml("net"))
    plot = str(tmp_path / "front.png")
    result = invoke("sweep", path, "--width", "1,0.5", "--res", "8,16", "--plot", plot)
    assert result.exit_code == 0, result.stderr  # was exit 3: matplotlib parsed $\foo$ as math
    assert os.path.getsize(plot) > 0


# -- the property ---------------------------------------------------------------------------

PIECES = [
    "\n", "\r", "\r\n", "\t", "\x00", "\x07", "\x1b[2J", "\x1b]0;pwned\x07", "\x7f", "\x85", "\x9b",
    "\u202e", "\u2066", "\u200f", "\u061c", "\u2028", "\ufeff", "::", "::warning::x",
    "\n::add-mask::x", "##[warning]x", "##[stop-commands]t", " ::", "%0A", "%", ",", ":", "=",
    "+", "-", "@", "=SUM(A1)", "<script>", "&amp;",
    "![i](https://evil.example/p.png)", "[x]", "`", "*", "_", "~", "#", "$", "|", "\\", "x",
    " ", "é", "中", "😀",
]  # fmt: skip
HOSTILE = (
    st.lists(
        st.sampled_from(PIECES) | st.text(st.characters(exclude_categories=["Cs"]), max_size=3),
        min_size=1,
        max_size=10,
    )
    .map("".join)
    .filter(lambda text: text.strip() != "" and len(text) <= MAX_NAME)  # longer: exit 2
)
RUNS = {  # name -> (command line with {spec}, {budgets}; formats)
    "table": (["table", "{spec}"], ["table", "json", "csv", "markdown"]),
    "check": (["check", "{spec}", "--budgets", "{budgets}"], ["table", "json", "junit", "github",
                                                              "markdown"]),
    "diff": (["diff", "{spec}", "--new-width", "0.5"], ["table", "json", "markdown"]),
    "lint": (["lint", "{spec}"], ["table", "json"]),
    "versus": (["compare", "{spec}", "--width", "0.5"], ["table", "json"]),
    "grid": (["compare", "{spec}", "--width", "1,0.5"], ["table", "json"]),
    "side_by_side": (["compare", "{spec}", "{spec}"], ["table", "json"]),
}  # fmt: skip


@contextmanager
def hostile_files(name: str) -> Iterator[dict[str, str]]:
    """A spec whose model name, variant, var value and file name are ``name``, and a budgets
    file setting that var; the budget over the spec's params fails."""
    variant = yaml_string(name)
    text = spec_yaml(name, "params: 1").replace(
        "input:", f"variants: {{{variant}: {{vars: {{tag: b}}}}}}\nvariant: {variant}\n"
        "vars: {tag: a}\ninput:"
    )  # fmt: skip
    stem = "".join(c for c in name if c not in "/\x00@")[:40]  # compare reads NAME@VARIANT
    with tempfile.TemporaryDirectory() as folder:
        spec = write(Path(folder), f"spec-{stem}.yaml", text)
        entry = f"spec: {yaml_string(glob.escape(spec))}, set: {{tag: {variant}}}, params: 1M"
        budgets = f"budgets:\n  - {{{entry}}}\n"
        yield {"spec": spec, "budgets": write(Path(folder), "budgets.yaml", budgets)}


def run(run_name: str, fmt: str, files: dict[str, str]) -> Result:
    args, _ = RUNS[run_name]
    runner = CliRunner(env={"NO_COLOR": "1", "COLUMNS": "160"})
    command = [arg.format(**files) for arg in args] + ["--format", fmt]
    return runner.invoke(cli, command, catch_exceptions=False)


@cache
def benign(run_name: str, fmt: str) -> Result:
    """The same command on a spec named ``net``: the shape every hostile output must keep."""
    with hostile_files("net") as files:
        return run(run_name, fmt, files)


def unescaped(line: str, chars: str) -> int:
    """How many of ``chars`` in a Markdown line are not backslash-escaped."""
    count, index = 0, 0
    while index < len(line):
        if line[index] == "\\":
            index += 2
            continue
        count += line[index] in chars
        index += 1
    return count


def check_format(fmt: str, out: str, reference: str) -> None:
    """The invariant of ``fmt`` on ``out``, against the benign ``reference``."""
    if fmt == "json":
        json.loads(out)
        assert out.isascii() and "##[" not in out
        return
    if fmt == "junit":
        ElementTree.fromstring(out.encode())
    if fmt == "csv":
        for row in list(csv.reader(io.StringIO(out)))[1:]:
            assert not [c for c in row if not number(c) and c.startswith(("=", "+", "-", "@"))]
    assert "##[" not in out  # the runner's legacy command form, read anywhere in a line
    assert raw_controls(out) == []
    lines, expected = out.split("\n"), reference.split("\n")
    assert len(lines) == len(expected)
    if fmt == "github":
        assert all(line.startswith("::error ") for line in lines[:-1])
    else:
        assert not [line for line in lines if line.lstrip().startswith("::")]
    if fmt == "markdown":
        for line, model in zip(lines, expected, strict=True):
            assert unescaped(line, MARKDOWN_SYNTAX) == unescaped(model, MARKDOWN_SYNTAX), line


def number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("run_name", list(RUNS))
@given(name=HOSTILE)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_hostile_names_keep_every_format_invariant(run_name: str, name: str) -> None:
    with hostile_files(name) as files:
        for fmt in RUNS[run_name][1]:
            result, reference = run(run_name, fmt, files), benign(run_name, fmt)
            assert result.exit_code == reference.exit_code, (fmt, result.stderr)
            check_format(fmt, result.stdout, reference.stdout)
            assert raw_controls(result.stderr) == [] and "##[" not in result.stderr
            assert not [line for line in result.stderr.split("\n") if line.lstrip()[:2] == "::"]


@given(name=HOSTILE, description=HOSTILE)
@settings(max_examples=50, deadline=None)
def test_models_catalogue_escapes_entries(name: str, description: str) -> None:
    entry: Entry = {"spec": name, "variant": name, "description": description, "params": 1,
                    "madds": -1}  # fmt: skip
    text = models_text([entry, entry], style=False)
    assert raw_controls(text) == []
    assert len(text.split("\n")) == 7  # title, head, 3 rules, 2 rows
    assert json.loads(models_json([entry]))["models"][0]["spec"] == name


@given(name=HOSTILE)
@settings(max_examples=50, deadline=None)
def test_hostile_layer_names_keep_table_formats(name: str) -> None:
    # Layer names from a YAML spec are plain identifiers; an imported ONNX graph or an API
    # caller may bring any text.
    cost = renamed(COST, name)
    for fmt in ("table", "markdown", "csv"):
        check_format(fmt, render_table(cost, fmt), render_table(COST, fmt))


COST = analyze("mobilenet_v1", resolution=32)


def renamed(cost: ModelCost, name: str) -> ModelCost:
    """``cost`` with its first layer named ``name`` and placed in a block ``name``."""
    first = cost.layers[0]._replace(name=name, block=(name,))
    return ModelCost(cost.graph, (first, *cost.layers[1:]), cost.params_convention)
