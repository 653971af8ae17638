"""Shared test helpers: a CLI runner with fixed width and no colour."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from click.testing import CliRunner, Result

from lightcost.cli.main import cli

Invoke = Callable[..., Result]


README_BUDGETS = """\
budgets:
  - spec: mobilenet_v2
    params: 3.6M
    madds: 320M
  - spec: mobilenet_v2
    width: 0.75
    madds: 220M
"""  # README.md's budgets.yaml, without its comments


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
