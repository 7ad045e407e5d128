"""bnlint's diagnostics and edits as the Language Server Protocol's.

bnlint counts 1-based rows and columns in characters, with Python's line breaks (CRLF, CR, LF); the
protocol counts 0-based lines and, in each line, the code units of the encoding the client and server
agreed on (UTF-16 unless the client offers another), with the same line breaks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Optional

from lsprotocol import types

from bnlint.diagnostics import Diagnostic, Edit, Position, Severity
from bnlint.lines import split_lines

#: The name under which editors show where a diagnostic comes from.
SOURCE = "bnlint"

SEVERITIES = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
}


class Coordinates:
    """Converts positions of one text between bnlint's and the protocol's."""

    def __init__(self, text: str, units: Callable[[str], int]) -> None:
        self.text = text
        self.lines = split_lines(text)
        self._units = units

    def line(self, row: int) -> str:
        """The text of a 1-based row (empty past the end)."""
        return self.lines[row - 1] if 0 < row <= len(self.lines) else ""

    def to_lsp(self, position: Position) -> types.Position:
        """A bnlint position as the protocol's."""
        line = self.line(position.row)
        return types.Position(
            line=max(position.row - 1, 0),
            character=self._units(line[: max(position.column - 1, 0)]),
        )

    def to_range(self, start: Position, end: Position) -> types.Range:
        """A bnlint span as the protocol's range."""
        return types.Range(start=self.to_lsp(start), end=self.to_lsp(end))

    def from_lsp(self, position: types.Position) -> Position:
        """A protocol position as bnlint's (a character past the line's end stays at its end)."""
        line = self.line(position.line + 1)
        units = 0
        for column, character in enumerate(line):
            if units >= position.character:
                return Position(position.line + 1, column + 1)
            units += self._units(character)
        return Position(position.line + 1, len(line) + 1)

    def text_edit(self, edit: Edit) -> types.TextEdit:
        """A bnlint edit as the protocol's."""
        return types.TextEdit(range=self.to_range(edit.start, edit.end), new_text=edit.content)

    def whole_text_edit(self, new_text: str) -> Optional[types.TextEdit]:
        """One edit that turns this text into ``new_text``: only the span between their common
        beginning and end is replaced, so the editor keeps the cursor and folds elsewhere."""
        old = self.text
        if old == new_text:
            return None
        prefix = 0
        limit = min(len(old), len(new_text))
        while prefix < limit and old[prefix] == new_text[prefix]:
            prefix += 1
        suffix = 0
        while suffix < limit - prefix and old[len(old) - 1 - suffix] == new_text[-1 - suffix]:
            suffix += 1
        if old[prefix - 1 : prefix + 1] == "\r\n":  # never between the two halves of a CRLF
            prefix -= 1
        if old[len(old) - suffix - 1 : len(old) - suffix + 1] == "\r\n":
            suffix -= 1
        return types.TextEdit(
            range=types.Range(self._offset_to_lsp(prefix), self._offset_to_lsp(len(old) - suffix)),
            new_text=new_text[prefix : len(new_text) - suffix],
        )

    def _offset_to_lsp(self, offset: int) -> types.Position:
        before = split_lines(self.text[:offset])
        return types.Position(line=len(before) - 1, character=self._units(before[-1]))


def to_lsp_diagnostic(diagnostic: Diagnostic, coordinates: Coordinates) -> types.Diagnostic:
    """A bnlint diagnostic as the protocol's: code, severity, range, message, the rule's name (in
    ``data``) and the link to its documentation."""
    return types.Diagnostic(
        range=coordinates.to_range(diagnostic.start, diagnostic.end),
        message=diagnostic.message,
        severity=SEVERITIES.get(diagnostic.severity, types.DiagnosticSeverity.Warning),
        code=diagnostic.code,
        code_description=types.CodeDescription(href=diagnostic.url) if diagnostic.url else None,
        source=SOURCE,
        data={
            "name": diagnostic.name,
            "fix": diagnostic.fix.applicability.value if diagnostic.fix is not None else None,
        },
    )
