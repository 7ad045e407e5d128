"""BNL017: PyTorch's ``.eval()`` / ``.train()`` called on a Keras model or layer."""

from __future__ import annotations

from collections.abc import Iterator

from bnlint.diagnostics import Severity
from bnlint.facts.events import MethodCallEvent
from bnlint.facts.queries import (
    is_keras_object,
    receiver_code,
    short_code,
    torch_backend_possible,
)
from bnlint.rules.base import Finding, Rule, RuleContext, RuleDoc, by_keras_version

_INSTEAD = {
    "eval": "pass `training=False` when calling `{name}` (`predict()` and `evaluate()` already do)",
    "train": "train with `fit()`, or pass `training=True` when calling `{name}` in a custom loop",
}


class PytorchModeMethods(Rule):
    """``model.eval()`` / ``model.train()`` on a Keras object."""

    code = "BNL017"
    name = "pytorch-mode-methods"
    severity = Severity.ERROR
    summary = "Keras models have no `eval()` / `train()` mode switch"
    triggers = (".eval(", ".train(")
    doc = RuleDoc(
        what_it_does="""
Flags `.eval()` and `.train()` called on an object bnlint knows is a Keras model or layer: built
by a Keras constructor, `keras.applications`, `load_model`, taken out of such a model
(`model.layers[0]`, `model.get_layer(...)`), or an instance of a same-file Keras subclass that does
not define the method. TF1 `Tensor.eval()`, torch modules, Hugging Face `Trainer.train()`,
`tf.estimator` `.train()`, and classes that define the method are not flagged, nor is any file that
imports torch or sets `KERAS_BACKEND` to torch (there Keras 3 layers are torch modules).""",
        why_is_this_bad="""
`model.eval()` / `model.train()` are PyTorch's way to switch dropout and batch normalization between
inference and training. Keras has no such switch: the mode is the `training` argument of each call,
set by `fit()` (True) and `predict()` / `evaluate()` (False). The methods do not exist, so the line
raises AttributeError; code ported from PyTorch needs `training=` at the call instead.""",
        example="""
model.eval()
preds = model(x)""",
        use_instead="""
preds = model(x, training=False)   # or model.predict(x)""",
        fix_safety="No automatic fix: the `training` argument belongs to the calls that follow.",
        keras_versions="""
Keras 2, and Keras 3 on the TensorFlow and JAX backends: AttributeError (observed on tf_keras 2.21 and
keras 3.15.1). On Keras 3's torch backend layers are torch modules, so the methods exist, but they
only switch wrapped torch modules: Keras layers follow the `training` argument.""",
    )

    def check(self, context: RuleContext) -> Iterator[Finding]:
        if torch_backend_possible(context.facts.imports, context.source):
            return
        seen: set[int] = set()
        for _, _, event in context.facts.events(MethodCallEvent):
            method = event.method
            receiver = event.receiver
            if method not in _INSTEAD or id(event.node) in seen or not is_keras_object(receiver):
                continue
            if method in receiver.attrs:
                continue
            seen.add(id(event.node))
            name = receiver_code(context.module, event.node) or "model"
            happens = by_keras_version(
                context.keras_version,
                "it raises AttributeError",
                "it raises AttributeError on the TensorFlow and JAX backends",
                "it raises AttributeError (Keras 2, and Keras 3 on TensorFlow and JAX)",
            )
            yield Finding(
                node=event.node,
                message=(
                    f"`{short_code(context.module, event.node)}`: Keras models and layers have no "
                    f"`{method}()` method (that is PyTorch), so {happens}. Keras has no mode switch: "
                    f"{_INSTEAD[method].format(name=name)}."
                ),
            )
