"""Scatter plots of a sweep with its Pareto front: in the terminal, or to a file via matplotlib.

matplotlib is an optional extra (``pip install 'lightcost[plot]'``) imported
only when a file is written, so the CLI stays fast without it. Axis ticks show
values as :meth:`lightcost.cost.figures.Figure.text` does; file plots use the
figure's scale and say it on the axis: "MAdds (millions)", "Estimated latency (ms)".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lightcost.analysis.sweep import row_sides
from lightcost.cost.figures import FIGURES
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
    top, bottom = FIGURES[y].text(y_high), FIGURES[y].text(y_low)
    margin = max(len(top), len(bottom))
    lines = [f"{y_label} (y) vs {x_label} (x); * = Pareto front"]
    for index, cells in enumerate(grid):
        label = top if index == 0 else bottom if index == height - 1 else ""
        lines.append(f"{label:>{margin}} |" + "".join(cells))
    lines.append(" " * margin + " +" + "-" * width)
    left, right = FIGURES[x].text(x_low), FIGURES[x].text(x_high)
    lines.append(" " * (margin + 2) + left + " " * max(1, width - len(left) - len(right)) + right)
    return "\n".join(lines)


def plot_title(spec: str, x: str, y: str) -> str:
    """``mobilenet_v2: Params vs MAdds`` (``$`` in the spec's name escaped for matplotlib)."""
    return f"{mathtext(spec)}: {FIGURES[y].label} vs {FIGURES[x].label}"


def save_plot(
    path: str, rows: Sequence[Row], front: Sequence[Row], x: str, y: str, title: str
) -> None:
    """Write the scatter and its front to ``path`` (png, svg or pdf by extension).

    The figure is 8 x 5 inches at 100 dpi: a PNG is 800 x 500 pixels.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(
            "plotting to a file needs matplotlib: pip install 'lightcost[plot]'"
        ) from None
    figure, axes = plt.subplots(figsize=(8, 5), dpi=100)
    x_scale, y_scale = FIGURES[x].scale, FIGURES[y].scale

    def points(chosen: Sequence[Row]) -> tuple[list[float], list[float]]:
        return [x_scale.of(r[x]) for r in chosen], [y_scale.of(r[y]) for r in chosen]

    axes.scatter(*points(rows), s=8, color="0.7", label="configurations")
    ordered = sorted(front, key=lambda r: r[x])
    axes.plot(*points(ordered), "o-", color="C3", label="Pareto front")
    step = max(1, len(ordered) // 10)  # label about ten front points with width/resolution
    for row in ordered[::step]:
        axes.annotate(
            f"{row['width']:g}/{resolution_text(row_sides(row))}",
            (x_scale.of(row[x]), y_scale.of(row[y])),
            fontsize=7,
            xytext=(4, -8),
            textcoords="offset points",
        )
    axes.set_xlabel(FIGURES[x].axis_label)
    axes.set_ylabel(FIGURES[y].axis_label)
    axes.set_title(title + " (labels: width/resolution)")
    axes.legend(loc="lower right")
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
