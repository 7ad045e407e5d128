"""Source positions of CST nodes, computed only for files that have something to report."""

from __future__ import annotations

import re
from typing import Optional

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from bnlint.diagnostics import Edit, Position

_NEWLINE = re.compile(r"\r\n|\r|\n")


class PositionIndex:
    """Node -> (start, end) positions, resolved on first use with LibCST's PositionProvider."""

    def __init__(self, module: cst.Module) -> None:
        self._module = module
        self._ranges: Optional[dict[cst.CSTNode, CodeRange]] = None

    def range(self, node: cst.CSTNode) -> tuple[Position, Position]:
        """1-based start (inclusive) and end (exclusive) of a node."""
        if self._ranges is None:
            wrapper = MetadataWrapper(self._module, unsafe_skip_copy=True)
            self._ranges = dict(wrapper.resolve(PositionProvider))
        code_range = self._ranges[node]
        return (
            Position(code_range.start.line, code_range.start.column + 1),
            Position(code_range.end.line, code_range.end.column + 1),
        )


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
