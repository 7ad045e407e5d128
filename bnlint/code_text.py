"""The code of a source text without its prose: what trigger words and names are looked for in."""

from __future__ import annotations

import re

#: What no rule reads: comments and triple-quoted strings (docstrings). Single-quoted strings are
#: kept (a rule may read ``setattr(layer, "trainable", False)``), and are matched in the same
#: left-to-right scan so that a quote inside a comment, or a ``#`` inside a string, is not misread.
_PROSE = re.compile(
    r"\'\'\'(?:\\[\s\S]|[^\\])*?\'\'\'|\"\"\"(?:\\[\s\S]|[^\\])*?\"\"\"|#[^\r\n]*"
    r"|(\'(?:\\[\s\S]|[^\'\\\r\n])*\'|\"(?:\\[\s\S]|[^\"\\\r\n])*\")"
)


def code_only(text: str) -> str:
    """``text`` without its comments and triple-quoted strings: what trigger words are looked for in."""
    return _PROSE.sub(r"\1", text)
