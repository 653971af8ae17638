"""Scatter plots of a sweep with its Pareto front: in the terminal, or to a file via matplotlib.

matplotlib is an optional extra (``pip install 'lightcost[plot]'``) imported
only when a file is written, so the CLI stays fast without it. The terminal
plot's axis ends are compact values (``569M``, ``4.59 MiB``, ``302 µs``); a file
plot shows each axis in the unit that suits its largest value
(:func:`lightcost.cost.figures.axis_scale` of its median) and says it: "MAdds (millions)",
"MAdds (billions)", "Peak activation memory (MiB)", "Estimated latency (ms)".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from lightcost.analysis.sweep import row_sides
from lightcost.cost.figures import FIGURES, axis_scale
from lightcost.render.escape import mathtext
from lightcost.spec.sections import resolution_text

Row = Mapping[str, Any]
PLOT_FORMATS = (".png", ".svg", ".pdf")


def terminal_scatter(
    rows: Sequence[Row], front: Sequence[Row], x: str, y: str, width: int = 64, height: int = 18
) -> str:
    """A character scatter: ``.`` every configuration, ``*`` the front; axes with their ranges."""
    if not rows:
        return "(no valid configurations to plot)"
    xs, ys = [r[x] for r in rows], [r[y] for r in rows]
    x_low, x_high, y_low, y_high = min(xs), max(xs), min(ys), max(ys)

    def cell(row: Row) -> tuple[int, int]:
        col = 0 if x_high == x_low else round((row[x] - x_low) / (x_high - x_low) * (width - 1))
        line = 0 if y_high == y_low else round((row[y] - y_low) / (y_high - y_low) * (height - 1))
        return height - 1 - line, col

    grid = [[" "] * width for _ in range(height)]
    for row in rows:
        r, c = cell(row)
        grid[r][c] = "." if grid[r][c] == " " else grid[r][c]
    for row in front:
        r, c = cell(row)
        grid[r][c] = "*"
    y_label, x_label = FIGURES[y].label, FIGURES[x].label
    top, bottom = FIGURES[y].text(y_high, compact=True), FIGURES[y].text(y_low, compact=True)
    margin = max(len(top), len(bottom))
    lines = [f"{y_label} (y) vs {x_label} (x); * = Pareto front"]
    for index, cells in enumerate(grid):
        label = top if index == 0 else bottom if index == height - 1 else ""
        lines.append(f"{label:>{margin}} |" + "".join(cells))
    lines.append(" " * margin + " +" + "-" * width)
    left, right = FIGURES[x].text(x_low, compact=True), FIGURES[x].text(x_high, compact=True)
    lines.append(" " * (margin + 2) + left + " " * max(1, width - len(left) - len(right)) + right)
    return "\n".join(lines)


def plot_title(spec: str, x: str, y: str) -> str:
    """``mobilenet_v2: MAdds vs MAC (elements)`` (``$`` in the name escaped for matplotlib)."""
    return f"{mathtext(spec)}: {FIGURES[y].label} vs {FIGURES[x].label}"


class PlotStyle(NamedTuple):
    """How a plot file is drawn: ``size`` in pixels (width, height) at ``dpi`` dots per
    inch (a PNG has exactly that many pixels; an SVG or PDF is size / dpi inches),
    ``log`` the axes on a log scale (``x``, ``y``, ``xy``, ``none``, or ``auto``: both
    when the values of one span more than :data:`LOG_SPAN` times)."""

    size: tuple[int, int] = (1200, 750)
    dpi: int = 150
    log: str = "auto"

    def logs(self, xs: Sequence[float], ys: Sequence[float]) -> tuple[bool, bool]:
        """Whether the x and y axes are logarithmic for these values (``auto``: both
        when either spans widely, so that a power law draws as a line)."""
        if self.log != "auto":
            return "x" in self.log, "y" in self.log
        both = wide_span(xs) or wide_span(ys)
        return both and min(xs) > 0, both and min(ys) > 0


LOG_SPAN = 30  # ``--log auto``: a log axis when the largest value is over 30 x the smallest
LOG_CHOICES = ("auto", "x", "y", "xy", "none")
SIZE_LIMITS = (100, 10_000)  # pixels of a side
DPI_LIMITS = (30, 600)


def wide_span(values: Sequence[float]) -> bool:
    """Whether positive ``values`` span more than :data:`LOG_SPAN` times."""
    low = min(values, default=0)
    return low > 0 and max(values) > LOG_SPAN * low


def middle(values: Sequence[float]) -> float:
    """The median of ``values`` (0 for none): the value that picks an axis' unit."""
    ordered = sorted(abs(v) for v in values)
    return ordered[len(ordered) // 2] if ordered else 0.0


def labelled(points: Sequence[tuple[float, float]], logs: tuple[bool, bool]) -> list[int]:
    """Indexes of front points to label (in order along x): each at least a tenth of
    the plot's diagonal (in axis units, log where the axis is) from the last labelled."""
    import math

    def axis(value: float, log: bool) -> float:
        return math.log10(value) if log and value > 0 else value

    shown = [(axis(u, logs[0]), axis(v, logs[1])) for u, v in points]
    spans = [max(c) - min(c) or 1.0 for c in zip(*shown, strict=True)] if shown else [1.0, 1.0]
    chosen: list[int] = []
    for index, (u, v) in enumerate(shown):
        if not chosen:
            chosen.append(index)
            continue
        lu, lv = shown[chosen[-1]]
        if math.hypot((u - lu) / spans[0], (v - lv) / spans[1]) >= 0.1:
            chosen.append(index)
    return chosen


def scale_axes(axes: Any, values: tuple[list[float], list[float]], logs: tuple[bool, bool]) -> None:
    """Linear or log axes with plain tick labels (``1,000``, not ``10^3``), margins, legend
    and grid."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    axes.set_xscale("log" if logs[0] else "linear")
    axes.set_yscale("log" if logs[1] else "linear")
    plain = FuncFormatter(lambda value, _: f"{value:,.6g}")
    for axis, shown, log in zip((axes.xaxis, axes.yaxis), values, logs, strict=True):
        axis.set_major_formatter(plain)
        if log:  # minor ticks labelled (2, 3, 5...) only on an axis under about two decades
            axis.set_minor_formatter(plain if max(shown) < 70 * min(shown) else NullFormatter())
    axes.margins(0.06)
    axes.legend(loc="lower right", fontsize=8)
    axes.grid(alpha=0.3, which="both" if any(logs) else "major")


def save_plot(
    path: str,
    rows: Sequence[Row],
    front: Sequence[Row],
    x: str,
    y: str,
    title: str,
    style: PlotStyle | None = None,
) -> None:
    """Write the scatter (coloured by input resolution) and its front to ``path`` (png, svg
    or pdf by extension), each axis in its figure's unit (:func:`axis_scale`), front points
    labelled ``width/resolution`` where they do not crowd each other."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(
            "plotting to a file needs matplotlib: pip install 'lightcost[plot]'"
        ) from None
    style = style or PlotStyle()
    (width, height), dpi = style.size, style.dpi
    figure, axes = plt.subplots(figsize=(width / dpi, height / dpi), dpi=dpi)
    fx, fy = FIGURES[x], FIGURES[y]
    x_scale, y_scale = (axis_scale(f.unit, middle([r[f.name] for r in rows])) for f in (fx, fy))

    def points(chosen: Sequence[Row]) -> tuple[list[float], list[float]]:
        return [x_scale.of(r[x]) for r in chosen], [y_scale.of(r[y]) for r in chosen]

    xs, ys = points(rows)
    logs = style.logs(xs, ys)
    cloud = axes.scatter(
        xs, ys, s=9, c=[r["resolution"] for r in rows], cmap="viridis", alpha=0.7,
        linewidths=0, label="configurations",
    )  # fmt: skip
    figure.colorbar(cloud, ax=axes, pad=0.02).set_label("input resolution")
    ordered = sorted(front, key=lambda r: r[x])
    fxs, fys = points(ordered)
    axes.plot(fxs, fys, "-", color="C3", linewidth=1.2, label="Pareto front")
    axes.scatter(fxs, fys, s=22, facecolors="none", edgecolors="C3", linewidths=1, zorder=3)
    for turn, index in enumerate(labelled(list(zip(fxs, fys, strict=True)), logs)):
        row = ordered[index]
        axes.annotate(
            f"{row['width']:g}/{resolution_text(row_sides(row))}",
            (fxs[index], fys[index]),
            fontsize=7,
            xytext=(-8, 7) if turn % 2 else (8, -11),
            ha="right" if turn % 2 else "left",
            textcoords="offset points",
            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8},
        )
    scale_axes(axes, (xs, ys), logs)
    axes.set_xlabel(fx.axis_label(x_scale))
    axes.set_ylabel(fy.axis_label(y_scale))
    axes.set_title(title + " (labels: width/resolution)", fontsize=10)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
