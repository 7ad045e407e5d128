"""The interpreter's state while one file is analysed: scope, trace, context, and event emission."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Optional

import libcst as cst

from bnlint.code_text import code_only
from bnlint.facts.events import Context, Event, Guard, Trace
from bnlint.facts.imports import ImportTable
from bnlint.facts.objects import Obj, Span, UserFunction, Value
from bnlint.facts.results import Facts
from bnlint.facts.summaries import SummaryProvider
from bnlint.facts.values import Frame, VersionedVars

#: How deep calls of same-file functions are followed.
MAX_INLINE_DEPTH = 4
#: Statements interpreted per file before calls stop being followed (keeps huge files linear).
MAX_STEPS = 200_000


_WORD_CHARACTER = re.compile(r"\w")
_CALLED = re.compile(r"\s*\(")
_DEF_BEFORE = re.compile(r"(?<![\w.])def\s+$")


def _count_name(code: str, name: str) -> tuple[int, int, int]:
    """(mentions, calls, definitions) of ``name`` in the code: ``f`` and ``obj.f`` both mention
    ``f``; ``f(`` and ``obj.f(`` call it; ``def f(`` defines it. Found from the name's few
    occurrences as text, not by reading every word of the file."""
    mentions = calls = definitions = 0
    size = len(name)
    start = code.find(name)
    while start >= 0:
        end = start + size
        before = code[start - 1] if start else " "
        if not _WORD_CHARACTER.match(before) and not _WORD_CHARACTER.match(code, end):
            mentions += 1
            if _CALLED.match(code, end):
                calls += 1
                if before != "." and _DEF_BEFORE.search(code, max(0, start - 64), start):
                    definitions += 1
        start = code.find(name, start + 1)
    return mentions, calls, definitions


class BuilderState:
    """The state shared by every part of the interpreter."""

    def __init__(
        self,
        module: cst.Module,
        code: Optional[str] = None,
        provider: Optional[SummaryProvider] = None,
    ) -> None:
        self.module = module
        #: The summaries of the project modules this file imports (None: the file alone).
        self.provider = provider
        #: Local name -> (module, level, name or None for a module) of every import statement.
        self.project_names: dict[str, tuple[str, int, Optional[str]]] = {}
        #: (module, level) of every ``from module import *``, in order.
        self.star_imports: list[tuple[str, int]] = []
        self.project_memo: dict[tuple, Value] = {}
        #: Analyse a class's ``__init__`` only when an instance or its summary is needed (summaries).
        self.lazy_classes = False
        #: ``from module import name`` at the top level, for this module's own summary.
        self.module_imports: dict[str, tuple[str, int, str]] = {}
        #: The module's code without comments and docstrings (``code_text.code_only``), made on use.
        self._code = code
        self._name_counts: dict[str, tuple[int, int, int]] = {}
        self.facts = Facts(module=module, imports=ImportTable())
        self.imports = self.facts.imports
        self.module_frame = Frame()
        self.module_frame.vars = VersionedVars()
        self.frame = self.module_frame
        self.trace = Trace("<module>")
        self.ctx = Context()
        self.cond = 0
        self.stack: list[cst.FunctionDef] = []
        self.returns: list[list[Value]] = []
        self.steps = 0
        self.parts: dict[tuple[int, object], Obj] = {}
        self.seen_calls: set[int] = set()
        self.seen_attr_sets: dict[int, int] = {}
        self.pending: list[tuple[UserFunction, Optional[Obj]]] = []
        self.queued: set[int] = set()
        self.init_traces: dict[int, Trace] = {}
        self.current_statement: Optional[cst.CSTNode] = None
        self.init_bindings: dict[tuple[int, str], Value] = {}
        #: The calls of same-file functions being followed, outermost first.
        self.inline_calls: list[cst.Call] = []
        #: The object whose method is being interpreted (layers it calls are part of it).
        self.current_self: Optional[Obj] = None
        #: Per function definition: its calls met so far, and what each bound its parameters to.
        self.call_sites: dict[int, dict[int, dict[str, Value]]] = {}

    def call_count(self, name: str) -> int:
        """How many calls of a function or method ``name`` the file's code makes, or -1 when the
        name also appears otherwise (passed as a value, in a string), so its calls cannot all be
        known."""
        counted = self._name_counts.get(name)
        if counted is None:
            if self._code is None:
                self._code = code_only(self.module.code)
            counted = self._name_counts[name] = _count_name(self._code, name)
        mentions, calls, definitions = counted
        if mentions != calls:
            return -1
        return calls - definitions

    @contextlib.contextmanager
    def guarded(self, test: cst.BaseExpression, holds: bool) -> Iterator[None]:
        """Events inside depend on ``test`` being ``holds``."""
        call = self.inline_calls[-1] if self.inline_calls else None
        with self.context(guards=(*self.ctx.guards, Guard(test, holds, call))):
            yield

    @contextlib.contextmanager
    def conditional(self) -> Iterator[None]:
        self.cond += 1
        try:
            yield
        finally:
            self.cond -= 1

    @contextlib.contextmanager
    def swapped(self, **values: object) -> Iterator[None]:
        """Set the builder's attributes ``values`` for the duration (the old ones come back after,
        even when the body raises)."""
        saved = {name: getattr(self, name) for name in values}
        for name, value in values.items():
            setattr(self, name, value)
        try:
            yield
        finally:
            for name, value in saved.items():
                setattr(self, name, value)

    @contextlib.contextmanager
    def context(self, **changes: object) -> Iterator[None]:
        saved = self.ctx
        self.ctx = replace(self.ctx, **changes)  # type: ignore[arg-type]
        try:
            yield
        finally:
            self.ctx = saved

    def emit(self, kind: type[Event], node: cst.CSTNode, **fields: object) -> None:
        self.trace.events.append(
            kind(
                node=node,
                context=self.ctx,
                conditional=self.cond > 0,
                calls=tuple(self.inline_calls),
                **fields,
            )
        )

    def part(self, owner: Obj, key: object, node: cst.CSTNode, span: Optional[Span] = None) -> Obj:
        """The layer or layers taken out of ``owner`` at ``node`` (one object per ``key``)."""
        memo_key = (id(owner), key)
        existing = self.parts.get(memo_key)
        if existing is not None:
            return existing
        created = Obj(
            kind="part",
            node=node,
            parent=owner,
            origin="part",
            pretrained=owner.pretrained,
            label=owner.label,
            span=span,
        )
        self.parts[memo_key] = created
        return created
