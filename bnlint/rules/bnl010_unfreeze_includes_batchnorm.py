"""BNL010: a loop unfreezes the layers of a pretrained base, BatchNormalization layers included."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Optional

import libcst as cst

from bnlint import keras_api
from bnlint.diagnostics import Severity
from bnlint.facts.events import CallEvent, Event, MethodCallEvent, TrainableEvent
from bnlint.facts.guards import GuardReader
from bnlint.facts.objects import Obj
from bnlint.facts.queries import short_code
from bnlint.facts.unfreezing import (
    BatchnormUnfreezes,
    base_of_layers,
    pretrained_with_batchnorm,
)
from bnlint.rules.base import Finding, Rule, RuleContext, RuleDoc


class UnfreezeIncludesBatchnorm(Rule):
    """A loop sets ``layer.trainable = True`` over a pretrained base without skipping BatchNormalization."""

    code = "BNL010"
    name = "unfreeze-includes-batchnorm"
    severity = Severity.INFO
    summary = "unfreeze loop over a pretrained base also unfreezes its BatchNormalization layers"
    triggers = ("trainable",)
    reads_project = True
    doc = RuleDoc(
        what_it_does="""
Flags `layer.trainable = True` in a loop over the layers of a pretrained base model
(`keras.applications`, `load_model`, a `get_layer` of one, a model whose weights were loaded with
`load_weights` before the loop) when BatchNormalization layers are not skipped. The layers of an outer
functional model built on the base's graph (`Model(base.input, head(base.output))`) are the base's
layers too (also when written with Keras 1's `Model(input=..., output=...)` keywords), and index loops
count: `for i in range(len(model.layers)): model.layers[i].trainable = True`, and loops counting from
the end such as `for i in range(-25, 0)`. Slices that reach only the head layers added after the base (`model.layers[-2:]` over a
two-layer head) are silent. What counts as skipping: `if not isinstance(layer, BatchNormalization)`,
`if isinstance(layer, BatchNormalization): continue` (also with a tuple of classes), an `else` of
`if isinstance(layer, BatchNormalization)`, `layer.trainable = not isinstance(layer, BatchNormalization)`,
or setting the BatchNormalization layers back to `trainable = False` afterwards. Name filters
such as `"bn" in layer.name` do not count. Loops that set `False`, loops over the head layers of the
outer model, and bases known to have no BatchNormalization (VGG16, VGG19, ConvNeXt) are not flagged.
When the base is called with `training=False`, the unfrozen BatchNormalization layers stay in
inference mode in Keras 2 (the Keras guide's recipe): silent when targeting Keras 2.""",
        why_is_this_bad="""
The Keras fine-tuning guide keeps BatchNormalization layers frozen when unfreezing a pretrained
network. A trainable BatchNormalization layer learns new scale and offset from small fine-tuning
batches, and, where the base runs in training mode, also overwrites the moving mean and variance
learned on ImageNet, which often wipes out what the pretrained model had learned.""",
        example="""
for layer in base.layers[-20:]:
    layer.trainable = True""",
        use_instead="""
for layer in base.layers[-20:]:
    if not isinstance(layer, keras.layers.BatchNormalization):
        layer.trainable = True""",
        fix_safety="No automatic fix: skip BatchNormalization layers in the loop.",
        keras_versions="""
Keras 2 and 3 alike: a trainable BatchNormalization layer updates its gamma and beta; in training
mode it also replaces its moving statistics (observed: 52/52 BatchNormalization layers of
MobileNetV2 changed after unfreezing). Keeping them at `trainable = False` works in both versions.
Keras 2 keeps a base called with `training=False` in inference mode even when unfrozen; Keras 3
overrides that recorded value during fit (BNL019), so there the loop still matters.""",
    )

    def check(self, context: RuleContext) -> Iterator[Finding]:
        facts = context.facts
        reader = GuardReader(context.module, facts.imports, keras_api.BATCHNORM_LAYERS)
        unfreezes = BatchnormUnfreezes(
            context.module, reader, unchanged_setter_skipped=lambda: context.keras_version == "3"
        )
        calls = [event for _, _, event in facts.events(CallEvent)]
        reported: set[int] = set()
        for trace in facts.traces:
            events = trace.events
            for index, event in enumerate(events):
                if (
                    not isinstance(event, TrainableEvent)
                    or event.value is not True
                    or id(event.node) in reported
                    or not _in_layer_loop(event)
                ):
                    continue
                base = _pretrained_base(event, events[:index])
                if base is None or not unfreezes.unfreezes(event, base):
                    continue
                if any(unfreezes.refreezes(later, base) for later in events[index + 1 :]):
                    continue
                kept_in_inference = _called_with_training_false(calls, base)
                if kept_in_inference and context.keras_version == "2":
                    continue
                reported.add(id(event.node))
                yield Finding(
                    node=event.node,
                    message=self._message(context, event, base, kept_in_inference),
                )

    @staticmethod
    def _message(
        context: RuleContext, event: TrainableEvent, base: Obj, kept_in_inference: bool
    ) -> str:
        target = event.target_node
        if target is None and isinstance(event.node, cst.Call):
            return (
                f"`{short_code(context.module, event.node)}` sets `trainable = True` on layers of "
                f"the pretrained {base.label} without skipping its BatchNormalization layers; the "
                "Keras fine-tuning guide keeps them frozen (Keras 2 and 3). Skip them in the "
                "helper: `if not isinstance(layer, BatchNormalization): layer.trainable = True`."
            )
        name = (
            short_code(context.module, target.value)
            if isinstance(target, cst.Attribute)
            else "layer"
        )
        loop = event.context.loop
        over = (
            f"`{short_code(context.module, loop.iter)}`"
            if isinstance(loop, (cst.For, cst.CompFor))
            else "the layers"
        )
        outer = event.target.parent
        whose = (
            f" (the model is built on the graph of the pretrained {base.label})"
            if outer is not None and base in outer.graph_bases
            else ""
        )
        recorded = (
            " Keras 3 overrides the base's recorded `training=False` during fit (BNL019), so they "
            "also use batch statistics and overwrite their moving statistics there."
            if kept_in_inference
            else ""
        )
        return (
            f"`{name}.trainable = True` in a loop over {over}{whose} also unfreezes the pretrained "
            "BatchNormalization layers; the Keras fine-tuning guide keeps them frozen (Keras 2 and "
            f"3).{recorded} Skip them: `if not isinstance({name}, BatchNormalization): "
            f"{name}.trainable = True`."
        )


def _in_layer_loop(event: TrainableEvent) -> bool:
    """Whether the change applies to layers taken out of a layer list by a loop or index range."""
    target = event.target
    if target.kind != "part":
        return False
    if event.over_layers:
        return True  # a helper of another project file loops over them
    return event.context.loop is not None and isinstance(
        target.node, (cst.For, cst.CompFor, cst.Subscript)
    )


def _pretrained_base(event: TrainableEvent, earlier: list[Event]) -> Optional[Obj]:
    """The pretrained model whose own layers the loop reaches: an application or loaded model, or
    one whose weights were loaded (``load_weights``) before the loop and that is seen to contain
    BatchNormalization."""
    base = base_of_layers(event.target)
    if base is None:
        return None
    if base.pretrained and base.kind in ("model", "part"):
        return base
    loaded = any(
        isinstance(e, MethodCallEvent)
        and e.method == "load_weights"
        and (e.receiver is base or e.receiver.contains(base) or base.contains(e.receiver))
        for e in earlier
    )
    return base if loaded and pretrained_with_batchnorm(base) else None


def _called_with_training_false(calls: list[CallEvent], base: Obj) -> bool:
    """Whether the base is put into its model with ``training=False`` recorded."""
    return any(event.callee is base and event.training is False for event in calls)
