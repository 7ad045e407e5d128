"""The flake8 plugin as a user meets it: real flake8 in a subprocess on files on disk."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, run_json

pytest.importorskip("flake8", reason="flake8 is not installed (pip install -e '.[test]')")

BAD = REPO / "examples" / "finetune_mistakes.py"
GOOD = REPO / "examples" / "finetune_correct.py"


def flake8(folder: Path, *args: str) -> subprocess.CompletedProcess:
    """``python -m flake8 ARGS`` run in ``folder``, with no user or project flake8 configuration."""
    return subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )


def test_flake8_reports_bnl_codes_where_bnlint_does_beside_its_own(tmp_path: Path) -> None:
    shutil.copy(BAD, tmp_path / "train.py")
    result = flake8(tmp_path, "train.py")
    assert result.returncode == 1, result.stderr
    expected = [
        f"train.py:{d['location']['row']}:{d['location']['column']}: {d['code']} {d['message']}"
        for d in run_json(str(tmp_path / "train.py"))
    ]
    lines = result.stdout.splitlines()
    assert [line for line in lines if ": BNL" in line] == expected
    assert "train.py:15:31: BNL003 `trainable` on Dropout does nothing" in result.stdout
    assert any(": E501 " in line for line in lines)  # flake8's own checks still run


def test_good_file_is_clean(tmp_path: Path) -> None:
    shutil.copy(GOOD, tmp_path / "train.py")
    result = flake8(tmp_path, "--select", "BNL", "train.py")
    bnlint_codes = {d["code"] for d in run_json(str(tmp_path / "train.py"))}
    reported = {line.split(": ", 1)[1].split()[0] for line in result.stdout.splitlines()}
    assert reported == bnlint_codes


def test_flake8_and_pyproject_selection_and_noqa_are_honoured(tmp_path: Path) -> None:
    text = BAD.read_text(encoding="utf-8").replace(
        "base.trainable = True", "base.trainable = True  # noqa: BNL001"
    )
    (tmp_path / "train.py").write_text(text, encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.bnlint]\nignore = ["BNL002"]\n', encoding="utf-8"
    )
    result = flake8(tmp_path, "--select", "BNL", "train.py")
    assert [line.split(": ", 1)[1].split()[0] for line in result.stdout.splitlines()] == ["BNL003"]

    ignored = flake8(tmp_path, "--select", "BNL", "--extend-ignore", "BNL003", "train.py")
    assert ignored.returncode == 0
    assert ignored.stdout == ""
