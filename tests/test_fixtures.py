"""Runs every fixture under fixtures/: markers must match diagnostics; fixes must match .fixed files.

Convention (DESIGN.md, "Fixtures"): a line where a diagnostic belongs ends with ``# expect: BNLnnn``
(several: ``# expect: BNL009, BNL010``); a fixture with no marker must produce nothing for its rule.
A folder ``fixtures/BNLnnn/<name>/`` is one small project, linted as a whole (its own
``pyproject.toml``, if any, sets its options); markers may sit in any of its files.
A first-line comment ``# bnlint-fixture: keras-version=3`` runs it with that target version.
``name.py`` beside ``name.fixed.py``: the expected file after ``--fix --unsafe-fixes``.
Notebooks (``name.ipynb``, ``name.fixed.ipynb``) too: markers sit in cell sources, and the expected
position is (cell, line in that cell), cells counted as Jupyter does.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Optional

import pytest

from tests.conftest import FIXTURES, run_cli, run_json

_EXPECT = re.compile(r"#\s*expect:\s*(BNL\d{3}(?:\s*,\s*BNL\d{3})*)")
_OPTIONS = re.compile(r"#\s*bnlint-fixture:\s*keras-version=(\d)")


_SUFFIXES = (".py", ".ipynb")


def _fixtures() -> list[Path]:
    return sorted(
        path
        for suffix in _SUFFIXES
        for path in FIXTURES.glob(f"BNL*/*{suffix}")
        if not path.name.endswith(f".fixed{suffix}")
    )


def _fixed_path(path: Path) -> Path:
    return path.with_name(f"{path.stem}.fixed{path.suffix}")


def _cells(path: Path) -> list[tuple[Optional[int], str]]:
    """(cell number, source) of a notebook's cells, or (None, text) for a ``.py`` file."""
    if path.suffix != ".ipynb":
        return [(None, path.read_text(encoding="utf-8"))]
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [
        (number, "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"])
        for number, cell in enumerate(cells, start=1)
    ]


def _expected(path: Path) -> set[tuple[Optional[int], int, str]]:
    expected = set()
    for cell, text in _cells(path):
        for number, line in enumerate(text.splitlines(), start=1):
            match = _EXPECT.search(line)
            if match:
                for code in re.split(r"\s*,\s*", match.group(1)):
                    expected.add((cell, number, code))
    return expected


def _arguments(path: Path, expected: set[tuple[Optional[int], int, str]]) -> list[str]:
    codes = sorted({path.parent.name, *(code for _, _, code in expected)})
    arguments = ["--select", ",".join(codes)]
    options = _OPTIONS.search(path.read_text(encoding="utf-8"))
    arguments += ["--keras-version", options.group(1) if options else "auto"]
    return arguments


@pytest.mark.parametrize("path", _fixtures(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture_diagnostics(path: Path, tmp_path: Path) -> None:
    expected = _expected(path)
    copy = tmp_path / path.name
    shutil.copyfile(path, copy)
    found = {
        (d["cell"], d["location"]["row"], d["code"])
        for d in run_json(str(copy), *_arguments(path, expected))
    }
    assert found == expected, (
        f"missing: {sorted(expected - found)}, unexpected: {sorted(found - expected)}"
    )


def _fix_fixtures() -> list[Path]:
    return [path for path in _fixtures() if _fixed_path(path).exists()]


@pytest.mark.parametrize("path", _fix_fixtures(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fix_fixture(path: Path, tmp_path: Path) -> None:
    expected_path = _fixed_path(path)
    copy = tmp_path / path.name
    shutil.copyfile(path, copy)
    arguments = [str(copy), "--fix", "--unsafe-fixes", *_arguments(path, _expected(path))]
    run_cli("check", *arguments)
    assert copy.read_text(encoding="utf-8") == expected_path.read_text(encoding="utf-8")
    run_cli("check", *arguments)
    assert copy.read_text(encoding="utf-8") == expected_path.read_text(encoding="utf-8"), (
        "fix is not idempotent"
    )


def _projects() -> list[Path]:
    return sorted(path for path in FIXTURES.glob("BNL*/*") if path.is_dir())


def _project_expected(project: Path) -> set[tuple[str, Optional[int], int, str]]:
    return {
        (path.relative_to(project).as_posix(), cell, row, code)
        for path in sorted(project.rglob("*"))
        if path.suffix in _SUFFIXES
        for cell, row, code in _expected(path)
    }


@pytest.mark.parametrize("project", _projects(), ids=lambda p: f"{p.parent.name}/{p.name}/")
def test_fixture_project_diagnostics(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _project_expected(project)
    copy = tmp_path / project.name
    shutil.copytree(project, copy)
    monkeypatch.chdir(copy)
    codes = sorted({project.parent.name, *(code for *_, code in expected)})
    found = {
        (d["filename"], d["cell"], d["location"]["row"], d["code"])
        for d in run_json(".", "--select", ",".join(codes), "--no-cache")
    }
    assert found == expected, (
        f"missing: {sorted(expected - found)}, unexpected: {sorted(found - expected)}"
    )


def test_every_rule_has_fixtures() -> None:
    from bnlint.rules import all_rules

    for rule in all_rules():
        files = list((FIXTURES / rule.code).glob("*.py"))
        assert files, f"{rule.code} has no fixtures"
        marked = [f for f in files if _expected(f)]
        unmarked = [f for f in files if not _expected(f) and not f.name.endswith(".fixed.py")]
        assert marked and unmarked, (
            f"{rule.code} needs both bad (marked) and good (unmarked) fixtures"
        )
        if rule.fixable is not None:
            assert any(f.name.endswith(".fixed.py") for f in files), (
                f"{rule.code} has a fix but no fix fixture"
            )
