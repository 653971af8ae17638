"""Shared test helpers: a CLI runner with fixed width and no colour."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from click.testing import CliRunner, Result

from lightcost.cli.main import cli

Invoke = Callable[..., Result]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-snapshots",
        action="store_true",
        default=False,
        help="Rewrite tests/snapshots/ from the current output instead of comparing with it.",
    )


@pytest.fixture
def invoke() -> Invoke:
    """Run ``lightcost ARGS`` in-process; returns click's Result (stdout/stderr separate)."""
    runner = CliRunner(env={"NO_COLOR": "1", "COLUMNS": "160"})

    def run(*args: str) -> Result:
        return runner.invoke(cli, list(args), catch_exceptions=False)

    return run
