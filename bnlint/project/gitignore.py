"""``.gitignore`` files, as git reads them, without git: so that discovery skips what git ignores.

What is honoured: a ``.gitignore`` in every folder from the repository root (the nearest folder holding
``.git``; without one, the folder being walked) down to the path, and ``.git/info/exclude``; the deeper
file wins. Inside one file, pathspec's gitignore flavour decides (last matching line wins, ``!``
negation, folder-only patterns, anchoring, ``**``, escapes). As in git, nothing inside an ignored folder
can be re-included. The global excludes file is not read.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern

    Patterns = tuple[GitIgnoreSpecPattern, ...]


def parse(text: str) -> Patterns:
    """The patterns of one ignore file, in order, as pathspec's gitignore flavour reads them. A line
    git would discard (an invalid pattern such as ``!`` or ``[z-a]``) is skipped, not an error;
    blank lines and comments give nothing. pathspec is imported only for a file with patterns."""
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if not lines:
        return ()
    from pathspec.patterns.gitignore import GitIgnorePatternError
    from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern

    patterns = []
    for line in lines:
        try:
            pattern = GitIgnoreSpecPattern(line)
        except (GitIgnorePatternError, re.error, ValueError):
            continue
        if pattern.include is not None:
            patterns.append(pattern)
    return tuple(patterns)


def _read_patterns(path: Path) -> Patterns:
    try:
        return parse(path.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return ()


def _matches_entry(pattern: GitIgnoreSpecPattern, relative: str, is_dir: bool) -> bool:
    """Whether a pattern matches the entry itself, as git matches each entry of its walk.

    pathspec's patterns also match what lies inside a matching folder: a folder is given with a
    trailing slash, and the slash after a matching folder is marked with the group ``ps_d`` (the mark
    its GitIgnoreSpec relies on too). A pattern without that mark (``a/**``, ``**``) matches
    what is inside a folder, so a folder is tried without its slash.
    """
    regex = pattern.regex
    if "ps_d" not in regex.groupindex:
        return regex.match(relative) is not None
    subject = relative + "/" if is_dir else relative
    match = regex.match(subject)
    return match is not None and match.start("ps_d") in (-1, len(subject) - 1)


def find_repository_root(path: Path) -> Optional[Path]:
    """The nearest folder at or above ``path`` that holds ``.git`` (a folder, or a file in worktrees)."""
    start = path.absolute()
    for folder in [start, *start.parents]:
        if (folder / ".git").exists():
            return folder
    return None


class GitIgnore:
    """Decides whether paths below ``root`` are ignored by the ignore files from ``root`` down."""

    def __init__(self, root: Path) -> None:
        self.root = root.absolute()
        self._inside_root = os.path.join(str(self.root), "")  # a path below the root starts so
        self._ignored_dirs: dict[Path, bool] = {}
        self._chains: dict[Path, list[tuple[Path, Patterns]]] = {}

    @classmethod
    def for_path(cls, path: Path) -> GitIgnore:
        """The matcher of the repository holding ``path`` (or rooted at ``path`` outside a repository)."""
        root = find_repository_root(path)
        if root is None:
            root = path.absolute() if path.is_dir() else path.absolute().parent
        return cls(root)

    def _files_for(self, folder: Path) -> list[tuple[Path, Patterns]]:
        """Ignore files that apply inside ``folder``, deepest first (each read once)."""
        chain = self._chains.get(folder)
        if chain is not None:
            return chain
        if folder == self.root or folder.parent == folder:
            chain = []
            exclude = _read_patterns(self.root / ".git" / "info" / "exclude")
            if exclude:
                chain.append((self.root, exclude))
        else:
            chain = list(self._files_for(folder.parent))
        patterns = _read_patterns(folder / ".gitignore")
        if patterns:
            chain.insert(0, (folder, patterns))
        self._chains[folder] = chain
        return chain

    def applies_inside(self, folder: Path) -> bool:
        """Whether any ignore file has patterns for the entries of ``folder`` (when not, a walk need
        not ask about each of them)."""
        folder = folder.absolute()
        if not os.path.join(str(folder), "").startswith(self._inside_root):
            return False
        return bool(self._files_for(folder))

    def _decision(self, path: Path, is_dir: bool) -> bool:
        """As git's walk decides for one entry: the last line that matches the entry itself, in the
        deepest ignore file that has one (what an ignored folder holds is pruned by the walk)."""
        for base, patterns in self._files_for(path.parent):
            relative = path.relative_to(base).as_posix()
            for pattern in reversed(patterns):
                if _matches_entry(pattern, relative, is_dir):
                    return bool(pattern.include)
        return False

    def matches(self, path: Path, is_dir: bool = False) -> bool:
        """Whether the ignore files ignore ``path`` itself (its folders are not looked at: a walk
        that prunes ignored folders never reaches their contents)."""
        path = path.absolute()
        if not str(path).startswith(self._inside_root):
            return False
        return self._directory_ignored(path) if is_dir else self._decision(path, False)

    def is_ignored(self, path: Path, is_dir: bool = False) -> bool:
        """Whether ``path`` (or one of its folders below the root) is ignored."""
        path = path.absolute()
        try:
            parts = path.relative_to(self.root).parts
        except ValueError:
            return False
        if not parts:
            return False
        folder = self.root
        for part in parts[:-1]:
            folder = folder / part
            if self._directory_ignored(folder):
                return True
        return self._directory_ignored(path) if is_dir else self._decision(path, False)

    def _directory_ignored(self, folder: Path) -> bool:
        cached = self._ignored_dirs.get(folder)
        if cached is None:
            cached = self._decision(folder, True)
            self._ignored_dirs[folder] = cached
        return cached
