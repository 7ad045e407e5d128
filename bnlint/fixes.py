"""Minimal LibCST edits that rules offer as fixes; formatting and comments elsewhere are kept."""

from __future__ import annotations

import libcst as cst


def remove_argument(call: cst.Call, target: cst.Arg) -> cst.Call:
    """``call`` without ``target``; the comma that separated it goes with it."""
    args = list(call.args)
    index = next(i for i, arg in enumerate(args) if arg is target)
    del args[index]
    if index == len(args) and args:
        args[-1] = args[-1].with_changes(comma=_comma_after_removal(args[-1].comma, target.comma))
    return call.with_changes(args=args)


def _comma_after_removal(previous: object, removed: object) -> object:
    """The comma the new last argument keeps when the last argument (and its line) goes away."""
    if not isinstance(removed, cst.Comma):
        return cst.MaybeSentinel.DEFAULT
    if (
        isinstance(previous, cst.Comma)
        and isinstance(previous.whitespace_after, cst.ParenthesizedWhitespace)
        and isinstance(removed.whitespace_after, cst.ParenthesizedWhitespace)
    ):
        # Multi-line call with a trailing comma: delete the removed argument's whole line, keep the
        # previous line (and its comment) and the indentation of the closing parenthesis.
        closing = removed.whitespace_after.with_changes(
            first_line=previous.whitespace_after.first_line
        )
        return previous.with_changes(whitespace_after=closing)
    return removed


def add_keyword(call: cst.Call, name: str, value: str) -> cst.Call:
    """``call`` with ``name=value`` appended after its last argument, in the call's own layout."""
    args = list(call.args)
    new_arg = cst.Arg(
        keyword=cst.Name(name),
        value=cst.parse_expression(value),
        equal=cst.AssignEqual(
            whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")
        ),
    )
    if not args:
        return call.with_changes(args=[new_arg])
    last = args[-1]
    comma = last.comma
    before_last = call.whitespace_before_args if len(args) == 1 else _whitespace_after(args[-2])
    if (
        isinstance(comma, cst.Comma)
        and isinstance(comma.whitespace_after, cst.ParenthesizedWhitespace)
        and isinstance(before_last, cst.ParenthesizedWhitespace)
    ):
        # One argument per line with a trailing comma: the new argument gets a line of its own.
        closing = comma.whitespace_after
        args[-1] = last.with_changes(
            comma=comma.with_changes(
                whitespace_after=before_last.with_changes(
                    first_line=closing.first_line, empty_lines=[]
                )
            )
        )
        new_arg = new_arg.with_changes(
            comma=comma.with_changes(
                whitespace_after=closing.with_changes(first_line=cst.TrailingWhitespace())
            )
        )
    else:
        args[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    return call.with_changes(args=[*args, new_arg])


def _whitespace_after(arg: cst.Arg) -> object:
    return arg.comma.whitespace_after if isinstance(arg.comma, cst.Comma) else None


def replace_value(arg: cst.Arg, value: str) -> cst.Arg:
    """``arg`` with its value replaced by the expression ``value``."""
    return arg.with_changes(value=cst.parse_expression(value))


class BlockIndentation:
    """Renders replacement nodes with the indentation of the block they sit in.

    ``Module.code_for_node`` renders a multi-line call as if it stood at the top of the module, so
    a replacement for a call inside a function would lose its continuation lines' indentation.
    Positions are computed once, and only when a multi-line replacement needs them.
    """

    def __init__(self, module: cst.Module) -> None:
        self._module = module
        self._lines: list[str] = []
        self._positions: dict[cst.CSTNode, object] = {}

    def code(self, replacement: cst.CSTNode, statement: cst.CSTNode | None) -> str:
        """The code of ``replacement``, indented as the statement it replaces a part of."""
        module = self._module
        plain = module.code_for_node(replacement)
        if ("\n" not in plain and "\r" not in plain) or statement is None:
            return plain
        indent = self._indent(statement)
        if not indent:
            return plain
        from libcst._nodes.internal import CodegenState

        state = CodegenState(
            default_indent=module.default_indent,
            default_newline=module.default_newline,
            indent_tokens=[indent],
        )
        replacement._codegen(state)
        return "".join(state.tokens)

    def _indent(self, statement: cst.CSTNode) -> str:
        if not self._positions:
            from bnlint.positions import node_ranges

            self._positions = node_ranges(self._module)
            self._lines = self._module.code.splitlines()
        code_range = self._positions.get(statement)
        if code_range is None:
            return ""
        line = self._lines[code_range.start.line - 1]  # type: ignore[attr-defined]
        return line[: len(line) - len(line.lstrip(" \t"))]
