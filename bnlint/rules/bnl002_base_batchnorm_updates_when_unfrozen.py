"""BNL002: a pretrained base in training mode inside an outer model, later unfrozen."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Optional

import libcst as cst

from bnlint import keras_api
from bnlint.diagnostics import Applicability, Severity
from bnlint.facts.events import (
    TRAINING_ABSENT,
    AddEvent,
    CallEvent,
    Event,
    GraphModelEvent,
    TrainableEvent,
)
from bnlint.facts.guards import GuardReader
from bnlint.facts.objects import Obj
from bnlint.facts.queries import short_code
from bnlint.facts.unfreezing import BatchnormUnfreezes, pretrained_with_batchnorm
from bnlint.fixes import BlockIndentation, add_keyword
from bnlint.rules.base import Finding, FixProposal, NodeEdit, Rule, RuleContext, RuleDoc


class BaseBatchnormUpdatesWhenUnfrozen(Rule):
    """A pretrained base used in training mode by an outer model, then unfrozen."""

    code = "BNL002"
    name = "base-batchnorm-updates-when-unfrozen"
    severity = Severity.ERROR
    summary = "unfrozen pretrained base runs its BatchNormalization in training mode"
    triggers = ("trainable",)
    reads_project = True
    fixable = Applicability.UNSAFE
    doc = RuleDoc(
        what_it_does="""
Flags a pretrained base model (from `keras.applications`, `load_model`, a `get_layer` of one, or an
alias or `self.` attribute of one) that is put into an outer model in training mode, as
`base(x)` without `training=`, `Sequential([base, ...])` or `model.add(base)`, or an outer
functional model built on the base's own graph (`Model(base.input, head(base.output))`, or Keras 1's
`Model(input=..., output=...)`, which holds the base's layers directly so that no `training=False` can
be passed; reported on the `base.output` the model is built from), when the base is unfrozen later: `base.trainable = True`, its layers set
trainable in a loop, or a loop over the outer model's layers that reaches the base's layers.
Not flagged: an unfreeze that leaves every BatchNormalization layer frozen (a loop that skips them
or freezes them again, one named layer that is not one), a base known to have no
BatchNormalization (VGG16, VGG19, ConvNeXt, a same-file model without one), a base that is never
unfrozen in the file, `outer.trainable = True` when nothing froze the outer model or the base (there
is nothing to unfreeze), and calls with an explicit `training=`.""",
        why_is_this_bad="""
While the base is frozen nothing happens. Once it is unfrozen for fine-tuning, its
BatchNormalization layers run in training mode during `fit()`: they normalise with the statistics
of each small batch and overwrite the moving mean and variance learned on ImageNet. Accuracy drops
at the start of fine-tuning and often never recovers. Observed: after unfreeze + recompile + fit,
52 of 52 BatchNormalization layers of MobileNetV2 changed their moving statistics.""",
        example="""
base = keras.applications.MobileNetV2(include_top=False)
base.trainable = False
inputs = keras.Input((224, 224, 3))
x = base(inputs)                      # training mode once unfrozen
outputs = keras.layers.Dense(10)(x)
model = keras.Model(inputs, outputs)
...
base.trainable = True""",
        use_instead="""
x = base(inputs, training=False)      # Keras 2: BN stays in inference mode
...
base.trainable = True
for layer in base.layers:             # works in Keras 2 and 3
    if isinstance(layer, keras.layers.BatchNormalization):
        layer.trainable = False""",
        fix_safety="""
Unsafe: `training=False` is added to the call (functional API only); it changes how the model
trains. In Keras 3, fit() overrides the recorded `training=False` (see BNL019), so there also freeze
the base's BatchNormalization layers after unfreezing.""",
        keras_versions="""
Keras 2 and 3: after unfreeze + recompile + fit, 52/52 BatchNormalization layers of MobileNetV2
overwrote their moving statistics. Keras 2: `base(x, training=False)` keeps them in inference mode
(none changed). Keras 3.0 to 3.15: fit() passes its own `training` and it wins over the recorded
value, so only `trainable = False` on the BatchNormalization layers works in both.
`outer.trainable = True` on an outer model that was never frozen sets every layer inside trainable,
a base frozen on its own included, in Keras 2 (tf_keras 2.21) and in Keras 3 on JAX; Keras 3 on
TensorFlow skips that setter and changes nothing (observed with keras 3.15.1), so with
`keras-version = "3"` it does not count as an unfreeze.""",
    )

    def check(self, context: RuleContext) -> Iterator[Finding]:
        facts = context.facts
        all_events = [event for trace in facts.traces for event in trace.events]
        indentation = BlockIndentation(context.module)
        unfreezes = BatchnormUnfreezes(
            context.module,
            GuardReader(context.module, facts.imports, keras_api.BATCHNORM_LAYERS),
            unchanged_setter_skipped=lambda: context.keras_version == "3",
        )
        for trace in facts.traces:
            for index, event in enumerate(trace.events):
                base = _base_in_training_mode(event)
                if base is None or base.has_batchnorm is False:
                    continue
                in_call_method = isinstance(event, CallEvent) and event.context.function == "call"
                events, start = (all_events, -1) if in_call_method else (trace.events, index)
                if unfreezes.unfrozen_after(events, start, base) is None:
                    continue
                if isinstance(event, GraphModelEvent):
                    yield Finding(node=event.node, message=self._graph_message(context, event))
                else:
                    yield self._finding(context, event, base, indentation)
        yield from self._built_elsewhere(context, unfreezes)

    def _built_elsewhere(
        self, context: RuleContext, unfreezes: BatchnormUnfreezes
    ) -> Iterator[Finding]:
        """A model built in another project file on a pretrained base's graph, unfrozen here: the
        finding needs this file's unfreeze, so it is reported on it (facts flow one way)."""
        reported: set[int] = set()
        for trace in context.facts.traces:
            for index, event in enumerate(trace.events):
                if not isinstance(event, TrainableEvent) or event.value is not True:
                    continue
                outer = _outer_model_from_summary(event.target)
                if outer is None or id(outer) in reported:
                    continue
                for base in outer.graph_bases:
                    if pretrained_with_batchnorm(base) and unfreezes.unfreezes(
                        event, base, trace.events[:index]
                    ):
                        if any(unfreezes.refreezes(e, base) for e in trace.events[index + 1 :]):
                            continue
                        reported.add(id(outer))
                        yield Finding(
                            node=event.node, message=self._elsewhere_message(context, outer, base)
                        )
                        break

    @staticmethod
    def _elsewhere_message(context: RuleContext, outer: Obj, base: Obj) -> str:
        return (
            f"This unfreezes the pretrained {base.label}'s BatchNormalization layers in a model "
            f"built on its graph in another file (`{outer.label}`), where no `training=False` can "
            "keep them in inference mode: during fit they use batch statistics and overwrite their "
            "moving statistics (Keras 2 and 3). Keep them frozen: `if not isinstance(layer, "
            "BatchNormalization): layer.trainable = True` (works in both)."
        )

    def _finding(
        self, context: RuleContext, event: Event, base: Obj, indentation: BlockIndentation
    ) -> Finding:
        module = context.module
        if isinstance(event, CallEvent):
            name = (
                short_code(module, event.node.func) if isinstance(event.node, cst.Call) else "base"
            )
            where = f"`{name}(...)` is called without `training=False`"
        else:
            name = short_code(module, event.node)
            where = f"`{name}` is added to the model in training mode"
        detail = {
            "2": "Pass `training=False` when calling the base so its BatchNormalization stays in inference mode.",
            "3": (
                "Keras 3 ignores a recorded `training=False` during fit (BNL019): after unfreezing, set "
                "`trainable = False` on the base's BatchNormalization layers."
            ),
        }.get(
            context.keras_version,
            "Call the base with `training=False` (Keras 2; Keras 3 ignores it during fit, see BNL019) and, "
            "to work in both, set `trainable = False` on its BatchNormalization layers after unfreezing.",
        )
        message = (
            f"Pretrained base {where} and is unfrozen later: its BatchNormalization layers will update "
            f"their moving statistics with batch statistics during fine-tuning. {detail}"
        )
        fix: Optional[FixProposal] = None
        if (
            isinstance(event, CallEvent)
            and isinstance(event.node, cst.Call)
            and not any(arg.star for arg in event.node.args)
        ):
            fixed = add_keyword(event.node, "training", "False")
            fix = FixProposal(
                Applicability.UNSAFE,
                "Call the base with `training=False`",
                (NodeEdit(event.node, indentation.code(fixed, event.statement)),),
            )
        return Finding(node=event.node, message=message, fix=fix)

    @staticmethod
    def _graph_message(context: RuleContext, event: GraphModelEvent) -> str:
        base = short_code(context.module, event.node)
        owner = base.rsplit(".", 1)[0]
        return (
            f"The model built on `{base}` holds the pretrained base's layers directly, so no "
            "`training=False` can keep them in inference mode: once the base is unfrozen, its "
            "BatchNormalization layers use batch statistics during fit and overwrite their moving "
            "statistics (Keras 2 and 3). After unfreezing, set `trainable = False` on its "
            f"BatchNormalization layers (works in both), or build the model by calling the base: "
            f"`x = {owner}(inputs, training=False)` (Keras 2; Keras 3 overrides it during fit, see "
            "BNL019)."
        )


def _base_in_training_mode(event: Event) -> Optional[Obj]:
    """The pretrained base this event puts into a model in training mode, if any."""
    if isinstance(event, GraphModelEvent):
        return event.base if _pretrained_model(event.base) else None
    if isinstance(event, CallEvent):
        callee = event.callee
        if event.training == TRAINING_ABSENT and event.symbolic and _pretrained_model(callee):
            return callee
    elif isinstance(event, AddEvent) and _pretrained_model(event.member):
        return event.member
    return None


def _outer_model_from_summary(target: Obj) -> Optional[Obj]:
    """The model built in another project file on a base's graph that a change applies to (the
    model itself, or layers taken out of it)."""
    for candidate in (target, *target.ancestors()):
        if candidate.contained is not None and candidate.graph_bases:
            return candidate
    return None


def _pretrained_model(obj: Obj) -> bool:
    return pretrained_with_batchnorm(obj)
