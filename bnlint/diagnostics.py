"""The types every layer shares: positions, edits, fixes, diagnostics."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from typing import Optional, Tuple


class Severity(str, enum.Enum):
    """How serious a finding is, as shown in JSON and SARIF."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Applicability(str, enum.Enum):
    """Whether ``--fix`` may apply a fix on its own (safe) or only with ``--unsafe-fixes``."""

    SAFE = "safe"
    UNSAFE = "unsafe"


@dataclass(frozen=True, order=True)
class Position:
    """A 1-based row and 1-based column in a source text (or in a notebook cell)."""

    row: int
    column: int


@dataclass(frozen=True)
class Edit:
    """Replace the text between ``start`` (inclusive) and ``end`` (exclusive) with ``content``."""

    content: str
    start: Position
    end: Position


@dataclass(frozen=True)
class Fix:
    """A set of edits that resolves one diagnostic."""

    applicability: Applicability
    message: str
    edits: Tuple[Edit, ...]


@dataclass(frozen=True)
class Diagnostic:
    """One finding: a rule code at a span of a file, with an optional fix."""

    code: str
    name: str
    severity: Severity
    message: str
    filename: str
    start: Position
    end: Position
    fix: Optional[Fix] = None
    url: str = ""
    cell: Optional[int] = None
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    def sort_key(self) -> tuple:
        """Order by file, then cell, then position, then code."""
        return (self.filename, self.cell or 0, self.start.row, self.start.column, self.code)

    def with_location(self, **changes: object) -> Diagnostic:
        """A copy with some fields changed (used when mapping positions back to notebook cells)."""
        return replace(self, **changes)  # type: ignore[arg-type]
