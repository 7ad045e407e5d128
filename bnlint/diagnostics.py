"""The types every layer shares: positions, edits, fixes, diagnostics."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from typing import Any, Optional, Tuple


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


def _position_to_dict(position: Position) -> dict[str, int]:
    return {"row": position.row, "column": position.column}


def _position_from_dict(data: dict[str, int]) -> Position:
    return Position(data["row"], data["column"])


def diagnostic_to_dict(diagnostic: Diagnostic) -> dict[str, Any]:
    """A diagnostic as the JSON contract describes it (DESIGN.md, "JSON output")."""
    fix = None
    if diagnostic.fix is not None:
        fix = {
            "applicability": diagnostic.fix.applicability.value,
            "message": diagnostic.fix.message,
            "edits": [
                {
                    "content": edit.content,
                    "location": _position_to_dict(edit.start),
                    "end_location": _position_to_dict(edit.end),
                }
                for edit in diagnostic.fix.edits
            ],
        }
    return {
        "code": diagnostic.code,
        "name": diagnostic.name,
        "severity": diagnostic.severity.value,
        "message": diagnostic.message,
        "filename": diagnostic.filename,
        "cell": diagnostic.cell,
        "location": _position_to_dict(diagnostic.start),
        "end_location": _position_to_dict(diagnostic.end),
        "fix": fix,
        "url": diagnostic.url,
    }


def diagnostic_from_dict(data: dict[str, Any]) -> Diagnostic:
    """The inverse of :func:`diagnostic_to_dict` (used by the cache)."""
    fix = None
    if data["fix"] is not None:
        fix = Fix(
            Applicability(data["fix"]["applicability"]),
            data["fix"]["message"],
            tuple(
                Edit(
                    edit["content"],
                    _position_from_dict(edit["location"]),
                    _position_from_dict(edit["end_location"]),
                )
                for edit in data["fix"]["edits"]
            ),
        )
    return Diagnostic(
        code=data["code"],
        name=data["name"],
        severity=Severity(data["severity"]),
        message=data["message"],
        filename=data["filename"],
        start=_position_from_dict(data["location"]),
        end=_position_from_dict(data["end_location"]),
        fix=fix,
        url=data["url"],
        cell=data["cell"],
    )
