"""Source text read as text (no parse): its code without prose, and where top-level definitions start."""

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


#: A line that may start a top-level definition.
PART_START = re.compile(r"^(?:class |def |async def |@)", re.MULTILINE)


def can_cut_before(text: str, start: int) -> bool:
    """Whether a part may end just before ``start`` (the start of a line).

    Not after a decorator (it belongs with what it decorates) or a line continuation; and not when
    the blank and comment lines that would end the part include an indented one, because LibCST does
    not give such a module's last lines back as they were.
    """
    end = start
    while end > 0:
        line_start = text.rfind("\n", 0, end - 1) + 1
        line = text[line_start:end]
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            return not (line.startswith("@") or line.rstrip().endswith("\\"))
        if line[:1] in (" ", "\t", "\f", "\v"):
            return False
        end = line_start
    return False
