"""BNL009: layers of a frozen model set ``trainable = True`` while the model itself stays frozen."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Optional

from bnlint.diagnostics import Severity
from bnlint.facts.events import (
    AddEvent,
    CallEvent,
    CompileEvent,
    EscapeEvent,
    Event,
    TrainableEvent,
    TrainEvent,
)
from bnlint.facts.objects import Obj
from bnlint.facts.queries import may_follow, short_code
from bnlint.rules.base import Finding, Rule, RuleContext, RuleDoc, by_keras_version


class PartialUnfreezeUnderFrozenParent(Rule):
    """``P.trainable = False``, then layers of P set ``trainable = True`` with P still frozen."""

    code = "BNL009"
    name = "partial-unfreeze-under-frozen-parent"
    severity = Severity.WARNING
    summary = "layers unfrozen inside a model that is still frozen"
    triggers = ("trainable",)
    reads_project = True
    doc = RuleDoc(
        what_it_does="""
Flags `layer.trainable = True` on layers taken out of a model P (`P.layers[i]`, a loop over
`P.layers`, `P.get_layer(...)`) after `P.trainable = False`, when P itself is not set back to
`trainable = True` in between and P is itself a layer of what gets trained (called on inputs,
in a `Sequential`, added with `add()`, compiled or trained). A model built from `P.input` /
`P.output` holds P's layers directly, not P, so there the unfrozen layers do train and nothing is
reported. A freeze and an unfreeze in the two arms of one `if`/`else` do not follow each other.
Setting P back to `trainable = True` right after its layers, before any model is compiled or
trained, is silent too: P's setter makes every layer inside trainable (Keras 2 and 3), so the order
of the two changes never shows.""",
        why_is_this_bad="""
Unfreezing "the top 20 layers" of a frozen base model this way does not do what it says. In Keras 2
the frozen parent wins: the model's `trainable = False` still excludes every one of its layers, so
fine-tuning trains nothing of the base. Keras 3 trains the unfrozen layers, but
`P.trainable_weights` reports none of them, which confuses anything that inspects it. The same code
therefore behaves differently across versions.""",
        example="""
base.trainable = False
...
for layer in base.layers[-20:]:
    layer.trainable = True          # base itself is still frozen""",
        use_instead="""
base.trainable = True               # unfreeze the parent first
for layer in base.layers[:-20]:
    layer.trainable = False         # then freeze what must stay frozen""",
        fix_safety="No automatic fix: set `P.trainable = True` first, then freeze the layers that must stay frozen.",
        keras_versions="""
Keras 2 (tf.keras up to TF 2.15, tf_keras): none of the unfrozen layers is trained, the frozen parent
wins. Keras 3: they are trained, but `P.trainable_weights` reports none of them.""",
    )

    def check(self, context: RuleContext) -> Iterator[Finding]:
        reported: set[int] = set()
        all_events = [event for trace in context.facts.traces for event in trace.events]
        for trace in context.facts.traces:
            events = trace.events
            for index, event in enumerate(events):
                if not isinstance(event, TrainableEvent) or event.value is not True:
                    continue
                if id(event.node) in reported:
                    continue
                parent = _frozen_parent(events, index, event.target)
                if (
                    parent is not None
                    and _flag_matters(parent.target, all_events)
                    and not _reenabled_before_use(events, index, parent.target)
                ):
                    reported.add(id(event.node))
                    yield Finding(node=event.node, message=self._message(context, event, parent))

    @staticmethod
    def _message(context: RuleContext, change: TrainableEvent, freeze: TrainableEvent) -> str:
        module = context.module
        parent = (
            short_code(module, freeze.target_node.value)
            if freeze.target_node is not None
            else "the model"
        )
        detail = by_keras_version(
            context.keras_version,
            "Keras 2 trains none of them: the frozen parent wins.",
            f"Keras 3 trains them, but `{parent}.trainable_weights` reports none of them.",
            "Keras 2 trains none of them (the frozen parent wins); Keras 3 trains them but "
            f"`{parent}.trainable_weights` reports none.",
        )
        return (
            f"Layers of `{parent}` are set trainable while `{parent}.trainable` is still False: "
            f"{detail} Set `{parent}.trainable = True` first, then freeze the layers that must stay "
            "frozen."
        )


def _flag_matters(parent: Obj, events: list[Event]) -> bool:
    """Whether the parent itself is a layer of what gets trained, so its own flag counts.

    A model built from ``P.input`` / ``P.output`` holds P's layers directly, not P: there a frozen P
    does not stop the unfrozen layers from training. P counts when it is called as a layer, added to a
    model, compiled or trained itself, or taken out of another model.
    """
    if parent.kind == "part":
        return True
    return any(
        (isinstance(event, CallEvent) and event.callee is parent)
        or (isinstance(event, AddEvent) and event.member is parent)
        or (isinstance(event, (CompileEvent, TrainEvent)) and event.model is parent)
        for event in events
    )


def _reenabled_before_use(events: list[Event], index: int, parent: Obj) -> bool:
    """Whether ``parent.trainable = True`` follows the child's change, unconditionally, before any
    model is compiled or trained: the setter sets every layer inside trainable (Keras 2 and 3), so
    the order of the two changes never shows."""
    change = events[index]
    for later in events[index + 1 :]:
        if isinstance(later, (CompileEvent, TrainEvent)):
            return False
        if (
            isinstance(later, TrainableEvent)
            and later.value is True
            and later.target.contains(parent)
            and not later.conditional
            and may_follow(change, later)
        ):
            return True
    return False


def _frozen_parent(events: list[Event], index: int, child: Obj) -> Optional[TrainableEvent]:
    """The latest ``P.trainable = False`` still in force over ``child``, a layer taken out of P."""
    if child.kind != "part":
        return None
    parents = child.ancestors()
    change = events[index]
    for earlier in reversed(events[:index]):
        if not may_follow(earlier, change):
            continue
        if isinstance(earlier, EscapeEvent) and any(
            obj.contains(parent) for obj in earlier.objects for parent in parents
        ):
            return None
        if not isinstance(earlier, TrainableEvent):
            continue
        target = earlier.target
        if target is child:
            continue
        if target in parents and earlier.value is False:
            return earlier
        if any(target.contains(parent) for parent in parents):
            return None
    return None
