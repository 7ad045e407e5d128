"""The pre-commit hooks as a user meets them: real pre-commit, in a temporary git repository whose
``.pre-commit-config.yaml`` points at a commit of this repository's current state.

pre-commit installs the hook into its own virtual environment with pip, which needs the package index
(or pip's own settings pointing at a mirror or a wheelhouse: the environment's ``PIP_*`` variables are
passed on). The test is skipped only when pre-commit or git is not installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

pytest.importorskip("pre_commit", reason="pre-commit is not installed (pip install -e '.[test]')")
pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

BAD = REPO / "examples" / "finetune_mistakes.py"
GOOD = REPO / "examples" / "finetune_correct.py"
FIXABLE = "import keras\nx = keras.layers.Dropout(0.5, trainable=False)(x)\n"
FIXED = "import keras\nx = keras.layers.Dropout(0.5)(x)\n"

#: What the hook repository needs to be pip-installed: the package, its metadata, the hook list.
HOOK_REPO_FILES = ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml")


def git(folder: Path, *args: str) -> str:
    """Run git in ``folder`` with a fixed identity and dates (so that the same tree is the same commit)."""
    environment = {
        **os.environ,
        "GIT_AUTHOR_NAME": "bnlint tests",
        "GIT_AUTHOR_EMAIL": "tests@bnlint.invalid",
        "GIT_COMMITTER_NAME": "bnlint tests",
        "GIT_COMMITTER_EMAIL": "tests@bnlint.invalid",
        "GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z",
        "GIT_COMMITTER_DATE": "2024-01-01T00:00:00Z",
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    return subprocess.run(
        ["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def snapshot_of_this_repository(destination: Path) -> str:
    """A git repository holding the working tree's package and hook list; returns its commit."""
    destination.mkdir()
    for name in HOOK_REPO_FILES:
        shutil.copy(REPO / name, destination / name)
    shutil.copytree(
        REPO / "bnlint", destination / "bnlint", ignore=shutil.ignore_patterns("__pycache__")
    )
    git(destination, "init", "-q")
    git(destination, "add", ".")
    git(destination, "commit", "-q", "-m", "snapshot")
    return git(destination, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A user's repository using both hooks, with the hook environment installed once."""
    base = tmp_path_factory.mktemp("precommit")
    rev = snapshot_of_this_repository(base / "bnlint-hooks")
    user = base / "project"
    user.mkdir()
    git(user, "init", "-q")
    (user / ".pre-commit-config.yaml").write_text(
        "repos:\n"
        f"  - repo: {(base / 'bnlint-hooks').as_uri()}\n"
        f"    rev: {rev}\n"
        "    hooks:\n"
        "      - id: bnlint\n"
        "      - id: bnlint-fix\n",
        encoding="utf-8",
    )
    git(user, "add", ".pre-commit-config.yaml")
    environment = {
        **os.environ,
        "PRE_COMMIT_HOME": str(base / "pre-commit-home"),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "NO_COLOR": "1",
    }
    installed = pre_commit(user, environment, "install-hooks")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return user, environment


def pre_commit(
    folder: Path, environment: dict[str, str], *args: str
) -> subprocess.CompletedProcess:
    """``python -m pre_commit ARGS`` in ``folder``."""
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


def test_lint_hook_fails_on_a_bad_file_and_passes_on_a_good_one(
    project: tuple[Path, dict[str, str]],
) -> None:
    user, environment = project
    shutil.copy(BAD, user / "bad.py")
    shutil.copy(GOOD, user / "good.py")
    (user / "notes.txt").write_text("model.trainable = True\n", encoding="utf-8")

    failed = pre_commit(user, environment, "run", "bnlint", "--files", "bad.py", "notes.txt")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "bnlint" in failed.stdout and "Failed" in failed.stdout
    assert "bad.py:22:1: BNL001" in failed.stdout
    assert "notes.txt" not in failed.stdout  # not a Python file: not passed to the hook

    passed = pre_commit(user, environment, "run", "bnlint", "--files", "good.py")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "bnlint" in passed.stdout and "Passed" in passed.stdout


def test_fix_hook_rewrites_the_file(project: tuple[Path, dict[str, str]]) -> None:
    user, environment = project
    target = user / "fixable.py"
    target.write_text(FIXABLE, encoding="utf-8")
    git(user, "add", "fixable.py")  # pre-commit sees a hook's changes to files git tracks
    result = pre_commit(user, environment, "run", "bnlint-fix", "--files", "fixable.py")
    assert result.returncode == 1  # pre-commit fails a hook that modified files
    assert "files were modified by this hook" in result.stdout
    assert target.read_text(encoding="utf-8") == FIXED

    again = pre_commit(user, environment, "run", "bnlint-fix", "--files", "fixable.py")
    assert again.returncode == 0, again.stdout + again.stderr


def test_excluded_files_are_skipped_by_the_hook(project: tuple[Path, dict[str, str]]) -> None:
    user, environment = project
    (user / "pyproject.toml").write_text(
        '[tool.bnlint]\nextend-exclude = ["legacy"]\n', encoding="utf-8"
    )
    (user / "legacy").mkdir(exist_ok=True)
    shutil.copy(BAD, user / "legacy" / "old.py")
    try:
        result = pre_commit(user, environment, "run", "bnlint", "--files", "legacy/old.py")
        assert result.returncode == 0, result.stdout + result.stderr
    finally:
        (user / "pyproject.toml").unlink()
