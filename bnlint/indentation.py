"""Indentation that CPython accepts and LibCST does not: a tab followed by spaces.

CPython expands a tab in indentation to the next multiple of eight columns; LibCST's tokenizer
rejects some such mixes ("no matching outer block for dedent"). A text CPython parses is then
analysed with its indentation tabs expanded, and the findings are put back at the columns of the
text as written. Fixes are withheld there: they were computed on other text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Optional

from bnlint.diagnostics import Diagnostic, Position

_INDENTED_LINE = re.compile(r"^([ \t]*)(.*?)(\r\n|\r|\n|)$", re.DOTALL)
_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


@dataclass(frozen=True)
class ExpandedTabs:
    """A text with its indentation tabs expanded, and how much each changed row grew."""

    text: str
    growth: dict[int, int]

    def restore(self, diagnostic: Diagnostic) -> Diagnostic:
        """The diagnostic at the columns of the text as written, without its fix."""
        return replace(
            diagnostic,
            start=self._back(diagnostic.start),
            end=self._back(diagnostic.end),
            fix=None,
        )

    def _back(self, position: Position) -> Position:
        grown = self.growth.get(position.row, 0)
        return Position(position.row, max(1, position.column - grown))


def expand_indentation_tabs(text: str) -> Optional[ExpandedTabs]:
    """The text with tabs in its indentation expanded as CPython reads them, or None when its
    indentation holds no tab."""
    if "\t" not in text:
        return None
    parts: list[str] = []
    growth: dict[int, int] = {}
    for row, line in enumerate(_LINES.findall(text), start=1):
        match = _INDENTED_LINE.match(line)
        indent = match.group(1) if match else ""
        if "\t" in indent:
            expanded = indent.expandtabs(8)
            growth[row] = len(expanded) - len(indent)
            line = expanded + line[len(indent) :]
        parts.append(line)
    return ExpandedTabs("".join(parts), growth) if growth else None
