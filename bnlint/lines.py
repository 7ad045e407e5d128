"""Lines and text edits on plain strings (no LibCST): line splitting, offsets, applying edits."""

from __future__ import annotations

import re

from bnlint.diagnostics import Edit, Position

_NEWLINE = re.compile(r"\r\n|\r|\n")


def line_offsets(text: str) -> list[int]:
    """Offsets at which each line starts (Python's line breaks only: CRLF, CR, LF)."""
    offsets = [0]
    offsets.extend(match.end() for match in _NEWLINE.finditer(text))
    return offsets


def split_lines(text: str) -> list[str]:
    """The lines of a text without their line breaks (form feeds and other separators kept)."""
    return _NEWLINE.split(text)


def apply_edits(text: str, edits: list[Edit]) -> str:
    """Apply non-overlapping edits to a text; later edits first so positions stay valid."""
    starts = line_offsets(text)

    def offset(position: Position) -> int:
        return starts[position.row - 1] + position.column - 1

    result = text
    for edit in sorted(edits, key=lambda e: (e.start, e.end), reverse=True):
        result = result[: offset(edit.start)] + edit.content + result[offset(edit.end) :]
    return result
