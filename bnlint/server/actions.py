"""Code actions: a quick fix per fixable finding, "ignore this finding" (``# noqa: CODE``), and fix-all.

They are built from an analysed :class:`Snapshot` of a document (or notebook), so that every edit
refers to exactly the text that was analysed; the client's versioned edits refuse to apply to a text
that has changed since.
"""

from __future__ import annotations

import io
import tokenize
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Optional

from lsprotocol import types

from bnlint.diagnostics import Applicability, Diagnostic, Edit, Position
from bnlint.engine import PARSE_ERROR_CODE
from bnlint.fix_loop import applicable
from bnlint.lines import split_lines
from bnlint.server.analysis import fixed_cells, fixed_text
from bnlint.server.context import DocumentContext
from bnlint.server.convert import Coordinates, to_lsp_diagnostic
from bnlint.sources import NotebookCell
from bnlint.suppression import with_noqa

FIX_ALL = "source.fixAll.bnlint"
NOTEBOOK_FIX_ALL = "notebook.source.fixAll.bnlint"
QUICK_FIX = types.CodeActionKind.QuickFix.value
#: The kinds the server offers (announced in its capabilities).
KINDS = (QUICK_FIX, FIX_ALL, NOTEBOOK_FIX_ALL)


@dataclass
class Snapshot:
    """One analysis of a text document or a notebook: for each of its text documents (the document
    itself, or each cell) the text analysed, its version and its diagnostics."""

    uri: str
    version: Optional[int]
    context: DocumentContext
    texts: dict[str, str]
    versions: dict[str, Optional[int]]
    diagnostics: dict[str, list[Diagnostic]]
    #: A notebook's cells, and the text document of each cell by its number.
    cells: Optional[list[NotebookCell]] = None
    cell_uris: dict[int, str] = field(default_factory=dict)

    @property
    def is_notebook(self) -> bool:
        """Whether this is a notebook's analysis."""
        return self.cells is not None

    def fixable(self) -> bool:
        """Whether fix-all has something to apply."""
        return any(
            applicable(diagnostic, self.context.unsafe_fixes)
            for found in self.diagnostics.values()
            for diagnostic in found
        )


def wanted(kind: str, only: Optional[Sequence[str]]) -> bool:
    """Whether a client that asked for ``only`` these kinds wants an action of ``kind`` (kinds are
    hierarchical: asking for ``source.fixAll`` includes ``source.fixAll.bnlint``)."""
    if only is None:
        return kind != NOTEBOOK_FIX_ALL
    asked = [str(getattr(kind, "value", kind)) for kind in only]  # a CodeActionKind or a string
    return any(kind == name or kind.startswith(f"{name}.") for name in asked)


class ActionBuilder:
    """Builds the code actions of one request on one text document of a snapshot."""

    def __init__(
        self,
        snapshot: Snapshot,
        units: Callable[[str], int],
        document_changes: bool,
    ) -> None:
        self.snapshot = snapshot
        self._units = units
        self._document_changes = document_changes

    def coordinates(self, uri: str) -> Coordinates:
        """The coordinates of one of the snapshot's text documents."""
        return Coordinates(self.snapshot.texts[uri], self._units)

    def workspace_edit(self, edits: dict[str, list[types.TextEdit]]) -> types.WorkspaceEdit:
        """Edits of the snapshot's text documents, versioned when the client accepts that."""
        if not self._document_changes:
            return types.WorkspaceEdit(changes=edits)
        return types.WorkspaceEdit(
            document_changes=[
                types.TextDocumentEdit(
                    text_document=types.OptionalVersionedTextDocumentIdentifier(
                        uri=uri, version=self.snapshot.versions.get(uri)
                    ),
                    edits=list(document_edits),
                )
                for uri, document_edits in edits.items()
            ]
        )

    def actions(
        self, uri: str, requested: types.Range, only: Optional[Sequence[str]], resolvable: bool
    ) -> list[types.CodeAction]:
        """The actions for the diagnostics of ``uri`` that touch ``requested``, then fix-all (of the
        whole notebook, for a cell; left for ``codeAction/resolve`` to compute when the client can
        resolve it: it re-lints until the fixes settle)."""
        coordinates = self.coordinates(uri)
        result: list[types.CodeAction] = []
        if wanted(QUICK_FIX, only):
            for diagnostic in self.snapshot.diagnostics.get(uri, []):
                protocol = to_lsp_diagnostic(diagnostic, coordinates)
                if not _touches(protocol.range, requested):
                    continue
                if diagnostic.fix is not None:
                    result.append(self._quick_fix(uri, diagnostic, protocol, coordinates))
                if diagnostic.code != PARSE_ERROR_CODE:
                    noqa = self._ignore(uri, diagnostic, protocol, coordinates)
                    if noqa is not None:
                        result.append(noqa)
        for kind in (FIX_ALL, NOTEBOOK_FIX_ALL):
            if kind == NOTEBOOK_FIX_ALL and not self.snapshot.is_notebook:
                continue
            if wanted(kind, only) and self.snapshot.fixable():
                action = types.CodeAction(
                    title="bnlint: fix all auto-fixable problems", kind=kind, data={"uri": uri}
                )
                result.append(action if resolvable else self.resolve_fix_all(action))
        return result

    def _quick_fix(
        self,
        uri: str,
        diagnostic: Diagnostic,
        protocol: types.Diagnostic,
        coordinates: Coordinates,
    ) -> types.CodeAction:
        assert diagnostic.fix is not None
        safe = diagnostic.fix.applicability == Applicability.SAFE
        title = f"Fix {diagnostic.code}: {diagnostic.fix.message}"
        if not safe:
            title = f"Fix {diagnostic.code} (unsafe: changes behaviour): {diagnostic.fix.message}"
        edits = [coordinates.text_edit(edit) for edit in diagnostic.fix.edits]
        return types.CodeAction(
            title=title,
            kind=QUICK_FIX,
            diagnostics=[protocol],
            edit=self.workspace_edit({uri: edits}),
            is_preferred=safe,
        )

    def _ignore(
        self,
        uri: str,
        diagnostic: Diagnostic,
        protocol: types.Diagnostic,
        coordinates: Coordinates,
    ) -> Optional[types.CodeAction]:
        row = comment_row(coordinates.text, diagnostic.start.row, diagnostic.end.row)
        line = coordinates.line(row)
        changed = with_noqa(line, diagnostic.code)
        if changed == line:
            return None
        edit = Edit(changed, Position(row, 1), Position(row, len(line) + 1))
        return types.CodeAction(
            title=f"Ignore {diagnostic.code} on this line (# noqa: {diagnostic.code})",
            kind=QUICK_FIX,
            diagnostics=[protocol],
            edit=self.workspace_edit({uri: [coordinates.text_edit(edit)]}),
        )

    def resolve_fix_all(self, action: types.CodeAction) -> types.CodeAction:
        """Fix-all with its edits: every applicable fix of the document or of every notebook cell,
        re-linted until nothing more applies, as ``bnlint check --fix`` does."""
        snapshot = self.snapshot
        edits: dict[str, list[types.TextEdit]] = {}
        if snapshot.cells is not None:
            for number, text in fixed_cells(snapshot.cells, snapshot.context).items():
                cell_uri = snapshot.cell_uris[number]
                edit = self.coordinates(cell_uri).whole_text_edit(text)
                if edit is not None:
                    edits[cell_uri] = [edit]
        else:
            text = fixed_text(snapshot.texts[snapshot.uri], snapshot.context)
            edit = self.coordinates(snapshot.uri).whole_text_edit(text) if text else None
            if edit is not None:
                edits[snapshot.uri] = [edit]
        action.edit = self.workspace_edit(edits)
        return action


def _touches(found: types.Range, requested: types.Range) -> bool:
    """Whether a diagnostic's range shares a line with the requested range."""
    return found.start.line <= requested.end.line and requested.start.line <= found.end.line


def comment_row(text: str, start_row: int, end_row: int) -> int:
    """The row where a ``# noqa`` comment for a finding spanning ``start_row``..``end_row`` can go:
    the first of the two that does not end inside a multi-line string or with a backslash
    continuation (a comment there would change the code or break it)."""
    blocked = _rows_without_room_for_a_comment(text)
    for row in (start_row, end_row):
        if row not in blocked:
            return row
    return start_row


def _rows_without_room_for_a_comment(text: str) -> set[int]:
    rows = {number for number, line in enumerate(split_lines(text), start=1) if line.endswith("\\")}
    try:
        for token in tokenize.generate_tokens(io.StringIO(text, newline="").readline):
            if token.start[0] < token.end[0]:
                rows.update(range(token.start[0], token.end[0]))
    except (tokenize.TokenError, SyntaxError):
        pass  # e.g. a notebook cell's IPython line: the rows found so far still hold
    return rows
