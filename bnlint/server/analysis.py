"""One document in, diagnostics out: the language server's single way into the engine.

Every analysis the server makes goes through :func:`analyse` (document text + context ->
diagnostics); a notebook is analysed as the one virtual module of its code cells, as ``bnlint check``
does, and its diagnostics mapped back to the cells. Fixing goes through the engine's own fix loop
(``fix_text``, ``fix_cells``), with the same options.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

from bnlint.diagnostics import Diagnostic
from bnlint.engine import lint_text, parse_error
from bnlint.fix_loop import fix_text
from bnlint.server.context import DocumentContext
from bnlint.sources import NotebookCell


def analyse(text: str, context: DocumentContext) -> list[Diagnostic]:
    """Everything bnlint reports for a document's text, in its own coordinates (for a notebook, those
    of its virtual module): nothing when the document is excluded, the configuration error when its
    settings cannot be read."""
    if context.error is not None:
        return [parse_error(context.name, f"bnlint configuration error: {context.error}")]
    if context.options is None:
        return []
    return lint_text(text, context.name, context.options, context.summaries())


def fixed_text(text: str, context: DocumentContext) -> Optional[str]:
    """The document's text with every applicable fix applied (unsafe ones only when the settings
    ask for them), or None when nothing changes."""
    if context.error is not None or context.options is None:
        return None
    result = fix_text(
        text, context.name, context.options, context.unsafe_fixes, context.summaries()
    )
    return result.text if result.text != text else None


@dataclass(frozen=True)
class NotebookAnalysis:
    """A notebook's diagnostics by cell number, in the coordinates of each cell."""

    by_cell: dict[int, list[Diagnostic]]


def notebook_cells(kinds_and_texts: Sequence[tuple[bool, str]]) -> list[NotebookCell]:
    """The cells of an editor's notebook (whether each is a Python code cell, and its text), numbered
    from 1 among all cells as Jupyter counts them."""
    return [
        NotebookCell(number, "code" if is_code else "markdown", text, False)
        for number, (is_code, text) in enumerate(kinds_and_texts, start=1)
    ]


def analyse_notebook(cells: Sequence[NotebookCell], context: DocumentContext) -> NotebookAnalysis:
    """A notebook's diagnostics: its code cells joined into one module (IPython lines blanked, as
    ``bnlint check`` does), analysed once, and every diagnostic mapped back to its cell."""
    from bnlint.notebooks import build_virtual_module

    module = build_virtual_module(cells, {cell.number: cell.source for cell in cells})
    by_cell: dict[int, list[Diagnostic]] = {}
    if not module.segments:
        return NotebookAnalysis(by_cell)
    for diagnostic in analyse(module.text, context):
        mapped = module.map_diagnostic(diagnostic)
        if mapped.cell is not None:
            by_cell.setdefault(mapped.cell, []).append(mapped)
    return NotebookAnalysis(by_cell)


def fixed_cells(cells: Sequence[NotebookCell], context: DocumentContext) -> dict[int, str]:
    """The texts of the code cells that fix-all changes, by cell number."""
    from bnlint.notebooks import fix_cells

    if context.error is not None or context.options is None:
        return {}
    sources = {cell.number: cell.source for cell in cells}
    fixed, _, _ = fix_cells(
        cells,
        sources,
        context.name,
        context.options,
        context.unsafe_fixes,
        summaries=context.summaries(),
    )
    return {number: text for number, text in fixed.items() if text != sources[number]}
