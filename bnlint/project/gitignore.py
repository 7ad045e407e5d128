"""``.gitignore`` matching, as git does it, without git: so that discovery skips what git ignores.

What is honoured: a ``.gitignore`` in every folder from the repository root (the nearest folder holding
``.git``; without one, the folder being walked) down to the path, and ``.git/info/exclude``; the deeper
file wins, and inside a file the last matching line wins; ``!`` negation; a trailing ``/`` for folders
only; a ``/`` at the start or in the middle anchors a pattern to its file's folder, otherwise it
matches a name at any depth; ``*``, ``?``, ``[...]``, ``**/``, ``/**`` and ``/**/``; ``\\`` escapes.
As in git, nothing inside an ignored folder can be re-included. The global excludes file is not read.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional


@dataclass(frozen=True)
class Pattern:
    """One line of an ignore file."""

    regex: re.Pattern[str]
    negated: bool
    directory_only: bool
    anchored: bool

    def matches(self, relative: str, is_dir: bool) -> bool:
        """Whether the pattern matches a path relative to its ignore file's folder."""
        if self.directory_only and not is_dir:
            return False
        subject = relative if self.anchored else relative.rsplit("/", 1)[-1]
        return self.regex.fullmatch(subject) is not None


def _strip_trailing_spaces(line: str) -> str:
    end = len(line)
    while end > 0 and line[end - 1] == " ":
        backslashes = 0
        index = end - 2
        while index >= 0 and line[index] == "\\":
            backslashes += 1
            index -= 1
        if backslashes % 2 == 1:
            break
        end -= 1
    return line[:end]


def _translate(glob: str) -> str:
    """A gitignore glob (without its anchoring slash) as a regular expression."""
    out: list[str] = []
    index = 0
    length = len(glob)
    while index < length:
        char = glob[index]
        if char == "*":
            run_end = index
            while run_end < length and glob[run_end] == "*":
                run_end += 1
            at_start = index == 0 or glob[index - 1] == "/"
            at_end = run_end == length or glob[run_end] == "/"
            if run_end - index >= 2 and at_start and at_end:
                if run_end == length:  # "**" at the end: everything inside
                    out.append(".*")
                else:  # "**/": zero or more folders
                    out.append("(?:[^/]*/)*")
                    run_end += 1
            else:
                out.append("[^/]*")
            index = run_end
            continue
        if char == "?":
            out.append("[^/]")
        elif char == "\\" and index + 1 < length:
            index += 1
            out.append(re.escape(glob[index]))
        elif char == "[":
            closing = _class_end(glob, index)
            if closing is None:
                out.append(re.escape(char))
            else:
                out.append(_character_class(glob[index + 1 : closing]))
                index = closing
        else:
            out.append(re.escape(char))
        index += 1
    return "".join(out)


def _class_end(glob: str, start: int) -> Optional[int]:
    index = start + 1
    if index < len(glob) and glob[index] in "!^":
        index += 1
    if index < len(glob) and glob[index] == "]":
        index += 1
    while index < len(glob):
        if glob[index] == "\\":
            index += 2
            continue
        if glob[index] == "]":
            return index
        index += 1
    return None


def _character_class(body: str) -> str:
    negated = body[:1] in ("!", "^")
    if negated:
        body = body[1:]
    chars: list[str] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char == "\\" and index + 1 < len(body):
            index += 1
            chars.append(re.escape(body[index]))
        elif char in "\\[]^":
            chars.append("\\" + char)
        else:
            chars.append(char)
        index += 1
    inner = "".join(chars)
    return f"[^/{inner}]" if negated else f"[{inner}]"


def parse_line(line: str) -> Optional[Pattern]:
    """The pattern of one ``.gitignore`` line, or None for blank lines and comments."""
    line = line.rstrip("\r\n")
    if not line or line.startswith("#"):
        return None
    line = _strip_trailing_spaces(line)
    negated = line.startswith("!")
    if negated or line.startswith(("\\!", "\\#")):
        line = line[1:]
    directory_only = line.endswith("/") and not line.endswith("\\/")
    if directory_only:
        line = line.rstrip("/")
    if not line:
        return None
    anchored = "/" in line
    line = line.lstrip("/") if line.startswith("/") else line
    return Pattern(re.compile(_translate(line), re.DOTALL), negated, directory_only, anchored)


def parse(text: str) -> tuple[Pattern, ...]:
    """Every pattern of an ignore file, in order."""
    return tuple(p for p in (parse_line(line) for line in text.splitlines()) if p is not None)


def _read_patterns(path: Path) -> tuple[Pattern, ...]:
    try:
        return parse(path.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return ()


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
        self._chains: dict[Path, list[tuple[Path, tuple[Pattern, ...]]]] = {}

    @classmethod
    def for_path(cls, path: Path) -> GitIgnore:
        """The matcher of the repository holding ``path`` (or rooted at ``path`` outside a repository)."""
        root = find_repository_root(path)
        if root is None:
            root = path.absolute() if path.is_dir() else path.absolute().parent
        return cls(root)

    def _files_for(self, folder: Path) -> list[tuple[Path, tuple[Pattern, ...]]]:
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
        for base, patterns in self._files_for(path.parent):
            relative = path.relative_to(base).as_posix()
            for pattern in reversed(patterns):
                if pattern.matches(relative, is_dir):
                    return not pattern.negated
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
