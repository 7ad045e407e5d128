"""Expressions: names, attributes, subscripts, literals and comprehensions, evaluated to values."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, Optional

import libcst as cst

from bnlint.facts.nodes import EXPRESSION_TYPES, STATEMENT_TYPES, code_children
from bnlint.facts.objects import (
    Const,
    IndexRange,
    KerasName,
    LayerCount,
    Layers,
    ListValue,
    Obj,
    OptimizerOf,
    ProjectModule,
    Span,
    Tensor,
    Value,
)
from bnlint.facts.state import BuilderState
from bnlint.facts.values import NAME_CONSTANTS, Frame, literal, merge_tensors, truth


class ExpressionInterpreter(BuilderState):
    """Evaluates expressions to values (unknown is ``None``)."""

    #: Expression type -> the (unbound) method that evaluates it, resolved once per subclass.
    _handlers: ClassVar[dict[type, Callable[..., Value]]] = {}

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        cls._handlers = {
            node_type: getattr(cls, name) for node_type, name in _EXPRESSION_HANDLERS.items()
        }

    def expr(self, node: cst.BaseExpression) -> Value:
        handler = self._handlers.get(type(node))
        if handler is not None:
            return handler(self, node)
        return self.generic(node)

    def literal_expr(self, node: cst.BaseExpression) -> Value:
        constant = literal(node)
        if constant is not None:
            return constant
        if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Not):
            known = truth(self.expr(node.expression))
            return Const(not known) if known is not None else None
        return self.generic(node)

    def sequence(self, node: cst.List | cst.Tuple) -> Value:
        items = tuple(self.expr(element.value) for element in node.elements)
        return ListValue(items, tuple(node.elements))

    def lambda_expr(self, node: cst.Lambda) -> Value:
        return None

    def if_expr(self, node: cst.IfExp) -> Value:
        known = truth(self.expr(node.test))
        if known is not None:
            return self.expr(node.body if known else node.orelse)
        body = self.expr(node.body)
        orelse = self.expr(node.orelse)
        return body if body == orelse else None

    def comparison(self, node: cst.Comparison) -> Value:
        """``norm == "batch"`` between known literals is a known bool; anything else is generic."""
        left = self.expr(node.left)
        values = [left]
        for target in node.comparisons:
            values.append(self.expr(target.comparator))
        if len(node.comparisons) != 1 or not all(isinstance(v, Const) for v in values):
            return merge_tensors([v for v in values if isinstance(v, Tensor)])
        operator = node.comparisons[0].operator
        a, b = values[0].value, values[1].value  # type: ignore[union-attr]
        if isinstance(operator, (cst.Equal, cst.Is)):
            return Const(a == b)
        if isinstance(operator, (cst.NotEqual, cst.IsNot)):
            return Const(a != b)
        return None

    def boolean(self, node: cst.BooleanOperation) -> Value:
        """``a and b`` / ``a or b`` of known truths."""
        left = truth(self.expr(node.left))
        right = truth(self.expr(node.right))
        if isinstance(node.operator, cst.And):
            if left is False or right is False:
                return Const(False)
            return Const(True) if left and right else None
        if left or right:
            return Const(True)
        return Const(False) if left is False and right is False else None

    def named_expr(self, node: cst.NamedExpr) -> Value:
        value = self.expr(node.value)
        self.assign(node.target, value, node)
        return value

    def generic(self, node: cst.CSTNode) -> Value:
        """Evaluate every sub-expression; the result is a tensor if any input is one, else unknown."""
        tensors: list[Tensor] = []
        for child in code_children(node):
            child_type = type(child)
            if child_type in EXPRESSION_TYPES:
                value = self.expr(child)
            elif child_type in STATEMENT_TYPES:
                self.statement(child)
                continue
            elif child_type is cst.IndentedBlock:
                self.block(child)
                continue
            else:
                value = self.generic(child)
            if type(value) is Tensor:
                tensors.append(value)
        return merge_tensors(tensors)

    def name(self, node: cst.Name) -> Value:
        constant = NAME_CONSTANTS.get(node.value)
        if constant is not None:
            return constant
        found, value = self.frame.lookup(node.value)
        if found:
            return value
        canonical = self.imports.canonical(node)
        if canonical:
            return KerasName(canonical)
        return self.project_value(node.value)

    def attribute(self, node: cst.Attribute) -> Value:
        head = node
        while isinstance(head, cst.Attribute):
            head = head.value  # type: ignore[assignment]
        if isinstance(head, cst.Name) and not self.frame.lookup(head.value)[0]:
            qualified = self.imports.qualified(node)
            if qualified is not None:
                canonical = self.imports.canonical(node)
                if canonical:
                    return KerasName(canonical)
                if head.value not in self.project_names:
                    return None
        owner = self.expr(node.value)
        return self.attribute_of(owner, node.attr.value, node)

    def attribute_of(self, owner: Value, attr: str, node: Optional[cst.CSTNode] = None) -> Value:
        """``owner.attr``: what bnlint knows of it (``node``: where, for ``base.output``)."""
        if isinstance(owner, KerasName):
            return KerasName(f"{owner.canonical}.{attr}")
        if isinstance(owner, ProjectModule):
            return self.project_attribute(owner, attr)
        if not isinstance(owner, Obj):
            return None
        if attr in owner.attrs:
            return owner.attrs[attr]
        if owner.kind in ("model", "part", "layer") or owner.user_class is not None:
            if attr in ("layers", "submodules", "_layers", "_flatten_layers"):
                return Layers(owner)
            if attr in ("input", "inputs", "output", "outputs"):
                return Tensor(frozenset({owner}), True, _graph_of(owner, node))
            if attr == "optimizer":
                return OptimizerOf(owner)
        return None

    def subscript(self, node: cst.Subscript) -> Value:
        owner = self.expr(node.value)
        index_literal: Optional[Const] = None
        index_range: Optional[IndexRange] = None
        span: Optional[Span] = None
        for element in node.slice:
            inner = element.slice
            if isinstance(inner, cst.Index):
                value = self.expr(inner.value)
                if isinstance(value, Const):
                    index_literal = value
                elif isinstance(value, IndexRange):
                    index_range = value
            else:
                span = self._span(inner)
        if isinstance(owner, Layers):
            if len(node.slice) != 1:
                return Layers(owner.owner, Span())
            if span is not None:
                return Layers(owner.owner, _narrowed(owner.span, span))
            if index_range is not None and (
                index_range.owner is None or index_range.owner is owner.owner
            ):
                return self.part(owner.owner, ("range", id(node)), node, index_range.span)
            key = index_literal.value if index_literal is not None else ("expr", id(node))
            return self.part(owner.owner, ("index", key), node)
        if (
            isinstance(owner, ListValue)
            and index_literal is not None
            and isinstance(index_literal.value, int)
        ):
            try:
                return owner.items[index_literal.value]
            except IndexError:
                return None
        if isinstance(owner, Tensor):
            return owner
        return None

    def _span(self, node: cst.Slice) -> Span:
        """The literal bounds of ``[a:b]``; a bound that is not a literal int, or a step, reaches
        every layer."""
        known = node.step is None
        bounds: list[Optional[int]] = []
        for bound in (node.lower, node.upper):
            value = self.expr(bound) if bound is not None else None
            if isinstance(value, Const) and type(value.value) is int:
                bounds.append(value.value)
            else:
                bounds.append(None)
                known = known and bound is None
        if node.step is not None:
            self.expr(node.step)
        return Span(bounds[0], bounds[1]) if known else Span()

    def binary(self, node: cst.BinaryOperation) -> Value:
        """``len(M.layers) - n`` is kept (an index into the layers); anything else is generic."""
        left = self.expr(node.left)
        right = self.expr(node.right)
        if (
            isinstance(left, LayerCount)
            and isinstance(right, Const)
            and type(right.value) is int
            and isinstance(node.operator, (cst.Add, cst.Subtract))
        ):
            sign = 1 if isinstance(node.operator, cst.Add) else -1
            return LayerCount(left.owner, left.offset + sign * right.value)
        return merge_tensors([v for v in (left, right) if isinstance(v, Tensor)])

    def comprehension(self, node: cst.BaseComp) -> Value:
        saved = self.frame
        self.frame = Frame(saved)
        try:
            clause: Optional[cst.CompFor] = node.for_in
            while clause is not None:
                iterable = self.expr(clause.iter)
                self.bind_loop_target(clause.target, iterable, clause)
                for condition in clause.ifs:
                    self.expr(condition.test)
                clause = clause.inner_for_in
            if isinstance(node, cst.DictComp):
                self.expr(node.key)
                self.expr(node.value)
            else:
                self.expr(node.elt)  # type: ignore[attr-defined]
        finally:
            self.frame = saved
        return None


#: The method that evaluates each expression type (others are evaluated generically).
_EXPRESSION_HANDLERS: dict[type, str] = {
    cst.Name: "name",
    cst.Attribute: "attribute",
    cst.Call: "call",
    cst.Subscript: "subscript",
    cst.Integer: "literal_expr",
    cst.Float: "literal_expr",
    cst.SimpleString: "literal_expr",
    cst.UnaryOperation: "literal_expr",
    cst.List: "sequence",
    cst.Tuple: "sequence",
    cst.Lambda: "lambda_expr",
    cst.ListComp: "comprehension",
    cst.SetComp: "comprehension",
    cst.GeneratorExp: "comprehension",
    cst.DictComp: "comprehension",
    cst.IfExp: "if_expr",
    cst.NamedExpr: "named_expr",
    cst.BinaryOperation: "binary",
    cst.Comparison: "comparison",
    cst.BooleanOperation: "boolean",
}


def _graph_of(owner: Obj, node: Optional[cst.CSTNode]) -> tuple:
    """``{(model, node)}`` when ``owner.output`` (or input) is a tensor of a model's own graph."""
    root: Optional[Obj] = owner
    if owner.kind == "part":
        ancestors = owner.ancestors()
        root = ancestors[-1] if ancestors else None
    if node is None or root is None or root.kind != "model":
        return ()
    return ((root, node),)


def _narrowed(outer: Optional[Span], inner: Span) -> Span:
    """A slice of a slice: only the simple case of slicing the whole list is exact."""
    return inner if outer is None else Span()
