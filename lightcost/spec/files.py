"""Spec files: find a spec (a path, or a bundled name with did-you-mean), read it bounded.

A spec file is read up to :data:`MAX_BYTES` and parsed by :func:`parse_yaml`;
an ``.onnx`` file is imported as a spec first (:mod:`lightcost.interop.onnx`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from lightcost.core.errors import Loc, SpecError, did_you_mean
from lightcost.spec.located import MAX_BYTES, line_col, parse_yaml


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


def find_file(name_or_path: str, folder: str, names: Callable[[], list[str]], kind: str) -> str:
    """An existing file, else ``folder/NAME.yaml`` (``.yaml`` optional), else a SpecError
    naming the bundled ``kind`` files with a did-you-mean."""
    if os.path.isfile(name_or_path):
        return name_or_path
    stem = name_or_path.removesuffix(".yaml")
    bundled = os.path.join(folder, f"{stem}.yaml")
    if os.path.isfile(bundled):
        return bundled
    known = names()
    raise SpecError(
        f"no {kind} file '{name_or_path}' and no bundled {kind} of that name"
        f"{did_you_mean(stem, known)} (bundled: {', '.join(known)})"
    )


def find_spec(name_or_path: str) -> str:
    """A spec path: an existing file, else a bundled spec by name (``.yaml`` optional)."""
    return find_file(name_or_path, bundled_dir(), bundled_names, "spec")


def read_spec(name_or_path: str) -> tuple[Any, str]:
    """Find and parse a spec; returns the located data and the file name used in messages.

    An ``.onnx`` file is imported as a spec (:mod:`lightcost.interop.onnx.importer`, needs onnx).
    """
    if name_or_path.endswith(".onnx"):
        from lightcost.interop.onnx.importer import (
            onnx_spec_text,  # lazy: onnx is an optional extra
        )

        return parse_yaml(onnx_spec_text(name_or_path), name_or_path), name_or_path
    file = find_spec(name_or_path)
    try:
        with open(file, "rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise SpecError(f"cannot read spec: {exc.strerror}", Loc(file, 1, 1)) from None
    if len(raw) > MAX_BYTES:
        raise SpecError(f"spec is larger than {MAX_BYTES // (1024 * 1024)} MiB", Loc(file, 1, 1))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start].decode("utf-8")
        line, col = line_col(before, len(before))
        raise SpecError("spec is not valid UTF-8 text", Loc(file, line, col)) from None
    return parse_yaml(text, file), file
