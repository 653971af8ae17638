"""Render budget checks and cost diffs: text tables, JSON, JUnit XML, GitHub annotations, Markdown.

Rendering never computes costs. Text tables use :func:`lightcost.render.text.boxed`,
Markdown :func:`lightcost.render.text.markdown_table`; text from spec and budget
files (models, var values, paths) is escaped for each format by
:mod:`lightcost.render.escape`, and cut in text table cells. Values are
shown by :meth:`lightcost.cost.figures.Figure.text` with their unit (``6,021,120 B``,
``0.468 ms``). Exceeded budgets are marked ``EXCEEDED`` (and red on a styled
terminal). Locations are ``file:line`` of the budget's limit, the file relative
to the current directory when it is inside it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lightcost.cost.engine import SUMMED, layer_record
from lightcost.cost.figures import FIGURES
from lightcost.render.ci import Case, github_error, junit_xml
from lightcost.render.escape import Markup, clip, json_text, markdown, terminal
from lightcost.render.table import config, shape_text, title
from lightcost.render.text import UNLIMITED, Column, View, bold, columns_markdown, fitted
from lightcost.spec.sections import resolution_text

if TYPE_CHECKING:
    from lightcost.analysis.budgets import CheckError, Report, Result
    from lightcost.analysis.diff import CostDiff, LayerDiff, TotalDiff

CHECK_COLUMNS = [
    Column("status", "Status", False),
    Column("model", "Model", False),
    Column("config", "Configuration", False),
    Column("figure", "Figure", False),
    Column("limit", "Limit"),
    Column("actual", "Actual"),
    Column("headroom", "Headroom"),
    Column("budget", "Budget", False),
]
CHECK_RANK = ("status", "model", "figure", "limit", "actual", "headroom", "config", "budget")
DIFF_COLUMNS = [
    Column("layer", "Layer", False),
    Column("change", "Change", False),
    Column("output", "Output (old -> new)", False, "Output"),
    *(Column(f"{figure}_{side}", f"{label} {side}")
      for figure, label in (("params", "Params"), ("madds", "MAdds"))
      for side in ("old", "new", "+/-")),
    Column("madds_pct", "MAdds %"),
]  # fmt: skip
DIFF_RANK = ("layer", "change", "params_+/-", "madds_+/-", "madds_pct", "output", "params_new",
             "madds_new", "params_old", "madds_old")  # fmt: skip
TOTAL_COLUMNS = [Column("figure", "Figure", False), Column("old", "Old"), Column("new", "New"),
                 Column("change", "Change"), Column("relative", "Relative")]  # fmt: skip


# -- numbers and places ------------------------------------------------------------------------


def number(value: float) -> int | float:
    """An integral value as an int (for JSON), others unchanged."""
    return int(value) if float(value).is_integer() else value


def percent(fraction: float | None) -> str:
    """``+12.34%`` (a fraction of 1 as a percentage), ``0.00%``, or ``-`` when undefined."""
    if fraction is None:
        return "-"
    return f"{100 * fraction:+.2f}%" if fraction else "0.00%"


def display_path(path: str) -> str:
    """``path`` relative to the current directory when it lies inside it."""
    relative = os.path.relpath(path)
    return path if relative.startswith(os.pardir) else relative


# -- budget checks ------------------------------------------------------------------------------


def config_text(result: Result) -> str:
    """``width 0.75, set classes=1001`` or ``defaults`` (each value cut: ``clip``)."""
    parts = []
    for key, value in result.budget.config.items():
        shown = (
            " ".join(f"{clip(k)}={clip(str(v))}" for k, v in value.items())
            if key == "set"
            else resolution_text(value)
            if key == "resolution"
            else clip(str(value))
        )
        parts.append(f"{key} {shown}")
    return ", ".join(parts) or "defaults"


def qualified(result: Result) -> str:
    """The model, with its configuration unless it is the defaults."""
    config = result.budget.config
    return f"{result.model} ({config_text(result)})" if config else result.model


def where(result: Result) -> str:
    """``file:line`` of the limit."""
    return f"{display_path(result.limit.loc.file)}:{result.limit.loc.line}"


def headline(result: Result) -> str:
    """One line: the figure, its actual value against the limit, and the verdict."""
    actual = result.figure.text(result.actual, symbol=True)
    room, limit = result.headroom, result.limit.text
    if result.passed:
        verdict = f"within {limit}" + ("" if room is None else f", {room:.1f}% headroom")
    else:
        verdict = f"over its limit {limit}" + ("" if room is None else f" by {-room:.1f}%")
    return f"{result.figure.label} of {qualified(result)} is {actual}, {verdict}"


def case_name(result: Result) -> str:
    """A stable name for one budget: ``mobilenet_v2 (width 0.75): madds <= 220M``."""
    bound = "<=" if result.figure.lower_is_better else ">="
    return f"{qualified(result)}: {result.limit.figure} {bound} {result.limit.text}"


def summary(report: Report) -> str:
    """``all 3 budgets hold`` or ``1 of 3 budgets exceeded`` (with the specs checked)."""
    count, bad, failed = len(report.results), len(report.exceeded), len(report.errors)
    specs = f"{len(report.specs)} spec{'s' if len(report.specs) != 1 else ''}"
    errors = f"; {failed} error{'s' if failed != 1 else ''}" if failed else ""
    if not count:
        if failed:
            return f"{errors[2:]} ({specs})"
        return f"no budgets apply to the {specs} checked (each spec is valid)"
    plural = "s" if count != 1 else ""
    if bad:
        return f"{bad} of {count} budget{plural} exceeded ({specs}){errors}"
    return f"all {count} budget{plural} hold ({specs}){errors}"


def error_name(error: CheckError) -> str:
    """The test case name of a budget that could not be checked."""
    return f"{error.spec or 'lightcost'}: spec and budgets are valid"


def check_cells(result: Result, compact: bool = False) -> list[str]:
    """The cells of one budget's row (see :data:`CHECK_COLUMNS`); ``compact``: the short
    label and value (``Peak activation``, ``1.72 MiB``)."""
    room = result.headroom
    return [
        "ok" if result.passed else "EXCEEDED",
        clip(result.model),
        config_text(result),
        result.figure.short_label if compact else result.figure.label,
        result.limit.text,
        result.figure.text(result.actual, symbol=True, compact=compact),
        "-" if room is None else f"{room:+.1f}%",
        where(result),
    ]


def check_table(report: Report, style: bool, view: View | None = None) -> str:
    """A box-drawn table fitted to ``view`` (default: the terminal's), one row per budget,
    exceeded rows red when styled."""
    if not report.results:  # only errors: they are on stderr, one located line each
        return "" if report.errors else summary(report) + "\n"
    lines = fitted(
        "lightcost check",
        CHECK_COLUMNS,
        lambda compact: [check_cells(r, compact) for r in report.results],
        view or View.auto(),
        style,
        total=False,
        rank=CHECK_RANK,
    ).split("\n")
    first_row = 4  # title, top rule, header, rule
    for index, result in enumerate(report.results):
        if style and not result.passed:
            lines[first_row + index] = f"\x1b[1;31m{lines[first_row + index]}\x1b[0m"
    return "\n".join([*lines, bold(summary(report), style)]) + "\n"


def error_record(error: CheckError) -> dict[str, Any]:
    """A failed budget for JSON: its spec, the located message, and the place when known."""
    loc = error.loc
    return {
        "spec": error.spec,
        "message": str(error.error),
        "file": loc.file if loc else None,
        "line": loc.line if loc else None,
        "col": loc.col if loc else None,
    }


def check_json(report: Report) -> str:
    """Every budget with its limit, actual value, headroom and location, and every error."""
    budgets = [
        {
            "spec": r.budget.spec,
            "model": r.model,
            "config": dict(r.budget.config),
            "figure": r.limit.figure,
            "label": r.figure.label,
            "unit": r.figure.unit,
            "limit": number(r.limit.value),
            "limit_text": r.limit.text,
            "actual": number(r.actual),
            "headroom_pct": r.headroom,
            "passed": r.passed,
            "file": r.limit.loc.file,
            "line": r.limit.loc.line,
            "col": r.limit.loc.col,
        }
        for r in report.results
    ]
    document = {
        "passed": report.passed,
        "checked": len(report.results),
        "exceeded": len(report.exceeded),
        "specs": list(report.specs),
        "budgets": budgets,
        "errors": [error_record(e) for e in report.errors],
    }
    return json_text(document) + "\n"


def check_junit(report: Report) -> str:
    """JUnit XML: one test case per budget (a failure when exceeded), one error test case
    per budget that could not be checked."""
    cases = [
        Case(
            f"lightcost.{r.model}",
            case_name(r),
            (f"{where(r)}: {headline(r)}",),
            "" if r.passed else "failure",
            headline(r),
            "BudgetExceeded",
        )
        for r in report.results
    ]
    cases += [
        Case("lightcost.check", error_name(e), (str(e.error),), "error", str(e.error), "SpecError")
        for e in report.errors
    ]
    return junit_xml("lightcost check", cases)


def check_github(report: Report) -> str:
    """GitHub workflow commands only: ``::error file=...,line=...::`` per exceeded budget
    and per error. Nothing else goes to stdout in this format: see :func:`check_github_log`.
    """
    exceeded = [
        github_error(r.limit.loc, f"Budget exceeded: {r.model} {r.limit.figure}", headline(r))
        for r in report.exceeded
    ]
    errors = [github_error(e.loc, "lightcost spec error", str(e.error)) for e in report.errors]
    return "".join(f"{line}\n" for line in exceeded + errors)


def check_github_log(report: Report) -> str:
    """The plain lines beside :func:`check_github` (for stderr): each budget that holds, then
    the summary; escaped to one line each, so none can start a workflow command."""
    lines = [terminal(f"ok: {headline(r)} [{where(r)}]") for r in report.results if r.passed]
    return "\n".join([*lines, summary(report)]) + "\n"


def check_markdown(report: Report) -> str:
    """A heading with the verdict and a table of every budget, for a PR comment or job summary."""
    mark = ":white_check_mark:" if report.passed else ":x:"
    rows = []
    for result in report.results:
        cells = check_cells(result)
        cells[0] = Markup(":white_check_mark: ok" if result.passed else ":x: **exceeded**")
        rows.append(cells)
    lines = [f"### {mark} lightcost check: {summary(report)}", ""]
    if rows:
        lines += columns_markdown(CHECK_COLUMNS, rows)
    if report.errors:
        errors = [f"- :x: error: {markdown(str(e.error))}" for e in report.errors]
        lines += [""] * bool(rows) + errors
    return "\n".join(lines) + "\n"


CHECK_FORMATS: dict[str, Callable[[Report], str]] = {
    "json": check_json,
    "junit": check_junit,
    "github": check_github,
    "markdown": check_markdown,
}


def render_check(report: Report, fmt: str, style: bool) -> str:
    """A check report in one of ``table`` or :data:`CHECK_FORMATS`."""
    return check_table(report, style) if fmt == "table" else CHECK_FORMATS[fmt](report)


# -- diffs ------------------------------------------------------------------------------------


def diff_cells(layer: LayerDiff, compact: bool = False) -> list[str]:
    """The cells of one layer's row (see :data:`DIFF_COLUMNS`); ``-`` where a side is absent;
    ``compact``: counts as ``2.71M``."""
    shapes = [shape_text(side.out_shape) if side else "-" for side in (layer.old, layer.new)]
    cells = [clip(layer.name), layer.status, " -> ".join(dict.fromkeys(shapes))]
    for figure in ("params", "madds"):
        text = FIGURES[figure].text
        cells += [
            text(layer.value(side, figure), compact=compact) if present else "-"
            for side, present in (("old", layer.old is not None), ("new", layer.new is not None))
        ]
        cells.append(text(layer.change(figure), sign=True, compact=compact))
    old_madds = layer.value("old", "madds")
    return [*cells, percent(layer.change("madds") / old_madds if old_madds else None)]


def total_cells(total: TotalDiff, compact: bool = False) -> list[str]:
    """The cells of one total's row (see :data:`TOTAL_COLUMNS`); ``compact``: as diff_cells."""
    figure = total.figure
    return [
        figure.short_label if compact else figure.label,
        figure.text(total.old, symbol=True, compact=compact),
        figure.text(total.new, symbol=True, compact=compact),
        figure.text(total.change, sign=True, compact=compact),
        percent(total.relative),
    ]


def diff_titles(diff: CostDiff) -> list[str]:
    """``old: ...`` and ``new: ...`` lines naming each side's model and configuration, and
    its file (``bundled`` for a bundled spec)."""
    from lightcost.spec.files import bundled_dir  # lazy: only diffs name their files

    def place(file: str) -> str:
        inside = os.path.commonpath([os.path.abspath(file), bundled_dir()]) == bundled_dir()
        return "bundled" if inside else display_path(file)

    return [
        f"{side}: {title(cost)}  ({place(cost.graph.file)})"
        for side, cost in (("old", diff.old), ("new", diff.new))
    ]


def diff_counts(diff: CostDiff) -> str:
    """``3 layers changed, 1 added, 0 removed, 60 the same``."""
    counts = {s: 0 for s in ("changed", "added", "removed")} | {"same": diff.hidden}
    for layer in diff.layers:
        counts[layer.status] += 1
    return (
        f"{counts['changed']} layers changed, {counts['added']} added, "
        f"{counts['removed']} removed, {counts['same']} the same"
    )


def diff_table(diff: CostDiff, style: bool, view: View = UNLIMITED) -> str:
    """The per-layer table and the totals table, fitted to ``view``."""
    layers = fitted(
        "Per layer", DIFF_COLUMNS, lambda compact: [diff_cells(x, compact) for x in diff.layers],
        view, style, total=False, rank=DIFF_RANK,
    )  # fmt: skip
    totals = fitted(
        "Totals", TOTAL_COLUMNS, lambda compact: [total_cells(t, compact) for t in diff.totals],
        view, style, total=False,
    )  # fmt: skip
    titles = [terminal(line) for line in diff_titles(diff)]
    return "\n".join([*titles, layers, diff_counts(diff), totals]) + "\n"


def diff_json(diff: CostDiff) -> str:
    """Both configurations, every layer (records as ``table --format json``) and every total."""
    document: dict[str, Any] = {
        "old": config(diff.old),
        "new": config(diff.new),
        "params_convention": diff.new.params_convention,
        "layers": [
            {
                "name": layer.name,
                "status": layer.status,
                "old": layer_record(layer.old) if layer.old else None,
                "new": layer_record(layer.new) if layer.new else None,
                "change": {key: layer.change(key) for key in SUMMED},
            }
            for layer in diff.layers
        ],
        "totals": {
            t.figure.name: {
                "label": t.figure.label,
                "old": t.old,
                "new": t.new,
                "change": t.change,
                "relative": t.relative,
            }
            for t in diff.totals
        },
    }
    return json_text(document) + "\n"


def diff_markdown(diff: CostDiff) -> str:
    """Totals as a table, the layers in a collapsed ``<details>`` block (for a PR comment)."""
    rows = [diff_cells(layer) for layer in diff.layers]
    lines = [
        "### lightcost diff",
        "",
        *(f"- {markdown(line)}" for line in diff_titles(diff)),
        "",
        *columns_markdown(TOTAL_COLUMNS, [total_cells(t) for t in diff.totals]),
        "",
        f"<details><summary>Per layer: {diff_counts(diff)}</summary>",
        "",
        *columns_markdown(DIFF_COLUMNS, rows),
        "",
        "</details>",
    ]  # fmt: skip
    return "\n".join(lines) + "\n"


def grown_text(total: TotalDiff, limit: float) -> str:
    """``MAdds grew by +12.34% (more than 5%)``, for ``diff --fail-above``."""
    relative = "from 0" if total.relative is None else f"by {100 * total.relative:+.2f}%"
    return f"{total.figure.label} grew {relative} (more than {limit:g}%)"


DIFF_FORMATS: dict[str, Callable[[CostDiff], str]] = {"json": diff_json, "markdown": diff_markdown}


def render_diff(diff: CostDiff, fmt: str, style: bool, view: View = UNLIMITED) -> str:
    """A diff in one of ``table`` (fitted to ``view``) or :data:`DIFF_FORMATS`."""
    return diff_table(diff, style, view) if fmt == "table" else DIFF_FORMATS[fmt](diff)
