"""The summaries of a project's modules, for the files that import them: built on demand, once per
run per module, and kept in the results cache under the module's content digest.

A summary is made from the module's own parse and facts, with the summaries of the modules it imports
in turn (a few levels deep; an import cycle is cut). A module that cannot be read, decoded or parsed,
or that is huge, has no summary: its importers treat what it exports as unknown. Every file's result
depends on the digests of the modules whose summaries it used, directly or not, so that editing
``models.py`` makes ``train.py`` be linted again.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Protocol

from bnlint.facts.summaries import ModuleSummary, from_data, to_data
from bnlint.project.imports import resolve_module

#: Imports are followed this many modules deep from a linted file (deeper ones stay unknown).
MAX_DEPTH = 3
#: Modules larger than this are not summarised (generated code, data in source form).
MAX_BYTES = 1024 * 1024


_IMPORT = re.compile(
    r"^[ \t]*(?:from[ \t]+(\.*)([\w.]*)[ \t]+import[ \t]+([^\n#;]+)|import[ \t]+([^\n#;]+))",
    re.MULTILINE,
)


def imported_modules(code: str) -> list[tuple[str, int]]:
    """(module, level) of every import in ``code`` that may name a project module: for
    ``from m import a``, both ``m`` and ``m.a``. Keras and TensorFlow are never project modules."""
    from bnlint import keras_api

    found: list[tuple[str, int]] = []
    for match in _IMPORT.finditer(code):
        dots, module, names, plain = match.groups()
        if plain is not None:
            candidates = [(part.split(" as ")[0].strip(), 0) for part in plain.split(",")]
        else:
            level = len(dots)
            candidates = [(module, level)] if module or level else []
            for part in names.strip("()\\ \t").split(","):
                name = part.split(" as ")[0].strip(" ()")
                if name and name != "*":
                    candidates.append((f"{module}.{name}" if module else name, level))
        found.extend(
            (name, level)
            for name, level in candidates
            if name and (level or keras_api.canonical_name(name) is None)
        )
    return found


def _words_of(triggers: tuple) -> tuple[str, ...]:
    """Every single word of a rule trigger list (a trigger may be a tuple of words)."""
    words: list[str] = []
    for trigger in triggers:
        for word in (trigger,) if isinstance(trigger, str) else trigger:
            if word not in words:
                words.append(word)
    return tuple(words)


class SummaryStore(Protocol):
    """Where summaries outlive a run (the results cache)."""

    def get_summary(self, path: str) -> Optional[dict]:
        """The stored entry of a module: ``{"digest", "deps", "summary"}``, or None."""

    def put_summary(self, path: str, entry: dict) -> None:
        """Store the entry of a module."""


@dataclass
class _Built:
    summary: Optional[ModuleSummary]
    #: The module and every module its summary used, with their content digests.
    deps: dict[str, str]


@dataclass
class SummaryStats:
    """What building summaries cost in this process."""

    built: int = 0
    from_cache: int = 0
    seconds: float = 0.0


class ProjectSummaries:
    """The summaries of one run (one per process: workers inherit the parent's when forked)."""

    def __init__(self, store: Optional[SummaryStore] = None) -> None:
        self.store = store
        self._built: dict[str, _Built] = {}
        self._digests: dict[str, Optional[str]] = {}
        self._building: list[str] = []
        #: Entries built in this process since the last ``take_new_entries``.
        self.new_entries: dict[str, dict] = {}
        self.stats = SummaryStats()
        #: The modules this process parsed to summarise them.
        self.parsed_paths: set[str] = set()
        self._codes: dict[str, Optional[str]] = {}

    def refresh(self) -> None:
        """Look at the files again (a long-lived process, such as the language server, between
        analyses): summaries whose modules changed are built again, the others kept."""
        from bnlint.project.imports import forget_layout

        forget_layout()
        self._digests.clear()
        self._codes.clear()
        self._built = {
            path: built for path, built in self._built.items() if self.still_valid(built.deps)
        }

    def for_file(self, path: Path) -> FileSummaries:
        """The provider of summaries for one linted file."""
        return FileSummaries(self, path)

    def digest(self, path: str) -> Optional[str]:
        """The content digest of a file (None when it cannot be read), once per run."""
        if path not in self._digests:
            from bnlint.cache import content_digest

            try:
                self._digests[path] = content_digest(Path(path).read_bytes())
            except OSError:
                self._digests[path] = None
        return self._digests[path]

    def still_valid(self, deps: dict[str, str]) -> bool:
        """Whether every module a result or summary depended on still has the same content."""
        return all(self.digest(path) == digest for path, digest in deps.items())

    def words_behind(
        self, importer: Path, code: str, words: tuple[str, ...], depth: int
    ) -> set[str]:
        """The ``words`` found in the project modules that ``code`` (of ``importer``) imports."""
        found: set[str] = set()
        for name, level in imported_modules(code):
            path = resolve_module(name, importer, level)
            if path is None or path == importer:
                continue
            module_code = self._module_code(str(path))
            if module_code is None:
                continue
            found.update(word for word in words if word in module_code)
            if depth > 1:
                found |= self.words_behind(path, module_code, words, depth - 1)
        return found

    def _module_code(self, path: str) -> Optional[str]:
        """A module's code without comments and docstrings, once per run (None: unreadable)."""
        if path not in self._codes:
            from bnlint.code_text import code_only

            try:
                data = Path(path).read_bytes()
                self._codes[path] = (
                    code_only(data.decode("utf-8", "replace")) if len(data) <= MAX_BYTES else None
                )
            except OSError:
                self._codes[path] = None
        return self._codes[path]

    def take_new_entries(self) -> dict[str, dict]:
        """The summaries built since the last call (for the parent process to cache)."""
        entries, self.new_entries = self.new_entries, {}
        return entries

    def summary(self, path: str) -> Optional[_Built]:
        """The summary of the module at ``path`` with its dependencies (None: unknown)."""
        if path in self._built:
            return self._built[path]
        if path in self._building:
            return None  # an import cycle: the module is being summarised further up
        digest = self.digest(path)
        if digest is None:
            return None
        cached = self._from_store(path, digest)
        if cached is not None:
            self._built[path] = cached
            return cached
        started = time.perf_counter()
        self._building.append(path)
        try:
            built = self._build(path, digest)
        finally:
            self._building.pop()
            self.stats.seconds += time.perf_counter() - started
        self._built[path] = built
        self.new_entries[path] = {
            "digest": digest,
            "deps": built.deps,
            "summary": to_data(built.summary) if built.summary is not None else None,
        }
        return built

    def _from_store(self, path: str, digest: str) -> Optional[_Built]:
        entry = self.store.get_summary(path) if self.store is not None else None
        if not isinstance(entry, dict) or entry.get("digest") != digest:
            return None
        deps = entry.get("deps")
        if not isinstance(deps, dict) or not self.still_valid(deps):
            return None
        try:
            summary = from_data(entry["summary"]) if entry.get("summary") is not None else None
        except (KeyError, TypeError, ValueError):
            return None
        self.stats.from_cache += 1
        return _Built(summary, dict(deps))

    def _build(self, path: str, digest: str) -> _Built:
        from bnlint.engine import parse_for_summary

        deps = {path: digest}
        try:
            data = Path(path).read_bytes()
        except OSError:
            return _Built(None, deps)
        if len(data) > MAX_BYTES:
            return _Built(None, deps)
        from bnlint.sources import SourceError, decode_python

        try:
            text = decode_python(data).text
        except SourceError:
            return _Built(None, deps)
        nested = FileSummaries(self, Path(path)) if len(self._building) < MAX_DEPTH else None
        summary = parse_for_summary(text, nested)
        self.stats.built += 1
        self.parsed_paths.add(path)
        if nested is not None:
            deps.update(nested.used)
        return _Built(summary, deps)


@dataclass
class FileSummaries:
    """The summaries one file asks for (``facts.summaries.SummaryProvider``), and what it used."""

    project: ProjectSummaries
    importer: Path
    #: Every module whose summary this file's analysis used, directly or not: path -> digest.
    used: dict[str, str] = field(default_factory=dict)

    def resolve(self, name: str, level: int) -> Optional[str]:
        """The file of ``import name`` (``level`` dots) from this file, if a project module other
        than the file itself."""
        path = resolve_module(name, self.importer, level)
        if path is None or path == self.importer.resolve():
            return None
        return str(path)

    def module(self, name: str, level: int) -> Optional[tuple[str, ModuleSummary]]:
        """The summary of ``import name`` (``level`` dots) from this file, if a project module."""
        path = self.resolve(name, level)
        if path is None:
            return None
        summary = self.module_at(path)
        return (path, summary) if summary is not None else None

    def imported_words(self, code: str, triggers: tuple) -> set[str]:
        """The words of ``triggers`` that occur in the code of the project modules ``code``
        imports (and the modules they import in turn, a level deeper), read as text: whether a
        file needs analysing at all is decided before anything is parsed."""
        return self.project.words_behind(self.importer, code, _words_of(triggers), depth=2)

    def module_at(self, path: str) -> Optional[ModuleSummary]:
        """The summary of the module at ``path``."""
        built = self.project.summary(path)
        if built is None:
            return None
        self.used.update(built.deps)  # a module that does not parse yet counts too
        return built.summary
