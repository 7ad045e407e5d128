"""BNL003: ``trainable`` set on a layer that has no weights."""

from __future__ import annotations

from collections.abc import Iterator

from bnlint import keras_api
from bnlint.diagnostics import Applicability, Severity
from bnlint.facts.objects import Obj
from bnlint.facts.values import keyword
from bnlint.fixes import remove_argument
from bnlint.rules.base import (
    Finding,
    FixProposal,
    NodeEdit,
    Rule,
    RuleContext,
    RuleDoc,
    by_keras_version,
)


class TrainableOnWeightlessLayer(Rule):
    """``trainable=`` in the constructor of, or ``.trainable =`` on, a layer without weights."""

    code = "BNL003"
    name = "trainable-on-weightless-layer"
    severity = Severity.WARNING
    summary = "`trainable` on a layer without weights does nothing"
    triggers = ("trainable",)
    fixable = Applicability.SAFE
    doc = RuleDoc(
        what_it_does="""
Flags `trainable=` passed to the constructor of a layer that owns no weights (Dropout,
SpatialDropout1D/2D/3D, GaussianDropout, GaussianNoise, AlphaDropout, ActivityRegularization,
Activation, ReLU, ELU, LeakyReLU, Softmax, Flatten, Reshape, Permute, RepeatVector, pooling, padding,
cropping, upsampling and merge layers), and `layer.trainable = ...` on such a layer.
PReLU has weights and is not flagged.""",
        why_is_this_bad="""
`trainable` only decides whether a layer's weights are updated. A layer without weights has nothing
to freeze, so the setting is accepted silently and changes nothing: a Dropout layer with
`trainable=False` still drops units during `fit()`, and noise layers still add noise. The usual
intent, turning dropout off, is done with `training=False` when the layer is called.""",
        example="""
x = layers.Dropout(0.5, trainable=False)(x)""",
        use_instead="""
x = layers.Dropout(0.5)(x)                  # trainable does nothing here
x = layers.Dropout(0.5)(x, training=False)  # if dropout must really be off""",
        fix_safety="""
Safe: the keyword is removed from the constructor. It has no effect (Keras 2) or raises a TypeError
(Keras 3 SpatialDropoutND), so removing it never changes training. Assignments are not fixed
automatically.""",
        keras_versions="""
Keras 2 and 3: accepted silently; noise layers still drop or perturb during fit (observed on
tf_keras 2.21 and keras 3.15.1). Keras 3 `SpatialDropout1D/2D/3D(trainable=...)` raises TypeError
at construction.""",
    )

    def check(self, context: RuleContext) -> Iterator[Finding]:
        for call in context.facts.calls:
            layer = keras_api.layer_class(call.canonical)
            if layer not in keras_api.WEIGHTLESS_LAYERS:
                continue
            arg = keyword(call.node, "trainable")
            if arg is None:
                continue
            yield Finding(
                node=arg,
                message=self._message(layer, context.keras_version, in_constructor=True),
                fix=FixProposal(
                    Applicability.SAFE,
                    "Remove the `trainable` keyword",
                    (NodeEdit(call.node, context.code(remove_argument(call.node, arg))),),
                ),
            )
        for assignment in context.facts.attribute_assignments:
            target = assignment.target
            if (
                assignment.attr != "trainable"
                or not isinstance(target, Obj)
                or target.kind != "layer"
            ):
                continue
            layer = target.layer_class
            if layer in keras_api.WEIGHTLESS_LAYERS:
                yield Finding(
                    node=assignment.statement,
                    message=self._message(layer, context.keras_version, in_constructor=False),
                )

    @staticmethod
    def _message(layer: str, version: str, in_constructor: bool) -> str:
        noise = layer in keras_api.NOISE_LAYERS
        effect = f"`trainable` on {layer} does nothing: the layer has no weights" + (
            ", and it still drops/perturbs its inputs during fit." if noise else "."
        )
        if noise:
            effect += " To turn it off, call the layer with `training=False`."
        if in_constructor and layer.startswith("SpatialDropout"):
            effect += " " + by_keras_version(
                version,
                "",
                f"Keras 3 raises TypeError for `{layer}(trainable=...)`.",
                f"Keras 3 raises TypeError for `{layer}(trainable=...)`.",
            )
        return effect.strip()
