"""The human formats: ``concise`` (one line per finding) and ``full`` (with the source and a caret)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bnlint.diagnostics import Diagnostic
from bnlint.lines import split_lines


def location(diagnostic: Diagnostic) -> str:
    """``path:row:col`` or, in a notebook, ``path:cell N:row:col``."""
    cell = f"cell {diagnostic.cell}:" if diagnostic.cell is not None else ""
    return f"{diagnostic.filename}:{cell}{diagnostic.start.row}:{diagnostic.start.column}"


def headline(diagnostic: Diagnostic) -> str:
    """``path:row:col: CODE [*] message``."""
    marker = " [*]" if diagnostic.fix is not None else ""
    return f"{location(diagnostic)}: {diagnostic.code}{marker} {diagnostic.message}"


def format_concise(diagnostics: Sequence[Diagnostic], sources: Mapping[str, str]) -> str:
    """One line per diagnostic."""
    return "".join(headline(d) + "\n" for d in diagnostics)


def format_full(diagnostics: Sequence[Diagnostic], sources: Mapping[str, str]) -> str:
    """Each diagnostic with its source line, a caret under the span, and the fix hint (like ruff)."""
    blocks = []
    line_cache: dict[str, list[str]] = {}
    for diagnostic in diagnostics:
        block = [headline(diagnostic)]
        key = (
            diagnostic.filename
            if diagnostic.cell is None
            else f"{diagnostic.filename}#{diagnostic.cell}"
        )
        text = sources.get(key)
        if text is not None:
            lines = line_cache.setdefault(key, split_lines(text))
            block.extend(_snippet(diagnostic, lines))
        if diagnostic.fix is not None:
            block.append(f"  = help: {diagnostic.fix.message}")
        blocks.append("\n".join(block) + "\n")
    return "\n".join(blocks)


def _snippet(diagnostic: Diagnostic, lines: list[str]) -> list[str]:
    row = diagnostic.start.row
    if not 1 <= row <= len(lines):
        return []
    source = lines[row - 1].expandtabs(1)
    width = len(str(row))
    start = diagnostic.start.column - 1
    end = diagnostic.end.column - 1 if diagnostic.end.row == row else len(source.rstrip())
    carets = "^" * max(1, min(end, len(source)) - start)
    gutter = " " * width
    return [
        f"{gutter} |",
        f"{row} | {source}",
        f"{gutter} | {' ' * start}{carets} {diagnostic.code}",
        f"{gutter} |",
    ]
