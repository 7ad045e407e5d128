"""The rules reference page is generated from the rules' own documentation and kept in sync."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from bnlint.docs import anchor, heading, rules_markdown
from bnlint.docs import main as docs_main
from bnlint.rules import all_rules
from tests.conftest import REPO, run_cli

RULES_PAGE = REPO / "docs" / "rules.md"
REGENERATE = "python -m bnlint.docs"


def test_docs_rules_md_is_in_sync_with_the_rules() -> None:
    assert RULES_PAGE.read_text(encoding="utf-8") == rules_markdown(), (
        f"docs/rules.md is out of date: run `{REGENERATE}` from the repository root"
    )


def test_every_rule_has_a_section_at_the_anchor_of_its_url() -> None:
    text = RULES_PAGE.read_text(encoding="utf-8")
    headings = re.findall(r"(?m)^## (.+)$", text)
    anchors = {anchor(h) for h in headings}
    for rule in all_rules():
        assert heading(rule) in headings
        assert rule.url().rsplit("#", 1)[1] in anchors
        # The page holds the same text as `bnlint rule CODE` (headings one level down).
        doc = run_cli("rule", rule.code).output
        what = doc.split("## What it does\n", 1)[1].split("\n\n", 1)[0]
        assert what in text


def test_generator_writes_and_checks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "docs" / "rules.md"
    written = subprocess.run(
        [sys.executable, "-m", "bnlint.docs"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert written.returncode == 0, written.stderr
    assert page.read_text(encoding="utf-8") == rules_markdown()

    monkeypatch.chdir(tmp_path)
    assert docs_main(["--check"]) == 0
    page.write_text(page.read_text(encoding="utf-8") + "edited by hand\n", encoding="utf-8")
    assert docs_main(["--check"]) == 1
    assert "out of date: run `python -m bnlint.docs`" in capsys.readouterr().err
    page.unlink()
    assert docs_main(["--check"]) == 1
    assert not page.exists()
    assert docs_main([]) == 0
    assert page.read_text(encoding="utf-8") == rules_markdown()
