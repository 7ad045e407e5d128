"""What LibCST must not be given: cheap tests that find a risky text, and CPython's verdict on it.

LibCST's native parser crashes the process on thousands of nested brackets, and its time grows with the
square of an expression's depth: a chain of 20,000 attribute accesses or calls (``a.a.a...``,
``f()()()...``) keeps it busy for minutes, 3,000 levels for seconds. CPython parses the same text in
milliseconds. So a text goes to CPython first when a cheap test sees a risk: a NUL byte, brackets nested
``SAFE_BRACKET_DEPTH`` deep, or a statement long enough to nest ``MAX_NESTING`` levels (every level takes
at least one character, so a shorter statement cannot). CPython's tree then tells the real depth, and a
text nested deeper than ``MAX_NESTING`` is reported instead of parsed. CPython's full parse costs about an
eighth of LibCST's, so ordinary files never pay for it.
"""

from __future__ import annotations

import re
from typing import Optional

#: The deepest nesting bnlint analyses. CPython 3.9 to 3.12 refuse to compile code nested about this
#: deep (3.13 allows more); LibCST takes seconds at this depth and minutes beyond.
MAX_NESTING = 3_000

#: Bracket depth from which CPython must look at a text before LibCST does. LibCST's native parser
#: crashes the process on thousands of nested brackets; CPython refuses more than 200 nested parentheses.
SAFE_BRACKET_DEPTH = 100

#: A (problem, row, column) that CPython reports.
Problem = tuple[str, int, int]

_BRACKETS = re.compile(r"[()\[\]{}]")
_STRINGS_AND_COMMENTS = re.compile(
    r"\'\'\'[\s\S]*?\'\'\'|\"\"\"[\s\S]*?\"\"\"|'(?:\\.|[^'\\\n])*'|\"(?:\\.|[^\"\\\n])*\"|#[^\r\n]*"
)
_NEWLINE = re.compile(r"\r\n|\r|\n")
#: A line that starts a new top-level statement.
_TOP_LEVEL_LINE = re.compile(r"[\r\n][A-Za-z_@]")
#: One link of a chain that nests in LibCST's tree: an attribute access, a call or subscript right
#: after another one, an arithmetic, bitwise or boolean operator.
_CHAIN_LINK = re.compile(r"\.\s*[A-Za-z_]|[)\]][\s\\]*[(\[]|[-+*/%@&|^~]|<<|>>|\b(?:and|or|not)\b")


def needs_precheck(text: str) -> bool:
    """Whether LibCST could crash or take long on the text (see ``risk_offset``)."""
    return risk_offset(text) is not None


def risk_offset(text: str) -> Optional[int]:
    """Where in ``text`` a cheap test sees something LibCST may not survive or may take long on: a NUL
    byte, deeply nested brackets, or a statement of ``MAX_NESTING`` characters or more. None when there
    is nothing of the kind.

    Brackets are counted outside string literals and comments (a regular-expression pass that may
    overestimate: a false alarm costs one CPython parse, nothing else).
    """
    nul = text.find("\0")
    if nul >= 0:
        return nul
    if len(text) < MAX_NESTING:
        return _deep_brackets(text) if _may_nest_brackets(text) else None
    long_line = _long_line(text)
    if long_line is not None:
        return long_line
    return _deep_brackets(text)


def _may_nest_brackets(text: str) -> bool:
    return text.count("(") + text.count("[") + text.count("{") >= SAFE_BRACKET_DEPTH


def _long_line(text: str) -> Optional[int]:
    """The offset of the first line (backslash continuations joined) of ``MAX_NESTING`` characters."""
    joined = text.replace("\\\r\n", "   ").replace("\\\n", "  ") if "\\" in text else text
    lines = joined.split("\n")
    if max(map(len, lines)) < MAX_NESTING:
        return None
    offset = 0
    for line in lines:
        if len(line) >= MAX_NESTING:
            return offset
        offset += len(line) + 1
    return None  # pragma: no cover - the maximum above says a line is long


def _deep_brackets(text: str) -> Optional[int]:
    """The offset where brackets nest ``SAFE_BRACKET_DEPTH`` deep, or where a bracketed group of
    ``MAX_NESTING`` characters or more (strings and comments left out) starts."""
    code = _STRINGS_AND_COMMENTS.sub("", text)
    depth = 0
    group_start = 0
    for match in _BRACKETS.finditer(code):
        if match.group() in "([{":
            if depth == 0:
                group_start = match.start()
            depth += 1
            if depth >= SAFE_BRACKET_DEPTH:
                return _offset_in_text(text, match.start())
        elif depth > 0:
            depth -= 1
            if depth == 0 and match.start() - group_start >= MAX_NESTING:
                return _offset_in_text(text, group_start)
    if depth > 0 and len(code) - group_start >= MAX_NESTING:
        return _offset_in_text(text, group_start)
    return None


def _offset_in_text(text: str, code_offset: int) -> int:
    """The offset in ``text`` of ``code_offset`` in the text without strings and comments."""
    removed = 0
    for match in _STRINGS_AND_COMMENTS.finditer(text):
        if match.start() - removed > code_offset:
            break
        removed += match.end() - match.start()
    return code_offset + removed


def precheck(text: str) -> tuple[Optional[Problem], bool]:
    """CPython's verdict on the text: (its problem, if any; whether LibCST must not see the text).

    CPython rejects nesting that can crash LibCST ("too many nested parentheses") and NUL bytes, which
    LibCST accepts in strings; its syntax errors also read better than LibCST's. Other CPython errors
    do not stop LibCST, which may know syntax newer than the running interpreter. A text CPython
    accepts but that nests deeper than ``MAX_NESTING`` is refused as well.
    """
    import ast
    import warnings

    try:
        with warnings.catch_warnings():  # also called outside ``lint_text`` (on fixed text)
            warnings.simplefilter("ignore")
            tree = ast.parse(text)
    except SyntaxError as error:
        message = str(error.msg)
        fatal = any(
            words in message
            for words in ("too many nested", "too many levels", "too complex", "null bytes")
        )
        if error.lineno is None and "null bytes" in message:  # no position before Python 3.12
            return (message, *position_of(text, text.find("\0"))), True
        risky = risk_offset(text) if not fatal and error.lineno else None
        if risky is not None:
            too_deep = _too_deep_before(text, error.lineno) or _long_chain_up_to(
                text, error.lineno, message, risky
            )
            if too_deep is not None:
                return too_deep, True
        return (message, error.lineno or 1, error.offset or 1), fatal
    except (RecursionError, MemoryError):
        offset = risk_offset(text)
        row = position_of(text, offset)[0] if offset is not None else 1
        return (_too_deep(None), row, 1), True
    except ValueError as error:  # NUL bytes, on some Python versions
        return (str(error), *position_of(text, text.find("\0"))), True
    depth, row = deepest(tree)
    if depth > MAX_NESTING:
        return (_too_deep(depth), row, 1), True
    return None, False


def _too_deep_before(text: str, row: int) -> Optional[Problem]:
    """Code too deeply nested in the lines before ``row`` (where CPython found a syntax error): LibCST
    would parse it before it reaches the error."""
    import ast

    starts = [match.end() for match in _NEWLINE.finditer(text, 0)][: row - 1]
    before = text[: starts[-1]] if len(starts) == row - 1 and starts else ""
    try:
        depth, deepest_row = deepest(ast.parse(before))
    except (SyntaxError, ValueError):
        return None
    except (RecursionError, MemoryError):
        risky = risk_offset(before)
        return _too_deep(None), position_of(text, risky)[0] if risky is not None else row, 1
    return (_too_deep(depth), deepest_row, 1) if depth > MAX_NESTING else None


def _long_chain_up_to(text: str, row: int, message: str, risky: int) -> Optional[Problem]:
    """A chain of more than ``MAX_NESTING`` attribute accesses, calls, subscripts or operators
    (``a.a.a...``, ``f()()()...``, ``x[0][0]...``, ``a + a + a...``) in the statement CPython found
    a syntax error in (``message``, at line ``row``; a bracket that "was never closed" there runs on
    to the next top-level line), starting at the risky offset ``risky``: neither CPython nor LibCST
    gives a tree of the broken statement, and LibCST would take minutes on the chain before it
    reaches the error. The links are counted, not parsed, so separate chains in one statement add
    up: at worst a broken file is reported as too deeply nested rather than with its syntax
    error."""
    risky_row = position_of(text, risky)[0]
    if risky_row > row:
        return None
    start = text.rfind("\n", 0, risky) + 1
    if "never closed" in message:
        end = len(text)
    else:
        ends = [match.end() for match in _NEWLINE.finditer(text)]
        end = ends[row - 1] if row - 1 < len(ends) else len(text)
    next_statement = _TOP_LEVEL_LINE.search(text, start + 1, end)
    if next_statement is not None:
        end = next_statement.start()
    code = _STRINGS_AND_COMMENTS.sub("", text[start:end])
    links = sum(1 for _ in _CHAIN_LINK.finditer(code))
    return (_too_deep(None), risky_row, 1) if links > MAX_NESTING else None


def _too_deep(depth: Optional[int]) -> str:
    how_deep = f"it nests {depth:,} levels deep, " if depth is not None else "it nests "
    return (
        f"too deeply nested to analyse: {how_deep}more than the {MAX_NESTING:,} levels bnlint "
        "analyses (CPython 3.9 to 3.12 do not compile such code either)"
    )


def deepest(tree: object) -> tuple[int, int]:
    """(the depth of the deepest node of a CPython syntax tree, its line), without recursing."""
    import ast

    best, row = 0, 1
    stack = [(tree, 0)]
    children = ast.iter_child_nodes
    while stack:
        node, depth = stack.pop()
        if depth > best:
            best, row = depth, getattr(node, "lineno", row)
        stack.extend((child, depth + 1) for child in children(node))  # type: ignore[arg-type]
    return best, row


def position_of(text: str, offset: int) -> tuple[int, int]:
    """The 1-based (row, column) of ``offset`` in ``text`` (any newline style); (1, 1) when negative."""
    if offset < 0:
        return 1, 1
    lines = _NEWLINE.split(text[:offset])
    return len(lines), len(lines[-1]) + 1
