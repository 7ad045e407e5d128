"""Formatters: sorted diagnostics in, text out. Nothing else prints findings."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from bnlint.diagnostics import Diagnostic

#: A formatter takes the diagnostics and the source text of each file (for showing source lines).
Formatter = Callable[[Sequence[Diagnostic], Mapping[str, str]], str]

FORMAT_NAMES = ("full", "concise", "json", "sarif", "github")


def get_formatter(name: str) -> Formatter:
    """The formatter for an ``--output-format`` name (imported on demand)."""
    if name == "full":
        from bnlint.formats.text import format_full

        return format_full
    if name == "concise":
        from bnlint.formats.text import format_concise

        return format_concise
    if name == "json":
        from bnlint.formats.json_format import format_json

        return format_json
    if name == "sarif":
        from bnlint.formats.sarif import format_sarif

        return format_sarif
    if name == "github":
        from bnlint.formats.github import format_github

        return format_github
    raise ValueError(f"unknown output format {name!r}")
