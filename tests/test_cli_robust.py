"""Hostile command lines: options, ranges, output streams and files (one line, exit 2).

Ranges are counted before they are built (a huge one fails at once, in a few MB);
``-o`` files are written whole or not at all; a failing or closed standard output,
an encoding without box drawing and Ctrl-C at any moment end cleanly. Subprocess
tests run the installed ``lightcost`` command, as a shell or CI job would.
"""

from __future__ import annotations

import json
import os
import random
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import lightcost
import lightcost.analysis.sweep as sweep_module
from conftest import Invoke
from lightcost import analyze
from lightcost.analysis.rows import Rows
from lightcost.analysis.sweep import pareto, parse_range, range_count, sweep
from lightcost.render.tradeoffs import rows_csv, rows_json

SCRIPT = os.path.join(os.path.dirname(sys.executable), "lightcost")
HAS_DEV_FULL = os.path.exists("/dev/full")


def run(
    *args: str, env: dict[str, str] | None = None, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    """``lightcost ARGS`` as a child process (text output, no colour)."""
    streams = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **kwargs}
    return subprocess.run(
        [SCRIPT, *args],
        text=True,
        env={**os.environ, "NO_COLOR": "1", **(env or {})},
        timeout=120,
        check=False,
        **streams,
    )


def one_error_line(stderr: str, fragment: str) -> None:
    """Exactly one line, ``error: ...`` with ``fragment``, and no traceback."""
    assert "Traceback" not in stderr
    assert stderr.count("\n") == 1 and stderr.startswith("error: "), stderr
    assert fragment in stderr, stderr


# -- ranges: counted before built, bounded, the bound raised with --max-configs -----------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        # 10^11 resolutions: the list alone took 4 GiB before the check (exit 3, or killed)
        (
            ("sweep", "mobilenet_v1", "--res", "1:100000000000:1"),
            "3,600,000,000,000 configurations",
        ),
        # infinities and a step count beyond a float: OverflowError, exit 3
        (("sweep", "mobilenet_v1", "--width", "0:inf:1"), "range start:stop:step of finite"),
        (("sweep", "mobilenet_v1", "--width", "0.5:1e300:1e-300"), "over 10^15 widths"),
        (("sweep", "mobilenet_v1", "--res", "1:1" + "0" * 400 + ":1"), "over 10^15 configurations"),
        # 2.4 M valid configurations ran past 600 s at 809 MiB
        (("sweep", "mobilenet_v1", "--res", "1:65536:1"), "2,359,296 configurations"),
        (
            ("compare", "--width", "0.0001:16:0.0001"),
            "160,000 widths, more than the limit of 10,000",
        ),
        (("compare", "--width", "0.25:1:0.25", "--res", "2:65536:2"), "limit of 10,000 of compare"),
        # a raised limit still builds no more resolutions than can be valid
        (
            ("sweep", "mobilenet_v1", "-w", "1", "-r", "1:10000000:1", "--max-configs", "99999999"),
            "gives 10,000,000 values, more than the limit of 65,536",
        ),
    ],
)
def test_ranges_are_counted_before_they_are_built(
    invoke: Invoke, args: tuple[str, ...], message: str
) -> None:
    result = invoke(*args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_max_configs_raises_the_limit(invoke: Invoke) -> None:
    grid = ("sweep", "mobilenet_v1", "-w", "0.25,0.5", "-r", "128:224:32")  # 2 x 4 = 8
    refused = invoke(*grid, "--max-configs", "7")
    assert refused.exit_code == 2
    assert "8 configurations (widths x resolutions), more than the limit of 7" in refused.stderr
    assert invoke(*grid, "--max-configs", "8").exit_code == 0


@pytest.mark.parametrize(
    ("text", "integer"),
    [("0.25:2.0:0.05", False), ("96:320:16", True), ("1,0.75,0.5", False), ("0.1:0.3:0.1", False)],
)
def test_range_count_is_the_length_of_the_range(text: str, integer: bool) -> None:
    assert range_count(text, integer) == len(parse_range(text, integer))


def test_parse_range_refuses_more_than_its_limit() -> None:
    with pytest.raises(ValueError, match="gives 101 values, more than the limit of 100"):
        parse_range("0:100:1", True, limit=100)


# -- the sweep: invalid resolutions found by halving, rows held as columns ----------------------


def test_small_resolutions_do_not_send_a_width_to_the_scalar_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Resolutions 1..40 of MobileNetV1 start with invalid ones (the input shrinks to zero):
    # the vectorized passes are halved around them, and only they are tried one by one.
    # Before, the whole group fell back to one expansion per configuration.
    costed: list[int] = []
    real = sweep_module.scalar_figures

    def scalar(*args: Any) -> Any:
        costed.append(1)
        return real(*args)

    monkeypatch.setattr(sweep_module, "scalar_figures", scalar)
    result = sweep("xception", [0.5, 1.0], list(range(1, 41)))
    assert costed == []  # no valid configuration was costed one at a time
    assert result.count == 80 and result.errors
    invalid = {(w, r) for w, r, _ in result.errors}
    for row in result.rows[::7]:
        assert (row["width"], row["resolution"]) not in invalid
        cost = analyze("xception", width=row["width"], resolution=row["resolution"])
        assert row["madds"] == cost.total().madds


def test_rows_front_equals_pareto_on_dicts() -> None:
    import numpy as np

    rng = random.Random(7)
    count = 3000
    columns = {
        "width": np.array([rng.choice([0.25, 0.5, 1.0]) for _ in range(count)]),
        "resolution": np.arange(count, dtype=np.int64),
        "madds": np.array([rng.randrange(50) for _ in range(count)], dtype=np.int64),  # ties
        "latency": np.array([rng.choice([0.5, 0.25, 1.0, 2.0]) for _ in range(count)]),
    }
    rows = Rows(columns)
    dicts = list(rows)
    for x_max in (False, True):
        for y_max in (False, True):
            assert rows.front("madds", "latency", x_max, y_max) == pareto(
                dicts, "madds", "latency", x_max, y_max
            )
            assert pareto(rows, "madds", "latency", x_max, y_max) == pareto(
                dicts, "madds", "latency", x_max, y_max
            )


def test_streamed_json_and_csv_equal_the_whole_documents() -> None:
    # 20,000 rows: three blocks of Rows.chunks; the text equals json.dumps / csv of the dicts
    result = sweep("mobilenet_v1", [0.25 + 0.25 * i for i in range(4)], list(range(32, 5032)))
    assert len(result.rows) == 20_000
    dicts = list(result.rows)
    document = {
        "spec": "mobilenet_v1",
        "variant": "",
        "batch": 1,
        "configurations": dicts,
        "errors": [],
    }
    version = {"lightcost_version": lightcost.__version__}
    assert rows_json(result) == json.dumps(version | document, indent=2)
    lines = rows_csv(result).splitlines()
    assert lines[0] == ",".join(["width", "resolution", *result.figures])
    assert lines[-1] == ",".join(str(v) for v in dicts[-1].values())
    assert len(lines) == 20_001


SHIM = (  # a small parent: Linux keeps a parent's peak RSS at fork in the child's ru_maxrss
    "import resource, subprocess, sys; "
    "quiet = subprocess.DEVNULL; "
    "subprocess.run(sys.argv[1:], stdout=quiet, stderr=quiet, check=True); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def peak_mib(args: list[str]) -> float:
    """Peak RSS (MiB) of ``lightcost ARGS`` run as a child of a small Python process."""
    done = subprocess.run(
        [sys.executable, "-c", SHIM, SCRIPT, *args], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return int(done.stdout) / 1024  # Linux: KiB


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss in KiB on Linux")
def test_sweep_memory_stays_flat(tmp_path: Path) -> None:
    # 100,000 configurations to CSV: 628 MiB as dicts; as columns, written in blocks, ~70 MiB.
    # (benchmarks/sweep.py measures 10^6.)
    out = tmp_path / "grid.csv"
    args = ["sweep", "mobilenet_v2", "-w", "0.2:2.175:0.025", "-r", "32:1280:1", "--no-progress"]
    assert peak_mib([*args, "-o", str(out)]) < 150
    assert out.read_text().count("\n") == 80 * 1249 + 1


# -- -o files: written whole or not at all ----------------------------------------------------


def exported_onnx(tmp_path: Path) -> Path:
    pytest.importorskip("onnx")
    model = tmp_path / "model.onnx"
    assert run("export", "mobilenet_v1", "--res", "64", "-o", str(model)).returncode == 0
    return model


def outputs(tmp_path: Path) -> list[list[str]]:
    """One command per writer of ``-o``; each writes more than a few hundred bytes."""
    model = exported_onnx(tmp_path)
    return [
        ["sweep", "mobilenet_v1", "-w", "0.5,1", "-r", "128,160"],
        ["import", str(model)],
        ["export", "mobilenet_v1", "--res", "64"],
        ["calibrate", "--size", "16", "--mib", "1", "--repeats", "1"],
    ]


@pytest.mark.skipif(not HAS_DEV_FULL, reason="needs /dev/full")
def test_a_full_device_is_one_error_line(tmp_path: Path) -> None:
    for args in outputs(tmp_path):
        done = run(*args, "-o", "/dev/full")
        assert done.returncode == 2, (args, done.stderr)
        one_error_line(done.stderr, "error: /dev/full: cannot write: No space left on device")


def limit_file_size() -> None:
    """In the child: files may not grow past 300 bytes (a write beyond fails with EFBIG)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (300, 300))


@pytest.mark.skipif(not hasattr(resource, "RLIMIT_FSIZE"), reason="needs RLIMIT_FSIZE")
def test_a_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    commands = outputs(tmp_path)
    for index, args in enumerate(commands):
        target = tmp_path / f"out{index}.csv"
        target.write_text("old\n")
        done = run(*args, "-o", str(target), preexec_fn=limit_file_size)
        assert done.returncode == 2, (args, done.stderr)
        one_error_line(done.stderr, f"error: {target}: cannot write: File too large")
        assert target.read_text() == "old\n"  # before: truncated, half written
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")) == []


def test_a_replaced_file_keeps_its_permissions(invoke: Invoke, tmp_path: Path) -> None:
    target = tmp_path / "grid.csv"
    target.write_text("old\n")
    target.chmod(0o640)
    assert invoke("sweep", "mobilenet_v1", "-w", "1", "-r", "224", "-o", str(target)).exit_code == 0
    assert target.read_text().startswith("width,resolution,")
    assert target.stat().st_mode & 0o777 == 0o640


# -- standard output: full, closed, an encoding without box drawing --------------------------


@pytest.mark.skipif(not HAS_DEV_FULL, reason="needs /dev/full")
@pytest.mark.parametrize("fmt", ["table", "json"])
def test_a_full_standard_output_is_one_error_line(fmt: str) -> None:
    with open("/dev/full", "w") as full:
        done = run("table", "mobilenet_v1", "-f", fmt, stdout=full)
    assert done.returncode == 2
    one_error_line(done.stderr, "error: standard output: cannot write: No space left on device")


def test_a_closed_standard_output_is_one_error_line() -> None:
    done = subprocess.run(
        f"'{SCRIPT}' table mobilenet_v1 >&-", shell=True, capture_output=False,
        stderr=subprocess.PIPE, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    one_error_line(done.stderr, "error: standard output: cannot write: the stream is closed")


def test_a_reader_that_leaves_is_not_an_error() -> None:
    done = subprocess.run(
        f"'{SCRIPT}' table mobilenet_v1 | head -1", shell=True, capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.startswith("mobilenet_v1")


@pytest.mark.parametrize("encoding", ["cp1252", "ascii", "latin-1"])
def test_box_drawing_falls_back_to_ascii(encoding: str) -> None:
    env = {"PYTHONIOENCODING": encoding}
    done = run("table", "mobilenet_v1", "--device", "gtx1080ti", env=env, encoding=encoding)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[1].startswith("+----") and lines[2].startswith("| Layer")
    done.stdout.encode(encoding)  # everything it wrote is in the encoding
    assert ("Latency µs" if encoding != "ascii" else "Latency us") in done.stdout


# -- Ctrl-C at any moment: exit 130, no traceback, no temporary file left ----------------------


def started(pid: int) -> bool:
    """Whether the child runs lightcost's own code yet: it has loaded PyYAML's C extension.

    (The interpreter's own start-up, before the first line of ``lightcost.__main__``, is
    beyond any program's reach: an interrupt there is Python's.)
    """
    try:
        return "yaml" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return True  # no /proc (or the child ended): go ahead


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
@pytest.mark.parametrize("command", ["table", "sweep"])
def test_ctrl_c_exits_130_without_a_traceback(command: str, tmp_path: Path) -> None:
    target = tmp_path / "grid.csv"
    target.write_text("old\n")
    args = {
        "table": ["table", "mobilenet_v1"],
        "sweep": ["sweep", "mobilenet_v2", "-r", "32:1280:2", "--no-progress", "-o", str(target)],
    }[command]
    rng = random.Random(command)
    for attempt in range(6):
        child = subprocess.Popen([SCRIPT, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        while not started(child.pid):
            time.sleep(0.001)
        # the first moments of lightcost's code, then (a sweep) any moment, writing included
        time.sleep(rng.uniform(0, 0.05) if attempt < 3 else rng.uniform(0.05, 1.5))
        child.send_signal(signal.SIGINT)
        _, stderr = child.communicate(timeout=60)
        assert b"Traceback" not in stderr and b"Aborted" not in stderr, stderr.decode()
        if child.returncode in (0, -signal.SIGINT) and (attempt >= 3 or command == "table"):
            # `table` is done ~30 ms after loading yaml. It finished first (0), or was in
            # Python's own shutdown, which restores the default action: ended by the
            # signal, which a shell reports as 130 too. (A sweep runs a second or more.)
            if command == "sweep" and target.read_text() != "old\n":
                assert target.read_text().count("\n") == 36 * 625 + 1  # whole
                target.write_text("old\n")
            continue
        assert child.returncode == 130, (child.returncode, stderr.decode())
        assert target.read_text() == "old\n"
        assert [p.name for p in tmp_path.iterdir()] == ["grid.csv"]  # no temporary file left


def test_the_entry_point_installs_the_handler_before_anything_heavy() -> None:
    code = (
        "import signal, sys; import lightcost.__main__; "
        "print(signal.getsignal(signal.SIGINT).__module__); "
        "print(sorted(m for m in sys.modules if m.startswith(('lightcost', 'click', 'yaml'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    handler, modules = done.stdout.splitlines()
    assert handler == "lightcost.cli.interrupt"
    assert (
        modules == "['lightcost', 'lightcost.__main__', 'lightcost.cli', 'lightcost.cli.interrupt']"
    )


# -- options Python or numpy refused with an exception ----------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("table", "mobilenet_v1", "--set", "classes=" + "9" * 5000),
            "number too long (5000 digits; at most 30)",
        ),
        (("export", "mobilenet_v1", "--seed", "-1", "-o", "x.onnx"), "-1 is not in the range 0<=x"),
        (("calibrate", "--size", "100000"), "100000 is not in the range 16<=x<=4096"),  # 37 GiB
        (("calibrate", "--mib", "100000"), "100000 is not in the range 1<=x<=512"),
    ],
)
def test_options_out_of_range_exit_2(invoke: Invoke, args: tuple[str, ...], message: str) -> None:
    result = invoke(*args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr) < 400  # the 5,000 digits are not echoed back
