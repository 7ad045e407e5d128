"""Whether the ``if`` tests around an event let a layer of a given family through.

A loop that unfreezes layers often skips BatchNormalization with ``if not isinstance(layer, BN)``,
``if isinstance(layer, BN): continue`` or an ``else`` branch. These helpers evaluate the recorded
guards (``Context.guards``) of an event under the assumption that the layer in question is, or is not,
a member of a layer family; what cannot be evaluated stays unknown. ``isinstance`` with a class that does
not resolve to Keras (a custom layer class, a tuple in a variable) counts as "may filter the family".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import libcst as cst

from bnlint import keras_api
from bnlint.facts.events import Event
from bnlint.facts.imports import ImportTable

#: The base class every layer is an instance of.
_LAYER_BASES = frozenset({"Layer"})


@dataclass
class _Evaluation:
    """The value of a test (None: unknown) and whether an unresolved ``isinstance`` was met."""

    value: Optional[bool]
    unresolved_class: bool = False


class GuardReader:
    """Evaluates ``isinstance`` guards on one subject (``layer`` in ``layer.trainable = True``)."""

    def __init__(self, module: cst.Module, imports: ImportTable, family: frozenset[str]) -> None:
        self.module = module
        self.imports = imports
        self.family = family

    def _code(self, node: cst.CSTNode) -> str:
        """The node's code on one line, without redundant parentheses (``(layer)`` is ``layer``)."""
        if isinstance(node, cst.BaseExpression) and (node.lpar or node.rpar):
            node = node.with_changes(lpar=[], rpar=[])
        return " ".join(self.module.code_for_node(node).split())

    def reaches(self, event: Event, subject: cst.BaseExpression, member: bool) -> Optional[bool]:
        """Whether a subject that is (``member``) or is not a family layer passes the event's guards.

        False: some guard certainly stops it. None: an ``isinstance`` on the subject could not be
        resolved, so bnlint cannot tell. True: nothing known stops it (name filters are ignored).
        """
        subject_code = self._code(subject)
        unresolved = False
        for guard in event.context.guards:
            result = self._evaluate(guard.test, subject_code, member)
            if result.value is not None and result.value != guard.holds:
                return False
            unresolved = unresolved or result.unresolved_class
        return None if unresolved else True

    def only_family(self, event: Event, subject: cst.BaseExpression) -> bool:
        """Whether the event's guards certainly let only family layers through."""
        return self.reaches(event, subject, member=False) is False

    def _evaluate(self, test: cst.BaseExpression, subject: str, member: bool) -> _Evaluation:
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            inner = self._evaluate(test.expression, subject, member)
            value = None if inner.value is None else not inner.value
            return _Evaluation(value, inner.unresolved_class)
        if isinstance(test, cst.BooleanOperation):
            left = self._evaluate(test.left, subject, member)
            right = self._evaluate(test.right, subject, member)
            unresolved = left.unresolved_class or right.unresolved_class
            if isinstance(test.operator, cst.And):
                if left.value is False or right.value is False:
                    return _Evaluation(False, unresolved)
                both = left.value is True and right.value is True
                return _Evaluation(True if both else None, unresolved)
            if left.value is True or right.value is True:
                return _Evaluation(True, unresolved)
            neither = left.value is False and right.value is False
            return _Evaluation(False if neither else None, unresolved)
        if isinstance(test, cst.Call):
            return self._isinstance(test, subject, member)
        return _Evaluation(None, self._class_name_test(test, subject))

    def _isinstance(self, call: cst.Call, subject: str, member: bool) -> _Evaluation:
        if (
            not isinstance(call.func, cst.Name)
            or call.func.value != "isinstance"
            or len(call.args) != 2
            or any(arg.keyword is not None or arg.star for arg in call.args)
            or self._code(call.args[0].value) != subject
        ):
            return _Evaluation(None)
        classes = call.args[1].value
        elements = (
            [element.value for element in classes.elements]
            if isinstance(classes, (cst.Tuple, cst.List))
            else [classes]
        )
        names = [keras_api.layer_class(self.imports.canonical(element)) for element in elements]
        if any(name is None for name in names):
            return _Evaluation(None, unresolved_class=True)
        in_family = [name in self.family for name in names]
        if member:
            matched = any(in_family) or any(name in _LAYER_BASES for name in names)
            return _Evaluation(matched)
        return _Evaluation(False if all(in_family) else None)

    def _class_name_test(self, test: cst.BaseExpression, subject: str) -> bool:
        """``type(layer).__name__ == "BatchNormalization"`` and the like: a class test by name."""
        code = self._code(test)
        return (
            subject in code
            and ("__class__" in code or "type(" in code)
            and (
                any(name.lower() in code.lower() for name in self.family)
                or "batchnorm" in code.lower()
            )
        )
