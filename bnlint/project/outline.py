"""A module's top-level outline, read from its text: which chunk defines which name.

A summary is asked for by name (``from models import Net``), and most modules define far more than
their importers use. The text is cut before every top-level ``def`` / ``class`` / decorator line (as
``parse_in_parts`` cuts large files), so that the summary of ``Net`` parses only the module's
top-level code (its imports, constants and statements) with the definition of ``Net`` and of the
module's other definitions that ``Net`` refers to, rather than the whole module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from bnlint.code_text import PART_START, can_cut_before

_DEFINED = re.compile(r"^(?:async[ \t]+)?(?:def|class)[ \t]+(\w+)", re.MULTILINE)
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
#: How many of the module's other definitions one name may pull in.
MAX_REFERENCED = 40
#: Words without which code neither builds, trains nor changes a Keras model or layer (nor uses a
#: project class or function that could: ``from``/``import``).
RELEVANT = re.compile(
    r"keras|layers|Layer|Model|Sequential|applications|trainable|compile|fit|load_weights"
    r"|BatchNorm|Dropout|Noise|import"
)
#: A top-level import statement (possibly over several lines in parentheses).
_IMPORT_STATEMENT = re.compile(
    r"^(?:from[ \t]+[\w.]+[ \t]+import[ \t]*\([^)]*\)|(?:from|import)[ \t][^\n]*)[^\n]*\n?",
    re.MULTILINE,
)


def _imports_in(code: str) -> list[str]:
    """The top-level import statements of a piece of top-level code, each with its newline."""
    found = [match.group() for match in _IMPORT_STATEMENT.finditer(code)]
    return [text if text.endswith("\n") else text + "\n" for text in found]


@dataclass(frozen=True)
class Chunk:
    """A piece of the module's text: a top-level definition (``name``) or other top-level code."""

    start: int
    end: int
    name: Optional[str]


class Outline:
    """The chunks of one module's text."""

    def __init__(self, text: str) -> None:
        self.text = text
        cuts = [0]
        for match in PART_START.finditer(text):
            start = match.start()
            if start > cuts[-1] and can_cut_before(text, start):
                cuts.append(start)
        cuts.append(len(text))
        self.chunks: list[Chunk] = []
        for start, end in zip(cuts, cuts[1:]):
            defined = _DEFINED.search(text, start, end) if PART_START.match(text, start) else None
            self.chunks.append(Chunk(start, end, defined.group(1) if defined else None))
        self.definitions = {chunk.name: chunk for chunk in self.chunks if chunk.name is not None}

    def text_for(self, name: str) -> Optional[str]:
        """The module's imports with the definition of ``name`` and the definitions it refers to
        (all of the module's code when ``name`` is not a definition: a module-level object, or a
        name the module imports, may depend on anything); None when that code cannot build,
        train or change a Keras object (no word of ``RELEVANT`` in it)."""
        if name not in self.definitions:
            if _literal_constant(self.text, name) or not RELEVANT.search(self.text):
                return None
            return self.text
        wanted = {name}
        queue = [self.definitions[name]]
        while queue and len(wanted) < MAX_REFERENCED:
            chunk = queue.pop()
            for word in set(_IDENTIFIER.findall(self.text, chunk.start, chunk.end)):
                if word in self.definitions and word not in wanted:
                    wanted.add(word)
                    queue.append(self.definitions[word])
        definitions = [self.text[c.start : c.end] for c in self.chunks if c.name in wanted]
        if not any(RELEVANT.search(text) for text in definitions):
            return None
        imports = [
            statement
            for chunk in self.chunks
            if chunk.name is None
            for statement in _imports_in(self.text[chunk.start : chunk.end])
        ]
        return "".join([*imports, *definitions])


#: A string, number, True, False or None at the start of an assigned value.
_SCALAR = re.compile(r"[ \t]*(?:[rRbBuUfF]{0,2}[\"']|[-+]?\.?\d|(?:True|False|None)\b)")


def _literal_constant(text: str, name: str) -> bool:
    """Whether ``name`` is a module constant that holds a string, number, True, False or None:
    assigned once, at the top level, to one such literal on one line, and bound in no other way (``import``,
    ``as``, ``for``, ``global``, a keyword argument of the same name all count as other ways)."""
    word = re.escape(name)
    assignments = list(re.finditer(rf"(?<![\w.]){word}[ \t]*(?::[^=\n]+)?=(?!=)", text))
    if len(assignments) != 1:
        return False
    only = assignments[0]
    if only.start() > 0 and text[only.start() - 1] != "\n":
        return False
    if re.search(rf"\b(?:import|as|for|global|nonlocal|del)\b[^\n]*\b{word}\b", text):
        return False
    line_end = text.find("\n", only.end())
    value = text[only.end() : line_end if line_end >= 0 else len(text)]
    if "(" in value or " if " in value or value.rstrip().endswith("\\"):
        return False  # more than one literal: a call, a conditional, a continued line
    return _SCALAR.match(value) is not None
