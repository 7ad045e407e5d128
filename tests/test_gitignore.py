"""``.gitignore`` respected by discovery, on real folders: nested files, negation, folder-only and
anchored patterns, ``**``; checked against expectations and against git itself."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import run_cli, run_json

BAD = "import keras\nx = keras.layers.Dropout(0.5, trainable=False)(x)\n"

ROOT_GITIGNORE = (
    r"""# generated code
*.gen.py
!keep.gen.py
/out/
logs/
!logs/important.py
data/**/tmp_*.py
/anchored.py
scratch.py/
notes\#1.py
deep/**
!deep/keep.py
!deep/sub/
!
\\
"""
    + "trailing.py   \n"
)  # unescaped trailing spaces are not part of the pattern

SUB_GITIGNORE = """*.py
!wanted.py
"""

FILES = {
    "a.py": True,
    "x.gen.py": False,
    "keep.gen.py": True,
    "out/b.py": False,
    "src/out/c.py": True,
    "logs/d.py": False,
    "logs/important.py": False,  # a file inside an ignored folder cannot be re-included
    "src/logs/e.py": False,
    "data/a/b/tmp_1.py": False,
    "data/tmp_2.py": False,
    "data/a/keep.py": True,
    "anchored.py": False,
    "src/anchored.py": True,
    "scratch.py/inside.py": False,
    "other/scratch.py": True,
    "notes#1.py": False,
    "trailing.py": False,
    "sub/f.py": False,
    "sub/wanted.py": True,
    "sub/deeper/g.py": False,
    "sub/deeper/wanted.py": True,
    "deep/x.py": False,  # "deep/**" ignores what is inside deep/, not deep/ itself...
    "deep/keep.py": True,  # ...so a file in it can be re-included
    "deep/sub/y.py": False,  # a re-included folder's files still match "deep/**"
    "z.py": True,  # lines git discards ("!", a lone backslash) ignore nothing
}


def make_tree(root: Path) -> None:
    """The tree of FILES with the two ignore files."""
    (root / ".gitignore").write_text(ROOT_GITIGNORE, encoding="utf-8")
    for name in FILES:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(BAD, encoding="utf-8")
    (root / "sub" / ".gitignore").write_text(SUB_GITIGNORE, encoding="utf-8")


def linted(root: Path, *args: str) -> set[str]:
    """The files bnlint reports, relative to ``root``."""
    items = run_json(str(root), *args)
    return {Path(item["filename"]).relative_to(root).as_posix() for item in items}


@pytest.mark.parametrize("with_repository", [True, False], ids=["git-repository", "plain-folder"])
def test_gitignore_decides_what_a_folder_walk_lints(tmp_path: Path, with_repository: bool) -> None:
    if with_repository:
        (tmp_path / ".git").mkdir()
    make_tree(tmp_path)
    assert linted(tmp_path) == {name for name, kept in FILES.items() if kept}


def test_ignore_files_above_the_walked_folder_apply_inside_a_repository(tmp_path: Path) -> None:
    (tmp_path / ".git" / "info").mkdir(parents=True)
    (tmp_path / ".git" / "info" / "exclude").write_text("*.local.py\n", encoding="utf-8")
    make_tree(tmp_path)
    (tmp_path / "sub" / "deeper" / "me.local.py").write_text(BAD, encoding="utf-8")
    items = run_json(str(tmp_path / "sub"))
    assert {Path(i["filename"]).relative_to(tmp_path).as_posix() for i in items} == {
        "sub/wanted.py",
        "sub/deeper/wanted.py",
    }


def test_a_file_named_explicitly_is_linted_unless_force_exclude(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".git").mkdir()
    make_tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    named = run_cli("check", "x.gen.py", "logs/important.py", "--output-format", "concise")
    assert named.exit_code == 1
    assert "x.gen.py:2:" in named.output
    assert "logs/important.py:2:" in named.output

    forced = run_cli("check", "--force-exclude", "x.gen.py", "logs/important.py", "a.py")
    assert forced.exit_code == 1
    assert "a.py:2:" in forced.output
    assert "x.gen.py" not in forced.output
    assert "important.py" not in forced.output


def test_a_folder_named_explicitly_is_walked_even_if_ignored(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    make_tree(tmp_path)
    items = run_json(str(tmp_path / "out"))
    assert [Path(i["filename"]).name for i in items] == ["b.py"]


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_the_same_files_as_git_itself(tmp_path: Path) -> None:
    environment = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(tmp_path)}
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True, env=environment)
    make_tree(tmp_path)
    listed = subprocess.run(
        ["git", "ls-files", "--others", "--exclude-standard"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        env=environment,
    ).stdout.splitlines()
    assert linted(tmp_path) == {name for name in listed if name.endswith(".py")}
