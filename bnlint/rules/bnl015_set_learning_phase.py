"""BNL015: ``set_learning_phase`` / ``learning_phase_scope``, removed in Keras 3."""

from __future__ import annotations

from collections.abc import Iterator

from bnlint.diagnostics import Severity
from bnlint.rules.base import Finding, Rule, RuleContext, RuleDoc, by_keras_version

_LEARNING_PHASE_SETTERS = {
    "keras.backend.set_learning_phase": "set_learning_phase",
    "keras.backend.learning_phase_scope": "learning_phase_scope",
}


class SetLearningPhase(Rule):
    """A call that sets the global Keras learning phase."""

    code = "BNL015"
    name = "set-learning-phase"
    severity = Severity.WARNING
    summary = "`set_learning_phase` is deprecated in Keras 2 and removed in Keras 3"
    triggers = ("learning_phase",)
    doc = RuleDoc(
        what_it_does="""
Flags calls of `keras.backend.set_learning_phase(...)` and `keras.backend.learning_phase_scope(...)`
(through `tf.keras.backend`, `tf.compat.v1.keras.backend`, `tf_keras.backend`, `from keras import
backend as K`, ...). Reading the phase with `K.learning_phase()` is not flagged, nor is
multi-backend Keras (2.3 and older: the file imports `keras.backend.tensorflow_backend` or
`theano_backend`, or the project pins `keras` below 2.4), where it was the supported API. The
severity is raised to error when the target is Keras 3.""",
        why_is_this_bad="""
The global learning phase is a Keras 1/TF1 mechanism. In Keras 2 it is deprecated and only affects
direct calls such as `model(x)` that do not pass `training`; `fit`, `evaluate` and `predict` set their
own mode and ignore it, so `set_learning_phase(0)` does not freeze BatchNormalization during `fit`.
Keras 3 removed it: the call raises AttributeError.""",
        example="""
from tensorflow.keras import backend as K
K.set_learning_phase(0)
features = model(images)""",
        use_instead="""
features = model(images, training=False)""",
        fix_safety="No automatic fix: the calls that relied on the phase need `training=` instead.",
        keras_versions="""
Keras 2 (tf_keras 2.21): deprecated; affects only direct calls, not fit/predict. Keras 3 (3.15.1):
`keras.backend` has no `set_learning_phase` / `learning_phase_scope`, AttributeError. Observed on
both.""",
    )

    def check(self, context: RuleContext) -> Iterator[Finding]:
        calls = [call for call in context.facts.calls if call.canonical in _LEARNING_PHASE_SETTERS]
        if not calls or context.multi_backend_keras:
            return
        version = context.keras_version
        severity = Severity.ERROR if version == "3" else None
        for call in calls:
            function = _LEARNING_PHASE_SETTERS[call.canonical]
            effect = by_keras_version(
                version,
                "deprecated in Keras 2 and affects only direct calls such as `model(x)`, "
                "not fit/evaluate/predict.",
                "removed in Keras 3: the call raises AttributeError.",
                "deprecated in Keras 2, where it affects only direct calls such as `model(x)`, "
                "not fit/evaluate/predict, and removed in Keras 3 (AttributeError).",
            )
            yield Finding(
                node=call.node,
                message=(
                    f"`{function}` is {effect} Pass `training=True/False` when calling the model "
                    "or layer instead."
                ),
                severity=severity,
            )
