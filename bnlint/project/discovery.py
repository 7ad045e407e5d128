"""Which files to lint: ``.py`` and ``.ipynb`` under the given paths, minus excluded ones."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from stat import S_ISREG

from bnlint.project.gitignore import GitIgnore

SOURCE_SUFFIXES = (".py", ".pyi", ".ipynb")

#: Folders never entered unless named explicitly (as ruff does).
DEFAULT_EXCLUDES = frozenset(
    {
        ".bzr",
        ".direnv",
        ".eggs",
        ".git",
        ".git-rewrite",
        ".hg",
        ".ipynb_checkpoints",
        ".mypy_cache",
        ".nox",
        ".pants.d",
        ".pyenv",
        ".pytest_cache",
        ".pytype",
        ".ruff_cache",
        ".bnlint_cache",
        ".svn",
        ".tox",
        ".venv",
        ".vscode",
        "__pypackages__",
        "__pycache__",
        "_build",
        "buck-out",
        "build",
        "dist",
        "node_modules",
        "site-packages",
        "venv",
    }
)


def is_excluded(path: Path, patterns: Iterable[str], root: Path) -> bool:
    """Whether ``path`` or one of its folders below ``root`` matches an exclude glob or default name."""
    try:
        relative = path.absolute().relative_to(root.absolute()).as_posix()
    except ValueError:
        relative = path.as_posix()
    parts = relative.split("/")
    if any(part in DEFAULT_EXCLUDES for part in parts[:-1]):
        return True
    for pattern in patterns:
        pattern = pattern.rstrip("/")
        if fnmatch.fnmatch(relative, pattern) or fnmatch.fnmatch(path.name, pattern):
            return True
        for depth in range(1, len(parts)):
            if fnmatch.fnmatch("/".join(parts[:depth]), pattern) or fnmatch.fnmatch(
                parts[depth - 1], pattern
            ):
                return True
    return False


def _is_special(path: Path) -> bool:
    """Whether a found path is a FIFO, socket or device (reading it could block forever). A path that
    cannot be inspected (a symlink loop, a dangling link) is not special: reading it reports why."""
    try:
        return not S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def _is_virtualenv(directory: str) -> bool:
    return os.path.isfile(os.path.join(directory, "pyvenv.cfg"))


def discover(
    paths: Iterable[Path],
    excludes: Iterable[str],
    root: Path,
    force_exclude: bool = False,
) -> Iterator[Path]:
    """Files to lint, in a stable order. Files named explicitly are linted whatever their suffix
    unless ``force_exclude`` applies the excludes to them too (as pre-commit needs)."""
    patterns = list(excludes)
    seen: set[Path] = set()
    for path in paths:
        if path.is_dir():
            found_files = _walk(path, patterns, root)
        elif force_exclude and (
            is_excluded(path, patterns, root)
            or path.name in DEFAULT_EXCLUDES
            or GitIgnore.for_path(path).is_ignored(path)
        ):
            continue
        else:
            found_files = iter([path])
        for found in found_files:
            if found not in seen:
                seen.add(found)
                yield found


def _walk(top: Path, patterns: list[str], root: Path) -> Iterator[Path]:
    visited: set[tuple[int, int]] = set()
    gitignore = GitIgnore.for_path(top)
    for directory, subdirectories, files in os.walk(top, followlinks=False):
        try:
            stat = os.stat(directory)
        except OSError:
            subdirectories[:] = []
            continue
        key = (stat.st_dev, stat.st_ino)
        if key in visited:
            subdirectories[:] = []
            continue
        visited.add(key)
        kept = []
        ignores_here = gitignore.applies_inside(Path(directory))
        for name in sorted(subdirectories):
            full = os.path.join(directory, name)
            if name in DEFAULT_EXCLUDES or name.startswith(".") or _is_virtualenv(full):
                continue
            if patterns and is_excluded(Path(full), patterns, root):
                continue
            if ignores_here and gitignore.matches(Path(full), is_dir=True):
                continue
            kept.append(name)
        subdirectories[:] = kept
        for name in sorted(files):
            if name.endswith(SOURCE_SUFFIXES):
                file_path = Path(directory) / name
                if patterns and is_excluded(file_path, patterns, root):
                    continue
                if ignores_here and gitignore.matches(file_path):
                    continue
                if _is_special(file_path):
                    continue
                yield file_path
