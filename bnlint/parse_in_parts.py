"""Parse a large module in parts, to bound LibCST's memory.

LibCST's native parser needs about 800 bytes of short-lived memory per byte of source at its peak (a
450 kB file: 370 MB), though the tree it leaves takes fifteen times less. A large text is therefore cut
at top-level ``def`` / ``class`` / decorator lines into parts of at least ``PART_BYTES``, each part is
parsed on its own, and the parts' statements are joined into one module whose code is the text, byte for
byte, so positions and fixes are those of a whole parse. The peak then follows the largest part, and the
parse is faster (less memory to fault in).

A cut is only a guess made from the text; a guess that falls inside a string or a bracket leaves a part
that does not parse, and then the whole text is parsed as usual (so syntax errors are reported exactly as
before). Parts that disagree on the module's default indentation or newline are also parsed whole.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Optional

import libcst as cst

from bnlint.code_text import PART_START, can_cut_before
from bnlint.node_validation import unvalidated_nodes

#: Texts up to this size are parsed whole.
WHOLE_BYTES = 64 * 1024
#: The smallest part a large text is cut into (fewer parts: less joining).
PART_BYTES = 32 * 1024

_INDENTED_LINE = re.compile(r"^[ \t]+\S", re.MULTILINE)


def parse_module(text: str) -> cst.Module:
    """``libcst.parse_module(text)``, in parts when the text is large; raises what it raises."""
    with unvalidated_nodes():
        parts = split_at_top_level(text)
        if len(parts) < 2:
            return cst.parse_module(text)
        try:
            modules = [cst.parse_module(part) for part in parts]
        except cst.ParserSyntaxError:
            return cst.parse_module(text)  # the whole text's error, at its position
        joined = join_modules(parts, modules)
        return joined if joined is not None else cst.parse_module(text)


def split_at_top_level(text: str) -> list[str]:
    """``text`` cut before top-level definitions into parts of at least ``PART_BYTES`` (one part when
    the text is small or has no such line)."""
    if len(text) <= WHOLE_BYTES:
        return [text]
    cuts = [0]
    for match in PART_START.finditer(text):
        start = match.start()
        if start - cuts[-1] < PART_BYTES or len(text) - start < PART_BYTES:
            continue
        if can_cut_before(text, start):
            cuts.append(start)
    cuts.append(len(text))
    return [text[start:end] for start, end in zip(cuts, cuts[1:])]


def join_modules(parts: Sequence[str], modules: Sequence[cst.Module]) -> Optional[cst.Module]:
    """One module of the parts' statements, or None when the parts' settings disagree.

    The comments and blank lines that end one part (its footer) and begin the next (its header) go
    before the next part's first statement, where they stand in the text.
    """
    indents = {
        module.default_indent
        for part, module in zip(parts, modules)
        if _INDENTED_LINE.search(part) is not None
    }
    newlines = {module.default_newline for module in modules}
    if len(indents) > 1 or len(newlines) > 1:
        return None
    first = modules[0]
    body = list(first.body)
    carried = list(first.footer)
    for module in modules[1:]:
        statements = list(module.body)
        if statements:
            leading = [*carried, *module.header, *statements[0].leading_lines]
            statements[0] = statements[0].with_changes(leading_lines=leading)
            carried = list(module.footer)
        else:
            carried = [*carried, *module.header, *module.footer]
        body.extend(statements)
    return first.with_changes(
        body=body,
        footer=carried,
        default_indent=next(iter(indents), first.default_indent),
        has_trailing_newline=modules[-1].has_trailing_newline,
    )
