"""BNL008: ``model(x, training=True)`` in evaluation or inference code."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Optional

import libcst as cst

from bnlint.diagnostics import Applicability, Severity
from bnlint.facts.events import CallEvent
from bnlint.facts.intent import (
    comments_mark_intent,
    guards_mark_intent,
    in_test_function,
    name_words,
    names_mark_intent,
)
from bnlint.rules.base import Finding, FixProposal, NodeEdit, Rule, RuleContext, RuleDoc

#: Methods Keras itself calls for evaluation and prediction.
_EVALUATION_METHODS = frozenset({"test_step", "predict_step"})
#: Name word prefixes of evaluation and inference functions.
_EVALUATION_PREFIXES = ("eval", "valid", "predict", "infer")
#: Whole name words of inference functions.
_EVALUATION_WORDS = frozenset({"serve", "serving", "inference"})


class EvaluationWithTrainingTrue(Rule):
    """``training=True`` passed to a Keras model or layer in evaluation or inference code."""

    code = "BNL008"
    name = "evaluation-with-training-true"
    severity = Severity.WARNING
    summary = "`training=True` in evaluation or inference code"
    triggers = ("training",)
    fixable = Applicability.UNSAFE
    doc = RuleDoc(
        what_it_does="""
Flags `model(x, training=True)` (any Keras model or layer) in evaluation or inference code: the
`test_step` and `predict_step` methods, and functions or methods whose name contains `eval`,
`val_step`, `valid`, `predict`, `infer`, `inference` or `serve`. pytest/unittest `test_*`
functions, names that also say `train` (`train_and_evaluate`), calls under a GradientTape, and
calls marked as intended by a comment on the line or just above (Monte Carlo dropout, "on purpose",
"intentional") or by a Monte Carlo function or class name are not flagged.""",
        why_is_this_bad="""
In training mode Dropout drops units and BatchNormalization normalises each batch with its own
statistics and updates its moving statistics. Evaluation results then depend on the batch and are
noisy, and merely evaluating the model changes the statistics it uses at inference.""",
        example="""
def evaluate(model, dataset):
    for x, y in dataset:
        logits = model(x, training=True)
        accuracy.update_state(y, logits)""",
        use_instead="""
def evaluate(model, dataset):
    for x, y in dataset:
        logits = model(x, training=False)
        accuracy.update_state(y, logits)""",
        fix_safety="""
Unsafe: `training=True` becomes `training=False`. This changes the results, which is the point,
but it would break deliberate Monte Carlo sampling; mark such calls with a comment.""",
        keras_versions="""
Keras 2 and 3: an explicit `training=True` on a direct call runs Dropout and BatchNormalization in
training mode, and BatchNormalization updates its moving statistics (observed on tf_keras 2.21 and
keras 3.15.1).""",
    )

    def check(self, context: RuleContext) -> Iterator[Finding]:
        for _, _, event in context.facts.events(CallEvent):
            arg = event.training_arg
            if (
                event.training is not True
                or arg is None
                or arg.keyword is None
                or event.symbolic
                or event.context.tape is not None
            ):
                continue
            function = _evaluation_function(event.context.functions)
            if function is None or in_test_function(event.context.functions):
                continue
            if (
                comments_mark_intent(event.statement)
                or names_mark_intent((*event.context.functions, event.context.class_name))
                or guards_mark_intent(event.context.guards)
            ):
                continue
            call = event.node
            callee = (
                " ".join(context.code(call.func).split()) if isinstance(call, cst.Call) else "model"
            )
            message = (
                f"`{callee}(..., training=True)` in evaluation code (`{function}`): Dropout stays "
                "active and BatchNormalization uses batch statistics and overwrites its moving "
                "statistics (Keras 2 and 3). Use `training=False`, or mark intended Monte Carlo "
                "sampling with a comment."
            )
            fix = FixProposal(
                Applicability.UNSAFE,
                "Use `training=False`",
                (NodeEdit(arg.value, "False"),),
            )
            yield Finding(node=arg, message=message, fix=fix)


def _evaluation_function(functions: tuple[str, ...]) -> Optional[str]:
    """The innermost enclosing function, if its name says evaluation or inference."""
    if not functions:
        return None
    name = functions[-1]
    if name in _EVALUATION_METHODS:
        return name
    words = name_words(name)
    if not words or words[0] == "test" or any(word.startswith("train") for word in words):
        return None
    if "val_step" in name.lower() or _EVALUATION_WORDS.intersection(words):
        return name
    if any(word.startswith(_EVALUATION_PREFIXES) for word in words):
        return name
    return None
