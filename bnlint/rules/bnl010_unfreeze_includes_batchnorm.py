"""BNL010: a loop unfreezes the layers of a pretrained base, BatchNormalization layers included."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Optional

import libcst as cst

from bnlint import keras_api
from bnlint.diagnostics import Severity
from bnlint.facts.events import Event, TrainableEvent
from bnlint.facts.guards import GuardReader
from bnlint.facts.objects import Obj
from bnlint.facts.queries import short_code
from bnlint.rules.base import Finding, Rule, RuleContext, RuleDoc


class UnfreezeIncludesBatchnorm(Rule):
    """A loop sets ``layer.trainable = True`` over a pretrained base without skipping BatchNormalization."""

    code = "BNL010"
    name = "unfreeze-includes-batchnorm"
    severity = Severity.INFO
    summary = "unfreeze loop over a pretrained base also unfreezes its BatchNormalization layers"
    triggers = ("trainable",)
    doc = RuleDoc(
        what_it_does="""
Flags `layer.trainable = True` in a loop over the layers of a pretrained base model
(`keras.applications`, `load_model`, a `get_layer` of one) when BatchNormalization layers are not
skipped. What counts as skipping: `if not isinstance(layer, BatchNormalization)`,
`if isinstance(layer, BatchNormalization): continue` (also with a tuple of classes), an `else` of
`if isinstance(layer, BatchNormalization)`, `layer.trainable = not isinstance(layer, BatchNormalization)`,
or setting the BatchNormalization layers back to `trainable = False` afterwards. Name filters
such as `"bn" in layer.name` do not count. Loops that set `False`, loops over the head layers of the
outer model, and bases known to have no BatchNormalization (VGG16, VGG19) are not flagged.""",
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
MobileNetV2 changed after unfreezing). Keeping them at `trainable = False` works in both versions.""",
    )

    def check(self, context: RuleContext) -> Iterator[Finding]:
        facts = context.facts
        reader = GuardReader(context.module, facts.imports, keras_api.BATCHNORM_LAYERS)
        reported: set[int] = set()
        for trace in facts.traces:
            events = trace.events
            for index, event in enumerate(events):
                if (
                    not isinstance(event, TrainableEvent)
                    or event.value is not True
                    or id(event.node) in reported
                ):
                    continue
                base = _pretrained_base_of_loop_layer(event)
                subject = _subject(event)
                if base is None or subject is None or base.has_batchnorm is False:
                    continue
                if reader.reaches(event, subject, member=True) is not True:
                    continue
                if _batchnorm_refrozen(reader, events[index + 1 :], base):
                    continue
                reported.add(id(event.node))
                yield Finding(node=event.node, message=self._message(context, event, subject, base))

    @staticmethod
    def _message(
        context: RuleContext, event: TrainableEvent, subject: cst.BaseExpression, base: Obj
    ) -> str:
        name = short_code(context.module, subject)
        loop = event.context.loop
        over = (
            f"`{short_code(context.module, loop.iter)}`"
            if isinstance(loop, (cst.For, cst.CompFor))
            else f"pretrained `{base.label}`"
        )
        return (
            f"`{name}.trainable = True` in a loop over {over} also unfreezes the pretrained "
            "BatchNormalization layers; the Keras fine-tuning guide keeps them frozen (Keras 2 and 3). "
            f"Skip them: `if not isinstance({name}, BatchNormalization): {name}.trainable = True`."
        )


def _pretrained_base_of_loop_layer(event: TrainableEvent) -> Optional[Obj]:
    """The pretrained model whose layers this loop iterates, if the event's target is such a layer."""
    target = event.target
    if target.kind != "part" or event.context.loop is None or not target.pretrained:
        return None
    if not isinstance(target.node, (cst.For, cst.CompFor, cst.Subscript)):
        return None
    for ancestor in target.ancestors():
        if ancestor.kind == "model" and ancestor.pretrained:
            return ancestor
    return None


def _subject(event: TrainableEvent) -> Optional[cst.BaseExpression]:
    """``layer`` in ``layer.trainable = True``."""
    target = event.target_node
    return target.value if isinstance(target, cst.Attribute) else None


def _batchnorm_refrozen(reader: GuardReader, later: list[Event], base: Obj) -> bool:
    """A later ``trainable = False`` that only BatchNormalization layers of the base reach."""
    for event in later:
        if (
            isinstance(event, TrainableEvent)
            and event.value is False
            and event.target is not base
            and base.contains(event.target)
        ):
            subject = _subject(event)
            if subject is not None and reader.only_family(event, subject):
                return True
    return False
