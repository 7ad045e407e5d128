"""Jupyter notebooks: code cells as one virtual module, positions mapped back to (cell, line), fixes
written back cell by cell.

IPython syntax (line magics, shell escapes, help lines) is blanked so that line numbers hold; a cell
that starts with a ``%%`` cell magic is skipped, except the few magics whose body is Python.
"""

from __future__ import annotations

import bisect
import difflib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Optional

from bnlint.diagnostics import Diagnostic, Edit, Fix, Position
from bnlint.engine import LintOptions, lint_text, parse_error
from bnlint.fix_loop import (
    MAX_FIX_PASSES,
    applicable,
    fix_key,
    fix_withheld,
    non_overlapping,
    parsing_fixes,
)
from bnlint.lines import apply_edits
from bnlint.sources import NotebookCell, NotebookError, NotebookSource, decode_notebook

if TYPE_CHECKING:
    from bnlint.facts.summaries import SummaryProvider

NOTEBOOK_SUFFIX = ".ipynb"

#: Cell magics whose body is Python: the ``%%`` line is blanked and the rest linted.
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture"})

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
#: ``x = !ls``, ``a, b = %sx ls``: an assignment whose value is a magic or shell command.
_MAGIC_ASSIGN = re.compile(r"(?P<target>[\w.\[\]'\"*, ]*[\w\]'\"])\s*=\s*[%!](?!=)")
#: Escapes IPython rewrites at the start of a logical line: magics, shell, help, autocall.
_ESCAPES = ("%", "!", "?", "/", ";", ",")
_CELL_MAGIC = re.compile(r"\s*%%(?P<name>\w+)")
#: Line magics that IPython's automagic runs without the ``%``, in the form that is not Python:
#: ``pip install tensorflow``, ``conda install -y ...``, ``cd ../data``.
_AUTOMAGIC = re.compile(
    r"(?:(?:pip|pip3|conda|mamba)\s+(?:install|uninstall|list|freeze|show|download)\b|cd\s+(?!(?:in|is|and|or|not|if|else)\b)[\w./~-])"
)


def is_notebook(name: str) -> bool:
    """Whether a file name is a Jupyter notebook."""
    return name.endswith(NOTEBOOK_SUFFIX)


@dataclass(frozen=True)
class _Segment:
    """Where one code cell's lines sit in the virtual module."""

    cell: int
    first_row: int
    rows: int
    text: str
    #: Per line of the cell: how many leading characters IPython removed (a cell indented as a
    #: whole is dedented before it runs), to put columns back.
    dedents: tuple[int, ...] = ()

    def end_position(self) -> Position:
        """The position just past the cell's text, in cell coordinates."""
        lines = _LINE.findall(self.text)
        if not lines or lines[-1].endswith(("\n", "\r")):
            return Position(len(lines) + 1, 1)
        return Position(len(lines), len(lines[-1]) + 1)


@dataclass(frozen=True)
class VirtualModule:
    """The code cells of a notebook joined into one Python text, with the map back to cells."""

    text: str
    segments: tuple[_Segment, ...]
    blanked: frozenset[int]
    first_rows: tuple[int, ...] = ()

    def _segment_of(self, row: int) -> Optional[_Segment]:
        index = bisect.bisect_right(self.first_rows, row) - 1
        if index < 0:
            return self.segments[0] if self.segments else None
        return self.segments[index]

    def locate(self, position: Position, end: bool = False) -> Optional[tuple[int, Position]]:
        """(cell, position inside the cell) of a virtual position; an ``end`` exactly at a cell
        boundary belongs to the cell before it."""
        segment = self._segment_of(position.row)
        if segment is None:
            return None
        offset = position.row - segment.first_row
        if end and offset == 0 and position.column == 1 and segment is not self.segments[0]:
            previous = self.segments[self.segments.index(segment) - 1]
            return previous.cell, previous.end_position()
        if offset < 0:
            return segment.cell, Position(1, 1)
        if offset >= segment.rows:
            return segment.cell, segment.end_position()
        shift = segment.dedents[offset] if offset < len(segment.dedents) else 0
        return segment.cell, Position(offset + 1, position.column + shift)

    def map_edit(self, edit: Edit) -> Optional[tuple[int, Edit]]:
        """The edit in cell coordinates, or None when it spans cells or touches blanked IPython lines."""
        start = self.locate(edit.start)
        end = self.locate(edit.end, end=True)
        if start is None or end is None or start[0] != end[0]:
            return None
        segment = self._segment_of(edit.start.row)
        if segment is not None and any(segment.dedents) and "\n" in edit.content:
            return None  # its new lines are indented for the dedented cell, not the cell as written
        last_row = edit.end.row if edit.end.column > 1 else edit.end.row - 1
        if any(
            row in self.blanked for row in range(edit.start.row, max(last_row, edit.start.row) + 1)
        ):
            return None
        return start[0], Edit(edit.content, start[1], end[1])

    def map_fix(self, fix: Optional[Fix]) -> Optional[tuple[int, Fix]]:
        """The fix in cell coordinates, when all its edits fall inside one cell."""
        if fix is None or not fix.edits:
            return None
        cells: set[int] = set()
        edits: list[Edit] = []
        for edit in fix.edits:
            mapped = self.map_edit(edit)
            if mapped is None:
                return None
            cells.add(mapped[0])
            edits.append(mapped[1])
        if len(cells) != 1:
            return None
        return cells.pop(), Fix(fix.applicability, fix.message, tuple(edits))

    def map_diagnostic(self, diagnostic: Diagnostic) -> Diagnostic:
        """The diagnostic reported at (cell, line); its fix kept only if it can be applied."""
        start = self.locate(diagnostic.start)
        if start is None:
            return diagnostic
        end = self.locate(diagnostic.end, end=True)
        end_position = end[1] if end is not None and end[0] == start[0] else start[1]
        fix = self.map_fix(diagnostic.fix)
        return diagnostic.with_location(
            cell=start[0],
            start=start[1],
            end=max(end_position, start[1]),
            fix=fix[1] if fix is not None and fix[0] == start[0] else None,
        )


class _LogicalLines:
    """Tracks brackets, strings and backslash continuations, to tell where a logical line starts
    (IPython only rewrites escapes there)."""

    def __init__(self) -> None:
        self.depth = 0
        self.string: Optional[str] = None
        self.continued = False
        self.last_code = ""

    @property
    def at_start(self) -> bool:
        """Whether the next physical line starts a logical line."""
        return self.depth == 0 and self.string is None and not self.continued

    def feed(self, line: str) -> None:
        """Scan one physical line; ``last_code`` is its last character outside strings and comments."""
        self.last_code = ""
        in_comment = False
        index, length = 0, len(line)
        while index < length:
            char = line[index]
            if self.string is not None:
                if char == "\\":
                    index += 2
                elif line.startswith(self.string, index):
                    index += len(self.string)
                    self.string = None
                    self.last_code = char
                else:
                    index += 1
                continue
            if char == "#":
                in_comment = True
                break
            if char in "'\"":
                self.string = char * 3 if line.startswith(char * 3, index) else char
                index += len(self.string)
                continue
            if char in "([{":
                self.depth += 1
            elif char in ")]}":
                self.depth = max(0, self.depth - 1)
            if not char.isspace():
                self.last_code = char
            index += 1
        body = line.rstrip("\r\n")
        if self.string in ("'", '"') and not body.endswith("\\"):
            self.string = None  # an unterminated one-line string: a syntax error; start afresh
        self.continued = self.string is None and not in_comment and body.endswith("\\")


def _blank(line: str, indent: str) -> str:
    """A line that keeps the module valid in place of an IPython one: ``pass`` inside a block."""
    ending = line[len(line.rstrip("\r\n")) :]
    return (indent + "pass" if indent else "") + ending


def python_lines(source: str) -> Optional[list[tuple[str, bool]]]:
    """A code cell's lines as Python (each with whether it was blanked), or None to skip the cell.

    As IPython does, a cell whose first line is indented is dedented by that indentation first
    (see ``leading_indent``), and a cell magic may follow comment lines (a Colab ``#@title`` form).
    """
    lines = [line for line, _ in _dedented(_LINE.findall(source))]
    first = next(
        (i for i, line in enumerate(lines) if line.strip() and not line.lstrip().startswith("#")),
        None,
    )
    result: list[tuple[str, bool]] = []
    skip_first = -1
    if first is not None:
        magic = _CELL_MAGIC.match(lines[first])
        if magic is not None:
            if magic.group("name") not in PYTHON_CELL_MAGICS:
                return None
            skip_first = first
    scanner = _LogicalLines()
    magic_continues = False
    for number, line in enumerate(lines):
        if number == skip_first:
            result.append((_blank(line, ""), True))
            continue
        stripped = line.lstrip(" \t")
        indent = line[: len(line) - len(stripped)]
        if magic_continues:
            magic_continues = line.rstrip("\r\n").endswith("\\")
            result.append((_blank(line, ""), True))
            continue
        if scanner.at_start and stripped.strip():
            replacement = _ipython_line(line, stripped, indent)
            if replacement is not None:
                magic_continues = line.rstrip("\r\n").endswith("\\")
                result.append((replacement, True))
                continue
            scanner.feed(line)
            if scanner.last_code == "?" and scanner.at_start:
                result.append((_blank(line, indent), True))
                continue
        else:
            scanner.feed(line)
        result.append((line, False))
    return result


def leading_indent(source: str) -> tuple[int, ...]:
    """Per line of a cell: the width IPython removes from its start before running it."""
    return tuple(width for _, width in _dedented(_LINE.findall(source)))


def _dedented(lines: list[str]) -> list[tuple[str, int]]:
    """IPython's ``leading_indent``: when the first non-blank line is indented, that whitespace is
    removed from every line that starts with it."""
    first = next((line for line in lines if line.strip()), "")
    lead = first[: len(first) - len(first.lstrip(" \t"))]
    if not lead:
        return [(line, 0) for line in lines]
    return [
        (line[len(lead) :], len(lead)) if line.startswith(lead) else (line, 0) for line in lines
    ]


def _ipython_line(line: str, stripped: str, indent: str) -> Optional[str]:
    """The replacement of an IPython line at the start of a logical line, or None for Python."""
    if stripped.startswith(_ESCAPES) or _AUTOMAGIC.match(stripped):
        return _blank(line, indent)
    assign = _MAGIC_ASSIGN.match(stripped)
    if assign is not None:
        ending = line[len(line.rstrip("\r\n")) :]
        return f"{indent}{assign.group('target')} = None{ending}"
    return None


def build_virtual_module(cells: Sequence[NotebookCell], sources: dict[int, str]) -> VirtualModule:
    """Join the code cells (``sources`` holds their current text by cell number) into one module."""
    parts: list[str] = []
    segments: list[_Segment] = []
    blanked: set[int] = set()
    row = 1
    for cell in cells:
        if cell.cell_type != "code":
            continue
        text = sources[cell.number]
        lines = python_lines(text)
        if not lines:
            continue
        segments.append(_Segment(cell.number, row, len(lines), text, leading_indent(text)))
        for line, was_blanked in lines:
            if was_blanked:
                blanked.add(row)
            parts.append(line if line.endswith(("\n", "\r")) else line + "\n")
            row += 1
    return VirtualModule(
        "".join(parts), tuple(segments), frozenset(blanked), tuple(s.first_row for s in segments)
    )


@dataclass
class NotebookResult:
    """What linting (and fixing) one notebook produced."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    fixed: int = 0
    data: Optional[bytes] = None
    diffs: list[str] = field(default_factory=list)
    #: The code of every fix applied (for ``--show-fixes``).
    applied: tuple[str, ...] = ()


def check_notebook(
    data: bytes,
    name: str,
    options: LintOptions,
    fix: bool = False,
    unsafe: bool = False,
    summaries: Optional[SummaryProvider] = None,
) -> NotebookResult:
    """Lint a notebook's bytes; with ``fix``, also the fixed bytes (``data``) and per-cell diffs.

    A pure function of its inputs: the notebook is read as JSON, never executed.
    """
    result = NotebookResult()
    try:
        notebook = decode_notebook(data)
    except NotebookError as error:
        result.diagnostics.append(parse_error(name, str(error), error.row, error.column))
        return result
    if not notebook.is_python:
        return result
    sources = {cell.number: cell.source for cell in notebook.cells}
    withheld: list[Diagnostic] = []
    if fix:
        codes: list[str] = []
        sources, result.fixed, withheld = fix_cells(
            notebook.cells, sources, name, options, unsafe, codes, summaries
        )
        result.applied = tuple(codes)
    module = build_virtual_module(notebook.cells, sources)
    if module.segments:
        result.diagnostics = [
            module.map_diagnostic(d) for d in lint_text(module.text, name, options, summaries)
        ]
    result.diagnostics.extend(withheld)
    result.sources = {
        f"{name}#{cell.number}": sources[cell.number]
        for cell in notebook.cells
        if cell.cell_type == "code"
    }
    changed = {n: text for n, text in sources.items() if text != notebook.cells[n - 1].source}
    if changed:
        result.data = notebook.encode(changed)
        result.diffs = list(_diffs(name, notebook, changed))
    return result


def fix_cells(
    cells: Sequence[NotebookCell],
    sources: dict[int, str],
    name: str,
    options: LintOptions,
    unsafe: bool,
    applied: Optional[list[str]] = None,
    summaries: Optional[SummaryProvider] = None,
) -> tuple[dict[int, str], int, list[Diagnostic]]:
    """Apply fixes cell by cell, re-linting until nothing more applies; returns the cell sources (by
    cell number), the number of fixes applied and the diagnostics of fixes withheld (their result
    would not parse). ``cells`` are all the notebook's cells, ``sources`` their current texts."""
    fixed = 0
    current = dict(sources)
    withheld: dict[tuple, Diagnostic] = {}
    for _ in range(MAX_FIX_PASSES):
        module = build_virtual_module(cells, current)
        if not module.segments:
            break
        local: dict[int, tuple[Diagnostic, tuple[int, Fix]]] = {}
        for diagnostic in lint_text(module.text, name, options, summaries):
            mapped = module.map_fix(diagnostic.fix) if applicable(diagnostic, unsafe) else None
            if mapped is not None and fix_key(diagnostic) not in withheld:
                local[id(diagnostic)] = (diagnostic, mapped)
        chosen = non_overlapping([diagnostic for diagnostic, _ in local.values()])
        render = partial(_render_fixes, cells, current, local)
        kept, refused = parsing_fixes(module.text, chosen, render)
        for diagnostic, problem in refused:
            withheld.setdefault(
                fix_key(diagnostic), module.map_diagnostic(fix_withheld(diagnostic, problem))
            )
        updated = _with_cell_fixes(current, local, kept)
        if updated == current:
            if refused:
                continue
            break
        current = updated
        fixed += len(kept)
        if applied is not None:
            applied.extend(d.code for d in kept)
    return current, fixed, list(withheld.values())


def _with_cell_fixes(
    sources: dict[int, str],
    local: dict[int, tuple[Diagnostic, tuple[int, Fix]]],
    diagnostics: Sequence[Diagnostic],
) -> dict[int, str]:
    """The cell sources with the (cell-mapped) fixes of ``diagnostics`` applied."""
    edits: dict[int, list[Edit]] = {}
    for diagnostic in diagnostics:
        cell, mapped_fix = local[id(diagnostic)][1]
        edits.setdefault(cell, []).extend(mapped_fix.edits)
    updated = dict(sources)
    for cell, cell_edits in edits.items():
        updated[cell] = apply_edits(sources[cell], cell_edits)
    return updated


def _render_fixes(
    cells: Sequence[NotebookCell],
    sources: dict[int, str],
    local: dict[int, tuple[Diagnostic, tuple[int, Fix]]],
    diagnostics: Sequence[Diagnostic],
) -> str:
    """The virtual module's text with the fixes of ``diagnostics`` applied."""
    return build_virtual_module(cells, _with_cell_fixes(sources, local, diagnostics)).text


def _diffs(name: str, notebook: NotebookSource, changed: dict[int, str]) -> Iterator[str]:
    """One unified diff per changed cell, headed ``name:cell N``."""
    for number in sorted(changed):
        label = f"{name}:cell {number}"
        lines = difflib.unified_diff(
            notebook.cells[number - 1].source.splitlines(keepends=True),
            changed[number].splitlines(keepends=True),
            fromfile=label,
            tofile=label,
        )
        yield "".join(line if line.endswith("\n") else line + "\n" for line in lines)
