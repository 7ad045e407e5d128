"""Loading sources with their exact encoding (``.py`` bytes, ``.ipynb`` JSON); ``writes`` writes fixed
content back."""

from __future__ import annotations

import io
import json
import re
import tokenize
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

_UTF8_BOM = b"\xef\xbb\xbf"


class SourceError(Exception):
    """A file that cannot be read or decoded, with the 1-based position of the problem where known;
    reported as a diagnostic, never a crash."""

    def __init__(self, message: str, row: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.row = row
        self.column = column


@dataclass(frozen=True)
class PythonSource:
    """A decoded ``.py`` file and what it takes to write it back byte for byte."""

    text: str
    encoding: str
    bom: bool

    def encode(self, text: str) -> bytes:
        """Bytes for ``text`` in this file's encoding (BOM kept)."""
        data = text.encode(self.encoding)
        return (_UTF8_BOM + data) if self.bom else data


def decode_python(data: bytes) -> PythonSource:
    """Decode Python source bytes as CPython would: BOM, then a PEP 263 coding cookie, else UTF-8."""
    bom = data.startswith(_UTF8_BOM)
    body = data[len(_UTF8_BOM) :] if bom else data
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:
        if "invalid or missing encoding declaration" in str(error):
            encoding = "utf-8"  # undecodable first lines: say where, as decoding them does below
        elif bom and "encoding problem" in str(error):
            raise SourceError(
                "cannot decode: the file starts with a UTF-8 byte order mark but declares "
                "another encoding",
                _cookie_row(body),
            ) from error
        else:
            raise SourceError(f"cannot decode: {error}", _cookie_row(body)) from error
    if encoding == "utf-8-sig":
        encoding = "utf-8"
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as error:
        row, column = _byte_position(body, error.start)
        raise SourceError(
            f"cannot decode as {encoding}: byte 0x{body[error.start]:02x} is not valid "
            f"({error.reason}); declare the file's encoding or save it as UTF-8",
            row,
            column,
        ) from error
    except LookupError as error:
        raise SourceError(f"cannot decode: {error}", _cookie_row(body)) from error
    return PythonSource(text=text, encoding=encoding, bom=bom)


_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=]", re.MULTILINE)


def _cookie_row(data: bytes) -> int:
    """The line of the encoding declaration (PEP 263: line 1 or 2), else 1."""
    match = _COOKIE.search(data, 0, len(b"\n".join(data.split(b"\n", 2)[:2])))
    return data.count(b"\n", 0, match.start()) + 1 if match else 1


def _byte_position(data: bytes, offset: int) -> tuple[int, int]:
    """The 1-based (row, column) of byte ``offset``; the column counts the bytes before it."""
    before = data[:offset]
    line_start = max(before.rfind(b"\n"), before.rfind(b"\r")) + 1
    row = len(re.split(rb"\r\n|\r|\n", before))
    return row, offset - line_start + 1


def read_python(path: Path) -> PythonSource:
    """Read and decode a ``.py`` file."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise SourceError(f"cannot read: {error.strerror or error}") from error
    return decode_python(data)


# --- Notebooks: read as JSON (never executed), write back only the cells whose source changed. ---

_JSON_SPACE = re.compile(r"[ \t\n\r]*")
_NON_ASCII_ESCAPE = re.compile(
    r"\\u(?:00[89a-fA-F][0-9a-fA-F]|0[1-9a-fA-F][0-9a-fA-F]{2}|[1-9a-fA-F][0-9a-fA-F]{3})"
)


class NotebookError(SourceError):
    """A malformed notebook, with the position in the JSON text when there is one."""


@dataclass(frozen=True)
class NotebookCell:
    """One cell: its 1-based position among all cells (as Jupyter counts), type and source text."""

    number: int
    cell_type: str
    source: str
    source_is_list: bool


@dataclass(frozen=True)
class NotebookSource:
    """A decoded ``.ipynb`` file: its JSON text, its cells, and what it takes to write it back."""

    text: str
    bom: bool
    cells: tuple[NotebookCell, ...]
    language: Optional[str]

    @property
    def is_python(self) -> bool:
        """Whether the kernel is Python (true when the metadata does not say)."""
        return self.language is None or self.language.lower().startswith("python")

    def encode(self, sources: Mapping[int, str]) -> bytes:
        """The file's bytes with the source of each cell number in ``sources`` replaced.

        Everything else (outputs, metadata, key order, indentation, final newline) stays byte for byte;
        a changed source keeps its form (list of lines or one string).
        """
        spans = _source_spans(self.text)
        style = _JsonStyle.of(self.text)
        pieces: list[str] = []
        done = 0
        for cell in self.cells:
            if cell.number not in sources or sources[cell.number] == cell.source:
                continue
            start, end = spans[cell.number - 1]
            pieces.append(self.text[done:start])
            pieces.append(
                style.dump(self.text, sources[cell.number], cell.source_is_list, start, end)
            )
            done = end
        pieces.append(self.text[done:])
        data = "".join(pieces).encode("utf-8")
        return (_UTF8_BOM + data) if self.bom else data


@dataclass(frozen=True)
class _JsonStyle:
    """How a notebook's JSON is written, so a new ``"source"`` value looks like the old ones."""

    ensure_ascii: bool
    newline: str
    indent_unit: str

    @classmethod
    def of(cls, text: str) -> _JsonStyle:
        """The style of a whole file (computed once: notebooks can be many megabytes)."""
        ensure_ascii = text.isascii() and bool(_NON_ASCII_ESCAPE.search(text))
        first_newline = text.find("\n")
        newline = "\r\n" if first_newline > 0 and text[first_newline - 1] == "\r" else "\n"
        match = re.match(r"\s*\{\r?\n([ \t]+)", text)
        return cls(ensure_ascii, newline, match.group(1) if match else " ")

    def dump(self, text: str, source: str, as_list: bool, start: int, end: int) -> str:
        """The JSON of ``source`` to replace ``text[start:end]``, the old ``"source"`` value."""
        if not as_list:
            return json.dumps(source, ensure_ascii=self.ensure_ascii)
        items = [
            json.dumps(line, ensure_ascii=self.ensure_ascii) for line in source.splitlines(True)
        ]
        if not items:
            return "[]"
        key_start = text.rfind('"source"', 0, start)
        line_start = text.rfind("\n", 0, key_start) + 1
        key_indent = text[line_start:key_start]
        if key_indent.strip(" \t"):  # a compact file: the key does not start its own line
            separator = ", " if '", "' in text[start:end] else ","
            return "[" + separator.join(items) + "]"
        old_item = re.search(r"\n([ \t]*)\S", text[start:end])
        unit = self.indent_unit
        if (
            old_item
            and old_item.group(1).startswith(key_indent)
            and old_item.group(1) != key_indent
        ):
            unit = old_item.group(1)[len(key_indent) :]
        body = ("," + self.newline).join(key_indent + unit + item for item in items)
        return "[" + self.newline + body + self.newline + key_indent + "]"


def decode_notebook(data: bytes) -> NotebookSource:
    """Decode and validate a notebook's JSON; any malformation raises :class:`NotebookError`."""
    bom = data.startswith(_UTF8_BOM)
    body = data[len(_UTF8_BOM) :] if bom else data
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise NotebookError(
            f"invalid notebook: not UTF-8 ({error.reason})", *_byte_position(body, error.start)
        ) from error
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise NotebookError(
            f"invalid notebook: not valid JSON ({error.msg})", error.lineno, error.colno
        ) from error
    except RecursionError as error:
        raise NotebookError("invalid notebook: JSON nested too deeply") from error
    if not isinstance(document, dict) or not isinstance(document.get("cells"), list):
        raise NotebookError('invalid notebook: no "cells" list (nbformat 4 is expected)')
    cells = []
    for number, raw in enumerate(document["cells"], start=1):
        if not isinstance(raw, dict):
            raise NotebookError(
                f"invalid notebook: cell {number} is not an object", *_cell_position(text, number)
            )
        source = raw.get("source")
        if isinstance(source, list) and all(isinstance(line, str) for line in source):
            text_source, is_list = "".join(source), True
        elif isinstance(source, str):
            text_source, is_list = source, False
        else:
            raise NotebookError(
                f'invalid notebook: the "source" of cell {number} is not a string or a list of strings',
                *_cell_position(text, number, "source"),
            )
        cell_type = raw.get("cell_type")
        cells.append(
            NotebookCell(
                number, cell_type if isinstance(cell_type, str) else "", text_source, is_list
            )
        )
    return NotebookSource(text, bom, tuple(cells), _language(document.get("metadata")))


def _cell_position(text: str, number: int, key: Optional[str] = None) -> tuple[int, int]:
    """The (row, column) in valid notebook JSON of cell ``number`` (or of its member ``key``)."""
    cells_start = None
    for name, value_start, _ in _members(text, _skip(text, 0)):
        if name == "cells":
            cells_start = value_start
    offset = None
    if cells_start is not None:
        for index, cell_start in enumerate(_items(text, cells_start), start=1):
            if index == number:
                offset = cell_start
                if key is not None and text[cell_start] == "{":
                    for name, value_start, _ in _members(text, cell_start):
                        if name == key:
                            offset = value_start
                break
    if offset is None:
        return 1, 1
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


def _language(metadata: object) -> Optional[str]:
    if not isinstance(metadata, dict):
        return None
    for key, field_name in (("language_info", "name"), ("kernelspec", "language")):
        table = metadata.get(key)
        if isinstance(table, dict) and isinstance(table.get(field_name), str):
            return table[field_name]
    return None


def read_notebook(path: Path) -> NotebookSource:
    """Read and decode a ``.ipynb`` file."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise SourceError(f"cannot read: {error.strerror or error}") from error
    return decode_notebook(data)


def _source_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of each cell's ``"source"`` value in the JSON text (the last key wins,
    as in ``json.loads``)."""
    spans: list[tuple[int, int]] = []
    start = _JSON_SPACE.match(text, 0).end()  # type: ignore[union-attr]
    cells_span = None
    for key, value_start, value_end in _members(text, start):
        if key == "cells":
            cells_span = (value_start, value_end)
    assert cells_span is not None
    for cell_start in _items(text, cells_span[0]):
        span = None
        for key, value_start, value_end in _members(text, cell_start):
            if key == "source":
                span = (value_start, value_end)
        assert span is not None
        spans.append(span)
    return spans


_DECODER = json.JSONDecoder()


def _skip(text: str, index: int) -> int:
    return _JSON_SPACE.match(text, index).end()  # type: ignore[union-attr]


def _members(text: str, index: int) -> Iterator[tuple[str, int, int]]:
    """(key, value start, value end) of each member of the JSON object starting at ``index``."""
    index = _skip(text, index + 1)
    if text[index] == "}":
        return
    while True:
        key, index = _DECODER.raw_decode(text, index)
        index = _skip(text, _skip(text, index) + 1)  # past the colon
        _, end = _DECODER.raw_decode(text, index)
        yield key, index, end
        index = _skip(text, end)
        if text[index] == "}":
            return
        index = _skip(text, index + 1)


def _items(text: str, index: int) -> Iterator[int]:
    """The start offset of each item of the JSON array starting at ``index``."""
    index = _skip(text, index + 1)
    if text[index] == "]":
        return
    while True:
        _, end = _DECODER.raw_decode(text, index)
        yield index
        index = _skip(text, end)
        if text[index] == "]":
            return
        index = _skip(text, index + 1)
