"""BNL014: ``tf.layers.batch_normalization`` / ``tf.layers.dropout`` called without ``training``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Optional

import libcst as cst

from bnlint import keras_api
from bnlint.diagnostics import Severity
from bnlint.facts.values import has_star_args, keyword, positional
from bnlint.rules.base import Finding, Rule, RuleContext, RuleDoc

#: Code that reads as a training flag (``is_training``, ``self.training``, ``phase_train``).
_TRAINING_FLAG = re.compile(r"train|phase", re.IGNORECASE)

_EFFECT = {
    "tensorflow.layers.batch_normalization": (
        "batch norm always normalises with its moving statistics, which it never updates"
    ),
    "tensorflow.layers.dropout": "dropout never drops anything, not even during training",
}


class Tf1LayerTrainingNotSet(Rule):
    """A TF1 ``batch_normalization`` / ``dropout`` function left in its default inference mode."""

    code = "BNL014"
    name = "tf1-layer-training-not-set"
    severity = Severity.WARNING
    summary = "TF1 `batch_normalization` / `dropout` without `training=` runs in inference mode"
    #: ``tf.layers.dropout`` is written ``layers.dropout``, imported from a ``layers`` module, or called
    #: through an alias of one (``import tensorflow.compat.v1.layers as L``).
    triggers = (
        "batch_normalization",
        "layers.dropout",
        ("dropout", "layers import"),
        ("dropout", "layers as"),
    )
    doc = RuleDoc(
        what_it_does="""
Flags calls of `tf.layers.batch_normalization` and `tf.layers.dropout` (also through
`tf.compat.v1.layers` and any import alias) that do not pass `training` (keyword or positional).
Silent when `*args` / `**kwargs` are passed, for `functools.partial(..., training=...)`,
`tf.nn.batch_normalization` / `tf.nn.dropout`, Keras `BatchNormalization` / `Dropout` layers,
`tf.contrib.layers.batch_norm` (its `is_training` defaults to True), and user functions of the same
name. A training flag passed positionally in another parameter's place
(`tf.layers.dropout(x, 0.5, is_training)`, where the third parameter is `noise_shape`) is named in
the message.""",
        why_is_this_bad="""
Unlike Keras layers, these functions do not follow a global learning phase: `training` defaults to
`False`. Without it, batch normalisation uses the moving mean and variance during training as well,
and never adds the updates that would change them, so it stays an affine transform of its initial
statistics; dropout returns its input unchanged. The model trains without the regularisation or
normalisation it was written with.""",
        example="""
h = tf.layers.batch_normalization(h)
h = tf.layers.dropout(h, rate=0.5)""",
        use_instead="""
is_training = tf.placeholder_with_default(False, shape=(), name="is_training")
h = tf.layers.batch_normalization(h, training=is_training)
h = tf.layers.dropout(h, rate=0.5, training=is_training)""",
        fix_safety="No automatic fix: the training flag is a tensor or argument only the code knows.",
        keras_versions="""
A TensorFlow 1 API, the same under Keras 2 and 3: `training=False` is the default of
`tf.compat.v1.layers.batch_normalization` and `tf.compat.v1.layers.dropout`. TF >= 2.16 provides
`tf.compat.v1.layers` only with tf_keras installed and `TF_USE_LEGACY_KERAS=1`.""",
    )

    def check(self, context: RuleContext) -> Iterator[Finding]:
        for call in context.facts.calls:
            index = keras_api.TF1_TRAINING_FUNCTIONS.get(call.canonical)
            if index is None or has_star_args(call.node):
                continue
            if keyword(call.node, "training") or positional(call.node, index):
                continue
            function = call.canonical.rsplit(".", 1)[1]
            callee = f"`{context.code(call.node.func)}`"
            if not callee.endswith(f"{function}`"):
                callee += f" (`tf.layers.{function}`)"
            misplaced = _misplaced_flag(context, call.node, index)
            if misplaced is not None:
                position, flag = misplaced
                yield Finding(
                    node=call.node,
                    message=(
                        f"{callee} gets `{flag}` as positional argument {position + 1}, but "
                        f"`training` is its argument {index + 1}: `training` keeps its default, "
                        f"False, so {_EFFECT[call.canonical]}; pass `training={flag}`."
                    ),
                )
                continue
            yield Finding(
                node=call.node,
                message=(
                    f"{callee} without `training=` runs in inference mode (`training` defaults "
                    f"to False), so {_EFFECT[call.canonical]}; pass `training=is_training` "
                    "(a bool or a boolean tensor)."
                ),
            )


def _misplaced_flag(context: RuleContext, call: cst.Call, index: int) -> Optional[tuple[int, str]]:
    """(position, code) of a positional argument before ``training``'s own position that looks
    like a training flag (``is_training`` passed third to ``tf.layers.dropout``, whose third
    parameter is ``noise_shape``)."""
    for position, arg in enumerate(call.args[:index]):
        if arg.keyword is not None or arg.star:
            return None
        code = context.code(arg.value)
        if position > 0 and _TRAINING_FLAG.search(code):
            return position, code
    return None
