"""``--output-format github``: GitHub Actions workflow commands, shown as annotations on the pull request.

``::error file=train.py,line=12,col=1,endLine=12,endColumn=27,title=BNL001::message``. Values are
escaped by the rules of the Actions toolkit: ``%``, CR and LF everywhere, and ``:`` and ``,`` inside
properties too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bnlint.diagnostics import Diagnostic, Severity

#: The workflow command of each severity.
COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(value: str) -> str:
    """Escape a command's message."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """Escape a command property's value."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def annotation(diagnostic: Diagnostic) -> str:
    """One workflow command for one diagnostic.

    In a notebook the position is inside a cell, not a line of the ``.ipynb`` file, so the
    annotation is attached to the file and the message says the cell, line and column.
    """
    properties = [("file", diagnostic.filename)]
    message = diagnostic.message
    start, end = diagnostic.start, diagnostic.end
    if diagnostic.cell is None:
        properties.append(("line", str(start.row)))
        if start.row == end.row:
            properties.append(("col", str(start.column)))
        properties.append(("endLine", str(end.row)))
        if start.row == end.row:
            properties.append(("endColumn", str(end.column)))
    else:
        message = f"cell {diagnostic.cell}, line {start.row}, column {start.column}: {message}"
    properties.append(("title", diagnostic.code))
    rendered = ",".join(f"{key}={escape_property(value)}" for key, value in properties)
    return f"::{COMMANDS[diagnostic.severity]} {rendered}::{escape_data(message)}"


def format_github(diagnostics: Sequence[Diagnostic], sources: Mapping[str, str]) -> str:
    """One workflow command per diagnostic."""
    return "".join(annotation(d) + "\n" for d in diagnostics)
