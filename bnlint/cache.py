"""A results cache: each file's diagnostics, keyed by its name and content, per bnlint build and settings.

One JSON file per settings fingerprint under the cache folder (``.bnlint_cache`` in the project root by
default). Writes go to a temporary file that is renamed into place, after merging what another run saved
meanwhile, so two runs sharing the folder never see a half-written cache: at worst an entry is lost and
linted again next time.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Optional

from bnlint import __version__
from bnlint.diagnostics import Diagnostic, diagnostic_from_dict, diagnostic_to_dict

CACHE_DIR_NAME = ".bnlint_cache"


def content_digest(data: bytes) -> str:
    """A short, collision-resistant digest of a file's bytes."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def build_fingerprint() -> str:
    """What identifies this bnlint build: its version and the size and time of its own source files.

    A changed rule must never be answered from a cache written by the code before the change, even
    when the version number stayed the same (an editable install during development).
    """
    package = Path(__file__).resolve().parent
    stamps = []
    for path in sorted(package.rglob("*.py")):
        with contextlib.suppress(OSError):
            status = path.stat()
            stamps.append(
                f"{path.relative_to(package).as_posix()}:{status.st_size}:{status.st_mtime_ns}"
            )
    return hashlib.blake2b("\n".join([__version__, *stamps]).encode(), digest_size=12).hexdigest()


def settings_fingerprint(*parts: object) -> str:
    """A digest of everything besides the file that decides its diagnostics."""
    text = json.dumps([build_fingerprint(), *[repr(p) for p in parts]])
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


class ResultCache:
    """Diagnostics of files already linted with the same bnlint build and settings."""

    def __init__(self, directory: Path, fingerprint: str) -> None:
        self.directory = directory
        self.path = directory / __version__ / f"{fingerprint}.json"
        self._entries, self._summaries = self._read()
        self._changed: dict[str, dict] = {}
        self._changed_summaries: dict[str, dict] = {}

    def _read(self) -> tuple[dict[str, dict], dict[str, dict]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}, {}
        if not isinstance(data, dict):
            return {}, {}
        entries, summaries = data.get("entries"), data.get("summaries")
        return (
            entries if isinstance(entries, dict) else {},
            summaries if isinstance(summaries, dict) else {},
        )

    def get(self, name: str, digest: str) -> Optional[tuple[list[Diagnostic], dict[str, str]]]:
        """The cached diagnostics of a file and the project modules they depended on (path ->
        digest), or None when it was not linted like this before."""
        entry = self._entries.get(name)
        if not isinstance(entry, dict) or entry.get("digest") != digest:
            return None
        deps = entry.get("deps", {})
        try:
            found = [diagnostic_from_dict(item) for item in entry["diagnostics"]]
        except (KeyError, TypeError, ValueError, AttributeError):
            return None
        if not _well_formed_deps(deps) or not all(_well_formed(d, name) for d in found):
            return None
        return found, deps

    def put(
        self,
        name: str,
        digest: str,
        diagnostics: list[Diagnostic],
        deps: Optional[dict[str, str]] = None,
    ) -> None:
        """Remember a file's diagnostics (replacing what was remembered for an older content) and
        the digests of the project modules whose summaries they used."""
        entry = {
            "digest": digest,
            "deps": deps or {},
            "diagnostics": [diagnostic_to_dict(d) for d in diagnostics],
        }
        self._entries[name] = entry
        self._changed[name] = entry

    def get_summary(self, path: str) -> Optional[dict]:
        """The cached summary entry of a project module (``project.summaries``), or None."""
        entry = self._summaries.get(path)
        return entry if isinstance(entry, dict) else None

    def put_summary(self, path: str, entry: dict) -> None:
        """Remember summaries of a project module's names (merged with those of the same content)."""
        merged = _merge_summary(self._summaries.get(path), entry)
        self._summaries[path] = merged
        self._changed_summaries[path] = merged

    def save(self) -> None:
        """Merge with what is on disk now and write atomically; a cache that cannot be written is skipped."""
        if not self._changed and not self._changed_summaries:
            return
        merged, merged_summaries = self._read()
        merged.update(self._changed)
        for path, entry in self._changed_summaries.items():
            merged_summaries[path] = _merge_summary(merged_summaries.get(path), entry)
        temporary: Optional[str] = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _mark_cache_directory(self.directory)
            import tempfile

            handle, temporary = tempfile.mkstemp(dir=str(self.path.parent), suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(
                    {"entries": merged, "summaries": merged_summaries},
                    stream,
                    separators=(",", ":"),
                )
            os.replace(temporary, self.path)
        except OSError:
            if temporary is not None:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
        self._changed, self._changed_summaries = {}, {}


def _merge_summary(old: object, new: dict) -> dict:
    """The summaries of one module's names from two runs: kept together while its digest is the
    same, the new ones alone otherwise."""
    if not isinstance(old, dict) or old.get("digest") != new.get("digest"):
        return new
    names = dict(old.get("names") or {}) if isinstance(old.get("names"), dict) else {}
    names.update(new.get("names") or {})
    return {"digest": new.get("digest"), "names": names}


def _well_formed_deps(deps: object) -> bool:
    """Whether the dependencies read from the cache are paths mapped to digests."""
    return isinstance(deps, dict) and all(
        isinstance(path, str) and isinstance(digest, str) for path, digest in deps.items()
    )


def _well_formed(diagnostic: Diagnostic, name: str) -> bool:
    """Whether a diagnostic read from the cache has the types bnlint writes (a damaged or edited cache
    file is ignored, never trusted)."""
    fix = diagnostic.fix
    edits = fix.edits if fix is not None else ()
    positions = [diagnostic.start, diagnostic.end, *(p for e in edits for p in (e.start, e.end))]
    texts = [diagnostic.code, diagnostic.name, diagnostic.message, *(e.content for e in edits)]
    return (
        diagnostic.filename == name
        and all(isinstance(text, str) for text in texts)
        and (fix is None or isinstance(fix.message, str))
        and isinstance(diagnostic.url, (str, type(None)))
        and type(diagnostic.cell) in (int, type(None))
        and all(type(p.row) is int and type(p.column) is int for p in positions)
    )


def _mark_cache_directory(directory: Path) -> None:
    """A .gitignore and a CACHEDIR.TAG, so that git and backup tools skip the cache (as ruff does)."""
    gitignore = directory / ".gitignore"
    if not gitignore.exists():
        gitignore.write_text("# Automatically created by bnlint.\n*\n", encoding="utf-8")
    tag = directory / "CACHEDIR.TAG"
    if not tag.exists():
        tag.write_text(
            "Signature: 8a477f597d28d172789f06886806bc55\n"
            "# This file is a cache directory tag created by bnlint.\n",
            encoding="utf-8",
        )
