"""Golden snapshots: the exact stdout of every output format of every command.

Each case runs ``lightcost COMMAND`` in-process through the CLI entry point only
(``lightcost.cli.main.cli``, via the ``invoke`` fixture: ``NO_COLOR=1``,
``COLUMNS=160``, or the case's ``columns``: the compact layout at 80), in a
fresh ``tmp_path`` as the current directory, and compares
its stdout with ``tests/snapshots/NAME``. The exit status is checked against the
case table (``CASES``: ``Case(name, command, exit_code)``), not stored in the
file. Optional fields: ``before``, commands run first (``export`` of an ONNX
file), and ``writes``, files the command writes (``sweep -o``), each compared
with ``tests/snapshots/<NAME without extension>.<file>``.

Regenerate after an intended change of the output, then review ``git diff``::

    .venv/bin/python -m pytest tests/test_snapshots.py --update-snapshots

Normalisation (``normalise`` below), the only difference between a stored file
and the raw output:

- the absolute directory of the bundled specs (printed for a spec given by name,
  e.g. ``"file"`` in JSON) becomes
  ``<bundled>``; the directory is found through the CLI itself
  (``table mobilenet_v1 --format json``), so it follows the specs wherever they move;
- the absolute path of the working directory becomes ``<tmp>`` (a safety net:
  the cases use relative paths, so no output contains it today);
- the timing of ``sweep`` (``in 0.172 s, 3,141 per second``) becomes
  ``in <seconds> s, <rate> per second``.

No case prints a version or a time of day. The files are compared byte for byte;
``sweep_grid_plot.txt`` has trailing spaces (the terminal plot pads its rows):
an editor that strips them breaks the test.
"""

from __future__ import annotations

import difflib
import json
import re
import shlex
from pathlib import Path
from typing import NamedTuple

import pytest
from click.testing import CliRunner

from conftest import README_BUDGETS, Invoke
from lightcost.cli.main import cli

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
UPDATE_HINT = "pytest tests/test_snapshots.py --update-snapshots"

# Files written into the working directory of every case.
BUDGETS_OVER = """\
budgets:
  - spec: mobilenet_v2
    params: 3.6M
    madds: 320M
  - spec: mobilenet_v2
    width: 0.75
    madds: 200M
  - spec: shufflenet_v2
    variant: 0.5x
    device: gtx1080ti
    latency: 1ms
    peak_activation: 2MiB
"""
NET_WITH_BUDGET = """\
name: net
input: [3, 32, 32]
budget:
  params: 1k
  madds: 100k
layers:
  - {op: conv, k: 3, out: 16}
"""
WORK_FILES = {
    "budgets.yaml": README_BUDGETS,
    "over_budget.yaml": BUDGETS_OVER,
    "net.yaml": NET_WITH_BUDGET,
}

GRID = "--width 0.25:1.0:0.25 --res 128:224:32"
EXPORT_V1 = "export mobilenet_v1 -o m.onnx"
G2_PAIR = "guidelines/g2_group_conv@g1 guidelines/g2_group_conv@g8"  # equal MAdds, 2.8x the MAC


class Case(NamedTuple):
    """``name``: the snapshot file of stdout; ``command``: the arguments after ``lightcost``."""

    name: str
    command: str
    exit_code: int = 0
    before: tuple[str, ...] = ()  # commands run first, in the same directory (must exit 0)
    writes: tuple[str, ...] = ()  # files the command writes, stored as <name stem>.<file>
    columns: int | None = None  # the terminal's width (COLUMNS), when not 160

    @property
    def argv(self) -> list[str]:
        return shlex.split(self.command)


CASES = [
    # table: every format, every row grouping and every option that changes what is printed
    Case("table_mobilenet_v1.txt", "table mobilenet_v1"),
    Case("table_mobilenet_v1.json", "table mobilenet_v1 --format json"),
    Case("table_mobilenet_v1.csv", "table mobilenet_v1 --format csv"),
    Case("table_mobilenet_v1.md", "table mobilenet_v1 --format markdown"),
    Case("table_mobilenet_v2_by_block.txt", "table mobilenet_v2 --by block"),
    Case("table_mobilenet_v2_by_block.md", "table mobilenet_v2 --by block -f markdown"),
    Case("table_mobilenet_v2_depth1.txt", "table mobilenet_v2 --depth 1"),
    Case("table_xception_depth2.txt", "table xception --depth 2"),
    Case("table_mobilenet_v1_by_op.txt", "table mobilenet_v1 --by op"),
    Case("table_mobilenet_v1_by_op_weights.txt", "table mobilenet_v1 --by op --params weights"),
    Case(
        "table_mobilenet_v1_by_op_weights.md",
        "table mobilenet_v1 --by op --params weights -f markdown",
    ),
    Case("table_mobilenet_v1_weights.txt", "table mobilenet_v1 --params weights"),
    Case("table_mobilenet_v1_fold_bn.csv", "table mobilenet_v1 --fold-bn -f csv"),
    Case("table_mobilenet_v1_w075_r160.txt", "table mobilenet_v1 --width 0.75 --res 160"),
    Case("table_mobilenet_v1_w075_r160.json", "table mobilenet_v1 --width 0.75 --res 160 -f json"),
    Case("table_mobilenet_v1_flops.txt", "table mobilenet_v1 --unit flops"),
    Case("table_mobilenet_v2_gtx1080ti.txt", "table mobilenet_v2 --device gtx1080ti"),
    Case("table_mobilenet_v2_gtx1080ti.json", "table mobilenet_v2 --device gtx1080ti -f json"),
    Case("table_mobilenet_v2_gtx1080ti.csv", "table mobilenet_v2 --device gtx1080ti -f csv"),
    Case("table_mobilenet_v2_gtx1080ti.md", "table mobilenet_v2 --device gtx1080ti -f markdown"),
    Case(
        "table_mobilenet_v2_gtx1080ti_fp16_unfused.txt",
        "table mobilenet_v2 --device gtx1080ti --dtype fp16 --exec unfused",
    ),
    Case(
        "table_shufflenet_v2_a57_unfused.txt",
        "table shufflenet_v2 --device snapdragon810_a57 --exec unfused",
    ),
    Case("table_mobilenet_v1_explain.txt", "table mobilenet_v1 --explain"),
    Case("table_mobilenet_v1_explain.md", "table mobilenet_v1 --explain -f markdown"),
    Case("table_shufflenet_v2_1.5x.txt", "table shufflenet_v2 --variant 1.5x"),
    Case("table_mobilenet_v1_conventions.txt", "table mobilenet_v1 --conventions"),
    Case(
        "table_mobilenet_v2_columns.txt",
        "table mobilenet_v2 --device gtx1080ti --columns layer,latency,latency_pct",
    ),
    # the compact layouts of an 80-column terminal (tests/test_fit.py checks every line fits)
    Case("table_mobilenet_v1_80.txt", "table mobilenet_v1", columns=80),
    Case(
        "table_mobilenet_v2_gtx1080ti_80.txt", "table mobilenet_v2 --device gtx1080ti", columns=80
    ),
    Case("models_80.txt", "models", columns=80),
    Case("diff_mobilenet_v2_w075_80.txt", "diff mobilenet_v2 --new-width 0.75", columns=80),
    Case("check_fail_80.txt", "check --budgets over_budget.yaml", 1, columns=80),
    Case(
        "compare_models_80.txt",
        "compare mobilenet_v2 shufflenet_v2@1.5x mobilenet_v3_small",
        columns=80,
    ),
    Case(
        "table_mobilenet_v3_small_classes1001.csv",
        "table mobilenet_v3_small --set classes=1001 -f csv",
    ),
    # check: budgets.yaml passes (the default file), over_budget.yaml fails, net.yaml's own budget
    Case("check_pass.txt", "check"),
    Case("check_pass.json", "check --format json"),
    Case("check_pass.xml", "check --format junit"),
    Case("check_pass_github.txt", "check --format github"),
    Case("check_pass.md", "check --format markdown"),
    Case("check_fail.txt", "check --budgets over_budget.yaml", 1),
    Case("check_fail.json", "check --budgets over_budget.yaml -f json", 1),
    Case("check_fail.xml", "check --budgets over_budget.yaml -f junit", 1),
    Case("check_fail_github.txt", "check --budgets over_budget.yaml -f github", 1),
    Case("check_fail.md", "check --budgets over_budget.yaml -f markdown", 1),
    Case("check_spec_budget.txt", "check net.yaml", 1),
    Case("check_spec_budget.json", "check net.yaml -f json", 1),
    # diff: two configurations of one spec, two specs, variants with --fail-above (no git)
    Case("diff_mobilenet_v2_w075.txt", "diff mobilenet_v2 --new-width 0.75"),
    Case("diff_mobilenet_v2_w075.json", "diff mobilenet_v2 --new-width 0.75 -f json"),
    Case("diff_mobilenet_v2_w075.md", "diff mobilenet_v2 --new-width 0.75 -f markdown"),
    Case("diff_mobilenet_v1_v2_r160.txt", "diff mobilenet_v1 mobilenet_v2 --res 160"),
    Case("diff_mobilenet_v1_v2_r160.md", "diff mobilenet_v1 mobilenet_v2 --res 160 -f markdown"),
    Case(
        "diff_shufflenet_v2_1x_1.5x_fail_above.txt",
        "diff shufflenet_v2 --old-variant 1x --new-variant 1.5x --fail-above 5%",
        1,
    ),
    # compare (formats: table, json): against the baseline, grids, side by side
    Case("compare_w075_r160.txt", "compare --width 0.75 --res 160"),
    Case("compare_w075_r160.json", "compare --width 0.75 --res 160 -f json"),
    Case(
        "compare_grid_weights.txt",
        "compare --width 1,0.75,0.5,0.25 --res 224,192,160,128 --params weights",
    ),
    Case("compare_grid.json", "compare --width 1,0.75,0.5,0.25 --res 224,192,160,128 -f json"),
    Case("compare_models.txt", "compare mobilenet_v2 shufflenet_v2@1.5x mobilenet_v3_small"),
    Case(
        "compare_models.json", "compare mobilenet_v2 shufflenet_v2@1.5x mobilenet_v3_small -f json"
    ),
    Case(
        "compare_g2_gtx1080ti.txt",
        f"compare {G2_PAIR} --device gtx1080ti",
    ),
    Case(
        "compare_g2_gtx1080ti.json",
        f"compare {G2_PAIR} --device gtx1080ti -f json",
    ),
    # sweep: the front on stdout; every configuration with -o (.csv, .json); the terminal plot
    Case("sweep_mobilenet_v2.txt", "sweep mobilenet_v2"),
    Case(
        "sweep_mobilenet_v2_latency_gtx1080ti.txt",
        "sweep mobilenet_v2 --front latency:min,params --device gtx1080ti",
    ),
    Case("sweep_grid_csv.txt", f"sweep mobilenet_v1 {GRID} -o grid.csv", writes=("grid.csv",)),
    Case("sweep_grid_json.txt", f"sweep mobilenet_v1 {GRID} -o grid.json", writes=("grid.json",)),
    Case("sweep_grid_plot.txt", f"sweep mobilenet_v1 {GRID} --plot"),
    # lint (formats: table, json, junit, github): findings exit 1, clean exits 0
    Case("lint_mobilenet_v2.txt", "lint mobilenet_v2", 1),
    Case("lint_mobilenet_v2.json", "lint mobilenet_v2 -f json", 1),
    Case("lint_shufflenet_v1.txt", "lint shufflenet_v1", 1),
    Case("lint_shufflenet_v1.xml", "lint shufflenet_v1 -f junit", 1),
    Case("lint_shufflenet_v1_github.txt", "lint shufflenet_v1 -f github", 1),
    Case("lint_shufflenet_v2.txt", "lint shufflenet_v2"),
    Case("lint_shufflenet_v2.json", "lint shufflenet_v2 -f json"),
    Case("lint_mobilenet_v2_clean.txt", "lint mobilenet_v2 --ignore G1,G4"),
    Case("lint_mobilenet_v2_clean.json", "lint mobilenet_v2 --select G2,G3 -f json"),
    # models (formats: table, json), schema (spec, the default, and budgets)
    Case("models.txt", "models"),
    Case("models.json", "models --format json"),
    Case("schema_spec.json", "schema"),
    Case("schema_budgets.json", "schema budgets"),
    # ONNX: export MobileNetV1, import it and cost it, by a relative path (import prints it)
    Case("import_mobilenet_v1.yaml", "import m.onnx", before=(EXPORT_V1,)),
    Case("table_mobilenet_v1_onnx.txt", "table m.onnx", before=(EXPORT_V1,)),
]

SWEEP_TIME = re.compile(r"in \d+\.\d+ s, (?:[\d,]+|inf) per second")


@pytest.fixture(scope="module")
def bundled_dir() -> str:
    """Absolute directory of the bundled specs, as the CLI reports it."""
    result = CliRunner().invoke(cli, ["table", "mobilenet_v1", "--format", "json"])
    assert result.exit_code == 0, result.output
    return str(Path(json.loads(result.stdout)["config"]["file"]).parent)


def normalise(text: str, bundled: str, workdir: Path) -> str:
    """Replace what depends on the machine or the clock (see the module docstring)."""
    text = text.replace(bundled, "<bundled>")
    # the resolved path first: on macOS it is /private + the other one
    for folder in sorted({str(workdir.resolve()), str(workdir)}, key=len, reverse=True):
        text = text.replace(folder, "<tmp>")
    return SWEEP_TIME.sub("in <seconds> s, <rate> per second", text)


def compare_snapshot(path: Path, actual: str, update: bool) -> None:
    """Compare with (or, with --update-snapshots, rewrite) one stored file."""
    if update:
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(actual.encode("utf-8"))  # bytes: no newline translation
        return
    if not path.exists():
        pytest.fail(f"no snapshot {path.name}: create it with `{UPDATE_HINT}`", pytrace=False)
    expected = path.read_bytes().decode("utf-8")
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                fromfile=f"tests/snapshots/{path.name} (stored)",
                tofile=f"{path.name} (actual)",
            )
        )
        pytest.fail(
            f"output differs from tests/snapshots/{path.name}; if the change is intended, "
            f"rewrite the snapshots with `{UPDATE_HINT}` and review the diff\n{diff}",
            pytrace=False,
        )


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES])
def test_snapshot(
    case: Case,
    invoke: Invoke,
    bundled_dir: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    if ".onnx" in " ".join((case.command, *case.before)):
        pytest.importorskip("onnx")
    monkeypatch.chdir(tmp_path)
    for name, text in WORK_FILES.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    for command in case.before:
        prepared = invoke(*shlex.split(command))
        assert prepared.exit_code == 0, f"lightcost {command}: {prepared.output}"

    if case.columns is None:
        result = invoke(*case.argv)
    else:
        runner = CliRunner(env={"NO_COLOR": "1", "COLUMNS": str(case.columns)})
        result = runner.invoke(cli, case.argv, catch_exceptions=False)

    assert result.exit_code == case.exit_code, (
        f"lightcost {case.command}: exit {result.exit_code}, expected {case.exit_code}\n"
        f"stderr: {result.stderr}"
    )
    update = bool(request.config.getoption("--update-snapshots"))
    compare_snapshot(SNAPSHOTS / case.name, normalise(result.stdout, bundled_dir, tmp_path), update)
    stem = case.name.rsplit(".", 1)[0]
    for written in case.writes:
        text = (tmp_path / written).read_bytes().decode("utf-8")
        compare_snapshot(
            SNAPSHOTS / f"{stem}.{written}", normalise(text, bundled_dir, tmp_path), update
        )


def test_every_snapshot_file_has_a_case() -> None:
    """A stored file no case produces is left over from a removed or renamed case."""
    expected = {c.name for c in CASES}
    expected |= {f"{c.name.rsplit('.', 1)[0]}.{w}" for c in CASES for w in c.writes}
    stored = {p.name for p in SNAPSHOTS.iterdir()} if SNAPSHOTS.exists() else set()
    assert not stored - expected, (
        f"snapshots without a case (delete them): {sorted(stored - expected)}"
    )
    assert len(expected) == len(CASES) + sum(len(c.writes) for c in CASES), "duplicate case names"
