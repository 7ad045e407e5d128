"""Source positions of CST nodes, computed only for files that have something to report."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from bnlint.diagnostics import Position
from bnlint.lines import apply_edits, line_offsets, split_lines

if TYPE_CHECKING:
    import libcst as cst
    from libcst.metadata import CodeRange

__all__ = ["PositionIndex", "apply_edits", "line_offsets", "split_lines"]


class PositionIndex:
    """Node -> (start, end) positions, resolved on first use with LibCST's PositionProvider (a file
    without findings never pays for the walk)."""

    def __init__(self, module: cst.Module) -> None:
        self._module = module
        self._ranges: Optional[dict[cst.CSTNode, CodeRange]] = None

    def range(self, node: cst.CSTNode) -> tuple[Position, Position]:
        """1-based start (inclusive) and end (exclusive) of a node."""
        if self._ranges is None:
            from libcst.metadata import MetadataWrapper, PositionProvider

            wrapper = MetadataWrapper(self._module, unsafe_skip_copy=True)
            self._ranges = dict(wrapper.resolve(PositionProvider))
        code_range = self._ranges[node]
        return (
            Position(code_range.start.line, code_range.start.column + 1),
            Position(code_range.end.line, code_range.end.column + 1),
        )
