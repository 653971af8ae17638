"""docs/limits.md states the limits the code enforces (each constant next to its phrase)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lightcost.analysis import budgets, compare, diff, repository, sweep
from lightcost.cli import calibrate, measure, options
from lightcost.core import errors, graph
from lightcost.cost import engine, latency
from lightcost.render import escape, layout, plot, view
from lightcost.spec import located

DOC = (Path(__file__).resolve().parent.parent / "docs" / "limits.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("value", "expected", "phrase"),
    [
        (located.MAX_BYTES, 4 * 2**20, "at most 4 MiB + 1 byte is read"),
        (errors.MAX_DIGITS, 30, "at most 30 digits"),
        (graph.MAX_NAME, 128, "at most 128 characters"),
        (latency.RANGES["peak_flops"][:2], (1e6, 1e18), "1e6 to 1e18 FLOP/s"),
        (latency.RANGES["bandwidth"][:2], (1e6, 1e15), "1e6 to 1e15 bytes/s"),
        (latency.RANGES["kernel_overhead"][:2], (0, 1), "0 to 1 s"),
        (diff.GIT_TIMEOUT, 30.0, "30 s per command"),
        (sweep.MAX_CONFIGS, 1_000_000, "at most 1,000,000 configurations"),
        (sweep.MAX_WIDTHS, 10_000, "at most 10,000 widths"),
        (compare.MAX_GRID, 10_000, "`compare` grids | at most 10,000 configurations"),
        (options.MAX_CONFIGS_CEILING, 10**8, "up to 10^8"),
        (
            (calibrate.MAX_SIZE, calibrate.MAX_MIB, calibrate.MAX_REPEATS),
            (4096, 512, 20),
            "`--size` at most 4096, `--mib` at most 512, `--repeats` at most 20",
        ),
        (
            (measure.MAX_THREADS, measure.MAX_ROUNDS),
            (256, 200),
            "`--threads` at most 256, `--rounds` at most 200",
        ),
        (escape.NAME_LIMIT, 48, "cut to 48 characters"),
        (budgets.MAX_MATCHES, 1000, "a glob matching more than 1,000 paths"),
        (repository.MAX_PARENTS, 64, "at most 64 levels, looking for `.git`"),
        (engine.MAX_BATCH, 2**16, "`--batch N` | 1 to 65,536"),
        (
            (plot.SIZE_LIMITS, plot.DPI_LIMITS),
            ((100, 10_000), (30, 600)),
            "`--size` 100 to 10,000 pixels a side, `--dpi` 30 to 600",
        ),
        (view.MAX_VIEW_LAYERS, 5000, "at most 5,000 layers"),
        (layout.MAX_BENDS, 100_000, "at most 100,000 drawn over all edges"),
    ],
)
def test_docs_state_each_limit(value: object, expected: object, phrase: str) -> None:
    assert value == expected
    assert phrase in DOC


def test_docs_state_the_onnx_limits() -> None:
    pytest.importorskip("onnx")
    from lightcost.interop.onnx import exporter, importer, wire, writer
    from lightcost.interop.onnx import model as onnx_model

    assert (wire.MAX_FILE_BYTES, wire.MAX_STRUCTURE_BYTES) == (2**31 - 1, 64 * 2**20)
    assert (wire.MAX_NODES, wire.MAX_FIELDS, wire.MAX_CONST_BYTES) == (100_000, 1_000_000, 4096)
    assert (importer.MAX_LAYERS, onnx_model.MAX_NAME, writer.MAX_TEXT) == (20_000, 100, 200)
    assert exporter.MAX_VALUES == 2**26
    from lightcost.interop.onnx import regions
    from lightcost.ops import tokens

    assert (regions.MAX_TRAIL, tokens.MAX_CHAIN) == (64, 8)
    for phrase in (
        "at most 2 GiB",
        "at most 64 MiB of structure",
        "at most 100,000 nodes and 1,000,000 protobuf fields",
        "every tensor over 4 KiB",
        "at most 20,000",
        "layer names at most 100 characters",
        "description and source at most 200",
        "at most 2^26 weight values",
        "at most 64 nodes from one tensor",
        "at most 8 Reshapes and Transposes",
    ):
        assert phrase in DOC
