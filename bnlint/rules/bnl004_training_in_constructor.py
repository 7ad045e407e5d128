"""BNL004: ``training=`` passed to the constructor of a Keras layer or model."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Optional

from bnlint import keras_api
from bnlint.diagnostics import Severity
from bnlint.facts import Facts
from bnlint.facts.queries import accepts_keyword
from bnlint.facts.results import CallFact
from bnlint.facts.values import keyword, positional
from bnlint.rules.base import Finding, Rule, RuleContext, RuleDoc, by_keras_version

_ADVICE = "Pass it when calling instead: `{call}(x, training=False)`."


class TrainingInConstructor(Rule):
    """``BatchNormalization(training=False)``, ``Sequential(..., training=...)`` and the like."""

    code = "BNL004"
    name = "training-in-constructor"
    severity = Severity.ERROR
    summary = "`training` is a call argument, not a constructor argument"
    triggers = ("training",)
    doc = RuleDoc(
        what_it_does="""
Flags `training=` passed to the constructor of a Keras layer or model:
`BatchNormalization(training=False)`, `Dropout(0.5, training=True)`, `Sequential(..., training=...)`,
`Input(..., training=...)`, `keras.Model(inputs, outputs, training=...)`, a `keras.applications`
constructor, or a same-file Keras subclass whose `__init__` takes no `training` argument.
User factory functions with a `training` parameter, TF1 `tf.layers.batch_normalization(x, training=...)`
and TensorFlow Probability bijectors are not Keras constructors and are not flagged.""",
        why_is_this_bad="""
`training` selects the mode of one call (batch statistics and dropout on, or off); it is an argument
of `layer(x, training=...)`, not of the constructor. Keras rejects it when the object is created,
except Keras 3's functional `keras.Model(inputs, outputs, training=...)`, which silently drops it, so
the intended inference mode is never applied.""",
        example="""
x = layers.BatchNormalization(training=False)(x)
model = keras.Model(inputs, outputs, training=False)""",
        use_instead="""
x = layers.BatchNormalization()(x, training=False)
model = keras.Model(inputs, outputs)""",
        fix_safety="No automatic fix: where `training` belongs depends on the intent.",
        keras_versions="""
Keras 2 and 3: layers, `Sequential`, `Input` and applications raise TypeError or ValueError at
construction (observed on tf_keras 2.21 and keras 3.15.1). `keras.Model(inputs, outputs,
training=...)`: Keras 2 raises TypeError; Keras 3 silently ignores the argument.""",
    )

    def check(self, context: RuleContext) -> Iterator[Finding]:
        for call in context.facts.calls:
            arg = keyword(call.node, "training")
            if arg is None:
                continue
            message = _message(call, context.facts, context.keras_version)
            if message is not None:
                yield Finding(node=arg, message=message)


def _message(call: CallFact, facts: Facts, version: str) -> Optional[str]:
    """What happens for this constructor, or None when it is not known to reject ``training``."""
    canonical = call.canonical
    if canonical == "keras.Model":
        if _is_functional(call):
            happens = by_keras_version(
                version,
                "Keras 2 raises TypeError when the model is created.",
                "Keras 3 silently ignores it, so the mode it was meant to set is never applied.",
                "Keras 2 raises TypeError when the model is created; Keras 3 silently ignores it.",
            )
            return (
                f"`training=` is not an argument of `keras.Model(...)`: {happens} "
                "Pass it when calling the model or its layers: `model(x, training=False)`."
            )
        return _rejected("keras.Model", "model", version)
    layer = keras_api.layer_class(canonical)
    if layer is not None:
        return _rejected(layer, "layer", version)
    if canonical in ("keras.Sequential", "keras.Input"):
        return _rejected(canonical.split(".")[-1], "model", version)
    application = keras_api.application_name(canonical)
    if application in keras_api.APPLICATIONS:
        return _rejected(str(application), "model", version)
    if canonical.startswith("user:"):
        return _user_class_message(canonical[len("user:") :], facts)
    return None


def _is_functional(call: CallFact) -> bool:
    """Whether ``keras.Model(...)`` gets inputs and outputs (Keras 3 builds a functional model)."""
    node = call.node
    has_outputs = keyword(node, "outputs") is not None
    if positional(node, 1) is not None:
        return True
    if positional(node, 0) is not None:
        return has_outputs
    return keyword(node, "inputs") is not None and has_outputs


def _rejected(name: str, kind: str, version: str) -> str:
    versions = by_keras_version(version, "Keras 2", "Keras 3", "Keras 2 and 3")
    call = "Input" if name == "Input" else kind
    advice = (
        "Pass `training=` when calling the layers that use the input."
        if name == "Input"
        else _ADVICE.format(call=call)
    )
    return (
        f"`training=` is not a constructor argument: `{name}(...)` raises TypeError or ValueError "
        f"when it is created ({versions}). {advice}"
    )


def _user_class_message(name: str, facts: Facts) -> Optional[str]:
    """Same-file Keras subclasses: only when their constructor cannot take ``training``."""
    classes = [cls for cls in facts.classes if cls.name == name]
    if len(classes) != 1:
        return None
    cls = classes[0]
    if not cls.is_keras or not cls.bases_known:
        return None
    init = cls.methods.get("__init__")
    if init is not None and accepts_keyword(init, "training"):
        return None
    where = f"`{name}.__init__` has no `training` parameter" if init is not None else None
    where = where or f"`{name}` inherits a Keras constructor, which rejects `training`"
    kind = "model" if cls.is_keras_model else "layer"
    return (
        f"`training=` is not a constructor argument: {where}, so creating it raises an error. "
        + _ADVICE.format(call=kind)
    )
