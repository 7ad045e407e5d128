"""Every file a repository can hold ends in diagnostics, never in a crash: the CLI on real files.

Each unreadable, undecodable or unparsable file gives exactly one BNL000 diagnostic (at the line of the
problem when it is known), exit code 1, no traceback, and the other files are still linted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bnlint.cli import main
from tests.conftest import run_cli, run_json

#: A file with one finding (BNL003 at line 3, column 25) and a safe fix.
FINDING = b"from tensorflow.keras import layers\n\nx = layers.Dropout(0.5, trainable=False)\n"
FINDING_LINE = 3


def lint(folder: Path, *args: str) -> tuple[int, list[dict], str]:
    """``bnlint check --output-format json`` run in ``folder``: (exit code, diagnostics, stderr)."""
    old = Path.cwd()
    os.chdir(folder)
    try:
        result = CliRunner().invoke(
            main,
            ["check", "--output-format", "json", "--no-cache", *(args or (".",))],
            catch_exceptions=False,
        )
    finally:
        os.chdir(old)
    assert "Traceback" not in result.stderr
    return result.exit_code, json.loads(result.stdout), result.stderr


def by_file(diagnostics: list[dict]) -> dict[str, list[tuple[str, int]]]:
    """{file name: [(code, row), ...]} of a JSON report."""
    found: dict[str, list[tuple[str, int]]] = {}
    for diagnostic in diagnostics:
        name = Path(diagnostic["filename"]).name
        found.setdefault(name, []).append((diagnostic["code"], diagnostic["location"]["row"]))
    return found


def assert_one_parse_error(tmp_path: Path, content: bytes, row: int, name: str = "bad.py") -> str:
    """Lint ``content`` beside a good file: one BNL000 at ``row``, the good file still linted."""
    (tmp_path / name).write_bytes(content)
    (tmp_path / "good.py").write_bytes(FINDING)
    code, diagnostics, _ = lint(tmp_path)
    assert code == 1
    found = by_file(diagnostics)
    assert found[name] == [("BNL000", row)], found
    assert found["good.py"] == [("BNL003", FINDING_LINE)]
    return next(d["message"] for d in diagnostics if Path(d["filename"]).name == name)


def assert_lints(tmp_path: Path, content: bytes, rows: list[int], name: str = "file.py") -> None:
    """Lint ``content`` alone: exactly BNL003 at ``rows``, nothing else."""
    (tmp_path / name).write_bytes(content)
    code, diagnostics, _ = lint(tmp_path)
    assert by_file(diagnostics) == {name: [("BNL003", row) for row in rows]}
    assert code == 1


# --- Encodings ---


def test_latin1_coding_cookie_is_honoured(tmp_path: Path) -> None:
    content = b"# -*- coding: latin-1 -*-\nname = '\xe9t\xe9'\n" + FINDING
    assert_lints(tmp_path, content, [FINDING_LINE + 2])


def test_utf8_bom_is_not_part_of_the_first_column(tmp_path: Path) -> None:
    (tmp_path / "bom.py").write_bytes(b"\xef\xbb\xbf" + FINDING)
    (tmp_path / "plain.py").write_bytes(FINDING)
    _, diagnostics, _ = lint(tmp_path)
    positions = {Path(d["filename"]).name: d["location"] for d in diagnostics}
    assert positions["bom.py"] == positions["plain.py"] == {"row": 3, "column": 25}


def test_latin1_without_a_cookie_is_reported_at_the_bad_byte(tmp_path: Path) -> None:
    content = b"import os\n\n\nname = '\xe9t\xe9'\n" + FINDING
    message = assert_one_parse_error(tmp_path, content, row=4)
    assert "0xe9" in message
    assert "cannot decode" in message


def test_invalid_utf8_on_the_first_line(tmp_path: Path) -> None:
    message = assert_one_parse_error(tmp_path, b"x = '\xff'\n" + FINDING, row=1)
    assert "0xff" in message


def test_unknown_encoding_in_the_cookie_of_line_two(tmp_path: Path) -> None:
    content = b"#!/usr/bin/env python\n# coding: klingon\n" + FINDING
    message = assert_one_parse_error(tmp_path, content, row=2)
    assert "klingon" in message


def test_bom_with_a_contradicting_cookie(tmp_path: Path) -> None:
    content = b"\xef\xbb\xbf# coding: latin-1\n" + FINDING
    message = assert_one_parse_error(tmp_path, content, row=1)
    assert "byte order mark" in message


# --- Line endings, bytes, sizes, whitespace ---


@pytest.mark.parametrize("newline", [b"\r\n", b"\r"], ids=["crlf", "cr"])
def test_crlf_and_cr_line_endings(tmp_path: Path, newline: bytes) -> None:
    content = FINDING.replace(b"\n", newline) + b"y = 1" + newline
    assert_lints(tmp_path, content, [FINDING_LINE])


def test_nul_byte_is_one_parse_error_at_its_line(tmp_path: Path) -> None:
    content = FINDING + b"y = 1\nz = '\x00'\n"
    message = assert_one_parse_error(tmp_path, content, row=5)
    assert "null bytes" in message


def test_empty_file_is_clean(tmp_path: Path) -> None:
    (tmp_path / "empty.py").write_bytes(b"")
    (tmp_path / "empty.ipynb").write_bytes(b'{"cells": [], "metadata": {}}')
    code, diagnostics, _ = lint(tmp_path)
    assert (code, diagnostics) == (0, [])


def test_twenty_thousand_line_file(tmp_path: Path) -> None:
    notes = b"# A note on the step above.\n" * 8
    block = (
        b"# Section %d: generated.\n\n\ndef step_%d(x):\n"
        b'    """One step."""\n    # Nothing to see.\n    return x + %d\n\n\n# End.\n'
        + notes
        + b"\n\n"
    )
    body = b"".join(block % (i, i, i) for i in range(1_000))
    content = FINDING + body + b"y = layers.Dropout(0.1, trainable=False)\n"
    assert body.count(b"\n") == 20_000
    assert_lints(tmp_path, content, [FINDING_LINE, FINDING_LINE + 20_001])


def test_consistent_mix_of_tabs_and_spaces_lints(tmp_path: Path) -> None:
    content = FINDING + b"if True:\n\ta = 1\nif True:\n    b = 2\n"
    assert_lints(tmp_path, content, [FINDING_LINE])


def test_tab_then_spaces_that_python_accepts_lints_at_the_written_columns(tmp_path: Path) -> None:
    """CPython reads a tab then four spaces as twelve columns; LibCST's tokenizer refuses it."""
    source = tmp_path / "chatbot.py"
    source.write_bytes(
        b"from tensorflow.keras import layers\n\n\nclass Net:\n    def build(self):\n"
        b"\t    x = layers.Dropout(0.5, trainable=False)\n\t    return x\n\n"
        b"    def other(self):\n        return 1\n"
    )
    [item] = run_json(str(source), "--select", "BNL003")
    assert (item["code"], item["location"], item["end_location"]) == (
        "BNL003",
        {"row": 6, "column": 30},
        {"row": 6, "column": 45},
    )
    assert item["fix"] is None  # computed on the expanded text: not offered
    before = source.read_bytes()
    run_cli("check", str(source), "--select", "BNL003", "--fix")
    assert source.read_bytes() == before


def test_inconsistent_tabs_and_spaces_is_a_parse_error(tmp_path: Path) -> None:
    content = b"if True:\n\ta = 1\n        b = 2\n"
    message = assert_one_parse_error(tmp_path, FINDING + content, row=6)
    assert "tabs and spaces" in message


@pytest.mark.parametrize(
    ("source", "row"),
    [
        (b'print "hello"\n', 4),
        (b'raise ValueError, "message"\n', 4),
        (b"if a <> b:\n    pass\n", 4),
        (b"big = 10L\n", 4),
        (b"mode = 0777\n", 4),
        (b"text = `mode`\n", 4),
        (b'exec "code"\n', 4),
    ],
    ids=["print", "raise-comma", "diamond", "long", "octal", "backticks", "exec"],
)
def test_python2_files_are_one_parse_error(tmp_path: Path, source: bytes, row: int) -> None:
    assert_one_parse_error(tmp_path, FINDING + source, row=row)


# --- Syntax newer than the running interpreter ---

NEW_SYNTAX = {
    "type_statement": b"type Point = tuple[float, float]\ntype Pair[T] = tuple[T, T]\n",
    "pep695_generics": (
        b"def first[T](items: list[T]) -> T:\n    return items[0]\n\n\n"
        b"class Box[T: int, *Ts, **P]:\n    pass\n"
    ),
    "pep696_defaults": b"def f[T = int](x: T) -> T:\n    return x\n",
    "pep701_fstrings": (
        b'name = "a"\nnested = f"{f"{name!r:>{10}}"}"\njoined = f"{"\\n".join([name])}"\n'
        b'commented = f"{name  # a comment\n}"\n'
    ),
    "except_star": b"try:\n    pass\nexcept* ValueError:\n    pass\n",
    "pep758_except": b"try:\n    pass\nexcept ValueError, TypeError:\n    pass\n",
    "pep750_tstrings": b'name = "a"\ngreeting = t"hello {name}"\n',
}


@pytest.mark.parametrize("source", NEW_SYNTAX.values(), ids=NEW_SYNTAX.keys())
def test_python_312_to_314_syntax_lints(tmp_path: Path, source: bytes) -> None:
    assert_lints(
        tmp_path,
        FINDING + source + FINDING,
        [FINDING_LINE, FINDING_LINE * 2 + 1 + source.count(b"\n") - 1],
    )


# --- Nesting ---


def test_five_thousand_nested_parentheses_is_a_parse_error(tmp_path: Path) -> None:
    content = FINDING + b"x = " + b"(" * 5000 + b"1" + b")" * 5000 + b"\n"
    message = assert_one_parse_error(tmp_path, content, row=4)
    assert "nested" in message


def test_valid_code_nested_190_deep_lints(tmp_path: Path) -> None:
    content = (
        FINDING
        + b"nested = "
        + b"[" * 190
        + b"]" * 190
        + b"\ninputs = layers.Input((2,))\noutputs = "
        + b"layers.Dense(2)(" * 190
        + b"inputs"
        + b")" * 190
        + b"\nlast = layers.Dropout(0.1, trainable=False)\n"
    )
    assert_lints(tmp_path, content, [FINDING_LINE, 7])


def test_long_elif_chain_lints(tmp_path: Path) -> None:
    chain = b"a = 0\nif a == 0:\n    pass\n" + b"".join(
        b"elif a == %d:\n    pass\n" % i for i in range(1, 1500)
    )
    content = FINDING + chain + b"last = layers.Dropout(0.1, trainable=False)\n"
    assert_lints(tmp_path, content, [FINDING_LINE, FINDING_LINE + chain.count(b"\n") + 1])


def test_deeply_nested_ifs_are_one_parse_error(tmp_path: Path) -> None:
    nested = (
        b"".join(b"    " * depth + b"if a:\n" for depth in range(120)) + b"    " * 120 + b"pass\n"
    )
    message = assert_one_parse_error(tmp_path, FINDING + nested, row=FINDING_LINE + 101)
    assert "indentation" in message


# --- Notebooks ---

GOOD_CELL = {
    "cell_type": "code",
    "metadata": {},
    "outputs": [],
    "source": [
        "from tensorflow.keras import layers\n",
        "x = layers.Dropout(0.5, trainable=False)\n",
    ],
}


def notebook(cells: object, **extra: object) -> bytes:
    """The bytes of a notebook with these cells, indented as Jupyter writes it."""
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, **extra}, indent=1).encode()


def row_of(content: bytes, needle: bytes) -> int:
    """The 1-based line of ``content`` on which ``needle`` starts."""
    return content[: content.index(needle)].count(b"\n") + 1


SOURCE_42 = notebook([GOOD_CELL, {"cell_type": "code", "source": 42}])
SOURCE_NUMBERS = notebook([{"cell_type": "code", "source": [1, 2]}])
CELL_7 = notebook([GOOD_CELL, 7])
NOT_UTF8 = notebook([{"cell_type": "code", "source": "x"}]) + b"\n\xe9"
BROKEN_NOTEBOOKS = {
    "invalid_json": (b'{\n "cells": [\n  {"cell_type": "code",\n', 4, "not valid JSON"),
    "empty_file": (b"", 1, "not valid JSON"),
    "missing_cells": (b'{"metadata": {}, "nbformat": 4}', 1, '"cells"'),
    "cells_not_a_list": (notebook({"a": 1}), 1, '"cells"'),
    "top_level_list": (b"[1, 2]", 1, '"cells"'),
    "source_not_a_list": (SOURCE_42, row_of(SOURCE_42, b'"source": 42'), '"source" of cell 2'),
    "source_list_of_numbers": (SOURCE_NUMBERS, row_of(SOURCE_NUMBERS, b'"source"'), "source"),
    "cell_not_an_object": (CELL_7, row_of(CELL_7, b"7\n ]"), "cell 2 is not an object"),
    "not_utf8": (NOT_UTF8, row_of(NOT_UTF8, b"\xe9"), "not UTF-8"),
    "nested_too_deep": (b"[" * 100_000 + b"]" * 100_000, 1, "nested too deeply"),
}


@pytest.mark.parametrize(
    ("content", "row", "says"), BROKEN_NOTEBOOKS.values(), ids=BROKEN_NOTEBOOKS.keys()
)
def test_broken_notebook_is_one_parse_error(
    tmp_path: Path, content: bytes, row: int, says: str
) -> None:
    message = assert_one_parse_error(tmp_path, content, row=row, name="bad.ipynb")
    assert says in message


def test_notebook_cell_with_a_syntax_error_is_reported_in_its_cell(tmp_path: Path) -> None:
    cells = [
        GOOD_CELL,
        {"cell_type": "code", "metadata": {}, "outputs": [], "source": ["def (:\n"]},
    ]
    (tmp_path / "nb.ipynb").write_bytes(notebook(cells))
    code, diagnostics, _ = lint(tmp_path)
    assert code == 1
    assert [(d["code"], d["cell"], d["location"]["row"]) for d in diagnostics] == [("BNL000", 2, 1)]


# --- The file system ---


def test_symlink_loops_and_dangling_links(tmp_path: Path) -> None:
    (tmp_path / "self.py").symlink_to("self.py")
    (tmp_path / "dangling.py").symlink_to("nowhere.py")
    folder = tmp_path / "pkg"
    folder.mkdir()
    (folder / "up").symlink_to("..", target_is_directory=True)
    (folder / "good.py").write_bytes(FINDING)
    code, diagnostics, _ = lint(tmp_path)
    assert code == 1
    found = by_file(diagnostics)
    assert found == {
        "self.py": [("BNL000", 1)],
        "dangling.py": [("BNL000", 1)],
        "good.py": [("BNL003", FINDING_LINE)],
    }
    messages = {Path(d["filename"]).name: d["message"] for d in diagnostics}
    assert messages["self.py"].startswith("cannot read: a symbolic link loop")
    assert messages["dangling.py"] == (
        "cannot read: a dangling symbolic link (its target nowhere.py does not exist)"
    )


def test_unreadable_file(tmp_path: Path) -> None:
    bad = tmp_path / "secret.py"
    bad.write_bytes(FINDING)
    bad.chmod(0)
    try:
        if os.access(bad, os.R_OK):
            pytest.skip("this user can read a file of mode 000 (root)")
        message = assert_one_parse_error(tmp_path, FINDING, row=1, name="secret.py")
    finally:
        bad.chmod(0o644)
    assert "cannot read" in message


def test_a_file_the_system_refuses_to_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As root, mode 000 does not stop reading: the refusal is simulated where the file is read."""
    real_read = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self.name == "secret.py":
            raise PermissionError(13, "Permission denied", str(self))
        return real_read(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    message = assert_one_parse_error(tmp_path, FINDING, row=1, name="secret.py")
    assert message == "cannot read: Permission denied"


def test_a_folder_named_like_a_python_file_is_walked(tmp_path: Path) -> None:
    folder = tmp_path / "x.py"
    folder.mkdir()
    (folder / "inner.py").write_bytes(FINDING)
    code, diagnostics, _ = lint(tmp_path)
    assert (code, by_file(diagnostics)) == (1, {"inner.py": [("BNL003", FINDING_LINE)]})
    code, diagnostics, _ = lint(tmp_path, "x.py")
    assert (code, by_file(diagnostics)) == (1, {"inner.py": [("BNL003", FINDING_LINE)]})


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_named_pipe_is_reported_not_read(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.py")
    (tmp_path / "good.py").write_bytes(FINDING)
    code, diagnostics, _ = lint(tmp_path)
    found = {"pipe.py": [("BNL000", 1)], "good.py": [("BNL003", FINDING_LINE)]}
    assert (code, by_file(diagnostics)) == (1, found)
    message = next(d["message"] for d in diagnostics if d["code"] == "BNL000")
    assert message == "not read: it is a named pipe (FIFO), not a regular file"


# --- All at once, as a separate process: nothing takes the run down ---


def test_a_folder_of_every_bad_input_in_one_process(tmp_path: Path) -> None:
    bad = {
        "nested.py": FINDING + b"x = " + b"(" * 5000 + b")" * 5000 + b"\n",
        "py2.py": FINDING + b'print "hello"\n',
        "nul.py": FINDING + b"\x00\n",
        "latin1.py": FINDING + b"s = '\xe9'\n",
        "tabs.py": FINDING + b"if True:\n\ta = 1\n        b = 2\n",
        "broken.ipynb": b"{",
        "no_cells.ipynb": b"{}",
    }
    for name, content in bad.items():
        (tmp_path / name).write_bytes(content)
    (tmp_path / "loop.py").symlink_to("loop.py")
    (tmp_path / "good.py").write_bytes(FINDING)
    deep = FINDING + b"v = " + b"[" * 190 + b"]" * 190 + b"\n"
    (tmp_path / "deep.py").write_bytes(deep)
    process = subprocess.run(
        [sys.executable, "-m", "bnlint", "check", "--output-format", "json", "--no-cache", "."],
        cwd=tmp_path,
        capture_output=True,
        check=False,
    )
    assert process.returncode == 1, process.stderr
    assert b"Traceback" not in process.stderr
    found = by_file(json.loads(process.stdout))
    for name in [*bad, "loop.py"]:
        assert [code for code, _ in found[name]] == ["BNL000"], (name, found[name])
    assert found["good.py"] == [("BNL003", FINDING_LINE)]
    assert found["deep.py"] == [("BNL003", FINDING_LINE)]


def test_warnings_of_the_linted_code_are_not_printed(tmp_path: Path) -> None:
    (tmp_path / "noisy.py").write_bytes(
        FINDING + b'pattern = "\\d+"\nassert (pattern, "always true")\nok = pattern is "x"\n'
    )
    process = subprocess.run(
        [sys.executable, "-W", "default", "-m", "bnlint", "check", "--no-cache", "noisy.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert process.returncode == 1
    assert "Warning" not in process.stderr, process.stderr
    assert "BNL003" in process.stdout


def test_unicode_line_separators_and_form_feeds_do_not_shift_lines(tmp_path: Path) -> None:
    prefix = "# a \u2028 b \x0c c \x1c d \x85 e\ns = '\u2028\x0b\x1e'\n\x0c\n".encode()
    assert_lints(tmp_path, prefix + FINDING, [FINDING_LINE + 3])


class _Panic(BaseException):
    """What a Rust panic inside LibCST's native parser looks like from Python."""


def test_a_panicking_parser_is_one_diagnostic_and_the_run_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import libcst

    real_parse = libcst.parse_module

    def parse(text: str, *args: object, **kwargs: object) -> libcst.Module:
        if "panic" in text:
            raise _Panic("called `Option::unwrap()` on a `None` value")
        return real_parse(text, *args, **kwargs)

    monkeypatch.setattr(libcst, "parse_module", parse)
    (tmp_path / "bad.py").write_bytes(FINDING + b"# panic\n")
    (tmp_path / "good.py").write_bytes(FINDING)
    code, diagnostics, _ = lint(tmp_path)
    assert code == 1  # a finding on the file LibCST failed on, not a failure of bnlint
    found = by_file(diagnostics)
    assert found == {"bad.py": [("BNL000", 1)], "good.py": [("BNL003", FINDING_LINE)]}
    message = next(d["message"] for d in diagnostics if d["code"] == "BNL000")
    assert message.startswith("cannot parse: LibCST's parser failed on this file (_Panic: called")


@pytest.mark.skipif(sys.platform in ("darwin", "win32"), reason="file names must be UTF-8 there")
@pytest.mark.parametrize(
    "options",
    [("--output-format", "full"), ("--output-format", "sarif"), ("-o", "report.txt")],
    ids=["full", "sarif", "output-file"],
)
def test_file_names_that_are_not_utf8(tmp_path: Path, options: tuple[str, str]) -> None:
    folder = os.fsencode(tmp_path)
    with open(folder + b"/caf\xe9.py", "wb") as stream:
        stream.write(FINDING)
    with open(folder + b"/broken\xff.py", "wb") as stream:
        stream.write(b"x = (\nlayer.trainable\n")
    process = subprocess.run(
        [sys.executable, "-m", "bnlint", "check", "--no-cache", *options, "."],
        cwd=tmp_path,
        capture_output=True,
        check=False,
    )
    assert process.returncode == 1, process.stderr
    assert b"Traceback" not in process.stderr
    report = (tmp_path / "report.txt").read_bytes() if "-o" in options else process.stdout
    assert b"BNL003" in report
    assert b"BNL000" in report
