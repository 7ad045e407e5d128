"""``--output-format json``: a JSON array in ruff's shape (see DESIGN.md, "JSON output")."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from bnlint.diagnostics import Diagnostic, Position


def _position(position: Position) -> dict[str, int]:
    return {"row": position.row, "column": position.column}


def diagnostic_to_dict(diagnostic: Diagnostic) -> dict[str, Any]:
    """One diagnostic as the JSON contract describes it."""
    fix = None
    if diagnostic.fix is not None:
        fix = {
            "applicability": diagnostic.fix.applicability.value,
            "message": diagnostic.fix.message,
            "edits": [
                {
                    "content": edit.content,
                    "location": _position(edit.start),
                    "end_location": _position(edit.end),
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
        "location": _position(diagnostic.start),
        "end_location": _position(diagnostic.end),
        "fix": fix,
        "url": diagnostic.url,
    }


def format_json(diagnostics: Sequence[Diagnostic], sources: Mapping[str, str]) -> str:
    """The diagnostics as a JSON array."""
    return json.dumps([diagnostic_to_dict(d) for d in diagnostics], indent=2) + "\n"
