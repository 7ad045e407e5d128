"""Large files are parsed in parts (to bound LibCST's memory), and nothing a user sees changes:
findings keep their lines and columns in every part, fixes rewrite only what they fix, syntax errors
are reported where they are, whatever the newline or indentation style."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import libcst as cst
import pytest

from bnlint import parse_in_parts
from tests.conftest import FIXTURES, REPO, run_cli

HEAD = "from tensorflow import keras\n\n"
#: One top-level definition with a BNL003 finding (Dropout has no weights) on its second line.
BLOCK = (
    "\n\n# A block of the large file.\n"
    "def build_{n}(units):\n"
    "{i}drop = keras.layers.Dropout(0.5, trainable=False)\n"
    "{i}if units:\n"
    "{i}{i}return [drop, keras.layers.Dense(units)]  # {n}\n"
    "{i}return drop\n"
)


def large_source(indent: str = "    ", blocks: int = 1000) -> str:
    """A module far larger than ``WHOLE_BYTES``, with a finding in every block, that is parsed in
    parts (not whole, as when the parts disagree)."""
    text = HEAD + "".join(BLOCK.format(n=n, i=indent) for n in range(blocks))
    parts = parse_in_parts.split_at_top_level(text)
    assert len(parts) > 2
    assert parse_in_parts.join_modules(parts, [cst.parse_module(part) for part in parts])
    return text


def finding_rows(text: str) -> list[int]:
    """The 1-based lines of the Dropout calls."""
    return [row for row, line in enumerate(text.split("\n"), 1) if "Dropout(" in line]


@pytest.mark.parametrize(
    ("newline", "indent"),
    [("\n", "    "), ("\r\n", "    "), ("\n", "  "), ("\n", "\t")],
    ids=["lf", "crlf", "two-spaces", "tabs"],
)
def test_findings_and_fixes_in_every_part_of_a_large_file(
    tmp_path: Path, newline: str, indent: str
) -> None:
    text = large_source(indent)
    path = tmp_path / "large.py"
    path.write_bytes(text.replace("\n", newline).encode())

    result = run_cli("check", "--no-cache", "--output-format", "json", str(path))
    assert result.exit_code == 1, result.output
    found = json.loads(result.stdout)
    column = text.split("\n")[finding_rows(text)[0] - 1].index("trainable") + 1
    assert [(d["code"], d["location"]["row"]) for d in found] == [
        ("BNL003", row) for row in finding_rows(text)
    ]
    assert {d["location"]["column"] for d in found} == {column}

    result = run_cli("check", "--no-cache", "--fix", str(path))
    assert result.exit_code == 0, result.output
    expected = text.replace("Dropout(0.5, trainable=False)", "Dropout(0.5)")
    assert path.read_bytes() == expected.replace("\n", newline).encode()


def test_a_syntax_error_in_a_later_part_is_reported_where_it_is(tmp_path: Path) -> None:
    text = large_source()
    rows = text.split("\n")
    broken_row = finding_rows(text)[-5]
    rows[broken_row - 1] = rows[broken_row - 1].replace("Dropout(", "Dropout((")
    path = tmp_path / "large.py"
    path.write_text("\n".join(rows), encoding="utf-8")

    found = json.loads(run_cli("check", "--no-cache", "--output-format", "json", str(path)).stdout)
    assert [(d["code"], d["location"]["row"]) for d in found] == [("BNL000", broken_row)]


REAL_CODE = sorted(
    [*FIXTURES.rglob("*.py"), *(REPO / "bnlint").rglob("*.py"), *(REPO / "tests").rglob("*.py")]
)


@pytest.mark.parametrize("path", REAL_CODE, ids=lambda path: str(path.relative_to(REPO)))
def test_a_module_parsed_in_small_parts_is_the_module_parsed_whole(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parse_in_parts, "WHOLE_BYTES", 0)
    monkeypatch.setattr(parse_in_parts, "PART_BYTES", 1)
    assert_parts_give_the_whole_tree(path.read_text(encoding="utf-8"))


def assert_parts_give_the_whole_tree(text: str) -> None:
    """Parsing ``text`` in parts (with the thresholds in force) gives the tree of a whole parse, or
    the same syntax error."""
    try:
        whole = cst.parse_module(text)
    except cst.ParserSyntaxError:
        with pytest.raises(cst.ParserSyntaxError):
            parse_in_parts.parse_module(text)
        return
    in_parts = parse_in_parts.parse_module(text)
    # Not always ``text``: LibCST drops some trailing blank lines, in either parse.
    assert in_parts.code == whole.code
    assert in_parts.deep_equals(whole)


@pytest.mark.parametrize("text", ["x = 1\n", "def (:\n"], ids=["parsed", "syntax error"])
def test_nodes_made_after_a_parse_are_validated_again(text: str) -> None:
    """bnlint's parses skip LibCST's node checks (the parser's nodes need none); the nodes a fix
    builds afterwards are checked as usual, whether the parse succeeded or not."""
    with contextlib.suppress(cst.ParserSyntaxError):
        parse_in_parts.parse_module(text)
    with pytest.raises(cst.CSTValidationError):
        cst.Name("not a name")
