"""Paths in, results out: discovery, per-file linting and fixing, in that order."""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from bnlint.config import Settings
from bnlint.diagnostics import Diagnostic
from bnlint.discovery import discover
from bnlint.engine import LintOptions, fix_text, lint_text, parse_error
from bnlint.notebooks import NotebookResult, check_notebook, is_notebook
from bnlint.sources import SourceError, decode_python, read_python, write_atomically


@dataclass(frozen=True)
class RunOptions:
    """What to do besides reporting: fix, show diffs, honour excludes for named files."""

    fix: bool = False
    unsafe_fixes: bool = False
    diff: bool = False
    force_exclude: bool = False


@dataclass
class RunResult:
    """Everything a report needs: diagnostics, source texts, fix counts, diffs."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    files: int = 0
    fixed: int = 0
    diffs: list[str] = field(default_factory=list)
    fixed_text: Optional[str] = None

    @property
    def fixable(self) -> int:
        """Diagnostics that have a fix."""
        return sum(1 for d in self.diagnostics if d.fix is not None)


def display_name(path: Path) -> str:
    """The path as the user gave or walked it, POSIX style."""
    return path.as_posix()


def ignored_codes(settings: Settings, path: Path) -> set[str]:
    """Codes (or prefixes) that ``per-file-ignores`` turns off for this path."""
    root = settings.project_root or Path.cwd()
    try:
        relative = path.absolute().relative_to(root.absolute()).as_posix()
    except ValueError:
        relative = path.as_posix()
    codes: set[str] = set()
    for pattern, ignored in settings.per_file_ignores.items():
        if fnmatch.fnmatch(relative, pattern) or fnmatch.fnmatch(path.name, pattern):
            codes.update(ignored)
    return codes


def _filter(diagnostics: list[Diagnostic], ignored: set[str]) -> list[Diagnostic]:
    if not ignored:
        return diagnostics
    return [d for d in diagnostics if not any(d.code.startswith(code) for code in ignored)]


def lint_paths(
    paths: Iterable[Path], settings: Settings, options: LintOptions, run: RunOptions
) -> RunResult:
    """Lint (and fix) every file found under ``paths``."""
    result = RunResult()
    root = settings.project_root or Path.cwd()
    for path in discover(
        paths, [*settings.exclude, *settings.extend_exclude], root, run.force_exclude
    ):
        result.files += 1
        _lint_file(path, settings, options, run, result)
    result.diagnostics.sort(key=Diagnostic.sort_key)
    return result


def _lint_file(
    path: Path, settings: Settings, options: LintOptions, run: RunOptions, result: RunResult
) -> None:
    name = display_name(path)
    if is_notebook(name):
        _lint_notebook(path, name, settings, options, run, result)
        return
    try:
        source = read_python(path)
    except SourceError as error:
        result.diagnostics.append(parse_error(name, str(error)))
        return
    ignored = ignored_codes(settings, path)
    result.sources[name] = source.text
    if not (run.fix or run.diff):
        result.diagnostics.extend(_filter(lint_text(source.text, name, options), ignored))
        return
    fixed = fix_text(source.text, name, options, run.unsafe_fixes)
    result.diagnostics.extend(_filter(fixed.remaining, ignored))
    if fixed.text == source.text:
        return
    if run.diff:
        result.diffs.append(unified_diff(name, source.text, fixed.text))
        result.fixed += fixed.fixed
        return
    write_atomically(path, source.encode(fixed.text))
    result.fixed += fixed.fixed
    result.sources[name] = fixed.text


def _lint_notebook(
    path: Path,
    name: str,
    settings: Settings,
    options: LintOptions,
    run: RunOptions,
    result: RunResult,
) -> None:
    try:
        data = path.read_bytes()
    except OSError as error:
        result.diagnostics.append(parse_error(name, f"cannot read: {error.strerror or error}"))
        return
    notebook = check_notebook(data, name, options, fix=run.fix or run.diff, unsafe=run.unsafe_fixes)
    _add_notebook(notebook, ignored_codes(settings, path), run, result)
    if run.fix and not run.diff and notebook.data is not None:
        write_atomically(path, notebook.data)


def _add_notebook(
    notebook: NotebookResult, ignored: set[str], run: RunOptions, result: RunResult
) -> None:
    result.diagnostics.extend(_filter(notebook.diagnostics, ignored))
    result.sources.update(notebook.sources)
    result.fixed += notebook.fixed
    if run.diff:
        result.diffs.extend(notebook.diffs)


def unified_diff(name: str, before: str, after: str) -> str:
    """A unified diff of a file's fix, as ``--diff`` prints it."""
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=name,
            tofile=name,
        )
    )


def lint_stdin(
    data: bytes, name: str, settings: Settings, options: LintOptions, run: RunOptions
) -> RunResult:
    """Lint (and with ``--fix``, fix) source read from standard input."""
    result = RunResult(files=1)
    if is_notebook(name):
        notebook = check_notebook(
            data, name, options, fix=run.fix or run.diff, unsafe=run.unsafe_fixes
        )
        _add_notebook(notebook, ignored_codes(settings, Path(name)), run, result)
        if run.fix:
            result.fixed_text = (notebook.data or data).decode("utf-8", errors="replace")
        return result
    try:
        source = decode_python(data)
    except SourceError as error:
        result.diagnostics.append(parse_error(name, str(error)))
        return result
    ignored = ignored_codes(settings, Path(name))
    result.sources[name] = source.text
    if run.fix or run.diff:
        fixed = fix_text(source.text, name, options, run.unsafe_fixes)
        result.diagnostics = _filter(fixed.remaining, ignored)
        result.fixed = fixed.fixed
        if run.diff and fixed.text != source.text:
            result.diffs.append(unified_diff(name, source.text, fixed.text))
        result.fixed_text = fixed.text
    else:
        result.diagnostics = _filter(lint_text(source.text, name, options), ignored)
    return result
