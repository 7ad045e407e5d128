"""BNL005: ``trainable=`` passed when calling a Keras layer or model."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Optional

from bnlint.diagnostics import Severity
from bnlint.facts.events import CallEvent
from bnlint.facts.objects import Obj
from bnlint.facts.queries import accepts_keyword, is_keras_object
from bnlint.facts.values import keyword
from bnlint.rules.base import Finding, Rule, RuleContext, RuleDoc, by_keras_version

#: Model origins whose call signature is Keras's own (functional or Sequential models).
_KERAS_MODEL_ORIGINS = frozenset({"sequential", "functional", "applications", "load_model"})

_ADVICE = {
    "layer": "Freeze with `trainable=False` in the layer's constructor or `layer.trainable = False`",
    "model": "Freeze with `model.trainable = False` before compiling",
}
_TRAINING = "; `training=False` is the call argument for inference mode."


class TrainableInCall(Rule):
    """``layer(x, trainable=False)`` / ``base(inputs, trainable=False)``."""

    code = "BNL005"
    name = "trainable-in-call"
    severity = Severity.ERROR
    summary = "`trainable` is a constructor argument or attribute, not a call argument"
    triggers = ("trainable",)
    doc = RuleDoc(
        what_it_does="""
Flags `trainable=` passed when calling a Keras layer or model on inputs: `layer(x, trainable=False)`,
`base(inputs, trainable=False)`, `self.encoder(x, trainable=False)`. Constructors that take
`trainable` (`Dense(4, trainable=False)`, `hub.KerasLayer(handle, trainable=True)`), `tf.Variable`,
TF1 functions such as `tf.compat.v1.layers.dense(x, 4, trainable=False)`, and same-file layers whose
`call` accepts `trainable` (or `**kwargs`) are not flagged.""",
        why_is_this_bad="""
`trainable` is a property of the layer (set in the constructor or as `layer.trainable = False`), not
an argument of a call. Passing it to a call is rejected with a TypeError, or, for a Keras 3
functional or Sequential model called on eager tensors, silently dropped: the weights stay
trainable. The argument that selects inference mode at call time is `training`.""",
        example="""
x = base(inputs, trainable=False)""",
        use_instead="""
base.trainable = False          # freeze the weights
x = base(inputs, training=False)  # and/or run it in inference mode""",
        fix_safety="No automatic fix: whether `trainable` or `training` was meant depends on intent.",
        keras_versions="""
Keras 2 and 3: TypeError when a layer, or a model on symbolic inputs, is called with `trainable=`
(observed on tf_keras 2.21 and keras 3.15.1). Keras 3 functional and Sequential models called on
eager tensors silently ignore the argument.""",
    )

    def check(self, context: RuleContext) -> Iterator[Finding]:
        seen: set[int] = set()
        for _, _, event in context.facts.events(CallEvent):
            arg = keyword(event.node, "trainable")
            if arg is None or id(arg) in seen:
                continue
            message = _message(event, context.keras_version)
            if message is not None:
                seen.add(id(arg))
                yield Finding(node=arg, message=message)


def _message(event: CallEvent, version: str) -> Optional[str]:
    """What happens when this callee gets ``trainable=``, or None when it may accept it."""
    callee = event.callee
    if not is_keras_object(callee):
        return None
    kind = _callee_kind(callee)
    if kind is None:
        return None
    noun, keras_model = kind
    advice = _ADVICE[noun] + _TRAINING
    if keras_model and not event.symbolic:
        happens = by_keras_version(
            version,
            "Keras 2 raises TypeError.",
            "Keras 3 raises TypeError while building a model and silently ignores it on eager "
            "tensors, leaving the weights trainable.",
            "Keras 2 raises TypeError; Keras 3 raises TypeError on symbolic inputs and silently "
            "ignores it on eager tensors.",
        )
    else:
        versions = by_keras_version(version, "Keras 2", "Keras 3", "Keras 2 and 3")
        happens = f"the call raises TypeError ({versions})."
    return f"`trainable=` is not a call argument: {happens} {advice}"


def _callee_kind(callee: Obj) -> Optional[tuple[str, bool]]:
    """(``layer`` or ``model``, whether it is a functional/Sequential model) when the callee's call
    signature is known to reject ``trainable``, else None."""
    cls = callee.user_class
    if cls is not None:
        if "__call__" in cls.methods:
            return None
        call = cls.methods.get("call")
        if call is not None and accepts_keyword(call, "trainable"):
            return None
        return ("model" if cls.is_keras_model else "layer"), False
    if callee.kind == "layer":
        return "layer", False
    if callee.kind == "model":
        return ("model", True) if callee.origin in _KERAS_MODEL_ORIGINS else None
    ancestors = callee.ancestors()
    root = ancestors[-1] if ancestors else None
    if root is not None and root.kind == "model" and root.origin == "applications":
        return "layer", False
    return None
