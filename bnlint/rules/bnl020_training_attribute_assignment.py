"""BNL020: ``X.training = ...`` on a Keras layer or model (a plain attribute Keras never reads)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Optional

import libcst as cst

from bnlint.diagnostics import Severity
from bnlint.facts.nodes import visit_code
from bnlint.facts.objects import Obj
from bnlint.facts.queries import is_keras_object, short_code, torch_backend_possible
from bnlint.rules.base import Finding, Rule, RuleContext, RuleDoc, by_keras_version


class TrainingAttributeAssignment(Rule):
    """``layer.training = False`` / ``model.training = True``."""

    code = "BNL020"
    name = "training-attribute-assignment"
    severity = Severity.WARNING
    summary = "setting `.training` on a Keras object has no effect"
    triggers = ("training",)
    doc = RuleDoc(
        what_it_does="""
Flags `X.training = value` where X is known to be a Keras layer or model: built by a Keras
constructor, `keras.applications` or `load_model`, taken out of such a model, or an instance of a
same-file Keras subclass. Silent for objects of unknown origin (a torch module's `training` is real),
when the file reads `.training` anywhere (then it is the code's own flag), and in files that import
torch or set `KERAS_BACKEND` to torch (there Keras 3 layers are torch modules).""",
        why_is_this_bad="""
Keras layers have no `training` attribute that controls their mode. The assignment creates a plain
attribute and nothing reads it: BatchNormalization and Dropout still follow the `training`
argument of each call (True in `fit()`, False in `predict()` / `evaluate()`). Usually `trainable`
(freeze the weights) or `training=` at the call was meant.""",
        example="""
base.training = False
x = base(inputs)""",
        use_instead="""
base.trainable = False             # freeze the weights
x = base(inputs, training=False)   # run BatchNormalization in inference mode""",
        fix_safety="No automatic fix: `trainable` and `training=` mean different things.",
        keras_versions="""
Keras 2 and 3: a plain attribute with no effect on training or inference (observed on tf_keras 2.21
and keras 3.15.1).""",
    )

    def check(self, context: RuleContext) -> Iterator[Finding]:
        if torch_backend_possible(context.facts.imports, context.source):
            return
        reads: Optional[bool] = None
        for assignment in context.facts.attribute_assignments:
            target = assignment.target
            if assignment.attr != "training" or not isinstance(target, Obj):
                continue
            if not is_keras_object(target):
                continue
            if reads is None:
                reads = _reads_training(context.module)
            if reads:
                continue
            versions = by_keras_version(
                context.keras_version, "Keras 2", "Keras 3", "Keras 2 and 3"
            )
            name = short_code(context.module, assignment.target_node)
            yield Finding(
                node=assignment.statement,
                message=(
                    f"`{name} = ...` creates a plain attribute that Keras never reads ({versions}): "
                    "the layers still follow the `training` argument of each call. Set "
                    "`trainable = False` to freeze weights, or pass `training=False` when calling."
                ),
            )


def _reads_training(module: cst.Module) -> bool:
    """Whether the file reads ``<something>.training`` anywhere: then it is a flag of its own."""
    finder = _TrainingReads()
    visit_code(module, finder)
    return finder.reads


class _TrainingReads(cst.CSTVisitor):
    """Finds ``<name>.training`` used other than as an assignment target."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = False
        self._targets: set[int] = set()

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._targets.add(id(node.target))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value == "training" and id(node) not in self._targets:
            self.reads = True
