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

#: Methods Keras itself calls for evaluation and prediction, and the usual custom-loop names.
_EVALUATION_METHODS = frozenset(
    {
        "test_step",
        "predict_step",
        "eval_step",
        "val_step",
        "valid_step",
        "validation_step",
    }
)
#: Name word prefixes of evaluation and inference functions.
_EVALUATION_PREFIXES = ("eval", "valid", "predict", "infer")
#: Whole name words of inference functions.
_EVALUATION_WORDS = frozenset({"serve", "serving", "inference", "val"})


class EvaluationWithTrainingTrue(Rule):
    """``training=True`` passed to a Keras model or layer in evaluation or inference code."""

    code = "BNL008"
    name = "evaluation-with-training-true"
    severity = Severity.WARNING
    summary = "`training=True` in evaluation or inference code"
    triggers = ("training",)
    reads_project = True
    fixable = Applicability.UNSAFE
    doc = RuleDoc(
        what_it_does="""
Flags `model(x, training=True)` (any Keras model or layer) in evaluation or inference code:
functions and methods, at module level, nested or in a class, named `test_step`, `predict_step`,
`eval_step`, `val_step`, `valid_step`, `validation_step`, or whose name contains `eval`, `val`,
`valid`, `predict`, `infer`, `inference` or `serve` (the nearest enclosing function that says
evaluation or training decides). `training=True` through a user model's own forwarding parameter
(`net(x, is_training=True)`) counts. The callee may be a parameter or a `self.` attribute of unknown
origin (`def evaluate(model, ds): model(x, training=True)`): a literal `training=True` says it is a
Keras model or layer.
Not flagged: pytest/unittest `test_*` functions (except names ending in `_step`), names that also
say `train` (`train_and_evaluate`), calls under a GradientTape, callees known not to be Keras (a
function defined in the file, an imported non-Keras callable), and calls marked as intended by a
comment on the line or just above (Monte Carlo dropout, "on purpose", "intentional") or by a Monte
Carlo function or class name.""",
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
        calls = [
            (event.node, event.training_arg, event.training_keyword, event.context, event.statement)
            for _, _, event in context.facts.events(CallEvent)
            if event.training is True and not event.symbolic
        ]
        calls.extend(
            (call.node, call.training_arg, "training", call.context, call.statement)
            for call in context.facts.parameter_calls
            if call.training is True
        )
        for node, arg, flag, where, statement in calls:
            if arg is None or arg.keyword is None or where.tape is not None:
                continue
            function = evaluation_function(where.functions)
            if function is None or in_test_function(where.functions):
                continue
            if (
                comments_mark_intent(statement)
                or names_mark_intent((*where.functions, where.class_name))
                or guards_mark_intent(where.guards)
            ):
                continue
            callee = (
                " ".join(context.code(node.func).split()) if isinstance(node, cst.Call) else "model"
            )
            message = (
                f"`{callee}(..., {flag}=True)` in evaluation code (`{function}`): Dropout stays "
                "active and BatchNormalization uses batch statistics and overwrites its moving "
                f"statistics (Keras 2 and 3). Use `{flag}=False`, or mark intended Monte Carlo "
                "sampling with a comment."
            )
            fix = FixProposal(
                Applicability.UNSAFE,
                f"Use `{flag}=False`",
                (NodeEdit(arg.value, "False"),),
            )
            yield Finding(node=arg, message=message, fix=fix)


def evaluation_function(functions: tuple[str, ...]) -> Optional[str]:
    """The enclosing function whose name says evaluation or inference, looking outwards from the
    innermost one; None when a name that says training comes first (or none says either)."""
    for name in reversed(functions):
        if name in _EVALUATION_METHODS:
            return name
        words = name_words(name)
        if any(word.startswith("train") for word in words):
            return None
        if words and words[0] == "test":
            if words[-1] == "step":
                return name
            continue
        if _EVALUATION_WORDS.intersection(words) or any(
            word.startswith(_EVALUATION_PREFIXES) for word in words
        ):
            return name
    return None
