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
            self._ranges = node_ranges(self._module)
        code_range = self._ranges[node]
        return (
            Position(code_range.start.line, code_range.start.column + 1),
            Position(code_range.end.line, code_range.end.column + 1),
        )


def node_ranges(module: cst.Module) -> dict[cst.CSTNode, CodeRange]:
    """Every node's range, as LibCST's PositionProvider gives it.

    The provider's positions are recorded while the module's code is generated; resolving it through
    a ``MetadataWrapper`` then walks the whole tree once more for nothing (a third of the cost), so
    the code is generated here directly, and the wrapper is used only if LibCST's internals change.
    """
    from libcst.metadata import PositionProvider

    try:
        from libcst.metadata.position_provider import PositionProvidingCodegenState

        provider = PositionProvider()
        state = PositionProvidingCodegenState(
            default_indent=module.default_indent,
            default_newline=module.default_newline,
            provider=provider,
        )
        module._codegen(state)
        return dict(provider._computed)
    except (ImportError, AttributeError, TypeError):  # pragma: no cover - another LibCST
        from libcst.metadata import MetadataWrapper

        return dict(MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider))
