"""Hostile ONNX files in and out: one located line and exit 2, bounded time and memory.

Costing reads an ONNX file's structure, never its weights
(``lightcost.interop.onnx.wire``); export makes at most ``MAX_VALUES`` weight
values, checked before making them (``lightcost.interop.onnx.exporter``).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_limits import run_measured
from test_onnx import conv_node, init, model

from conftest import Invoke
from lightcost.api import analyze, build
from lightcost.core.errors import SpecError
from lightcost.core.graph import MAX_NAME
from lightcost.spec.located import parse_yaml
from lightcost.spec.nodes import MAX_GRAPH_NODES

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402

from lightcost.interop.onnx import exporter, importer, wire, writer  # noqa: E402
from lightcost.interop.onnx import model as onnx_model  # noqa: E402

PEAK_MARGIN_MIB = 24  # what costing a model may use beyond costing a tiny one


# -- building models -------------------------------------------------------------------------


def key(field: int, wire_type: int) -> bytes:
    return wire._varint(field << 3 | wire_type)


def field(number: int, body: bytes) -> bytes:
    """A length-delimited protobuf field."""
    return key(number, 2) + wire._varint(len(body)) + body


def relu_chain(
    count: int, name: bytes = b"", op: bytes = b"Relu", graph_name: bytes = b""
) -> bytes:
    """The bytes of a model whose graph ``graph_name`` is ``count`` nodes ``op`` (named
    ``name``) on ``x`` (bytes: a string field may hold invalid UTF-8)."""
    relu = field(1, b"x") + field(2, b"x") + field(3, name) + field(4, op)
    graph = field(1, relu) * count + field(11, _value_info("x")) + field(12, _value_info("x"))
    return (
        field(7, graph + field(2, graph_name)) + field(8, key(2, 0) + b"\x11") + key(1, 0) + b"\x08"
    )


def _value_info(name: str) -> bytes:
    dims = b"".join(field(1, key(1, 0) + wire._varint(d)) for d in (1, 3, 8, 8))
    tensor_type = key(1, 0) + b"\x01" + field(2, dims)
    return field(1, name.encode()) + field(2, field(1, tensor_type))


def conv_model(weight: TensorProto) -> Any:
    """x [1, 3, 8, 8] -> 3x3 Conv with ``weight`` (64 x 3 x 3 x 3 by its dims)."""
    return model([conv_node("conv", "x", weight.name, kernel_shape=[3, 3], pads=[1] * 4)],
                 (3, 8, 8), [weight])  # fmt: skip


def big_weight(raw: bytes | None = None) -> TensorProto:
    """A 64 x 3 x 3 x 3 conv weight whose data is ``raw`` (default: the right 6,912 bytes,
    more than MAX_CONST_BYTES)."""
    weight = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[64, 3, 3, 3])
    weight.raw_data = bytes(64 * 27 * 4) if raw is None else raw
    return weight


def clip_model(low: TensorProto) -> Any:
    """Relu6 as Clip(x, ``low``, 6)."""
    six = init("six", values=np.float32(6.0))
    return model([helper.make_node("Clip", ["x", low.name, "six"], ["y"], name="clip")],
                 (3, 8, 8), [low, six])  # fmt: skip


def external(tensor: TensorProto, location: str) -> TensorProto:
    """``tensor`` with its data in the external file ``location``."""
    size = len(tensor.raw_data)
    tensor.ClearField("raw_data")
    tensor.data_location = TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", "0"), ("length", str(size))):
        tensor.external_data.add(key=k, value=v)
    return tensor


def save(proto_or_bytes: Any, path: Path) -> Path:
    data = (
        proto_or_bytes if isinstance(proto_or_bytes, bytes) else proto_or_bytes.SerializeToString()
    )
    path.write_bytes(data)
    return path


def exported() -> bytes:
    graph = build("m.yaml", text="input: [3, 16, 16]\nlayers:\n  - {op: conv, k: 3, out: 8}\n")
    return bytes(exporter.export_graph(graph).SerializeToString())


# -- the corpus: each bad file with its one-line message --------------------------------------


def truncated(tmp_path: Path) -> bytes:
    return exported()[:-7]


def too_many_fields(tmp_path: Path) -> bytes:
    unpacked = (key(4, 5) + b"\x00\x00\x80\x3f") * (wire.MAX_FIELDS + 1)  # float_data, unpacked
    return field(7, field(5, key(1, 0) + b"\x01" + unpacked))


def huge_clip_bound(tmp_path: Path) -> bytes:
    low = init("low", values=np.zeros(2048, dtype=np.float32))
    return bytes(clip_model(low).SerializeToString())


def external_clip_bound(tmp_path: Path) -> bytes:
    (tmp_path / "low.bin").write_bytes(bytes(4))
    return bytes(
        clip_model(external(init("low", values=np.float32(0)), "low.bin")).SerializeToString()
    )


def malformed_clip_bound(tmp_path: Path) -> bytes:
    low = TensorProto(name="low", data_type=TensorProto.FLOAT, dims=[], raw_data=b"\x00\x00\x00")
    return bytes(clip_model(low).SerializeToString())


def empty_clip_bound(tmp_path: Path) -> bytes:
    return bytes(clip_model(init("low", 0)).SerializeToString())


def group_of(value: Any) -> Callable[[Path], bytes]:
    def make(tmp_path: Path) -> bytes:
        conv = conv_model(big_weight())
        conv.graph.node[0].attribute.append(helper.make_attribute("group", value))
        return bytes(conv.SerializeToString())

    return make


BAD_FILES: dict[str, tuple[Callable[[Path], bytes], str]] = {
    "empty file": (lambda tmp: b"", "lightcost needs one graph input, found 0"),
    "random bytes": (
        lambda tmp: b"\xff" * 64,
        "not a readable ONNX model (malformed or truncated protobuf at byte 10)",
    ),
    "truncated": (truncated, "not a readable ONNX model (truncated"),
    "a group field": (lambda tmp: key(7, 3), "malformed protobuf field at byte 0"),
    "nodes past the limit": (
        lambda tmp: relu_chain(wire.MAX_NODES + 1),
        "not a readable ONNX model (the graph has more than 100000 nodes)",
    ),
    "fields past the limit": (too_many_fields, "more than 1000000 protobuf fields"),
    "layers past the limit": (
        lambda tmp: relu_chain(importer.MAX_LAYERS + 1),
        "the model makes 20001 layers, more than lightcost's limit of 20000",
    ),
    "an op type of invalid UTF-8": (
        lambda tmp: relu_chain(1, op=b"R\xffelu"),
        "unsupported ONNX operators: R\ufffdelu x1 (first: node 0); see docs/onnx.md",
    ),
    "a Clip bound of 2048 values": (
        huge_clip_bound,
        "constant 'low' has no inline data of at most 4096 bytes",
    ),
    "a Clip bound in external data": (
        external_clip_bound,
        "constant 'low' has no inline data of at most 4096 bytes",
    ),
    "a Clip bound of 3 bytes": (malformed_clip_bound, "constant 'low' is malformed (ValueError"),
    "an empty Clip bound": (empty_clip_bound, "node 'clip' (Clip): malformed node (IndexError"),
    "a group of text": (
        group_of("x"),
        "node 'conv' (Conv): malformed node (ValueError: invalid literal for int()",
    ),
    "a group of a list": (group_of([1, 2]), "node 'conv' (Conv): malformed node (TypeError: int()"),
}


@pytest.mark.parametrize("name", BAD_FILES)
def test_bad_onnx_files_exit_2_with_one_line_naming_the_file(
    tmp_path: Path, invoke: Invoke, name: str
) -> None:
    make, message = BAD_FILES[name]
    path = save(make(tmp_path), tmp_path / "bad.onnx")
    result = invoke("table", str(path))
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: {path}: ")
    assert message in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_a_file_over_2_gib_is_refused_before_reading(tmp_path: Path, invoke: Invoke) -> None:
    path = tmp_path / "huge.onnx"
    with open(path, "wb") as handle:
        handle.truncate(wire.MAX_FILE_BYTES + 1)  # sparse: no disk used
    result = invoke("table", str(path))
    assert result.exit_code == 2
    assert "file is larger than 2047 MiB (protobuf's limit)" in result.stderr


def test_structure_past_64_mib_is_refused_before_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "doc.onnx"
    size = wire.MAX_STRUCTURE_BYTES + 1
    with open(path, "wb") as handle:  # a doc_string of 64 MiB + 1, never read
        handle.write(key(6, 2) + wire._varint(size))
        handle.truncate(handle.tell() + size)
    with pytest.raises(SpecError, match="more than 64 MiB of model structure"):
        analyze(str(path))


def test_shape_inference_failures_are_never_an_empty_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(model: object) -> None:
        raise MemoryError

    monkeypatch.setattr(onnx.shape_inference, "infer_shapes", fail)
    path = save(conv_model(big_weight()), tmp_path / "m.onnx")
    with pytest.raises(SpecError) as info:
        analyze(str(path))
    assert str(info.value) == f"{path}: ONNX shape inference failed: MemoryError"


def test_reason_is_one_short_clause() -> None:
    assert onnx_model.reason(ValueError()) == "ValueError"
    assert onnx_model.reason(ValueError("a\n  b")) == "ValueError: a b"
    assert len(onnx_model.reason(ValueError("x" * 10_000))) == 300


# -- weights are never read -------------------------------------------------------------------


def test_large_tensors_keep_dims_and_lose_their_data(tmp_path: Path) -> None:
    proto = conv_model(big_weight())
    path = save(proto, tmp_path / "m.onnx")
    with open(path, "rb") as handle:
        kept = onnx.ModelProto.FromString(wire.read_structure(handle, path.stat().st_size))
    weight = kept.graph.initializer[0]
    assert list(weight.dims) == [64, 3, 3, 3] and weight.raw_data == b""
    proto.graph.initializer[0].ClearField("raw_data")
    assert kept == proto  # all else kept, byte for byte


@pytest.mark.parametrize(
    "weight",
    [
        big_weight(b"\x00" * 5000),  # data that does not match the dims: never read
        external(big_weight(), "no_such_file.bin"),  # external data: never loaded
    ],
    ids=["data of the wrong size", "external data missing"],
)
def test_weights_are_never_read(tmp_path: Path, weight: TensorProto) -> None:
    cost = analyze(str(save(conv_model(weight), tmp_path / "m.onnx")))
    assert cost.total().params == 64 * 27


def sparse_model(path: Path, size: int) -> Path:
    """A 1x1 Conv model whose weight holds ``size`` bytes of zeros in a sparse file."""
    weight = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[size // 2**14, 4096, 1, 1])
    proto = model([conv_node("conv", "x", "w")], (4096, 1, 1))
    graph = proto.graph.SerializeToString()
    tensor = weight.SerializeToString() + key(9, 2) + wire._varint(size)  # raw_data follows
    head = key(5, 2) + wire._varint(len(tensor) + size)  # the initializer, last in the graph
    proto.ClearField("graph")
    length = len(graph) + len(head) + len(tensor) + size
    with open(path, "wb") as handle:
        handle.write(proto.SerializeToString() + key(7, 2) + wire._varint(length))
        handle.write(graph + head + tensor)
        handle.truncate(handle.tell() + size)
    return path


def test_a_model_with_256_mib_of_weights_costs_in_the_memory_of_a_tiny_one(
    tmp_path: Path,
) -> None:
    tiny = save(conv_model(big_weight()), tmp_path / "tiny.onnx")
    big = sparse_model(tmp_path / "big.onnx", 256 * 2**20)
    assert analyze(str(big)).total().madds == 2**26
    peaks = []
    for path in (tiny, big):
        code, stderr, _, peak = run_measured(["table", str(path)], tmp_path)
        assert code == 0, stderr
        peaks.append(peak)
    assert peaks[1] < peaks[0] + PEAK_MARGIN_MIB, peaks


# -- export: at most MAX_VALUES weight values, checked before making them ---------------------


def test_export_counts_every_value_it_makes() -> None:
    for name in ("mobilenet_v2", "shufflenet_v2", "mobilenet_v3_small"):
        made = exporter._Exporter(build(name), 0)
        proto = made.run()
        assert made.values == sum(math.prod(t.dims) for t in proto.graph.initializer)


def test_export_past_the_limit_names_the_layer_before_making_its_weights(
    tmp_path: Path,
) -> None:
    spec = tmp_path / "wide.yaml"
    spec.write_text("input: [16384, 1, 1]\nlayers:\n  - {op: conv, k: 1, out: 16384}\n")
    out = tmp_path / "wide.onnx"
    code, stderr, _, peak = run_measured(["export", str(spec), "-o", str(out)], tmp_path)
    assert code == 2
    assert stderr == (
        f"error: {spec}: layer 'conv': the ONNX export would hold more than 67,108,864 weight "
        "values (256 MiB of float32); export a narrower or smaller model (--width, --res)\n"
    )
    assert peak < 200
    assert not out.exists()


def test_export_limit_is_2_to_26_values() -> None:
    assert exporter.MAX_VALUES == 2**26


# -- names and texts from the model -----------------------------------------------------------


HOSTILE = "a\nlayers: []\n# \x1b[2J\u2028" + "b" * 10_000


def test_hostile_names_make_a_safe_bounded_spec(tmp_path: Path, invoke: Invoke) -> None:
    proto = conv_model(big_weight())
    proto.graph.name = HOSTILE
    proto.producer_name = HOSTILE
    proto.graph.node[0].name = HOSTILE
    path = save(proto, tmp_path / "n\nlayers: [].onnx")
    result = invoke("import", str(path))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line[0] for line in lines[:3]] == ["#"] * 3
    assert all(len(line) < 400 and line.isprintable() for line in lines)
    spec = parse_yaml(result.stdout, "imported.yaml")
    assert spec["name"].startswith("a\\nlayers: []\\n# \\x1b[2J\\u2028bbb")
    assert len(spec["name"]) == MAX_NAME and spec["name"].endswith("...")
    assert spec["layers"][0]["name"] == "a_layers_2J_" + "b" * 88


def test_names_of_invalid_utf8_are_text() -> None:
    proto = onnx.ModelProto.FromString(relu_chain(1, b"r\xff1", graph_name=b"g\xff"))
    assert isinstance(proto.graph.node[0].name, bytes)  # what protobuf gives for invalid UTF-8
    spec = importer.onnx_spec(proto, "utf8.onnx")
    assert (spec["name"], spec["layers"][0]["name"]) == ("g\ufffd", "r_1")


def test_many_nodes_of_one_name_are_numbered_in_linear_time() -> None:
    proto = onnx.ModelProto.FromString(relu_chain(20_000, b"r"))
    names = [layer["name"] for layer in importer.onnx_spec(proto, "same.onnx")["layers"]]
    assert names[:3] == ["r", "r_2", "r_3"] and names[-1] == "r_20000"
    assert len(set(names)) == 20_000


def test_limits_are_as_documented() -> None:
    assert (wire.MAX_FILE_BYTES, wire.MAX_STRUCTURE_BYTES) == (2**31 - 1, 64 * 2**20)
    assert (wire.MAX_NODES, wire.MAX_FIELDS, wire.MAX_CONST_BYTES) == (100_000, 10**6, 4096)
    assert (onnx_model.MAX_NAME, writer.MAX_TEXT) == (100, 200)
    assert importer.MAX_LAYERS == MAX_GRAPH_NODES
    for name in ("MAX_FILE_BYTES", "MAX_STRUCTURE_BYTES", "MAX_NODES", "MAX_FIELDS"):
        assert name in (wire.__doc__ or "")
    assert os.path.basename(wire.__file__) == "wire.py"
