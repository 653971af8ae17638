"""Ctrl-C at any moment: exit 130 without a traceback, and no half-written output left.

:func:`install` runs first of all (``lightcost.__main__`` calls it before the
package's modules load). The handler removes the temporary files an output
being written has registered in :data:`PENDING` (see :mod:`lightcost.cli.output`),
shows the terminal's cursor again (a progress bar hides it) and ends the process
at once: no Python exception is raised, so none can print a traceback. This
module imports only what Python has loaded at start-up.
"""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType

EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it
PENDING: set[str] = set()  # temporary files to remove when interrupted


def interrupted(signum: int, frame: FrameType | None) -> None:
    """The SIGINT handler: remove :data:`PENDING` files, restore the cursor, exit 130."""
    from contextlib import suppress

    for path in list(PENDING):
        with suppress(OSError):
            os.unlink(path)
    with suppress(OSError, ValueError, AttributeError):
        if sys.stderr.isatty():
            os.write(sys.stderr.fileno(), b"\x1b[?25h\n")
    os._exit(EXIT_INTERRUPTED)


def install() -> None:
    """Make Ctrl-C (SIGINT) end the process quietly with exit 130 (for the CLI only).

    An ignored SIGINT stays ignored (a shell's background job: ``lightcost ... &``).
    """
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, interrupted)
