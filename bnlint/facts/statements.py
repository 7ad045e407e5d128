"""Statements: blocks, branches, loops, ``with``, assignments and the ``trainable`` events they make."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Optional

import libcst as cst

from bnlint.facts.events import TrainableEvent
from bnlint.facts.imports import dotted_name
from bnlint.facts.objects import Const, Enumerated, IndexRange, Layers, ListValue, Obj, Value
from bnlint.facts.results import AttributeAssignment
from bnlint.facts.state import BuilderState
from bnlint.facts.values import flag_value, truth


class StatementInterpreter(BuilderState):
    """Interprets statements in execution order."""

    def block(self, body: object) -> None:
        if isinstance(body, (cst.IndentedBlock, cst.Module)):
            statements: Sequence[cst.CSTNode] = body.body
        elif isinstance(body, cst.SimpleStatementSuite):
            statements = [body]
        else:
            statements = body  # type: ignore[assignment]
        with contextlib.ExitStack() as skipped:
            for statement in statements:
                self.statement(statement)
                if _is_continue_guard(statement):
                    skipped.enter_context(self.guarded(statement.test, holds=False))  # type: ignore[attr-defined]

    def statement(self, node: cst.CSTNode) -> None:
        self.steps += 1
        previous_statement, self.current_statement = self.current_statement, node
        if isinstance(node, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            for small in node.body:
                self.small_statement(small, node)
        elif isinstance(node, cst.If):
            known = truth(self.expr(node.test))
            if known is True:
                self.block(node.body)
            elif known is False:
                if isinstance(node.orelse, cst.If):
                    self.statement(node.orelse)
                elif isinstance(node.orelse, cst.Else):
                    self.block(node.orelse.body)
            else:
                self._both_arms(node)
        elif isinstance(node, cst.For):
            iterable = self.expr(node.iter)
            with self.conditional(), self.context(loop=node, loop_iter=iterable):
                self.bind_loop_target(node.target, iterable, node)
                self.block(node.body)
            if node.orelse is not None:
                with self.conditional():
                    self.block(node.orelse.body)
        elif isinstance(node, cst.While):
            self.expr(node.test)
            with self.conditional():
                self.block(node.body)
                if node.orelse is not None:
                    self.block(node.orelse.body)
        elif isinstance(node, cst.With):
            tape: Optional[Obj] = None
            tapes = self.ctx.tapes
            for item in node.items:
                value = self.expr(item.item)
                if isinstance(value, Obj) and value.kind == "tape":
                    tape = value
                    tapes = (*tapes, value)
                if item.asname is not None:
                    self.assign(item.asname.name, value, node)
            if tape is not None:
                with self.context(tape=tape, tapes=tapes):
                    self.block(node.body)
            else:
                self.block(node.body)
        elif isinstance(node, (cst.Try, cst.TryStar)):
            self.block(node.body)
            with self.conditional():
                for handler in node.handlers:
                    if handler.type is not None:
                        self.expr(handler.type)
                    self.block(handler.body)
                if node.orelse is not None:
                    self.block(node.orelse.body)
            if node.finalbody is not None:
                self.block(node.finalbody.body)
        elif isinstance(node, cst.FunctionDef):
            self.define_function(node)
        elif isinstance(node, cst.ClassDef):
            self.define_class(node)
        elif isinstance(node, cst.Match):
            self.expr(node.subject)
            with self.conditional():
                for case in node.cases:
                    self.block(case.body)
        else:
            self.generic(node)
        self.current_statement = previous_statement

    def _both_arms(self, node: cst.If) -> None:
        """An ``if`` whose test is unknown: each arm may run, guarded by the test."""
        with self.conditional():
            with self.guarded(node.test, holds=True):
                self.block(node.body)
            with self.guarded(node.test, holds=False):
                if isinstance(node.orelse, cst.If):
                    self.statement(node.orelse)
                elif isinstance(node.orelse, cst.Else):
                    self.block(node.orelse.body)

    def small_statement(self, node: cst.BaseSmallStatement, line: cst.CSTNode) -> None:
        if isinstance(node, cst.Assign):
            value = self.expr(node.value)
            for target in node.targets:
                self.assign(target.target, value, node, node.value)
        elif isinstance(node, cst.AnnAssign):
            if node.value is not None:
                self.assign(node.target, self.expr(node.value), node, node.value)
        elif isinstance(node, cst.AugAssign):
            self.expr(node.value)
            if not isinstance(node.target, cst.Name):
                self.generic(node.target)
        elif isinstance(node, cst.Expr):
            self.expr(node.value)
        elif isinstance(node, cst.Return):
            value = self.expr(node.value) if node.value is not None else Const(None)
            if self.returns:
                self.returns[-1].append(value)
        elif isinstance(node, (cst.Import, cst.ImportFrom)):
            self.imports.add(node)
            self.record_project_import(node)
            self._unshadow_imports(node)
        else:
            self.generic(node)

    def _unshadow_imports(self, node: cst.Import | cst.ImportFrom) -> None:
        """An import rebinds its names: forget any variable of the same name in this frame."""
        names = node.names if not isinstance(node.names, cst.ImportStar) else ()
        for alias in names:
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
            else:
                local = (dotted_name(alias.name) or "").split(".")[0]
            self.frame.vars.pop(local, None)

    def assign(
        self,
        target: cst.BaseExpression,
        value: Value,
        statement: cst.CSTNode,
        value_node: Optional[cst.BaseExpression] = None,
    ) -> None:
        if isinstance(target, cst.Name):
            self.frame.vars[target.value] = value
            if self.frame is self.module_frame:
                self.imports.forget(target.value)
        elif isinstance(target, cst.Attribute):
            owner = self.expr(target.value)
            attr = target.attr.value
            if attr in ("trainable", "training") and value_node is not None:
                self._attribute_assignment(attr, owner, statement, target, value_node, value)
            elif isinstance(owner, Obj):
                owner.attrs[attr] = value
        elif isinstance(target, (cst.Tuple, cst.List)):
            items = value.items if isinstance(value, ListValue) else ()
            for index, element in enumerate(target.elements):
                item = items[index] if len(items) == len(target.elements) else None
                inner = element.value
                if isinstance(element, cst.StarredElement):
                    item = None
                self.assign(inner, item, statement)
        elif isinstance(target, cst.StarredElement):
            self.assign(target.value, None, statement)
        else:
            self.generic(target)

    def _attribute_assignment(
        self,
        attr: str,
        owner: Value,
        statement: cst.CSTNode,
        target: cst.Attribute,
        value_node: cst.BaseExpression,
        value: Value,
    ) -> None:
        record = AttributeAssignment(attr, owner, statement, target, value_node, self.ctx)
        index = self.seen_attr_sets.get(id(statement))
        if index is None:
            self.seen_attr_sets[id(statement)] = len(self.facts.attribute_assignments)
            self.facts.attribute_assignments.append(record)
        elif isinstance(owner, Obj) and not isinstance(
            self.facts.attribute_assignments[index].target, Obj
        ):
            # A function analysed on its own first, then inlined where its argument is known.
            self.facts.attribute_assignments[index] = record
        if attr == "trainable" and isinstance(owner, Obj):
            self.emit(
                TrainableEvent,
                statement,
                target=owner,
                value=flag_value(value),
                value_node=value_node,
                target_node=target,
            )

    def bind_loop_target(
        self, target: cst.BaseExpression, iterable: Value, loop: cst.CSTNode
    ) -> None:
        if (
            isinstance(iterable, Enumerated)
            and isinstance(target, cst.Tuple)
            and len(target.elements) == 2
        ):
            self.assign(target.elements[0].value, None, loop)
            self.assign(target.elements[1].value, self.element_of(iterable.inner, loop), loop)
            return
        self.assign(target, self.element_of(iterable, loop), loop)

    def element_of(self, iterable: Value, loop: cst.CSTNode) -> Value:
        if isinstance(iterable, Layers):
            return self.part(iterable.owner, ("loop", id(loop)), loop, iterable.span)
        if isinstance(iterable, IndexRange):
            return iterable
        if isinstance(iterable, ListValue) and iterable.items:
            first = iterable.items[0]
            if all(item is first for item in iterable.items):
                return first
        return None


def _is_continue_guard(statement: cst.CSTNode) -> bool:
    """``if test: continue`` with no ``else``: what follows in the loop body runs only when not ``test``."""
    if not isinstance(statement, cst.If) or statement.orelse is not None:
        return False
    body = statement.body
    lines = body.body if isinstance(body, cst.IndentedBlock) else [body]
    if len(lines) != 1 or not isinstance(
        lines[0], (cst.SimpleStatementLine, cst.SimpleStatementSuite)
    ):
        return False
    small = lines[0].body
    return len(small) == 1 and isinstance(small[0], cst.Continue)
