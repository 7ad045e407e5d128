"""What a GradientTape differentiates with respect to: model weights, or inputs (adversarial, deep dream).

``tape.gradient(loss, model.trainable_variables)`` trains ``model``; ``tape.gradient(loss, image)``
after ``tape.watch(image)`` optimises an input and keeps every model in inference mode on purpose.
"""

from __future__ import annotations

from typing import Optional

import libcst as cst

from bnlint.facts.nodes import visit_code
from bnlint.facts.objects import Obj

#: Attributes that hold a model's variables.
WEIGHT_ATTRIBUTES = frozenset(
    {"trainable_variables", "trainable_weights", "variables", "weights", "trainable_vars"}
)
#: Functions that return every trainable variable (TF1 style).
_ALL_VARIABLES_FUNCTIONS = frozenset({"trainable_variables", "global_variables"})
#: Owner of variables that cannot be named: any model may be trained.
ANY_OWNER = "*"

_MAX_DEPTH = 4


class _Assignments(cst.CSTVisitor):
    """Per function: ``name -> assigned expressions``; and the function each target sits in."""

    def __init__(self, targets: set[int]) -> None:
        self.targets = targets
        self.scopes: list[dict[str, list[cst.BaseExpression]]] = [{}]
        self.scope_of: dict[int, dict[str, list[cst.BaseExpression]]] = {}

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.scopes.append({})

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.scopes.pop()

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            if isinstance(target.target, cst.Name):
                self.scopes[-1].setdefault(target.target.value, []).append(node.value)

    def on_visit(self, node: cst.CSTNode) -> bool:
        if id(node) in self.targets:
            self.scope_of[id(node)] = self.scopes[-1]
        return super().on_visit(node)


class GradientTargets:
    """Answers, for the tapes of one module, which models their gradients train."""

    def __init__(self, module: cst.Module, tapes: list[Obj]) -> None:
        self.module = module
        visitor = _Assignments({id(t) for tape in tapes for t in tape.gradient_targets})
        if visitor.targets:
            visit_code(module, visitor)
        self._scopes = visitor.scope_of

    def weight_owners(self, tape: Obj) -> Optional[set[str]]:
        """The code of the models whose weights ``tape`` differentiates (``ANY_OWNER``: any).

        None when the tape watches or differentiates anything else, or when no gradient is taken
        in this file: the models called under it may be in inference mode on purpose.
        """
        if tape.watched or not tape.gradient_targets:
            return None
        owners: set[str] = set()
        for target in tape.gradient_targets:
            found = self._owners(target, self._scopes.get(id(target), {}), 0)
            if found is None:
                return None
            owners |= found
        return owners

    def _owners(
        self, node: cst.BaseExpression, scope: dict[str, list[cst.BaseExpression]], depth: int
    ) -> Optional[set[str]]:
        if depth > _MAX_DEPTH:
            return None
        if isinstance(node, cst.Attribute) and node.attr.value in WEIGHT_ATTRIBUTES:
            return {" ".join(self.module.code_for_node(node.value).split())}
        if isinstance(node, cst.Call):
            func = node.func
            name = (
                func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", "")
            )
            return {ANY_OWNER} if name in _ALL_VARIABLES_FUNCTIONS and not node.args else None
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
            return self._all([node.left, node.right], scope, depth)
        if isinstance(node, (cst.List, cst.Tuple)) and node.elements:
            return self._all([element.value for element in node.elements], scope, depth)
        if isinstance(node, (cst.ListComp, cst.GeneratorExp)) and node.for_in.inner_for_in is None:
            return self._owners(node.for_in.iter, scope, depth + 1)
        if isinstance(node, cst.Subscript):
            return self._owners(node.value, scope, depth + 1)
        if isinstance(node, cst.Name) and scope.get(node.value):
            return self._all(scope[node.value], scope, depth + 1)
        return None

    def _all(
        self,
        nodes: list[cst.BaseExpression],
        scope: dict[str, list[cst.BaseExpression]],
        depth: int,
    ) -> Optional[set[str]]:
        owners: set[str] = set()
        for node in nodes:
            found = self._owners(node, scope, depth)
            if found is None:
                return None
            owners |= found
        return owners
