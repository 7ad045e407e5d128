"""The interpreter's state while one file is analysed: scope, trace, context, and event emission."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import replace
from typing import Optional

import libcst as cst

from bnlint.facts.events import Context, Event, Guard, Trace
from bnlint.facts.imports import ImportTable
from bnlint.facts.objects import Obj, UserFunction, Value
from bnlint.facts.results import Facts
from bnlint.facts.values import Frame

#: How deep calls of same-file functions are followed.
MAX_INLINE_DEPTH = 4
#: Statements interpreted per file before calls stop being followed (keeps huge files linear).
MAX_STEPS = 200_000


class BuilderState:
    """The state shared by every part of the interpreter."""

    def __init__(self, module: cst.Module) -> None:
        self.module = module
        self.facts = Facts(module=module, imports=ImportTable())
        self.imports = self.facts.imports
        self.module_frame = Frame()
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

    @contextlib.contextmanager
    def guarded(self, test: cst.BaseExpression, holds: bool) -> Iterator[None]:
        """Events inside depend on ``test`` being ``holds``."""
        with self.context(guards=(*self.ctx.guards, Guard(test, holds))):
            yield

    @contextlib.contextmanager
    def conditional(self) -> Iterator[None]:
        self.cond += 1
        try:
            yield
        finally:
            self.cond -= 1

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
            kind(node=node, context=self.ctx, conditional=self.cond > 0, **fields)
        )

    def part(self, owner: Obj, key: object, node: cst.CSTNode) -> Obj:
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
        )
        self.parts[memo_key] = created
        return created
