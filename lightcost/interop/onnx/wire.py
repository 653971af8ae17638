"""Read an ONNX file's structure without its weights, in bounded time and memory.

Costing needs shapes, not weight values, so :func:`read_structure` walks the
protobuf wire format of the file and keeps everything but the data of large
tensors: a tensor (an initializer, a Constant's value, a tensor attribute)
whose message is larger than :data:`MAX_CONST_BYTES` keeps its name, dims and
type, and its data fields (``raw_data``, ``float_data``... ``uint64_data``) are
skipped on disk, never read. Small tensors keep their data: the shapes of
Reshape, the bounds of Clip, the starts of Slice, the sizes of Split. External
data is never loaded (its tensors keep only their dims).

Limits, each a one-line error naming the file:

* :data:`MAX_FILE_BYTES` (2 GiB, protobuf's own limit on a message): the file.
* :data:`MAX_STRUCTURE_BYTES` (64 MiB): what is kept (nodes, names, shapes,
  small tensors, doc strings; subgraphs and functions are kept whole).
* :data:`MAX_NODES` (100,000): nodes of the main graph, counted while reading,
  before shape inference (an exported layer is one to eight nodes; the expander
  then checks its own layer limit).
* :data:`MAX_FIELDS` (1,000,000): protobuf fields walked (the fields of the
  model, its graph and its large messages; a small message is copied whole).
"""

from __future__ import annotations

from typing import BinaryIO

MAX_FILE_BYTES = 2**31 - 1
MAX_STRUCTURE_BYTES = 64 * 2**20
MAX_NODES = 100_000
MAX_FIELDS = 1_000_000
MAX_CONST_BYTES = 4096

# message kind -> {field number: kind of the sub-message walked into when it is large}
_WALKED = {
    "model": {7: "graph"},
    "graph": {1: "node", 5: "tensor", 15: "sparse"},
    "node": {5: "attribute"},
    "attribute": {5: "tensor", 10: "tensor", 22: "sparse", 23: "sparse"},
    "sparse": {1: "tensor", 2: "tensor"},
    "tensor": {},
}
_TENSOR_DATA = {4, 5, 6, 7, 9, 10, 11}  # float_data ... raw_data ... uint64_data
_FIXED = {1: 8, 5: 4}  # wire type -> bytes (fixed64, fixed32)


class WireError(ValueError):
    """The file is not a protobuf message within the limits (the text says why)."""


def read_structure(handle: BinaryIO, size: int) -> bytes:
    """The model at ``handle`` (``size`` bytes) re-encoded without the data of large tensors."""
    if size > MAX_FILE_BYTES:
        raise WireError(f"file is larger than {MAX_FILE_BYTES // 2**20} MiB (protobuf's limit)")
    return _Walk(handle).message("model", size)


class _Walk:
    """One pass over the wire format, counting bytes kept, fields walked and graph nodes."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.pos = 0
        self.kept = 0
        self.fields = 0
        self.nodes = 0

    def message(self, kind: str, end: int) -> bytes:
        """The fields of a ``kind`` message ending at byte ``end``, large tensors' data left out."""
        parts: list[bytes] = []
        walked = _WALKED[kind]
        while self.pos < end:
            start = self.pos
            self.fields += 1
            if self.fields > MAX_FIELDS:
                raise WireError(f"more than {MAX_FIELDS} protobuf fields outside small messages")
            key = self.varint(end)
            field, wire = key >> 3, key & 7
            if wire not in (0, 1, 2, 5) or field == 0:
                raise WireError(f"malformed protobuf field at byte {start}")
            length = self.varint(end) if wire == 2 else _FIXED.get(wire, 0)
            if wire == 0:
                self.varint(end)
            if self.pos + length > end:
                raise WireError(f"truncated: a field at byte {start} runs past its end")
            if kind == "graph" and field == 1:
                self.nodes += 1
                if self.nodes > MAX_NODES:
                    raise WireError(f"the graph has more than {MAX_NODES} nodes")
            if kind == "tensor" and field in _TENSOR_DATA:
                self.skip(length)  # a large tensor: its data is never read
            elif field in walked and length > MAX_CONST_BYTES:
                head = self.copy(start, self.pos)
                body = self.message(walked[field], self.pos + length)
                parts.append(_key(head) + _varint(len(body)) + body)
            else:
                parts.append(self.copy(start, self.pos + length))
        return b"".join(parts)

    def varint(self, end: int) -> int:
        """A varint at the current position (at most 10 bytes, before ``end``)."""
        value = shift = 0
        while True:
            if self.pos >= end or shift > 63:
                raise WireError(f"malformed or truncated protobuf at byte {self.pos}")
            byte = self.read(1)[0]
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return value

    def read(self, count: int) -> bytes:
        data = self.handle.read(count)
        if len(data) != count:
            raise WireError(f"truncated at byte {self.pos + len(data)}")
        self.pos += count
        return data

    def skip(self, count: int) -> None:
        self.pos = self.handle.seek(count, 1)

    def copy(self, start: int, end: int) -> bytes:
        """Bytes ``start`` to ``end`` (re-read from ``start``), counted against the limit."""
        self.kept += end - start
        if self.kept > MAX_STRUCTURE_BYTES:
            raise WireError(
                f"more than {MAX_STRUCTURE_BYTES // 2**20} MiB of model structure besides "
                "tensor data (nodes, names, attributes, small tensors)"
            )
        self.handle.seek(start)
        self.pos = start
        return self.read(end - start)


def _key(head: bytes) -> bytes:
    """The key of a length-delimited field's header (its length varint dropped)."""
    end = next(i for i, byte in enumerate(head) if byte < 0x80) + 1
    return head[:end]


def _varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)
