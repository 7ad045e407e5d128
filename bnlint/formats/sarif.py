"""``--output-format sarif``: SARIF 2.1.0, the format GitHub code scanning and other tools read.

One run; every rule of the registry in ``tool.driver.rules`` with its documentation; each diagnostic a
result pointing at the rule by id and index. Columns count Unicode code points, as bnlint's do.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from bnlint import __version__
from bnlint.diagnostics import Diagnostic, Position, Severity

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
INFORMATION_URI = "https://github.com/bnlint/bnlint"

#: SARIF's level for each bnlint severity.
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}

#: The descriptor of BNL000, the code of files that cannot be read or parsed (not a registry rule).
_PARSE_ERROR_RULE: dict[str, Any] = {
    "id": "BNL000",
    "name": "parse-error",
    "shortDescription": {"text": "The file cannot be read, decoded or parsed"},
    "fullDescription": {
        "text": "bnlint could not read, decode or parse this file (or notebook), so it was not "
        "analysed. The message gives the reason and the position."
    },
    "help": {
        "text": "Fix the syntax or encoding error so that the file can be analysed.",
        "markdown": "Fix the syntax or encoding error so that the file can be analysed.",
    },
    "defaultConfiguration": {"level": "error"},
}


def artifact_uri(filename: str) -> str:
    """A relative URI reference with forward slashes for a displayed file name.

    Absolute paths inside the current folder become relative to it; others become ``file://`` URIs.
    """
    if filename == "-":
        return "-"
    path = Path(filename)
    if path.is_absolute():
        try:
            path = path.relative_to(Path.cwd())
        except ValueError:
            return path.as_uri()
    posix = PurePosixPath(path.as_posix().replace(os.sep, "/")).as_posix()
    while posix.startswith("./"):
        posix = posix[2:]
    return quote(posix, safe="/-._~", errors="surrogateescape")  # a file name may not be UTF-8


def _region(start: Position, end: Position) -> dict[str, int]:
    return {
        "startLine": start.row,
        "startColumn": start.column,
        "endLine": end.row,
        "endColumn": end.column,
    }


def _rule_descriptor(rule: Any) -> dict[str, Any]:
    documentation = rule.documentation()
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": " ".join(rule.doc.what_it_does.split())},
        "help": {"text": documentation, "markdown": documentation},
        "helpUri": rule.url(),
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {"tags": ["keras", "correctness"]},
    }


def _message(diagnostic: Diagnostic) -> str:
    if diagnostic.cell is None:
        return diagnostic.message
    return f"cell {diagnostic.cell}, line {diagnostic.start.row}: {diagnostic.message}"


def _result(diagnostic: Diagnostic, rule_index: Mapping[str, int]) -> dict[str, Any]:
    uri = artifact_uri(diagnostic.filename)
    location: dict[str, Any] = {
        "physicalLocation": {
            "artifactLocation": {"uri": uri},
            "region": _region(diagnostic.start, diagnostic.end),
        }
    }
    if diagnostic.cell is not None:
        # The region is inside the notebook cell, not a line of the .ipynb file.
        location["properties"] = {"cell": diagnostic.cell}
    result: dict[str, Any] = {"ruleId": diagnostic.code}
    if diagnostic.code in rule_index:
        result["ruleIndex"] = rule_index[diagnostic.code]
    result.update(
        {
            "level": LEVELS[diagnostic.severity],
            "message": {"text": _message(diagnostic)},
            "locations": [location],
        }
    )
    if diagnostic.fix is not None and diagnostic.cell is None:
        result["fixes"] = [
            {
                "description": {
                    "text": f"{diagnostic.fix.message} ({diagnostic.fix.applicability.value} fix)"
                },
                "artifactChanges": [
                    {
                        "artifactLocation": {"uri": uri},
                        "replacements": [
                            {
                                "deletedRegion": _region(edit.start, edit.end),
                                "insertedContent": {"text": edit.content},
                            }
                            for edit in diagnostic.fix.edits
                        ],
                    }
                ],
            }
        ]
    if diagnostic.fix is not None:
        result["properties"] = {"fixApplicability": diagnostic.fix.applicability.value}
    return result


def sarif_log(diagnostics: Sequence[Diagnostic]) -> dict[str, Any]:
    """The SARIF log of a run, as a JSON-ready dictionary."""
    from bnlint.rules import all_rules

    rules = [_PARSE_ERROR_RULE, *(_rule_descriptor(rule) for rule in all_rules())]
    rule_index = {rule["id"]: index for index, rule in enumerate(rules)}
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "bnlint",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": rules,
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": [_result(d, rule_index) for d in diagnostics],
            }
        ],
    }


def format_sarif(diagnostics: Sequence[Diagnostic], sources: Mapping[str, str]) -> str:
    """The diagnostics as a SARIF 2.1.0 log."""
    return json.dumps(sarif_log(diagnostics), indent=2) + "\n"
