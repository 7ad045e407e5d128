"""Properties over generated and mutated code.

- Programs generated from CPython's grammar (hypothesmith), with a Keras snippet around them, never make
  the engine fail, and fixing them gives code that still parses.
- Generated programs parsed in parts (as large files are) give the tree of a whole parse.
- The findings of a fixture do not depend on formatting: blank lines and comments inserted between its
  lines move them down by as many lines, and redundant parentheses around expressions keep them on the
  same lines.

The default profile keeps the run short; ``HYPOTHESIS_PROFILE=ci`` (or ``CI`` set) derandomizes it and
tries more examples.
"""

from __future__ import annotations

import ast
import os
import re
import warnings
from functools import cache
from pathlib import Path
from unittest import mock

import hypothesmith
import libcst as cst
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bnlint import parse_in_parts
from bnlint.engine import LintOptions, is_internal_error, lint_text
from bnlint.fix_loop import fix_text
from tests.conftest import FIXTURES
from tests.test_large_files import assert_parts_give_the_whole_tree

settings.register_profile(
    "bnlint-default",
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "ci",
    max_examples=100,
    deadline=None,
    database=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "bnlint-default")
)

#: hypothesmith compiles what it generates, and CPython warns about some of it (``"str"()``).
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")

ALL_RULES = LintOptions()

#: Keras code with findings and fixes of several rules, so that generated code meets real analysis.
KERAS_HEAD = """\
import tensorflow as tf
from tensorflow.keras import layers

base = tf.keras.applications.MobileNetV2(include_top=False)
base.trainable = False
inputs = tf.keras.Input((224, 224, 3))
features = base(inputs)
drop = layers.Dropout(0.5, trainable=False)
model = tf.keras.Model(inputs, layers.Dense(2)(drop(features)))
model.compile(optimizer="adam", loss="mse")
"""
KERAS_TAIL = """
base.trainable = True
model.fit(inputs, inputs)
"""


def parses(text: str) -> bool:
    """Whether both CPython and LibCST parse ``text``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text)
        cst.parse_module(text)
    except (SyntaxError, ValueError, cst.ParserSyntaxError, RecursionError):
        return False
    return True


def program(generated: str) -> str:
    """A generated program between the Keras head and tail (a ``__future__`` import stays first)."""
    return KERAS_HEAD + "\n" + generated.rstrip("\\") + "\n" + KERAS_TAIL


@given(hypothesmith.from_grammar())
def test_generated_programs_never_break_the_engine_and_fixes_still_parse(generated: str) -> None:
    text = program(generated)
    result = fix_text(text, "generated.py", ALL_RULES, unsafe=True)
    assert not [d for d in result.remaining if is_internal_error(d)], result.remaining
    if parses(text):
        assert not [d for d in result.remaining if d.code == "BNL000"], result.remaining
        assert parses(result.text), result.text


@given(st.lists(hypothesmith.from_grammar(), min_size=2, max_size=4))
def test_generated_programs_parsed_in_parts_are_the_programs_parsed_whole(
    generated: list[str],
) -> None:
    text = "".join(
        f"def part_{n}():\n    pass\n{code.rstrip(chr(92))}\n" for n, code in enumerate(generated)
    )
    with (
        mock.patch.object(parse_in_parts, "WHOLE_BYTES", 0),
        mock.patch.object(parse_in_parts, "PART_BYTES", 1),
    ):
        assert_parts_give_the_whole_tree(text)


# --- Mutated fixtures ---

#: Fixtures whose findings the mutations are checked against.
BAD_FIXTURES = sorted(FIXTURES.glob("*/bad_*.py"))
SKIPPED_LINE = re.compile(r"\\\s*$")


_FIXTURE_VERSION = re.compile(r"#\s*bnlint-fixture:\s*keras-version=(\d)")


@cache
def findings(text: str) -> list[tuple[str, int, int, int, int]]:
    """(code, start row, start column, end row, end column) of every diagnostic of ``text`` (linted
    with the Keras version its fixture option names), in order."""
    option = _FIXTURE_VERSION.search(text)
    options = LintOptions(keras_version=option.group(1) if option else "both")
    return sorted(
        (d.code, d.start.row, d.start.column, d.end.row, d.end.column)
        for d in lint_text(text, "fixture.py", options)
    )


def insertable_rows(text: str) -> list[int]:
    """0-based line indices before which a blank or comment line keeps the code's meaning: not
    inside a string, not after a backslash continuation."""
    lines = text.splitlines(keepends=True)
    inside_string: set[int] = set()
    for node in ast.walk(ast.parse(text)):
        is_string = isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes))
        if is_string or isinstance(node, ast.JoinedStr):
            inside_string.update(range(node.lineno, node.end_lineno or node.lineno))
    return [
        index
        for index in range(len(lines) + 1)
        if index not in inside_string and not (index > 0 and SKIPPED_LINE.search(lines[index - 1]))
    ]


@st.composite
def inserted_lines(draw: st.DrawFn) -> tuple[Path, str, list[int]]:
    """A fixture, a mutated copy with blank and comment lines inserted, and for each original line
    how many lines were inserted before it."""
    fixture = draw(st.sampled_from(BAD_FIXTURES))
    text = fixture.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    rows = insertable_rows(text)
    chosen = draw(st.lists(st.sampled_from(rows), min_size=1, max_size=8))
    extra = st.sampled_from(["\n", "# An inserted comment.\n", "    # An indented comment.\n"])
    inserted: dict[int, list[str]] = {}
    for row in chosen:
        inserted.setdefault(row, []).append(draw(extra))
    mutated: list[str] = []
    shift: list[int] = []
    total = 0
    for index in range(len(lines) + 1):
        total += len(inserted.get(index, []))
        mutated.extend(inserted.get(index, []))
        shift.append(total)
        if index < len(lines):
            mutated.append(lines[index])
    return fixture, "".join(mutated), shift


@given(inserted_lines())
def test_blank_and_comment_lines_move_findings_down(case: tuple[Path, str, list[int]]) -> None:
    fixture, mutated, shift = case
    original = findings(fixture.read_text(encoding="utf-8"))
    expected = sorted(
        (code, start + shift[start - 1], start_column, end + shift[end - 1], end_column)
        for code, start, start_column, end, end_column in original
    )
    assert findings(mutated) == expected


class _Parenthesize(cst.CSTTransformer):
    """Wraps chosen expressions (assigned values, call arguments) in redundant parentheses."""

    def __init__(self, choices: list[bool]) -> None:
        self.choices = choices
        self.index = 0

    def _choose(self) -> bool:
        self.index += 1
        return self.choices[(self.index - 1) % len(self.choices)]

    def _wrap(self, node: cst.BaseExpression) -> cst.BaseExpression:
        return node.with_changes(
            lpar=[cst.LeftParen(), *node.lpar], rpar=[*node.rpar, cst.RightParen()]
        )

    def leave_Assign(self, original: cst.Assign, updated: cst.Assign) -> cst.Assign:
        return updated.with_changes(value=self._wrap(updated.value)) if self._choose() else updated

    def leave_Arg(self, original: cst.Arg, updated: cst.Arg) -> cst.Arg:
        if updated.star or not self._choose():
            return updated
        return updated.with_changes(value=self._wrap(updated.value))


@given(st.sampled_from(BAD_FIXTURES), st.lists(st.booleans(), min_size=1, max_size=12))
def test_redundant_parentheses_keep_findings(fixture: Path, choices: list[bool]) -> None:
    text = fixture.read_text(encoding="utf-8")
    mutated = cst.parse_module(text).visit(_Parenthesize(choices)).code
    assert [finding[:2] for finding in findings(mutated)] == [
        finding[:2] for finding in findings(text)
    ]
