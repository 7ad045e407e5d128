"""The fix loop: apply the fixes of a text's diagnostics, re-lint, and repeat until nothing more applies;
a fix whose result would not parse is withheld and reported."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Optional

from bnlint.diagnostics import Diagnostic, Position
from bnlint.engine import (
    LintOptions,
    lint_text,
    parse_error,
    run_with_large_stack,
)

if TYPE_CHECKING:
    from bnlint.facts.summaries import SummaryProvider

#: Fix passes before giving up on a file whose fixes keep producing new ones.
MAX_FIX_PASSES = 10


def fix_breaks_parsing(before: str, after: str) -> Optional[str]:
    """Why ``after`` (``before`` with fixes applied) must not be written (what no longer parses), or
    None when it parses.

    LibCST must parse it, and so must CPython whenever it parsed ``before`` (LibCST accepts a few
    things CPython rejects, such as a positional argument after a keyword one).
    """
    import libcst as cst

    from bnlint.parse_guard import precheck

    problem_before, _ = precheck(before)
    problem_after, fatal = precheck(after)
    if problem_after is not None and (fatal or problem_before is None):
        return problem_after[0]

    from bnlint.parse_in_parts import parse_module

    def parse() -> Optional[str]:
        try:
            parse_module(after)
        except cst.ParserSyntaxError as error:
            return error.message
        except RecursionError:
            return "too deeply nested to analyse"
        return None

    return run_with_large_stack(parse)


def fix_withheld(diagnostic: Diagnostic, problem: str) -> Diagnostic:
    """The diagnostic that says a fix was not applied because the result would not parse."""
    return parse_error(
        diagnostic.filename,
        f"fix withheld: the fix of {diagnostic.code} here would leave code that does not parse "
        f"({problem}), so it was not applied; please report it at "
        "https://github.com/bnlint/bnlint/issues",
        diagnostic.start.row,
        diagnostic.start.column,
    )


@dataclass
class FixResult:
    """The text after fixing, the diagnostics that remain, and how many were fixed."""

    text: str
    remaining: list[Diagnostic]
    fixed: int
    converged: bool = True
    #: The code of every fix applied, in order (for ``--show-fixes``).
    applied: tuple[str, ...] = ()


def applicable(diagnostic: Diagnostic, unsafe: bool) -> bool:
    """Whether ``--fix`` applies this diagnostic's fix under the chosen safety."""
    return diagnostic.fix is not None and (unsafe or diagnostic.fix.applicability.value == "safe")


def fix_text(
    text: str,
    filename: str,
    options: LintOptions,
    unsafe: bool,
    summaries: Optional[SummaryProvider] = None,
) -> FixResult:
    """Apply fixes, re-linting until nothing more applies (or the pass limit is reached); a fix whose
    result would not parse is withheld and reported."""
    fixed = 0
    applied: list[str] = []
    current = text
    withheld: dict[tuple, Diagnostic] = {}
    for _ in range(MAX_FIX_PASSES):
        diagnostics = lint_text(current, filename, options, summaries)
        chosen = non_overlapping(
            [d for d in diagnostics if applicable(d, unsafe) and fix_key(d) not in withheld]
        )
        if not chosen:
            return FixResult(
                current, [*diagnostics, *withheld.values()], fixed, True, tuple(applied)
            )
        render = partial(with_fixes, current)
        kept, refused = parsing_fixes(current, chosen, render)
        for diagnostic, problem in refused:
            withheld.setdefault(fix_key(diagnostic), fix_withheld(diagnostic, problem))
        candidate = render(kept)
        if candidate == current:
            if refused:
                continue
            return FixResult(
                current, [*diagnostics, *withheld.values()], fixed, True, tuple(applied)
            )
        current = candidate
        fixed += len(kept)
        applied.extend(d.code for d in kept)
    remaining = [*lint_text(current, filename, options, summaries), *withheld.values()]
    return FixResult(current, remaining, fixed, converged=False, applied=tuple(applied))


def with_fixes(text: str, diagnostics: Sequence[Diagnostic]) -> str:
    """``text`` with the fixes of ``diagnostics`` applied."""
    from bnlint.lines import apply_edits

    return apply_edits(text, [edit for d in diagnostics if d.fix for edit in d.fix.edits])


def fix_key(diagnostic: Diagnostic) -> tuple:
    """What tells one fix from another in a file: its code, start and replacement texts."""
    edits = diagnostic.fix.edits if diagnostic.fix else ()
    return diagnostic.code, diagnostic.start, tuple(edit.content for edit in edits)


def parsing_fixes(
    text: str, chosen: Sequence[Diagnostic], render: Callable[[Sequence[Diagnostic]], str]
) -> tuple[list[Diagnostic], list[tuple[Diagnostic, str]]]:
    """(the fixes to apply, the fixes refused with why): ``render`` gives the text with some fixes
    applied; a fix whose result would not parse is refused, and if the rest together still do not
    parse, all are."""
    if fix_breaks_parsing(text, render(chosen)) is None:
        return list(chosen), []
    kept: list[Diagnostic] = []
    refused: list[tuple[Diagnostic, str]] = []
    for diagnostic in chosen:
        problem = fix_breaks_parsing(text, render([diagnostic]))
        if problem is None:
            kept.append(diagnostic)
        else:
            refused.append((diagnostic, problem))
    problem = fix_breaks_parsing(text, render(kept)) if kept else None
    if problem is not None:
        return [], [*refused, *((diagnostic, problem) for diagnostic in kept)]
    return kept, refused


def non_overlapping(diagnostics: Sequence[Diagnostic]) -> list[Diagnostic]:
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
