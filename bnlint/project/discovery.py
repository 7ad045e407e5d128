"""Which files to lint: ``.py`` and ``.ipynb`` under the given paths, minus excluded ones."""

from __future__ import annotations

import errno
import fnmatch
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

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


@dataclass(frozen=True)
class PathProblem:
    """A path that names no file bnlint can read (a symlink loop, a dangling link, a named pipe, an
    unreadable folder...), and why, in words."""

    path: Path
    message: str


_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def path_problem(path: Path) -> Optional[str]:
    """Why ``path`` cannot be linted as a file or walked as a folder, or None when it can."""
    try:
        mode = os.stat(path).st_mode
    except OSError as error:
        return _unreachable(path, error)
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    return f"not read: it is {kind}, not a regular file"


def _unreachable(path: Path, error: OSError) -> str:
    if error.errno == errno.ELOOP:
        return "cannot read: a symbolic link loop (too many levels of symbolic links)"
    if os.path.islink(path) and error.errno in (errno.ENOENT, errno.ENOTDIR):
        return (
            f"cannot read: a dangling symbolic link (its target {os.readlink(path)} does not exist)"
        )
    if error.errno in (errno.ENOENT, errno.ENOTDIR):
        return "cannot read: no such file or folder"
    return f"cannot read: {error.strerror or error}"


def _is_virtualenv(directory: str) -> bool:
    return os.path.isfile(os.path.join(directory, "pyvenv.cfg"))


def discover(
    paths: Iterable[Path],
    excludes: Iterable[str],
    root: Path,
    force_exclude: bool = False,
    problems: Optional[list[PathProblem]] = None,
) -> Iterator[Path]:
    """Files to lint, in a stable order. Files named explicitly are linted whatever their suffix
    unless ``force_exclude`` applies the excludes to them too (as pre-commit needs).

    A path that cannot be read as a file or walked as a folder (named, or met while walking) is added
    to ``problems`` (once) instead; without that list it is left out.
    """
    patterns = list(excludes)
    seen: set[Path] = set()
    found_problems = problems if problems is not None else []
    reported: set[Path] = {problem.path for problem in found_problems}

    def report(path: Path, message: str) -> None:
        if path not in reported:
            reported.add(path)
            found_problems.append(PathProblem(path, message))

    for path in paths:
        problem = path_problem(path)
        is_folder = problem is None and os.path.isdir(path)
        if (
            not is_folder
            and force_exclude
            and (
                is_excluded(path, patterns, root)
                or path.name in DEFAULT_EXCLUDES
                or GitIgnore.for_path(path).is_ignored(path)
            )
        ):
            continue
        if problem is not None:
            report(path, problem)
            continue
        found_files = _walk(path, patterns, root, report) if is_folder else iter([path])
        for found in found_files:
            if found not in seen:
                seen.add(found)
                yield found


def _walk(
    top: Path, patterns: list[str], root: Path, report: Callable[[Path, str], None]
) -> Iterator[Path]:
    visited: set[tuple[int, int]] = set()
    gitignore = GitIgnore.for_path(top)

    def unreadable(error: OSError) -> None:
        folder = Path(error.filename) if error.filename else top
        report(folder, f"cannot read the folder: {error.strerror or error}")

    for directory, subdirectories, files in os.walk(top, onerror=unreadable, followlinks=False):
        try:
            status = os.stat(directory)
        except OSError:
            subdirectories[:] = []
            continue
        key = (status.st_dev, status.st_ino)
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
                problem = path_problem(file_path)
                if problem is not None:
                    report(file_path, problem)
                    continue
                yield file_path
