"""The human formats: ``concise`` (one line per finding) and ``full`` (with the source and a caret).

The text carries ANSI styles; whoever prints it decides whether they stay (a terminal, unless
``NO_COLOR``) or are stripped (a pipe, a file), so the same text serves both.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

import click

from bnlint.diagnostics import Diagnostic
from bnlint.lines import split_lines


def location(diagnostic: Diagnostic) -> str:
    """``path:row:col`` or, in a notebook, ``path:cell N:row:col`` (styled)."""
    colon = click.style(":", fg="cyan")
    cell = f"cell {diagnostic.cell}{colon}" if diagnostic.cell is not None else ""
    return (
        f"{click.style(diagnostic.filename, bold=True)}{colon}{cell}"
        f"{diagnostic.start.row}{colon}{diagnostic.start.column}"
    )


def headline(diagnostic: Diagnostic) -> str:
    """``path:row:col: CODE [*] message`` (``[*]``: a fix is available)."""
    marker = " " + click.style("[*]", fg="cyan") if diagnostic.fix is not None else ""
    code = click.style(diagnostic.code, fg="red", bold=True)
    return (
        f"{location(diagnostic)}{click.style(':', fg='cyan')} {code}{marker} {diagnostic.message}"
    )


def format_concise(diagnostics: Sequence[Diagnostic], sources: Mapping[str, str]) -> str:
    """One line per diagnostic."""
    return "".join(headline(d) + "\n" for d in diagnostics)


def format_full(diagnostics: Sequence[Diagnostic], sources: Mapping[str, str]) -> str:
    """Each diagnostic with its source line, a caret under the span, and the fix hint (like ruff)."""
    blocks = []
    line_cache: dict[str, list[str]] = {}
    for diagnostic in diagnostics:
        block = [headline(diagnostic)]
        key = (
            diagnostic.filename
            if diagnostic.cell is None
            else f"{diagnostic.filename}#{diagnostic.cell}"
        )
        text = sources.get(key)
        if text is not None:
            lines = line_cache.setdefault(key, split_lines(text))
            block.extend(_snippet(diagnostic, lines))
        if diagnostic.fix is not None:
            help_label = click.style("= help:", fg="cyan", bold=True)
            block.append(f"  {help_label} {diagnostic.fix.message}")
        blocks.append("\n".join(block) + "\n")
    return "\n".join(blocks)


def _snippet(diagnostic: Diagnostic, lines: list[str]) -> list[str]:
    row = diagnostic.start.row
    if not 1 <= row <= len(lines):
        return []
    source = lines[row - 1].expandtabs(1)
    width = len(str(row))
    start = diagnostic.start.column - 1
    end = diagnostic.end.column - 1 if diagnostic.end.row == row else len(source.rstrip())
    carets = "^" * max(1, min(end, len(source)) - start)
    bar = click.style("|", fg="blue", bold=True)
    gutter = " " * width
    marks = click.style(f"{carets} {diagnostic.code}", fg="red", bold=True)
    return [
        f"{gutter} {bar}",
        f"{click.style(str(row), fg='blue', bold=True)} {bar} {source}",
        f"{gutter} {bar} {' ' * start}{marks}",
        f"{gutter} {bar}",
    ]


def _plural(count: int, word: str, plural: str = "") -> str:
    return f"{count} {word if count == 1 else plural or word + 's'}"


def format_applied_fixes(applied: Mapping[str, Sequence[str]], names: Mapping[str, str]) -> str:
    """``--fix --show-fixes``: the fixes applied, per file and rule, as ruff lists them."""
    total = sum(len(codes) for codes in applied.values())
    if not total:
        return ""
    lines = [f"Fixed {_plural(total, 'error')}:"]
    for filename in sorted(applied):
        lines.append(f"- {click.style(filename, bold=True)}:")
        for code, count in sorted(Counter(applied[filename]).items()):
            name = f" ({names[code]})" if code in names else ""
            code_text = click.style(code, fg="red", bold=True)
            lines.append(f"    {count} × {code_text}{name}")  # noqa: RUF001 (ruff's own sign)
    return "\n".join(lines) + "\n\n"


def format_available_fixes(diagnostics: Sequence[Diagnostic], unsafe: bool) -> str:
    """``--show-fixes`` without ``--fix``: each available fix, its safety and what it does."""
    fixable = [d for d in diagnostics if d.fix is not None]
    if not fixable:
        return ""
    lines = [f"{_plural(len(fixable), 'fix', 'fixes')} available:"]
    for diagnostic in fixable:
        assert diagnostic.fix is not None
        safety = diagnostic.fix.applicability.value
        needs = "--fix" if safety == "safe" or unsafe else "--fix --unsafe-fixes"
        lines.append(
            f"  {location(diagnostic)}{click.style(':', fg='cyan')} "
            f"{click.style(diagnostic.code, fg='red', bold=True)} {diagnostic.fix.message} "
            f"({safety}: {needs})"
        )
    return "\n".join(lines) + "\n\n"
