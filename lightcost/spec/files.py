"""Spec files: find a file (a path, or a bundled name with did-you-mean), read it bounded.

Every file lightcost reads (a spec, a budgets file, a device profile) goes
through :func:`read_text`: a regular file only (a FIFO, device or directory is
an error, never a blocking or endless read), its size checked before reading,
at most :data:`MAX_BYTES` read, UTF-8 text. A spec is parsed by
:func:`parse_yaml`; an ``.onnx`` file is imported as a spec first
(:mod:`lightcost.interop.onnx`).

Which file a name means (:func:`find_file`): a path that exists, relative to the
folder of the file that names it (the current directory for a command-line
argument); else a bundled file by name (``.yaml`` optional). A bare name that is
both a bundled name and a file ``NAME.yaml`` next to it is ambiguous: an error,
never silently one of the two.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from typing import Any

from lightcost.core.errors import Loc, SpecError, did_you_mean
from lightcost.spec.located import MAX_BYTES, line_col, parse_yaml

_KINDS = {  # file type -> what a message calls it
    stat.S_IFDIR: "a directory",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


def bundled_dir() -> str:
    """The directory of bundled specs: inside an installed wheel, or the repo's ``specs/``.

    (os.path rather than pathlib: importing pathlib costs 7 ms of start-up.)
    """
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the lightcost package
    packaged = os.path.join(here, "_specs")
    return packaged if os.path.isdir(packaged) else os.path.join(os.path.dirname(here), "specs")


def bundled_names() -> list[str]:
    """Names of the bundled specs (file stems, subdirectories as ``dir/name``)."""
    root = bundled_dir()
    return sorted(
        os.path.relpath(os.path.join(folder, name), root)[: -len(".yaml")].replace(os.sep, "/")
        for folder, _, files in os.walk(root)
        for name in files
        if name.endswith(".yaml")
    )


def find_file(
    name_or_path: str, folder: str, names: Callable[[], list[str]], kind: str, base: str = ""
) -> str:
    """The file ``name_or_path`` means (module docstring): a path relative to ``base``
    that exists (a directory only when no bundled file has its name), else
    ``folder/NAME.yaml``; else a SpecError naming the bundled ``kind`` files with a
    did-you-mean, or the ambiguity of a name with a file ``NAME.yaml`` here."""
    path = os.path.join(base, name_or_path)
    if os.path.lexists(path) and not os.path.isdir(path):
        return path  # read_text rejects what is not a regular file
    stem = name_or_path.removesuffix(".yaml")
    bundled = os.path.join(folder, f"{stem}.yaml")
    is_name = not os.path.isabs(stem) and ".." not in stem.split("/")
    if is_name and os.path.isfile(bundled):
        local = os.path.join(base, f"{stem}.yaml")
        if os.path.isfile(local) and not os.path.samefile(local, bundled):
            raise SpecError(
                f"'{name_or_path}' is ambiguous: the bundled {kind}, or the file {local}? "
                f"(write '{stem}.yaml' for the file; rename the file to use the bundled {kind})"
            )
        return bundled
    if os.path.isdir(path):
        return path  # not a bundled name either: read_text says it is a directory
    known = names()
    raise SpecError(
        f"no {kind} file '{name_or_path}' and no bundled {kind} of that name"
        f"{did_you_mean(stem, known)} (bundled: {', '.join(known)})"
    )


def find_spec(name_or_path: str, base: str = "") -> str:
    """A spec path: an existing file (relative to ``base``), else a bundled spec by name."""
    return find_file(name_or_path, bundled_dir(), bundled_names, "spec", base)


def too_large(size: int, file: str, what: str, limit: int = MAX_BYTES) -> None:
    """A SpecError when ``size`` bytes are over ``limit``: ``spec is larger than 4 MiB``."""
    if size > limit:
        raise SpecError(f"{what} is larger than {limit // (1024 * 1024)} MiB", Loc(file, 1, 1))


def decode(raw: bytes, file: str, what: str) -> str:
    """``raw`` as UTF-8 text; an invalid byte is a SpecError at its line and column."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start].decode("utf-8")
        line, col = line_col(before, len(before))
        raise SpecError(f"{what} is not valid UTF-8 text", Loc(file, line, col)) from None


def read_text(path: str, what: str, limit: int = MAX_BYTES) -> str:
    """The UTF-8 text of the regular file ``path``, of at most ``limit`` bytes.

    Bounded in time and memory: the file's type and size are checked before
    reading (a FIFO or device is never read, so never blocks nor runs on), it is
    opened non-blocking and checked again, and at most ``limit + 1`` bytes are read.
    ``what`` names the file in errors (``spec``, ``budgets file``...).
    """
    where = Loc(path, 1, 1)
    try:
        _regular(os.stat(path).st_mode, path, what)
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise SpecError(f"cannot read {what}: {exc.strerror}", where) from None
    with os.fdopen(handle, "rb") as file:
        info = os.fstat(file.fileno())  # the file opened, in case the path changed meanwhile
        _regular(info.st_mode, path, what)
        too_large(info.st_size, path, what, limit)
        try:
            raw = file.read(limit + 1)
        except OSError as exc:
            raise SpecError(f"cannot read {what}: {exc.strerror}", where) from None
    too_large(len(raw), path, what, limit)  # it grew after the check
    return decode(raw, path, what)


def _regular(mode: int, path: str, what: str) -> None:
    """A SpecError unless ``mode`` is a regular file's."""
    if not stat.S_ISREG(mode):
        kind = _KINDS.get(stat.S_IFMT(mode), "a special file")
        raise SpecError(f"{what} is not a regular file ({kind})", Loc(path, 1, 1))


STDIN, STDIN_NAME = "-", "<stdin>"  # the spec argument that reads standard input


def stdin_text() -> str:
    """The spec on standard input, read once per process (``compare - mobilenet_v2`` reads
    it for two configurations) and as a file: at most :data:`MAX_BYTES`, UTF-8."""
    import sys

    if STDIN_NAME not in _READ:
        stream = getattr(sys.stdin, "buffer", None)
        if stream is None:
            raise SpecError(
                "spec is not readable (standard input is closed)", Loc(STDIN_NAME, 1, 1)
            )
        raw = stream.read(MAX_BYTES + 1)
        too_large(len(raw), STDIN_NAME, "spec")
        _READ[STDIN_NAME] = decode(raw, STDIN_NAME, "spec")
    return _READ[STDIN_NAME]


_READ: dict[str, str] = {}  # standard input's text, once read


def read_spec(name_or_path: str) -> tuple[Any, str]:
    """Find and parse a spec; returns the located data and the file name used in messages.

    An ``.onnx`` file is imported as a spec (:mod:`lightcost.interop.onnx.importer`, needs onnx);
    ``-`` is the spec on standard input (:func:`stdin_text`), named ``<stdin>`` in messages.
    """
    if name_or_path == STDIN:
        return parse_yaml(stdin_text(), STDIN_NAME), STDIN_NAME
    if name_or_path.endswith(".onnx"):
        from lightcost.interop.onnx.importer import (
            onnx_spec_text,  # lazy: onnx is an optional extra
        )

        return parse_yaml(onnx_spec_text(name_or_path), name_or_path), name_or_path
    file = find_spec(name_or_path)
    return parse_yaml(read_text(file, "spec"), file), file
