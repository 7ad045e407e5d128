"""Shared helpers for tests: run the CLI as a user would."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bnlint.cli import main

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"


def run_cli(*args: str, input: bytes | str | None = None) -> Result:
    """Invoke ``bnlint`` with arguments, as the console script would."""
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def run_json(*args: str) -> list[dict]:
    """Run ``bnlint check --output-format json`` and return the decoded array."""
    result = run_cli("check", "--output-format", "json", *args)
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


@pytest.fixture
def cli():
    """The CLI runner helper."""
    return run_cli
