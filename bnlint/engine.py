"""One source in, diagnostics out: prefilter, guarded parse, facts, rules, positions, suppression."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Optional, TypeVar

from bnlint.diagnostics import Diagnostic, Edit, Fix, Position, Severity

#: The reserved code for files that cannot be read, decoded or parsed.
PARSE_ERROR_CODE = "BNL000"
PARSE_ERROR_NAME = "parse-error"

#: Fix passes before giving up on a file whose fixes keep producing new ones.
MAX_FIX_PASSES = 10

T = TypeVar("T")


@dataclass(frozen=True)
class LintOptions:
    """The rules to run (classes, already selected) and the targeted Keras version."""

    rules: tuple
    keras_version: str = "both"

    @property
    def triggers(self) -> tuple[str, ...]:
        """The words without which none of the selected rules can fire."""
        words: list[str] = []
        for rule in self.rules:
            words.extend(word for word in rule.triggers if word not in words)
        return tuple(words)


def passes_prefilter(text: str, options: LintOptions) -> bool:
    """Whether a text contains any trigger word of the selected rules (else it is not parsed)."""
    return any(word in text for word in options.triggers)


def parse_error(filename: str, message: str, row: int = 1, column: int = 1) -> Diagnostic:
    """The one diagnostic of a file that could not be read, decoded or parsed."""
    return Diagnostic(
        code=PARSE_ERROR_CODE,
        name=PARSE_ERROR_NAME,
        severity=Severity.ERROR,
        message=message,
        filename=filename,
        start=Position(row, column),
        end=Position(row, column),
    )


def run_with_large_stack(function: Callable[[], T]) -> T:
    """Run ``function`` in a thread with a large stack and a raised recursion limit.

    LibCST and the facts engine recurse once per nesting level; valid code nested a few hundred levels
    deep would otherwise raise RecursionError.
    """
    result: list[T] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(function())
        except BaseException as exc:
            error.append(exc)

    old_limit = sys.getrecursionlimit()
    old_size = threading.stack_size()
    try:
        threading.stack_size(512 * 1024 * 1024)
        sys.setrecursionlimit(max(old_limit, 60_000))
        thread = threading.Thread(target=target, name="bnlint-lint")
        thread.start()
        thread.join()
    finally:
        threading.stack_size(old_size)
        sys.setrecursionlimit(old_limit)
    if error:
        raise error[0]
    return result[0]


def lint_text(text: str, filename: str, options: LintOptions) -> list[Diagnostic]:
    """All diagnostics for one source text (noqa applied, sorted, fixes attached)."""
    if not passes_prefilter(text, options):
        return []
    return run_with_large_stack(lambda: _lint(text, filename, options))


def _precheck(text: str) -> tuple[Optional[tuple[str, int, int]], bool]:
    """CPython's verdict on the text: (its syntax error, if any; whether LibCST must not see it).

    CPython rejects nesting that can crash LibCST ("too many nested parentheses"); its syntax errors
    also read better than LibCST's. Other CPython errors do not stop LibCST, which may know syntax
    newer than the running interpreter.
    """
    import ast

    try:
        ast.parse(text)
    except SyntaxError as error:
        message = str(error.msg)
        fatal = (
            "too many nested" in message or "too many levels" in message or "too complex" in message
        )
        return (message, error.lineno or 1, error.offset or 1), fatal
    except (RecursionError, MemoryError):
        return ("too deeply nested to analyse", 1, 1), True
    except ValueError as error:  # NUL bytes and the like
        return (str(error), 1, 1), False
    return None, False


def _lint(text: str, filename: str, options: LintOptions) -> list[Diagnostic]:
    import libcst as cst

    from bnlint.facts import build_facts
    from bnlint.positions import PositionIndex, split_lines
    from bnlint.rules.base import RuleContext
    from bnlint.suppression import find_suppressions

    problem, fatal = _precheck(text)
    if problem is not None and fatal:
        return [parse_error(filename, f"cannot parse: {problem[0]}", problem[1])]
    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError as error:
        if problem is not None:
            return [parse_error(filename, f"syntax error: {problem[0]}", problem[1], problem[2])]
        return [
            parse_error(
                filename, f"syntax error: {error.message}", error.raw_line, error.raw_column + 1
            )
        ]
    except RecursionError:
        return [parse_error(filename, "cannot parse: too deeply nested to analyse")]

    facts = build_facts(module)
    context = RuleContext(facts, text, options.keras_version)
    positions = PositionIndex(module)
    suppressions = None
    diagnostics: dict[tuple, Diagnostic] = {}
    for rule_class in options.rules:
        rule = rule_class()
        for finding in rule.check(context):
            start, end = positions.range(finding.node)
            if suppressions is None:
                suppressions = find_suppressions(split_lines(text))
            if suppressions.suppresses(rule.code, (start.row, end.row)):
                continue
            fix = None
            if finding.fix is not None:
                edits = tuple(
                    Edit(edit.replacement, *positions.range(edit.node))
                    for edit in finding.fix.edits
                )
                fix = Fix(finding.fix.applicability, finding.fix.message, edits)
            diagnostic = Diagnostic(
                code=rule.code,
                name=rule.name,
                severity=finding.severity or rule.severity,
                message=finding.message,
                filename=filename,
                start=start,
                end=end,
                fix=fix,
                url=rule.url(),
            )
            diagnostics.setdefault((rule.code, start, end), diagnostic)
    return sorted(diagnostics.values(), key=Diagnostic.sort_key)


@dataclass
class FixResult:
    """The text after fixing, the diagnostics that remain, and how many were fixed."""

    text: str
    remaining: list[Diagnostic]
    fixed: int
    converged: bool = True


def applicable(diagnostic: Diagnostic, unsafe: bool) -> bool:
    """Whether ``--fix`` applies this diagnostic's fix under the chosen safety."""
    return diagnostic.fix is not None and (unsafe or diagnostic.fix.applicability.value == "safe")


def fix_text(text: str, filename: str, options: LintOptions, unsafe: bool) -> FixResult:
    """Apply fixes, re-linting until nothing more applies (or the pass limit is reached)."""
    from bnlint.positions import apply_edits

    fixed = 0
    current = text
    for _ in range(MAX_FIX_PASSES):
        diagnostics = lint_text(current, filename, options)
        chosen = _non_overlapping([d for d in diagnostics if applicable(d, unsafe)])
        if not chosen:
            return FixResult(current, diagnostics, fixed)
        candidate = apply_edits(current, [edit for d in chosen for edit in d.fix.edits])  # type: ignore[union-attr]
        if candidate == current:
            return FixResult(current, diagnostics, fixed)
        current = candidate
        fixed += len(chosen)
    return FixResult(current, lint_text(current, filename, options), fixed, converged=False)


def _non_overlapping(diagnostics: Sequence[Diagnostic]) -> list[Diagnostic]:
    """Greedily keep fixes whose edits do not overlap an already kept fix (the rest wait a pass)."""
    kept: list[Diagnostic] = []
    spans: list[tuple[Position, Position]] = []
    for diagnostic in diagnostics:
        edits = diagnostic.fix.edits if diagnostic.fix else ()
        if any(
            (e.start < end and start < e.end) or (e.start == start)
            for e in edits
            for start, end in spans
        ):
            continue
        kept.append(diagnostic)
        spans.extend((e.start, e.end) for e in edits)
    return kept
