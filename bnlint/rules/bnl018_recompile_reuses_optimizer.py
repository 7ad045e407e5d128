"""BNL018: recompiling after a ``trainable`` change with the optimizer that already trained the model."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Optional

import libcst as cst

from bnlint.diagnostics import Severity
from bnlint.facts.events import CompileEvent, Event, TrainableEvent, TrainEvent
from bnlint.facts.objects import Obj, OptimizerOf, Value
from bnlint.facts.queries import receiver_code, short_code
from bnlint.rules.base import Finding, Rule, RuleContext, RuleDoc, by_keras_version


class RecompileReusesOptimizer(Rule):
    """``M.compile(optimizer=M.optimizer)`` (or the same optimizer object) after training and a change."""

    code = "BNL018"
    name = "recompile-reuses-optimizer"
    severity = Severity.ERROR
    summary = "recompiling with an optimizer built for a different set of trainable weights"
    triggers = ("trainable",)
    doc = RuleDoc(
        what_it_does="""
Flags the optimizer argument of `M.compile()` when it is `M.optimizer`, or the same optimizer object
an earlier `compile()` of M used, once M has been trained (`fit`, `fit_generator`,
`train_on_batch`) and then a `trainable` flag of M or of one of its layers was changed.""",
        why_is_this_bad="""
An optimizer creates its state (momentum, Adam moments) for the variables it was first applied to.
After unfreezing or freezing layers the model has a different list of trainable variables, and the
old optimizer does not know the new ones: the next `fit()` crashes. Recompiling after a `trainable`
change needs a new optimizer instance.""",
        example="""
model.compile(optimizer=opt, loss="mse")
model.fit(x, y)
base.trainable = True
model.compile(optimizer=model.optimizer, loss="mse")""",
        use_instead="""
model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
model.fit(x, y)
base.trainable = True
model.compile(optimizer=keras.optimizers.Adam(1e-5), loss="mse")  # a new optimizer""",
        fix_safety="No automatic fix: create a new optimizer instance for the new compile.",
        keras_versions="""
Keras 2 (tf_keras 2.21): `KeyError: The optimizer cannot recognize variable ...`. Keras 3:
`Unknown variable` on TensorFlow, `optimizer_variables must be a list ... corresponding 1:1` on
JAX. Legacy optimizers (`keras.optimizers.legacy.*`), which create their slots lazily, are not
flagged, nor is multi-backend Keras (2.3 and older: the project pins standalone `keras` below 2.4 or
the file imports its backend modules), where the crash was not observed.""",
    )

    def check(self, context: RuleContext) -> Iterator[Finding]:
        reported: set[int] = set()
        for trace in context.facts.traces:
            for event in _reused_optimizer_compiles(context.module, trace.events):
                arg = event.optimizer_arg
                if context.multi_backend_keras:
                    return  # multi-backend Keras (2.3 and older): the crash was seen on tf.keras only
                if arg is not None and id(arg) not in reported:
                    reported.add(id(arg))
                    yield Finding(node=arg, message=self._message(context, event))

    @staticmethod
    def _message(context: RuleContext, compile_event: CompileEvent) -> str:
        argument = short_code(context.module, compile_event.optimizer_arg.value)  # type: ignore[union-attr]
        model = receiver_code(context.module, compile_event.node) or "the model"
        crash = by_keras_version(
            context.keras_version,
            "Keras 2 raises `KeyError: The optimizer cannot recognize variable`.",
            "Keras 3 raises `Unknown variable` (TensorFlow) or `optimizer_variables ... 1:1` (JAX).",
            "Keras 2 raises `KeyError: The optimizer cannot recognize variable`; Keras 3 raises "
            "`Unknown variable` (TensorFlow) or `optimizer_variables ... 1:1` (JAX).",
        )
        return (
            f"`{argument}` already trained `{model}` before its trainable weights changed, so the next "
            f"fit crashes: {crash} Pass a new optimizer instance to `compile()`."
        )


def _reused_optimizer_compiles(module: cst.Module, events: list[Event]) -> Iterator[CompileEvent]:
    """Compiles of a model with an optimizer that trained it before its trainable weights changed.

    One pass in order: which optimizer each model is compiled with (``M.optimizer`` is the one of
    M's latest compile), which optimizers have trained which model, and whether a ``trainable``
    change of that model followed.
    """
    models: dict[int, Obj] = {}
    current: dict[int, object] = {}
    changed: dict[tuple[int, int], bool] = {}
    for event in events:
        if isinstance(event, CompileEvent):
            model = event.model
            optimizer = _optimizer_identity(module, event, current)
            if optimizer is not None and changed.get((id(model), id(optimizer))):
                yield event
            models[id(model)] = model
            current[id(model)] = optimizer if optimizer is not None else event
        elif isinstance(event, TrainEvent) and id(event.model) in current:
            changed.setdefault((id(event.model), id(current[id(event.model)])), False)
        elif isinstance(event, TrainableEvent) and event.value is not None:
            target = event.target
            for key in changed:
                model = models[key[0]]
                if model.contains(target) or target.contains(model):
                    changed[key] = True


def _optimizer_identity(
    module: cst.Module, event: CompileEvent, current: dict[int, object]
) -> Optional[object]:
    """The optimizer object a compile uses (None when not a known, non-legacy optimizer)."""
    optimizer: Value = event.optimizer
    if isinstance(optimizer, OptimizerOf):
        found = current.get(id(optimizer.model))
        if optimizer.model is not event.model or found is None:
            return None
        return None if isinstance(found, Obj) and _is_legacy(module, found) else found
    if isinstance(optimizer, Obj) and optimizer.kind == "optimizer":
        return None if _is_legacy(module, optimizer) else optimizer
    return None


def _is_legacy(module: cst.Module, optimizer: Obj) -> bool:
    """``keras.optimizers.legacy.Adam(...)``: slots are created lazily, reuse does not crash."""
    node = optimizer.node
    return isinstance(node, cst.Call) and "legacy" in module.code_for_node(node.func)
