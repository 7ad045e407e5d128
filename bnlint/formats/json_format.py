"""``--output-format json``: a JSON array in ruff's shape (see DESIGN.md, "JSON output")."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from bnlint.diagnostics import Diagnostic, diagnostic_to_dict


def format_json(diagnostics: Sequence[Diagnostic], sources: Mapping[str, str]) -> str:
    """The diagnostics as a JSON array."""
    return json.dumps([diagnostic_to_dict(d) for d in diagnostics], indent=2) + "\n"
