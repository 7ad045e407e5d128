"""Fast structural access to LibCST nodes.

LibCST's ``node.children`` runs a visitor and its base classes are ABCs, which makes ``isinstance`` slow;
the facts engine walks every node of every file, so it uses exact-type sets and a per-type list of the
fields that can hold code instead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from functools import cache

import libcst as cst


def _subclasses(base: type) -> set[type]:
    found: set[type] = set()
    stack = [base]
    while stack:
        current = stack.pop()
        for sub in current.__subclasses__():
            if sub not in found:
                found.add(sub)
                stack.append(sub)
    return found


#: Every concrete LibCST node type.
NODE_TYPES = frozenset(
    t for t in _subclasses(cst.CSTNode) if not getattr(t, "__abstractmethods__", None)
)
#: Node types that are expressions.
EXPRESSION_TYPES = frozenset(t for t in NODE_TYPES if cst.BaseExpression in t.__mro__)
#: Node types that are statements (simple lines and compound statements).
STATEMENT_TYPES = frozenset(
    t
    for t in NODE_TYPES
    if cst.BaseCompoundStatement in t.__mro__ or cst.SimpleStatementLine in t.__mro__
)

#: Fields that never hold code: whitespace, brackets, punctuation, comments.
_TRIVIA_FIELDS = frozenset(
    {
        "lpar",
        "rpar",
        "comma",
        "semicolon",
        "operator",
        "equal",
        "colon",
        "dot",
        "lbracket",
        "rbracket",
        "lbrace",
        "rbrace",
        "header",
        "footer",
        "leading_lines",
        "lines_after_decorators",
        "trailing_whitespace",
        "newline",
        "asynchronous",
        "star",
        "arrow",
        "walrus",
        "default_indent",
        "default_newline",
        "encoding",
        "indent",
    }
)


@cache
def code_fields(node_type: type) -> tuple[str, ...]:
    """The fields of a node type that can hold code (child nodes), in source order."""
    return tuple(
        field.name
        for field in dataclasses.fields(node_type)
        if field.name not in _TRIVIA_FIELDS and not field.name.startswith("whitespace")
    )


def code_children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The child nodes of ``node`` that can hold code, in source order (trivia skipped)."""
    for name in code_fields(type(node)):
        value = getattr(node, name)
        if type(value) in NODE_TYPES:
            yield value
        elif isinstance(value, (tuple, list)):
            for item in value:
                if type(item) in NODE_TYPES:
                    yield item


def visit_code(node: cst.CSTNode, visitor: cst.CSTVisitor) -> None:
    """``node.visit(visitor)`` for a read-only visitor, over the nodes that can hold code only.

    LibCST's own ``visit`` rebuilds (and validates) every node it passes, even for a visitor that
    changes nothing, which costs about as much as parsing the module again; this walk only reads.
    ``visit_X`` returning False skips the node's children, as in LibCST; trivia nodes (whitespace,
    brackets, punctuation, comments) are not visited.
    """
    if visitor.on_visit(node):
        for child in code_children(node):
            visit_code(child, visitor)
    visitor.on_leave(node)


#: Nodes whose ``value`` is a word of the code: a name, the text of a string.
_WORD_NODES = frozenset({cst.Name, cst.SimpleString, cst.FormattedStringText})


def code_nodes(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """``node`` and every node inside it that can hold code, in source order (trivia skipped)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(list(code_children(current))))


def code_words(node: cst.CSTNode) -> Iterator[str]:
    """The words of ``node``'s code, comments left out: every name (attribute names included), the
    text of every string, and ``callee(`` for each call of a name or attribute (``Model(`` for
    ``keras.Model(...)``), so that a pattern written for the code's text can be tried on them
    without generating that text."""
    for current in code_nodes(node):
        kind = type(current)
        if kind in _WORD_NODES:
            yield current.value  # type: ignore[attr-defined]
        elif kind is cst.Call:
            callee = current.func  # type: ignore[attr-defined]
            if type(callee) is cst.Attribute:
                callee = callee.attr
            if type(callee) is cst.Name:
                yield callee.value + "("
