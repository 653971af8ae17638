"""Text tables fit the terminal: at 80 columns no line of the default outputs is longer.

Each case runs a README command through the CLI with ``COLUMNS=80`` (the width
a terminal reports), in a directory holding the README's ``budgets.yaml``. Lines
are measured in characters (box drawing and ``µ`` count one). The full-precision
layout, ``--wide``, ``--columns`` and ``--conventions`` are checked on the same
commands.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from conftest import README_BUDGETS
from lightcost import analyze
from lightcost.cli.main import cli
from lightcost.render.text import Column, View, fitted, ranked, terminal_width

WIDTH = 80
OVER_BUDGET = """\
budgets:
  - spec: mobilenet_v2
    width: 0.75
    madds: 200M
  - spec: shufflenet_v2
    variant: 0.5x
    device: gtx1080ti
    latency: 1ms
    peak_activation: 2MiB
"""
COMMANDS = [
    "table mobilenet_v1",
    "table mobilenet_v2 --device gtx1080ti",
    "models",
    "compare --width 0.75 --res 160",
    "compare --width 1,0.75,0.5,0.25 --res 224,192,160,128 --params weights",
    "compare mobilenet_v2 shufflenet_v2@1.5x mobilenet_v3_small",
    "compare guidelines/g2_group_conv@g1 guidelines/g2_group_conv@g8 --device gtx1080ti",
    "diff mobilenet_v2 --new-width 0.75",
    "check",
    "check --budgets over_budget.yaml",
    "sweep mobilenet_v2 --no-progress",
    # more of the table's row groupings and options
    "table mobilenet_v1 --explain",
    "table mobilenet_v1 --by op --params weights",
    "table mobilenet_v2 --depth 1",
    "table shufflenet_v2 --device snapdragon810_a57 --exec unfused",
    "lint mobilenet_v2",
    "lint shufflenet_v1",
]


def run(args: str, columns: int = WIDTH) -> Result:
    """``lightcost ARGS`` with ``COLUMNS`` set, no colour."""
    runner = CliRunner(env={"COLUMNS": str(columns), "NO_COLOR": "1"})
    return runner.invoke(cli, args.split(), catch_exceptions=False)


@pytest.fixture
def budgets_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "budgets.yaml").write_text(README_BUDGETS, encoding="utf-8")
    (tmp_path / "over_budget.yaml").write_text(OVER_BUDGET, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("command", COMMANDS)
def test_default_output_fits_80_columns(command: str, budgets_dir: Path) -> None:
    result = run(command)
    assert result.exit_code in (0, 1), result.output
    long = [line for line in result.stdout.splitlines() if len(line) > WIDTH]
    assert not long, "\n".join(long)


def test_narrow_table_is_compact_with_the_main_columns(budgets_dir: Path) -> None:
    out = run("table mobilenet_v1").stdout
    head = next(line for line in out.splitlines() if "Layer" in line)
    assert [c.strip() for c in head.strip("│").split("│")] == [
        "Layer", "Op", "Output", "Params", "MAdds"
    ]  # fmt: skip
    total = next(line for line in out.splitlines() if line.startswith("│ total"))
    assert "4.23M" in total and "569M" in total
    assert "peak activation memory: 4.59 MiB (fp32)" in out


def test_latency_table_keeps_latency_in_its_unit(budgets_dir: Path) -> None:
    out = run("table mobilenet_v2 --device gtx1080ti").stdout
    head = next(line for line in out.splitlines() if "Layer" in line)
    assert "Latency" in head and "Params" in head and "MAdds" in head
    total = next(line for line in out.splitlines() if line.startswith("│ total"))
    seconds = analyze("mobilenet_v2", device="gtx1080ti").total().latency
    assert seconds is not None and f"{seconds * 1e6:.0f} µs" in total
    assert " us" not in out


def test_wide_terminal_and_wide_option_show_exact_values(budgets_dir: Path) -> None:
    for out in (
        run("table mobilenet_v1", columns=200).stdout,
        run("table mobilenet_v1 --wide").stdout,
    ):
        assert "568,740,352" in out and "% params" in out
        assert "peak activation memory: 4,816,896 B (4.59 MiB, fp32)" in out


def test_columns_choose_and_order(budgets_dir: Path) -> None:
    out = run("table mobilenet_v1 --columns madds,layer").stdout
    head = next(line for line in out.splitlines() if "Layer" in line)
    assert [c.strip() for c in head.strip("│").split("│")] == ["MAdds", "Layer"]
    assert "568,740,352" in out  # two columns fit: full precision


def test_unknown_column_is_a_clean_error_with_a_suggestion(budgets_dir: Path) -> None:
    result = run("table mobilenet_v1 --columns layer,parms")
    assert result.exit_code == 2
    assert "unknown column 'parms', did you mean 'params'?" in result.stderr
    assert "Traceback" not in result.output
    assert run("models --columns spec,madds").exit_code == 0
    assert run("diff mobilenet_v2 --new-width 0.5 --columns layr").exit_code == 2


def test_footer_is_one_line_and_conventions_option_gives_all(budgets_dir: Path) -> None:
    short = run("table mobilenet_v1").stdout.splitlines()
    assert short[-1].startswith("MAdds, batch 1, params trainable, MAC fused fp32")
    assert short[-1].endswith("(all: --conventions)") and len(short[-1]) <= WIDTH
    full = run("table mobilenet_v1 --conventions").stdout
    document = json.loads(run("table mobilenet_v1 --format json").stdout)
    for key, text in document["conventions"].items():  # JSON keeps every one
        assert f"{key}: {text}" in full


def test_footer_shows_a_new_convention() -> None:
    """A convention entry added to the table's dict shows in the one-line footer."""
    from lightcost.render.notes import conventions_line

    cost = analyze("mobilenet_v1")
    notes = {"unit": "MAdds", "madds": "x, batch 1", "stride_rule": "floor: out = floor(...)"}
    assert conventions_line(cost, notes, View()) == (
        "MAdds, batch 1, stride rule floor (all: --conventions)"
    )


def test_ranked_columns_fill_the_width() -> None:
    keys = ["a", "b", "c", "d"]
    sizes = [10, 30, 5, 5]  # table widths: 1 + sum(w + 3)
    assert ranked(sizes, ["a", "b", "c", "d"], keys, 40) == [0, 2, 3]  # b skipped, c and d fit
    assert ranked(sizes, ["b"], keys, 10) == [1]  # the first ranked column always
    columns = [Column(k, k.upper()) for k in keys]

    def cells(compact: bool) -> list[list[str]]:
        return [["x" * (1 if compact else s) for s in sizes]]

    assert fitted("t", columns, cells, View(None), False).count("x" * 30) == 1
    narrow = fitted("t", columns, cells, View(20), False, total=False)
    assert max(len(line) for line in narrow.splitlines()) <= 20


def test_width_comes_from_columns_or_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    assert terminal_width() == 100
    monkeypatch.setenv("COLUMNS", "junk")
    assert terminal_width() is None  # pytest's stdout is not a terminal: no limit


def test_footer_names_a_padding_convention_by_its_first_word() -> None:
    from lightcost.render.notes import conventions_line

    cost = analyze("mobilenet_v1")
    notes = {"unit": "MAdds", "padding": "pytorch: explicit integer padding, 0 by default"}
    assert conventions_line(cost, notes, View()) == "MAdds, padding pytorch (all: --conventions)"
