"""BNL016: a BatchNormalization momentum written in PyTorch's convention (``momentum=0.1``)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import Optional

import libcst as cst

from bnlint.diagnostics import Applicability, Severity
from bnlint.facts.nodes import visit_code
from bnlint.facts.values import keyword, positional
from bnlint.rules.base import Finding, FixProposal, NodeEdit, Rule, RuleContext, RuleDoc

#: Batch-norm APIs with Keras's momentum convention, and the position of ``momentum``.
_MOMENTUM_POSITION = {
    "keras.layers.BatchNormalization": 1,
    "keras.layers.SyncBatchNormalization": 1,
    "tensorflow.layers.BatchNormalization": 1,
    "tensorflow.layers.batch_normalization": 2,
}
_THRESHOLD = Decimal("0.5")


class PytorchMomentumConvention(Rule):
    """``BatchNormalization(momentum=0.1)``: PyTorch's value, which Keras reads the other way round."""

    code = "BNL016"
    name = "pytorch-momentum-convention"
    severity = Severity.WARNING
    summary = "BatchNormalization momentum <= 0.5 looks like PyTorch's convention"
    triggers = (("momentum", "BatchNorm"), ("momentum", "batch_norm"))
    fixable = Applicability.UNSAFE
    doc = RuleDoc(
        what_it_does="""
Flags Keras `BatchNormalization(momentum=m)` (also `SyncBatchNormalization`) and
`tf.layers.batch_normalization(..., momentum=m)` (and `tf.compat.v1`) where `m <= 0.5` is a literal
or a module-level constant. PyTorch and Flax BatchNorm, optimizer momentum, computed values
such as `1 - 0.1`, and `momentum=0` (a deliberate "always use the last batch", as in tests; PyTorch's
0 would freeze the statistics, which nobody ports) are not flagged.""",
        why_is_this_bad="""
Keras updates the moving statistics as `moving = momentum * moving + (1 - momentum) * batch`
(default 0.99): momentum is the weight of the past. PyTorch uses the reverse
(`moving = (1 - momentum) * moving + momentum * batch`, default 0.1). A value copied from a PyTorch
model, such as 0.1, makes the Keras moving mean and variance follow almost only the last batch, so
inference uses noisy statistics. PyTorch's 0.1 is Keras's 0.9.""",
        example="""
x = layers.BatchNormalization(momentum=0.1, epsilon=1e-5)(x)""",
        use_instead="""
x = layers.BatchNormalization(momentum=0.9, epsilon=1e-5)(x)""",
        fix_safety="""
Unsafe: the literal is replaced by `1 - m` written as a literal (0.1 becomes 0.9), which changes how
fast the moving statistics follow the batches. A module-level constant is not rewritten (it may be
used elsewhere); change the constant. `momentum=0.5` reads the same both ways and gets no fix.""",
        keras_versions="""
Keras 2 and 3 use the same convention: `moving = m * moving + (1 - m) * batch`, default 0.99
(observed on tf_keras 2.21 and keras 3.15.1); so does `tf.compat.v1.layers.batch_normalization`.""",
    )

    def check(self, context: RuleContext) -> Iterator[Finding]:
        constants: Optional[dict[str, Decimal]] = None
        for call in context.facts.calls:
            position = _MOMENTUM_POSITION.get(call.canonical)
            if position is None:
                continue
            arg = keyword(call.node, "momentum") or positional(call.node, position)
            if arg is None:
                continue
            value = _number(arg.value)
            fix = None
            if value is None and isinstance(arg.value, cst.Name):
                if constants is None:
                    constants = module_constants(context.module)
                value = constants.get(arg.value.value)
            elif value is not None and Decimal(0) < value < _THRESHOLD:
                fix = FixProposal(
                    Applicability.UNSAFE,
                    f"Use `momentum={_complement(value)}` (Keras's convention)",
                    (NodeEdit(arg.value, _complement(value)),),
                )
            if value is None or not Decimal(0) < value <= _THRESHOLD:
                continue
            yield Finding(node=arg, message=_message(call.canonical, value), fix=fix)


def _message(canonical: str, value: Decimal) -> str:
    tf1 = canonical == "tensorflow.layers.batch_normalization"
    api = "`tf.layers.batch_normalization`" if tf1 else "Keras BatchNormalization"
    shown, complement = _format(value), _complement(value)
    update = (
        f"{api} with `momentum={shown}` updates `moving = {shown} * moving + {complement} * batch` "
        + ("(default 0.99)" if tf1 else "(Keras 2 and 3, default 0.99)")
    )
    if value == _THRESHOLD:
        return (
            f"{update}: the moving statistics follow the last few batches. "
            "Keras's momentum is the weight of the past; use a value close to 1 such as 0.99."
        )
    return (
        f"{update}, the reverse of PyTorch's convention. "
        f"If {shown} is PyTorch's momentum, use `momentum={complement}`."
    )


def _number(node: cst.BaseExpression) -> Optional[Decimal]:
    """The value of a non-negative int or float literal, else None."""
    if not isinstance(node, (cst.Integer, cst.Float)):
        return None
    try:
        return Decimal(node.value.replace("_", ""))
    except InvalidOperation:
        return None


def _format(value: Decimal) -> str:
    """A float literal for a decimal value: ``0.9``, ``1.0``, ``0.999`` (never ``0.9000000000000001``)."""
    text = format(value.normalize(), "f")
    return text if "." in text else f"{text}.0"


def _complement(value: Decimal) -> str:
    return _format(Decimal(1) - value)


def module_constants(module: cst.Module) -> dict[str, Decimal]:
    """Names bound exactly once in the whole file, by a module-level ``NAME = <number literal>``."""
    found: dict[str, Decimal] = {}
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            target: Optional[cst.BaseExpression] = None
            value: Optional[cst.BaseExpression] = None
            if isinstance(small, cst.Assign) and len(small.targets) == 1:
                target, value = small.targets[0].target, small.value
            elif isinstance(small, cst.AnnAssign):
                target, value = small.target, small.value
            if isinstance(target, cst.Name) and value is not None:
                number = _number(value)
                if number is not None:
                    found[target.value] = number
    if not found:
        return found
    counter = _BindingCounter(set(found))
    visit_code(module, counter)
    return {name: value for name, value in found.items() if counter.counts.get(name, 0) == 1}


class _BindingCounter(cst.CSTVisitor):
    """Counts how often each of some names is bound anywhere in a module (any scope)."""

    def __init__(self, names: set[str]) -> None:
        super().__init__()
        self.names = names
        self.counts: dict[str, int] = {}

    def _bind(self, node: Optional[cst.CSTNode]) -> None:
        if isinstance(node, cst.Name):
            if node.value in self.names:
                self.counts[node.value] = self.counts.get(node.value, 0) + 1
        elif isinstance(node, (cst.Tuple, cst.List)):
            for element in node.elements:
                self._bind(element.value)
        elif isinstance(node, (cst.StarredElement, cst.AsName)):
            self._bind(node.value if isinstance(node, cst.StarredElement) else node.name)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._bind(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._bind(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        # Counted twice: an augmented assignment always disqualifies a constant.
        self._bind(node.target)
        self._bind(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._bind(node.target)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._bind(node.target)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        self._bind(node.asname)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bind(node.target)

    def visit_Param(self, node: cst.Param) -> None:
        self._bind(node.name)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._bind(node.name)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._bind(node.name)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        self._bind(node.name)

    def visit_ImportAlias(self, node: cst.ImportAlias) -> None:
        if node.asname is not None:
            self._bind(node.asname)
        else:
            head = node.name
            while isinstance(head, cst.Attribute):
                head = head.value
            self._bind(head)

    def visit_Global(self, node: cst.Global) -> None:
        for item in node.names:
            self._bind(item.name)
            self._bind(item.name)
