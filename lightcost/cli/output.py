"""Where the commands write: ``-o`` files, written whole or not at all, and the standard streams.

:func:`output_file` serves every ``-o``: a regular file is written to a
temporary file beside it (``.NAME.XXXX.tmp``) and renamed over it only once
complete, so a failure or Ctrl-C leaves an existing file as it was; a device or
pipe (``/dev/full``, a FIFO) is written in place. A write that fails (disk full,
file size limit) ends the command with ``error: PATH: cannot write: REASON``, exit 2.

:func:`setup_streams` wraps standard output once, at start-up: a failed write
ends the command the same way (``standard output: cannot write: ...``), a closed
stdout too, and when its encoding lacks the box-drawing characters (``cp1252``)
tables are drawn with ``| - +`` and any other character it cannot encode is
written as a ``\\uXXXX`` escape: ASCII-safe, chosen once from the stream's encoding.
A failed write to standard error is ignored (there is nowhere left to say so).
"""

from __future__ import annotations

import io
import os
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import IO, Any, TextIO

from lightcost.cli.interrupt import PENDING
from lightcost.core.errors import SpecError

# characters outputs use beyond ASCII, and their stand-ins where the encoding lacks them
STAND_INS = {**dict.fromkeys("┌┬┐├┼┤└┴┘", "+"), "│": "|", "─": "-", "µ": "u"}


def cannot_write(name: str, exc: OSError) -> SpecError:
    """``NAME: cannot write: No space left on device``."""
    return SpecError(f"{name}: cannot write: {exc.strerror or exc}")


@contextmanager
def output_file(path: str, binary: bool = False) -> Iterator[IO[Any]]:
    """The open file for ``-o PATH`` (``-``: standard output), replaced only when complete."""
    import tempfile  # lazy: not on the path of `lightcost table`

    if path == "-" and not binary:
        yield sys.stdout  # its failures raise their own error (Stream)
        return
    mode, encoding = ("wb", None) if binary else ("w", "utf-8")
    target = os.path.realpath(path)  # through a symlink: the file it names is replaced
    if path == "-" or (os.path.exists(target) and not os.path.isfile(target)):
        try:  # standard output's bytes, or a device or pipe: written in place
            sys.stdout.flush()
            file = sys.stdout.fileno() if path == "-" else target
            with open(file, mode, encoding=encoding, closefd=path != "-") as handle:
                yield handle
        except OSError as exc:
            raise cannot_write("standard output" if path == "-" else path, exc) from None
        return
    folder, name = os.path.split(target)
    try:
        descriptor, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise cannot_write(path, exc) from None
    PENDING.add(temporary)
    try:
        with open(descriptor, mode, encoding=encoding) as handle:
            yield handle
        os.chmod(temporary, file_mode(target))
        os.replace(temporary, target)
    except OSError as exc:
        raise cannot_write(path, exc) from None
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
        PENDING.discard(temporary)


def file_mode(target: str) -> int:
    """The permissions of the file being replaced, or a new file's (0o666 less the umask)."""
    if os.path.exists(target):
        return stat.S_IMODE(os.stat(target).st_mode)
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


class Stream(io.TextIOBase):
    """Standard output or error as the commands write to it (module docstring).

    ``stream`` None is a closed stream. ``fatal``: a failed write raises a SpecError
    naming ``name`` (standard output) rather than being ignored (standard error).
    It has no ``buffer``, so click writes through it rather than around it.
    """

    def __init__(self, stream: TextIO | None, name: str, fatal: bool) -> None:
        super().__init__()
        self.stream, self.name, self.fatal = stream, name, fatal
        encoding = getattr(stream, "encoding", None) or "utf-8"
        self.table = {ord(c): s for c, s in STAND_INS.items() if not encodable(c, encoding)}
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if not text:  # click probes with "" (and b""): not an attempt to write
            return 0
        if self.stream is None:
            return self.failed(OSError(0, "the stream is closed"), len(text))
        try:
            return self.stream.write(text.translate(self.table) if self.table else text)
        except BrokenPipeError:
            raise  # the reader left: the command group stops quietly
        except OSError as exc:
            return self.failed(exc, len(text))

    def flush(self) -> None:
        if self.stream is not None:
            try:
                self.stream.flush()
            except BrokenPipeError:
                raise
            except OSError as exc:
                self.failed(exc, 0)

    def failed(self, exc: OSError, size: int) -> int:
        """Raise for standard output; for standard error, pretend it was written.

        Standard output is then pointed at /dev/null, so that the text still
        buffered does not fail again when Python flushes it at exit.
        """
        if not self.fatal:
            return size
        with suppress(OSError, ValueError, AttributeError):
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, self.fileno())
            os.close(null)
        raise cannot_write(self.name, exc)

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return self.stream is not None and self.stream.isatty()

    def fileno(self) -> int:
        if self.stream is None:
            raise io.UnsupportedOperation("the stream is closed")
        return self.stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.stream, "encoding", None) or "utf-8"


def encodable(text: str, encoding: str) -> bool:
    """Whether ``encoding`` can write ``text``."""
    try:
        text.encode(encoding)
    except (UnicodeError, LookupError):
        return False
    return True


def setup_streams() -> None:
    """Wrap standard output and error in :class:`Stream`; give closed descriptors /dev/null.

    A descriptor closed at start (``>&-``) is opened on /dev/null, so that no file
    opened later takes its number and receives what is meant for the stream.
    """
    for descriptor in (0, 1, 2):
        try:
            os.fstat(descriptor)
        except OSError:
            os.open(os.devnull, os.O_RDWR)  # the lowest free number: this one
    sys.stdout = Stream(sys.stdout, "standard output", fatal=True)
    sys.stderr = Stream(sys.stderr, "standard error", fatal=False)
