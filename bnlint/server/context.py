"""What linting one document needs, read from the project around it and kept fresh as files change.

A document is linted with the settings of the nearest ``[tool.bnlint]`` above it (as ``bnlint check``
would lint the file), the Keras version those settings target (``auto`` reads the project's declared
dependencies), minus what ``per-file-ignores`` turns off for it; a document that ``exclude`` /
``extend-exclude`` (or a default excluded folder such as ``.venv``) covers is not linted, as with
``bnlint check --force-exclude``. Settings are kept per folder and read again as soon as one of the
files they came from changes on disk (each lookup compares a few ``stat`` results), so a client that
does not report file changes still gets fresh settings.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from bnlint.engine import LintOptions
from bnlint.project.config import ConfigError, Settings, load_settings, select_codes
from bnlint.project.summaries import FileSummaries, ProjectSummaries

#: The files that decide the Keras version with ``keras-version = "auto"`` (see project.dependencies).
DEPENDENCY_FILES = (
    "pyproject.toml",
    "setup.py",
    "setup.cfg",
    "environment.yml",
    "environment.yaml",
    "requirements",
)

#: Globs of every file whose change can change a document's settings (for clients that watch files).
WATCHED_GLOBS = (
    "**/pyproject.toml",
    "**/setup.py",
    "**/setup.cfg",
    "**/environment.yml",
    "**/environment.yaml",
    "**/requirements*.txt",
    "**/requirements/*.txt",
)


@dataclass(frozen=True)
class DocumentContext:
    """How to lint one document: the name its diagnostics carry, the options to lint it with (None
    when it is excluded), whether fix-all applies unsafe fixes, and a configuration error if any."""

    name: str
    path: Optional[Path]
    options: Optional[LintOptions]
    unsafe_fixes: bool = False
    error: Optional[str] = None
    #: The summaries of the project modules the document imports (as saved on disk).
    project: Optional[ProjectSummaries] = None

    def summaries(self) -> Optional[FileSummaries]:
        """The provider of project summaries for this document (None: a buffer without a file)."""
        if self.project is None or self.path is None:
            return None
        return self.project.for_file(self.path)


@dataclass(frozen=True)
class _FolderSettings:
    """The settings of one folder, the options they give, and the files they were read from."""

    settings: Settings
    options: LintOptions
    error: Optional[str]
    sources: tuple[Path, ...] = ()
    stamps: tuple = field(default=(), compare=False)


def _stamp(path: Path) -> Optional[tuple[int, int]]:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


def _stamps(paths: tuple[Path, ...]) -> tuple:
    return tuple(_stamp(path) for path in paths)


def _sources(folder: Path, settings: Settings) -> tuple[Path, ...]:
    """The files and folders whose change can change ``folder``'s settings: every pyproject.toml
    above it and, with ``keras-version = "auto"``, the folders up to the project that declares the
    dependencies (a new dependency file there changes their time) and that project's files."""
    folders = [folder, *folder.parents]
    paths = [directory / "pyproject.toml" for directory in folders]
    if settings.config_file is not None:
        paths.append(settings.config_file)
    if settings.keras_version == "auto":
        from bnlint.project.dependencies import find_project_root

        root = find_project_root(folder)
        for directory in folders:  # where find_project_root looked: up to the project or git root
            paths.append(directory)
            if directory == root or (directory / ".git").exists():
                break
        if root is not None:
            paths.extend(root / name for name in DEPENDENCY_FILES)
            paths.extend(sorted(root.glob("requirements*.txt")))
            paths.extend(sorted(root.glob("requirements/*.txt")))
    return tuple(paths)


def _read_folder(folder: Path) -> _FolderSettings:
    from bnlint.project.keras_version import resolve_keras_version
    from bnlint.rules import available_codes

    try:
        settings = load_settings(None, folder)
        codes = select_codes(
            available_codes(), settings.select, settings.extend_select, settings.ignore
        )
        version = resolve_keras_version(settings.keras_version, folder)
        options = LintOptions(codes=tuple(codes), keras_version=version)
        error = None
    except ConfigError as problem:
        settings, options, error = Settings(), LintOptions(codes=()), str(problem)
    sources = _sources(folder, settings)
    return _FolderSettings(settings, options, error, sources, _stamps(sources))


def _excluded(path: Path, settings: Settings) -> bool:
    from bnlint.project.discovery import DEFAULT_EXCLUDES, is_excluded

    root = settings.project_root or path.parent
    patterns = [*settings.exclude, *settings.extend_exclude]
    return path.name in DEFAULT_EXCLUDES or is_excluded(path, patterns, root)


class ContextCache:
    """Document contexts, from settings read once per folder and again when their files change."""

    def __init__(self, fallback_folder: Optional[Path] = None) -> None:
        #: Where a document without a file (an unsaved buffer) looks for its settings.
        self.fallback_folder = fallback_folder or Path.cwd()
        self._folders: dict[Path, _FolderSettings] = {}
        #: Summaries of project modules, kept while their files (and those they used) are unchanged.
        self.project = ProjectSummaries()

    def clear(self) -> None:
        """Forget every folder's settings (they are read again on the next lookup)."""
        self._folders.clear()

    def _folder(self, folder: Path) -> _FolderSettings:
        cached = self._folders.get(folder)
        if cached is not None and _stamps(cached.sources) == cached.stamps:
            return cached
        fresh = _read_folder(folder)
        self._folders[folder] = fresh
        return fresh

    def context_for(self, path: Optional[Path], name: str) -> DocumentContext:
        """How to lint the document at ``path`` (None: a buffer without a file), named ``name``."""
        self.project.refresh()
        folder = path.parent if path is not None else self.fallback_folder
        found = self._folder(folder.absolute())
        if found.error is not None:
            return DocumentContext(name, path, found.options, error=found.error)
        settings = found.settings
        if path is not None and _excluded(path, settings):
            return DocumentContext(name, path, None)
        options = found.options
        if path is not None and settings.per_file_ignores:
            from bnlint.runner import ignored_codes

            ignored = tuple(ignored_codes(settings, path))
            if ignored:
                codes = tuple(c for c in options.selected_codes if not c.startswith(ignored))
                options = LintOptions(codes=codes, keras_version=options.keras_version)
        return DocumentContext(
            name, path, options, unsafe_fixes=settings.unsafe_fixes, project=self.project
        )
