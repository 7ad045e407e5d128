"""``--fix`` never loses a byte: only the edited span changes, the file's encoding, BOM, newlines,
final newline and mode are kept, the write is atomic, fixing twice equals fixing once, and a fix whose
result would not parse is withheld and reported."""

from __future__ import annotations

import difflib
import json
import os
import shutil
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bnlint.cli import main
from bnlint.rules.base import RuleContext
from tests.conftest import FIXTURES

#: One BNL003 finding at line 3 whose safe fix deletes ``, trainable=False``.
FINDING = b"from tensorflow.keras import layers\n\nx = layers.Dropout(0.5, trainable=False)\n"
FIXED = b"from tensorflow.keras import layers\n\nx = layers.Dropout(0.5)\n"


def run(folder: Path, *args: str) -> Result:
    """``bnlint check --no-cache ARGS`` run in ``folder``, in this process."""
    old = Path.cwd()
    os.chdir(folder)
    try:
        return CliRunner().invoke(main, ["check", "--no-cache", *args])
    finally:
        os.chdir(old)


def fix(folder: Path, *paths: str) -> Result:
    """``bnlint check --fix --unsafe-fixes`` on ``paths`` (default: the folder)."""
    return run(folder, "--fix", "--unsafe-fixes", "--output-format", "json", *(paths or (".",)))


def changes(before: bytes, after: bytes) -> list[tuple[str, bytes, bytes]]:
    """The byte spans that differ: (operation, old bytes, new bytes)."""
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    return [
        (operation, before[i1:i2], after[j1:j2])
        for operation, i1, i2, j1, j2 in matcher.get_opcodes()
        if operation != "equal"
    ]


# --- Only the edited span changes ---


def test_only_the_edited_span_changes(tmp_path: Path) -> None:
    before = (
        b"# A hand-formatted file: odd spacing and comments must survive.\n"
        b"from tensorflow.keras import layers   # trailing comment\n"
        b"\n\n\n"
        b"values = [ 1,2 ,  3 ]\t# tab before this comment\n"
        b"x = layers.Dropout(0.5, trainable=False)  # the finding\n"
        b"y   =   'unchanged'    \n"
    )
    path = tmp_path / "model.py"
    path.write_bytes(before)
    result = fix(tmp_path)
    assert result.exit_code == 0, result.output
    assert changes(before, path.read_bytes()) == [("delete", b", trainable=False", b"")]


@pytest.mark.parametrize(
    ("name", "prefix", "newline"),
    [
        ("latin1_cookie", b"# -*- coding: latin-1 -*-\nname = '\xe9t\xe9'\n", b"\n"),
        ("utf8_bom", b"\xef\xbb\xbfname = '\xc3\xa9t\xc3\xa9'\n", b"\n"),
        ("crlf", b"name = 'x'\n", b"\r\n"),
        ("cr", b"name = 'x'\n", b"\r"),
        ("cp1252_cookie_crlf", b"# coding: cp1252\nquote = '\x93hi\x94'\n", b"\r\n"),
    ],
)
def test_encoding_bom_and_newlines_are_kept(
    tmp_path: Path, name: str, prefix: bytes, newline: bytes
) -> None:
    before = (prefix + FINDING).replace(b"\n", newline)
    path = tmp_path / f"{name}.py"
    path.write_bytes(before)
    result = fix(tmp_path)
    assert result.exit_code == 0, result.output
    assert path.read_bytes() == (prefix + FIXED).replace(b"\n", newline)


def test_mixed_newlines_are_kept_line_by_line(tmp_path: Path) -> None:
    before = b"a = 1\r\nfrom tensorflow.keras import layers\n\rx = layers.Dropout(0.5, trainable=False)\r\nb = 2\n"
    path = tmp_path / "mixed.py"
    path.write_bytes(before)
    assert fix(tmp_path).exit_code == 0
    assert path.read_bytes() == before.replace(b", trainable=False", b"")


def test_missing_final_newline_is_not_added(tmp_path: Path) -> None:
    path = tmp_path / "last.py"
    path.write_bytes(FINDING.rstrip(b"\n"))
    assert fix(tmp_path).exit_code == 0
    assert path.read_bytes() == FIXED.rstrip(b"\n")


def test_file_mode_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "script.py"
    path.write_bytes(b"#!/usr/bin/env python\n" + FINDING)
    path.chmod(0o750)
    assert fix(tmp_path).exit_code == 0
    assert path.read_bytes() == b"#!/usr/bin/env python\n" + FIXED
    assert stat.S_IMODE(path.stat().st_mode) == 0o750


def test_a_symlinked_file_is_fixed_through_the_link(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (real / "model.py").write_bytes(FINDING)
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / "model.py").symlink_to(real / "model.py")
    assert fix(tmp_path, "linked/model.py").exit_code == 0
    assert (linked / "model.py").is_symlink()
    assert (real / "model.py").read_bytes() == FIXED


def test_diff_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "model.py"
    path.write_bytes(FINDING)
    result = run(tmp_path, "--diff", "model.py")
    assert result.exit_code == 1
    assert "-x = layers.Dropout(0.5, trainable=False)" in result.stdout
    assert path.read_bytes() == FINDING


# --- Atomic writes ---


def test_the_new_content_is_renamed_over_the_file_from_the_same_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "model.py"
    path.write_bytes(FINDING)
    renames: list[tuple[Path, Path]] = []
    real_replace = os.replace

    def spy(source: str, target: str) -> None:
        renames.append((Path(source).absolute(), Path(target).absolute()))
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", spy)
    assert fix(tmp_path).exit_code == 0
    assert len(renames) == 1
    source, target = renames[0]
    assert source.parent == target.parent == tmp_path
    assert target.name == "model.py"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.py"]


@pytest.mark.parametrize("failing", ["replace", "fsync"])
def test_a_failed_write_leaves_the_original_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    path = tmp_path / "model.py"
    path.write_bytes(FINDING)
    other = tmp_path / "other.py"
    other.write_bytes(FINDING)

    def fail(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, failing, fail)
    result = fix(tmp_path)
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert path.read_bytes() == FINDING
    assert other.read_bytes() == FINDING
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.py", "other.py"]
    reported = {Path(d["filename"]).name for d in json.loads(result.stdout)}
    assert reported == {"model.py", "other.py"}


# --- Idempotence ---

FIX_FIXTURES = sorted(path for path in FIXTURES.glob("*/fix_*") if ".fixed." not in path.name)


@pytest.mark.parametrize("fixture", FIX_FIXTURES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixing_twice_equals_fixing_once(tmp_path: Path, fixture: Path) -> None:
    path = tmp_path / fixture.name
    shutil.copy(fixture, path)
    first = fix(tmp_path)
    assert first.exit_code in (0, 1), first.output
    once = path.read_bytes()
    assert once != fixture.read_bytes()
    second = fix(tmp_path)
    assert second.exit_code == first.exit_code
    assert path.read_bytes() == once
    assert json.loads(second.stdout) == json.loads(first.stdout)


# --- A fix that would break the file is withheld ---


@pytest.fixture
def broken_fixes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every fix replacement that mentions ``0.3`` unparsable (a stand-in for a buggy rule)."""
    original = RuleContext.code

    def broken(self: RuleContext, node: object) -> str:
        code = original(self, node)
        return code + "(" if "0.3" in code else code

    monkeypatch.setattr(RuleContext, "code", broken)


def withheld(result: Result) -> list[dict]:
    """The diagnostics of a JSON report that say a fix was withheld."""
    return [d for d in json.loads(result.stdout) if "fix withheld" in d["message"]]


@pytest.mark.usefixtures("broken_fixes")
def test_a_fix_that_would_not_parse_is_not_written(tmp_path: Path) -> None:
    before = b"from tensorflow.keras import layers\n\ny = layers.Dropout(0.3, trainable=False)\n"
    path = tmp_path / "model.py"
    path.write_bytes(before)
    result = fix(tmp_path)
    assert result.exit_code == 1
    assert path.read_bytes() == before
    reports = withheld(result)
    assert [(d["code"], d["location"]["row"]) for d in reports] == [("BNL000", 3)]
    assert "BNL003" in reports[0]["message"]
    codes = sorted(d["code"] for d in json.loads(result.stdout))
    assert codes == ["BNL000", "BNL003"]


@pytest.mark.usefixtures("broken_fixes")
def test_the_other_fixes_of_the_file_are_still_applied(tmp_path: Path) -> None:
    path = tmp_path / "model.py"
    path.write_bytes(FINDING + b"y = layers.Dropout(0.3, trainable=False)\n")
    result = fix(tmp_path)
    assert result.exit_code == 1
    assert path.read_bytes() == FIXED + b"y = layers.Dropout(0.3, trainable=False)\n"
    assert [d["location"]["row"] for d in withheld(result)] == [4]


@pytest.mark.usefixtures("broken_fixes")
def test_a_notebook_fix_that_would_not_parse_is_not_written(tmp_path: Path) -> None:
    cell = {
        "cell_type": "code",
        "metadata": {},
        "outputs": [],
        "source": [
            "from tensorflow.keras import layers\n",
            "y = layers.Dropout(0.3, trainable=False)\n",
        ],
    }
    before = json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4}, indent=1).encode()
    path = tmp_path / "nb.ipynb"
    path.write_bytes(before)
    result = fix(tmp_path)
    assert result.exit_code == 1
    assert path.read_bytes() == before
    assert [(d["cell"], d["location"]["row"]) for d in withheld(result)] == [(1, 2)]


def test_unicode_line_separators_survive_a_fix(tmp_path: Path) -> None:
    prefix = "# a \u2028 b \x0c c \x85 d\ns = '\u2028'\n".encode()
    path = tmp_path / "model.py"
    path.write_bytes(prefix + FINDING)
    assert fix(tmp_path).exit_code == 0
    assert path.read_bytes() == prefix + FIXED


def test_fixes_that_do_not_settle_are_reported_on_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "two_passes.py"
    target.write_text(
        "from tensorflow import keras\n\n"
        "a = keras.layers.Dropout(0.5, trainable=False)\n"
        "b = keras.layers.Dropout(0.5, trainable=False)\n",
        encoding="utf-8",
    )
    monkeypatch.setattr("bnlint.fix_loop.MAX_FIX_PASSES", 0)
    result = CliRunner().invoke(main, ["check", str(target), "--fix", "--no-cache"])
    assert "two_passes.py: fixes still produced new fixes after 0 passes" in result.stderr
    assert result.exit_code == 1
