"""The summaries of a project's modules, for the files that import them: built on demand, once per
run per module and name, and kept in the results cache under the module's content digest.

A summary answers for one name (``Net`` of ``models.py``): it is made from the module's top-level code
and the definitions that name needs (see ``outline``), parsed and analysed with the summaries of the
modules they import in turn (a few levels deep; an import cycle is cut). A module that cannot be
read, decoded or parsed, or that is huge, has no summary: its importers treat its names as unknown.
Every file's result depends on the digests of the modules whose summaries it used, directly or not,
so that editing ``models.py`` makes ``train.py`` be linted again.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Protocol

from bnlint.facts.summaries import Member, from_data, to_data
from bnlint.project.imports import real_path, resolve_module

if TYPE_CHECKING:
    from bnlint.project.outline import Outline

#: Imports are followed this many modules deep from a linted file (deeper ones stay unknown).
MAX_DEPTH = 2
#: How many project modules one linted file may ask summaries of, and one summary in turn: the
#: first ones its analysis meets (in code order, so the same for every run); the others stay
#: unknown. A training script imports a handful; a library's modules may import dozens.
MAX_MODULES_PER_FILE = 12
MAX_MODULES_PER_SUMMARY = 4
#: Modules larger than this are not summarised (generated code, data in source form).
MAX_BYTES = 1024 * 1024


#: ``from module import *`` at the top level of a module.
_STAR_IMPORT = re.compile(r"^from[ \t]+(\.*)([\w.]*)[ \t]+import[ \t]+\*", re.MULTILINE)
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
        """The stored entry of a module: ``{"digest", "names": {name: {"deps", "summary"}}}``."""

    def put_summary(self, path: str, entry: dict) -> None:
        """Store (merge) the entry of a module."""


@dataclass
class _Built:
    summary: Optional[Member]
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
        self._built: dict[tuple[str, str], _Built] = {}
        self._digests: dict[str, Optional[str]] = {}
        self._texts: dict[str, Optional[str]] = {}
        self._outlines: dict[str, Outline] = {}
        self._building: list[tuple[str, str]] = []
        #: Entries built in this process since the last ``take_new_entries``: path -> entry.
        self.new_entries: dict[str, dict] = {}
        self.stats = SummaryStats()
        #: The modules this process parsed (in part) to summarise them.
        self.parsed_paths: set[str] = set()
        self._codes: dict[str, Optional[str]] = {}
        self._module_words: dict[tuple[Path, tuple[str, ...], int], frozenset[str]] = {}
        #: Entries that other worker processes of the run built (path -> entry, as cached).
        self._heard: dict[str, dict] = {}
        self._star_sources: dict[tuple[str, str], tuple[Optional[str], tuple[str, ...]]] = {}

    def refresh(self) -> None:
        """Look at the files again (a long-lived process, such as the language server, between
        analyses): summaries whose modules changed are built again, the others kept."""
        from bnlint.project.imports import forget_layout

        forget_layout()
        self._digests.clear()
        self._codes.clear()
        self._module_words.clear()
        self._heard.clear()
        self._texts.clear()
        self._outlines.clear()
        self._star_sources.clear()
        self._built = {
            key: built for key, built in self._built.items() if self.still_valid(built.deps)
        }

    def star_source(
        self, path: str, name: str, depth: int = MAX_DEPTH + 1
    ) -> tuple[Optional[str], tuple[str, ...]]:
        """Where ``from <the module at path> import *`` takes ``name`` from: that module when it
        defines ``name`` (a top-level ``def`` or ``class``), else a project module it star-imports
        in turn, ``depth`` modules deep (an import cycle is cut); and every module read to find
        out. Read from the modules' text: nothing is parsed for a name that no module defines."""
        key = (path, name)
        if key not in self._star_sources:
            self._star_sources[key] = (None, (path,))  # an import cycle ends here
            self._star_sources[key] = self._find_star_source(path, name, depth)
        return self._star_sources[key]

    def _find_star_source(
        self, path: str, name: str, depth: int
    ) -> tuple[Optional[str], tuple[str, ...]]:
        outline = self._outline(path)
        if outline is None:
            return None, (path,)
        if name in outline.definitions:
            return path, (path,)
        read = [path]
        if depth > 1:
            for match in reversed(list(_STAR_IMPORT.finditer(outline.text))):
                dots, module = match.groups()
                inner = resolve_module(module, Path(path), len(dots))
                if inner is None or str(inner) == path:
                    continue
                found, inner_read = self.star_source(str(inner), name, depth - 1)
                read.extend(inner_read)
                if found is not None:
                    return found, tuple(read)
        return None, tuple(read)

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

    def take_new_entries(self) -> dict[str, dict]:
        """The summaries built since the last call (for the parent process to cache)."""
        entries, self.new_entries = self.new_entries, {}
        return entries

    def hear(self, entries: dict[str, dict]) -> None:
        """Take in summaries another process of the run built (``take_new_entries`` there): they are
        used like cached ones, so that they are not built again here."""
        for path, entry in entries.items():
            known = self._heard.get(path)
            if known is not None and known["digest"] == entry["digest"]:
                known["names"].update(entry["names"])
            else:
                self._heard[path] = {"digest": entry["digest"], "names": dict(entry["names"])}

    def member(self, path: str, name: str) -> Optional[_Built]:
        """The summary of ``name`` in the module at ``path``, with its dependencies (None:
        unknown, the module being summarised further up an import cycle)."""
        key = (path, name)
        if key in self._built:
            return self._built[key]
        if key in self._building or any(path == busy for busy, _ in self._building):
            return None
        digest = self.digest(path)
        if digest is None:
            return None
        cached = self._from_store(path, name, digest)
        if cached is not None:
            self._built[key] = cached
            return cached
        started = time.perf_counter()
        self._building.append(key)
        try:
            built = self._build(path, name, digest)
        finally:
            self._building.pop()
            if not self._building:
                self.stats.seconds += time.perf_counter() - started
        self._built[key] = built
        entry = self.new_entries.setdefault(path, {"digest": digest, "names": {}})
        entry["names"][name] = {
            "deps": built.deps,
            "summary": to_data(built.summary) if built.summary is not None else None,
        }
        return built

    def _from_store(self, path: str, name: str, digest: str) -> Optional[_Built]:
        """The summary of ``name`` that another worker built or the cache holds, when still valid."""
        found = _stored_name(self._heard.get(path), name, digest)
        if found is None and self.store is not None:
            found = _stored_name(self.store.get_summary(path), name, digest)
        if found is None:
            return None
        deps = found.get("deps")
        if not isinstance(deps, dict) or not self.still_valid(deps):
            return None
        try:
            summary = from_data(found["summary"]) if found.get("summary") is not None else None
        except (KeyError, TypeError, ValueError):
            return None
        self.stats.from_cache += 1
        return _Built(summary, dict(deps))

    def _build(self, path: str, name: str, digest: str) -> _Built:
        from bnlint.engine import summarize_source

        deps = {path: digest}
        outline = self._outline(path)
        if outline is None:
            return _Built(None, deps)
        text = outline.text_for(name)
        if text is None:
            return _Built(None, deps)  # nothing in its code can matter to a rule
        nested = (
            FileSummaries(self, Path(path), budget=MAX_MODULES_PER_SUMMARY)
            if len(self._building) < MAX_DEPTH
            else None
        )
        summary = summarize_source(text, name, nested)
        self.stats.built += 1
        self.parsed_paths.add(path)
        if nested is not None:
            deps.update(nested.used)
        return _Built(summary, deps)

    def _outline(self, path: str) -> Optional[Outline]:
        """The outline of a module's source (None: unreadable, undecodable or huge), once per run."""
        if path not in self._outlines:
            from bnlint.project.outline import Outline

            text = self._text(path)
            if text is None:
                return None
            self._outlines[path] = Outline(text)
        return self._outlines[path]

    def _text(self, path: str) -> Optional[str]:
        if path not in self._texts:
            from bnlint.sources import SourceError, decode_python

            try:
                data = Path(path).read_bytes()
                self._texts[path] = decode_python(data).text if len(data) <= MAX_BYTES else None
            except (OSError, SourceError):
                self._texts[path] = None
        return self._texts[path]

    def words_behind(
        self, importer: Path, code: str, words: tuple[str, ...], depth: int
    ) -> set[str]:
        """The ``words`` found in the project modules that ``code`` (of ``importer``) imports."""
        found: set[str] = set()
        for name, level in imported_modules(code):
            path = resolve_module(name, importer, level)
            if path is not None and path != importer:
                found |= self._words_of_module(path, words, depth)
        return found

    def _words_of_module(self, path: Path, words: tuple[str, ...], depth: int) -> frozenset[str]:
        """The ``words`` in a project module and, ``depth - 1`` deep, in those it imports (once
        per run: many files import the same modules)."""
        key = (path, words, depth)
        if key not in self._module_words:
            module_code = self._module_code(str(path))
            found: set[str] = set()
            if module_code is not None:
                found = {word for word in words if word in module_code}
                if depth > 1:
                    found |= self.words_behind(path, module_code, words, depth - 1)
            self._module_words[key] = frozenset(found)
        return self._module_words[key]

    def _module_code(self, path: str) -> Optional[str]:
        """A module's code without comments and docstrings, once per run (None: unreadable)."""
        if path not in self._codes:
            from bnlint.code_text import code_only

            text = self._text(path)
            self._codes[path] = code_only(text) if text is not None else None
        return self._codes[path]


def _stored_name(entry: object, name: str, digest: str) -> Optional[dict]:
    """What a stored entry of a module (of content ``digest``) holds about ``name``, if anything."""
    if not isinstance(entry, dict) or entry.get("digest") != digest:
        return None
    names = entry.get("names")
    found = names.get(name) if isinstance(names, dict) else None
    return found if isinstance(found, dict) else None


@dataclass
class FileSummaries:
    """The summaries one file asks for (``facts.summaries.SummaryProvider``), and what it used."""

    project: ProjectSummaries
    importer: Path
    #: Every module whose summary this file's analysis used, directly or not: path -> digest.
    used: dict[str, str] = field(default_factory=dict)
    budget: int = MAX_MODULES_PER_FILE
    #: The modules asked about so far, in order (the first ``budget`` of them are answered).
    asked: list[str] = field(default_factory=list)

    def resolve(self, name: str, level: int) -> Optional[str]:
        """The file of ``import name`` (``level`` dots) from this file, if a project module other
        than the file itself."""
        path = resolve_module(name, self.importer, level)
        if path is None or path == real_path(self.importer):
            return None
        return str(path)

    def member(self, path: str, name: str) -> Optional[Member]:
        """What ``name`` is in the project module at ``path`` (None past the file's budget)."""
        if path not in self.asked:
            self.asked.append(path)
        if self.asked.index(path) >= self.budget:
            return None
        built = self.project.member(path, name)
        if built is None:
            digest = self.project.digest(path)
            if digest is not None:
                self.used[path] = digest  # fixing or creating it may change this file's findings
            return None
        self.used.update(built.deps)
        return built.summary

    def star_source(self, path: str, name: str) -> Optional[str]:
        """The project module that ``from <the module at path> import *`` brings ``name`` from
        (None: neither it nor a module it star-imports defines ``name``)."""
        found, read = self.project.star_source(path, name)
        for module in read:
            digest = self.project.digest(module)
            if digest is not None:
                self.used[module] = digest  # defining the name there would change this file
        return found

    def imported_words(self, code: str, triggers: tuple) -> set[str]:
        """The words of ``triggers`` that occur in the code of the project modules ``code``
        imports (and the modules they import in turn, a level deeper), read as text: whether a
        file needs analysing at all is decided before anything is parsed."""
        return self.project.words_behind(self.importer, code, _words_of(triggers), depth=2)
