"""Roofline latency, device profiles (bundled, invalid, calibrated) and the new figures."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from conftest import Invoke
from lightcost import SpecError, analyze
from lightcost.cost.figures import FIGURES
from lightcost.cost.latency import (
    Device,
    bundled_devices,
    devices_dir,
    dump_device,
    kernel_time,
    layer_time,
    load_device,
)
from lightcost.ops import Kernel

TOY = Device("toy", {"fp32": 1e12, "fp16": 4e12}, bandwidth=1e11, kernel_overhead=1e-6)


def test_kernel_time_is_the_roofline_plus_overhead() -> None:
    # compute-bound: 2 * 5e8 / 1e12 = 1 ms against 1e6 * 4 / 1e11 = 40 us
    assert kernel_time(Kernel("conv", 500_000_000, 1_000_000), TOY, "fp32") == pytest.approx(
        1e-3 + 1e-6
    )
    # memory-bound: 2 * 1e3 / 1e12 = 2 ns against 1e6 * 4 / 1e11 = 40 us
    assert kernel_time(Kernel("relu", 1000, 1_000_000), TOY, "fp32") == pytest.approx(41e-6)
    # fp16: half the bytes and the fp16 peak
    assert kernel_time(Kernel("relu", 0, 1_000_000), TOY, "fp16") == pytest.approx(21e-6)
    assert layer_time([], TOY, "fp32") == 0.0  # a view launches nothing


def test_model_latency_sums_the_kernels() -> None:
    cost = analyze("mobilenet_v2", device=TOY, execution="unfused")
    for layer in cost.layers:
        assert layer.latency == pytest.approx(
            sum(kernel_time(k, TOY, "fp32") for k in layer.kernels)
        )
    total = cost.total().latency
    assert total == pytest.approx(sum(layer.latency or 0 for layer in cost.layers))
    assert FIGURES["latency"].get(cost) == total
    assert analyze("mobilenet_v2").total().latency is None


def test_bundled_profiles_state_their_spec_sheet_numbers() -> None:
    assert bundled_devices() == ["gtx1080ti", "snapdragon810_a57"]
    gpu = load_device("gtx1080ti")
    # 2 FLOP x 3584 CUDA cores x 1.582 GHz; 11 Gbps x 352 bit / 8
    assert gpu.flops("fp32") == pytest.approx(2 * 3584 * 1.582e9, rel=1e-3)
    assert gpu.bandwidth == pytest.approx(11e9 * 352 / 8)
    arm = load_device("snapdragon810_a57.yaml")
    assert arm.flops("fp32") == pytest.approx(8 * 1.958e9, rel=1e-3)
    assert arm.bandwidth == pytest.approx(2 * 4 * 2 * 1555e6, rel=1e-3)
    with pytest.raises(SpecError, match="no peak_flops for int8"):
        analyze("mobilenet_v2", device=arm, dtype="int8")
    for name in bundled_devices():
        assert "Sources" in Path(devices_dir(), f"{name}.yaml").read_text(), name


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\npeak_flops: 1e12\nbandwidth: 1e9\n", "device profile needs 'kernel_overhead'"),
        (
            "name: x\npeak_flops: 1e12\nbandwidth: 1e9\nkernel_overhead: 0\nbandwith: 2\n",
            "unknown key 'bandwith' in device profile, did you mean 'bandwidth'?",
        ),
        (
            "name: x\npeak_flops: 1e12\nbandwidth: -5\nkernel_overhead: 0\n",
            "bandwidth must be a number from 1e\\+06 to 1e\\+15 bytes/s, got -5",
        ),
        (
            "name: x\npeak_flops: fast\nbandwidth: 1e9\nkernel_overhead: 0\n",
            "peak_flops must be a number from 1e\\+06 to 1e\\+18 FLOP/s, got 'fast'",
        ),
        (
            "name: x\npeak_flops: {fp64: 1}\nbandwidth: 1\nkernel_overhead: 0\n",
            "unknown key 'fp64' in peak_flops",
        ),
        (
            "name: x\npeak_flops: 1e12\nbandwidth: 1e9\nkernel_overhead: true\n",
            "kernel_overhead must be a number from 0 to 1 s, got True",
        ),
        ("- just a list\n", "a device profile must be a mapping"),
    ],
)
def test_invalid_profiles_are_located_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(SpecError, match=message) as info:
        load_device(str(path))
    assert str(info.value).startswith(str(path))


def test_unknown_device_names_the_bundled_ones() -> None:
    with pytest.raises(SpecError, match=r"did you mean 'gtx1080ti'\?.*snapdragon810_a57"):
        load_device("gtx1080")


def test_a_dumped_profile_loads_back(tmp_path: Path) -> None:
    path = tmp_path / "toy.yaml"
    path.write_text(dump_device(TOY, "a comment\nover two lines"))
    assert path.read_text().startswith("# a comment\n# over two lines\n")
    assert load_device(str(path)) == TOY


def test_table_with_a_device_prints_latency_per_layer_and_in_total(invoke: Invoke) -> None:
    result = invoke("table", "mobilenet_v2", "--device", "gtx1080ti", "--conventions")
    assert result.exit_code == 0, result.output
    out = result.stdout
    head = next(line for line in out.splitlines() if "Layer" in line)
    assert "MAC bytes" in head and "Latency µs" in head and "% latency" in head
    cost = analyze("mobilenet_v2", device="gtx1080ti")
    total = next(line for line in out.splitlines() if line.startswith("│ total"))
    assert f"{cost.total().latency * 1e6:,.1f}" in total
    assert f"{cost.total().mac_bytes:,}" in total
    first = next(line for line in out.splitlines() if line.startswith(f"│ {cost.layers[0].name} "))
    assert f"{cost.layers[0].latency * 1e6:,.1f}" in first
    assert "latency: roofline per kernel" in out
    assert "gtx1080ti: 11.34 TFLOP/s (fp32), 484 GB/s, 5 µs per kernel" in out
    assert f"peak activation memory: {cost.activations.peak:,} B (5.74 MiB, fp32)" in out


def test_machine_outputs_carry_the_new_figures(invoke: Invoke) -> None:
    args = (
        "table",
        "mobilenet_v2",
        "--device",
        "gtx1080ti",
        "--exec",
        "unfused",
        "--dtype",
        "fp16",
    )
    document = json.loads(invoke(*args, "--format", "json").stdout)
    cost = analyze("mobilenet_v2", execution="unfused", dtype="fp16", device="gtx1080ti")
    expected = {"execution": "unfused", "dtype": "fp16", "device": "gtx1080ti"}
    assert document["config"].items() >= expected.items()
    first = document["layers"][0]
    assert first["mac_bytes"] == 2 * first["mac"] == cost.layers[0].mac_bytes
    assert first["kernels"] == 3  # conv, BN, ReLU6
    assert first["latency"] == pytest.approx(cost.layers[0].latency)
    totals = document["totals"]
    assert totals["latency"] == pytest.approx(cost.total().latency)
    assert totals["peak_activation_bytes"] == cost.activations.peak
    assert document["activation_memory"]["peak_at"] == cost.activations.peak_at
    assert len(document["activation_memory"]["steps"]) == len(cost.layers)
    assert document["device"]["bandwidth"] == 484e9
    assert "unfused" in document["conventions"]["mac"]
    rows = list(csv.DictReader(io.StringIO(invoke(*args, "--format", "csv").stdout)))
    assert float(rows[0]["latency"]) == pytest.approx(cost.layers[0].latency)
    assert int(rows[0]["mac_bytes"]) == cost.layers[0].mac_bytes
    plain = json.loads(invoke("table", "mobilenet_v2", "--format", "json").stdout)
    assert plain["layers"][0]["latency"] is None and plain["device"] is None
    assert plain["config"]["execution"] == "fused" and plain["config"]["dtype"] == "fp32"


def test_memory_options_add_the_mac_column_only_when_asked(invoke: Invoke) -> None:
    plain = invoke("table", "mobilenet_v1", "--format", "markdown").stdout
    assert "MAC bytes" not in plain and "Latency" not in plain
    assert "peak activation memory:" in plain
    unfused = invoke("table", "mobilenet_v1", "--exec", "unfused", "--format", "markdown").stdout
    assert "| MAC bytes |" in unfused and "Latency" not in unfused
    assert unfused.splitlines()[3] == "|---|---|---|---:|---:|---:|---:|---:|"


def test_bad_device_option_is_a_spec_error(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke("table", "mobilenet_v2", "--device", "nosuch")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: no device profile file 'nosuch'")
    result = invoke("table", "mobilenet_v2", "--device", "snapdragon810_a57", "--dtype", "fp16")
    assert result.exit_code == 2
    assert "has no peak_flops for fp16" in result.stderr


def test_figures_of_memory_and_latency() -> None:
    cost = analyze("mobilenet_v2", dtype="int8")
    assert FIGURES["mac_bytes"].get(cost) == cost.total().mac
    assert FIGURES["peak_activation"].get(cost) == cost.activations.peak
    assert FIGURES["latency"].device and not FIGURES["mac"].device
    assert (FIGURES["mac_bytes"].unit, FIGURES["latency"].unit) == ("B", "s")
    with pytest.raises(SpecError, match="needs a device profile"):
        FIGURES["latency"].get(cost)


def test_calibrate_writes_a_profile_that_loads_back(invoke: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "here.yaml"
    args = ("--size", "64", "--mib", "1", "--repeats", "1", "--name", "here")
    result = invoke("calibrate", "-o", str(path), *args)
    assert result.exit_code == 0, result.output
    assert f"wrote {path}: here:" in result.stderr
    device = load_device(str(path))
    assert device.name == "here"
    assert device.flops("fp32") > 1e6 and device.bandwidth > 1e6 and device.kernel_overhead > 0
    assert "Measured by `lightcost calibrate`" in path.read_text()
    table = invoke("table", "mobilenet_v2", "--device", str(path))
    assert table.exit_code == 0, table.output
    assert "Latency µs" in table.stdout
    printed = invoke("calibrate", *args)
    assert printed.stdout.startswith("# Measured by `lightcost calibrate`")
