"""BNL006: ``training=True`` on BatchNormalization or Dropout while building a model."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from bnlint import keras_api
from bnlint.diagnostics import Severity
from bnlint.facts.events import CallEvent
from bnlint.facts.intent import (
    in_test_function,
    training_true_intended,
)
from bnlint.rules.base import Finding, Rule, RuleContext, RuleDoc, by_keras_version


class TrainingTrueInModel(Rule):
    """BatchNormalization, Dropout or a noise layer called with ``training=True`` in a model."""

    code = "BNL006"
    name = "training-true-in-model"
    severity = Severity.WARNING
    summary = "`training=True` fixed inside a model"
    triggers = ("training",)
    doc = RuleDoc(
        what_it_does="""
Flags `training=True` passed when calling BatchNormalization (severity warning) or Dropout,
SpatialDropout, GaussianDropout, GaussianNoise or AlphaDropout (severity info) while building a
model: in the functional API on `keras.Input` tensors, or in the `call()` of a Layer or Model
subclass. Not flagged when a comment on that line or just above, or the name of the enclosing
function or class, says Monte Carlo / MC dropout (or that it is intentional).""",
        why_is_this_bad="""
The argument fixes the layer in training mode for good. BatchNormalization then normalises every
batch with its own statistics and keeps updating its moving statistics, also at inference, so a
prediction depends on the other samples of its batch (and fails for a batch of one). Dropout keeps
dropping units at inference, so predictions are random.""",
        example="""
inputs = keras.Input((32,))
x = layers.Dense(64)(inputs)
x = layers.BatchNormalization()(x, training=True)
x = layers.Dropout(0.5)(x, training=True)""",
        use_instead="""
inputs = keras.Input((32,))
x = layers.Dense(64)(inputs)
x = layers.BatchNormalization()(x)
x = layers.Dropout(0.5)(x)
# Monte Carlo dropout on purpose: x = layers.Dropout(0.5)(x, training=True)  # MC dropout""",
        fix_safety="No automatic fix: whether training mode is intended (Monte Carlo dropout) is the author's call.",
        keras_versions="""
Keras 2: a recorded `training=True` holds in fit(), evaluate(), predict() and direct calls.
Keras 3 (3.0 to 3.15, observed on 3.15.1): in a functional model fit(), evaluate() and predict()
pass their own `training` and override it (see BNL019), but direct calls `model(x)` keep it; in a
subclass's `call()` it holds everywhere, in both versions.""",
    )

    def check(self, context: RuleContext) -> Iterator[Finding]:
        for _, _, event in context.facts.events(CallEvent):
            arg = event.training_arg
            if event.training is not True or arg is None or arg.keyword is None:
                continue
            layer = event.callee.layer_class if event.callee.kind == "layer" else None
            if layer not in keras_api.BATCHNORM_LAYERS and layer not in keras_api.NOISE_LAYERS:
                continue
            if not _building_model(event):
                continue
            if training_true_intended(event) or in_test_function(event.context.functions):
                continue
            batchnorm = layer in keras_api.BATCHNORM_LAYERS
            yield Finding(
                node=arg,
                message=_message(layer, batchnorm, _in_subclass_call(event), context.keras_version),
                severity=Severity.WARNING if batchnorm else Severity.INFO,
            )


def _building_model(event: CallEvent) -> bool:
    """A call on symbolic tensors, or of a layer constructed in the call itself, outside a tape."""
    call = event.node
    constructed_here = isinstance(call, cst.Call) and isinstance(call.func, cst.Call)
    return (event.symbolic or constructed_here) and event.context.tape is None


def _in_subclass_call(event: CallEvent) -> bool:
    return event.context.class_name is not None and event.context.function == "call"


def _message(layer: str, batchnorm: bool, subclass: bool, version: str) -> str:
    effect = (
        "it normalises with batch statistics and updates its moving statistics also at inference"
        if batchnorm
        else "it keeps dropping/perturbing its inputs also at inference"
    )
    if subclass:
        when = "Every call of the model runs it so (Keras 2 and 3)."
    else:
        when = by_keras_version(
            version,
            "Keras 2 keeps it in predict(), evaluate() and direct calls.",
            "Keras 3 overrides it in fit()/evaluate()/predict() (BNL019) but direct calls `model(x)` keep it.",
            "Keras 2 keeps it in predict(), evaluate() and direct calls; Keras 3 overrides it in "
            "fit()/evaluate()/predict() (BNL019) but direct calls keep it.",
        )
    return (
        f"`training=True` fixes {layer} in training mode: {effect}. {when} Remove it (or pass the "
        "`training` argument through); if Monte Carlo sampling is intended, say so in a comment."
    )
