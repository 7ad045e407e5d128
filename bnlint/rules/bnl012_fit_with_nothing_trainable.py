"""BNL012: a model frozen as a whole, compiled, then trained: no weight is updated."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Optional

from bnlint.diagnostics import Severity
from bnlint.facts.events import (
    CompileEvent,
    EscapeEvent,
    Event,
    Guard,
    TrainableEvent,
    TrainEvent,
)
from bnlint.facts.queries import may_follow, receiver_code
from bnlint.rules.base import Finding, Rule, RuleContext, RuleDoc


class FitWithNothingTrainable(Rule):
    """``M.trainable = False``, never re-enabled, then ``M.compile()`` and ``M.fit()``."""

    code = "BNL012"
    name = "fit-with-nothing-trainable"
    severity = Severity.WARNING
    summary = "training a model whose weights are all frozen"
    triggers = ("trainable",)
    reads_project = True
    doc = RuleDoc(
        what_it_does="""
Flags `M.fit()` / `fit_generator()` / `train_on_batch()` when `M.trainable = False` (or the same on
a model that contains M) was set before the last `M.compile()`, and neither M, a model containing
it, nor any of its layers was set trainable again.
When the target is Keras 3 (or both), also the GAN idiom without loop toggles:
`D.compile(); D.trainable = False; gan.compile()`, then `D.train_on_batch(...)` with no
`D.trainable = True` before it; and, when the target is Keras 3, any model frozen after its compile
and before its first training call.""",
        why_is_this_bad="""
`trainable = False` on a model freezes every weight it has. Compiling afterwards captures an empty
list of trainable weights, so `fit()` runs, prints losses and saves checkpoints, but no weight
changes: the time is spent for nothing, and the unchanged loss is easily mistaken for a data or
learning-rate problem. Usually only the pretrained base was meant to be frozen, not the whole
model.""",
        example="""
model = keras.Sequential([base, keras.layers.Dense(10)])
model.trainable = False
model.compile(optimizer="adam", loss="mse")
model.fit(x, y)""",
        use_instead="""
base.trainable = False              # freeze only the pretrained part
model = keras.Sequential([base, keras.layers.Dense(10)])
model.compile(optimizer="adam", loss="mse")
model.fit(x, y)""",
        fix_safety="No automatic fix: freeze only the part that must stay fixed, or set `trainable = True` before compile.",
        keras_versions="""
Keras 2 and 3: `trainable = False` on a model applies to all of its layers; after compile, fit
trains no weight. The GAN idiom (observed on tf_keras 2.21 and keras 3.15.1, TensorFlow and JAX):
Keras 2 trains D, because the state at D's compile decides; Keras 3 applies a change made after
compile and before the first training call, so D trains nothing (TensorFlow prints only "The model
does not have any trainable weights") and a GAN silently stops learning after a move to Keras 3.
Setting `D.trainable = True` before `D.train_on_batch` and `False` before `gan.train_on_batch`
works in both.""",
    )

    def check(self, context: RuleContext) -> Iterator[Finding]:
        reported: set[int] = set()
        for trace in context.facts.traces:
            events = trace.events
            for index, event in enumerate(events):
                if not isinstance(event, TrainEvent) or id(event.node) in reported:
                    continue
                if _frozen_before_compile(events, index, event) is not None:
                    reported.add(id(event.node))
                    yield Finding(node=event.node, message=self._message(context, event))
                    continue
                if context.keras_version == "2":
                    continue
                late = _frozen_after_compile(events, index, event)
                if late is not None and (late.gan is not None or context.keras_version == "3"):
                    reported.add(id(event.node))
                    yield Finding(node=event.node, message=self._late_message(context, event, late))

    @staticmethod
    def _message(context: RuleContext, train: TrainEvent) -> str:
        model = receiver_code(context.module, train.node) or "the model"
        return (
            f"`{model}` was set `trainable = False` before it was compiled, so `{model}.{train.method}()` "
            "updates no weight (Keras 2 and 3). Freeze only the layers or base model that must stay "
            "fixed, or set `trainable = True` before compiling."
        )

    @staticmethod
    def _late_message(context: RuleContext, train: TrainEvent, late: _LateFreeze) -> str:
        module = context.module
        model = receiver_code(module, train.node) or "the model"
        call = f"`{model}.{train.method}()`"
        if late.gan is None:
            return (
                f"`{model}` was set `trainable = False` after `{model}.compile()` and before its "
                f"first training call: Keras 3 applies the change, so {call} updates no weight. "
                f"Set `{model}.trainable = True` before training it, or freeze only the layers that "
                "must stay fixed and compile again."
            )
        gan = receiver_code(module, late.gan.node) or "the combined model"
        head = (
            f"`{model}` is frozen after its `compile()` (to build `{gan}`) and not made trainable "
            f"again before {call}: "
        )
        keras3 = 'Keras 3 applies the change and trains nothing of it (TensorFlow only prints "The model does not have any trainable weights"), so the GAN silently stops learning'
        if context.keras_version == "3":
            effect = f"{keras3}."
        else:
            effect = f"Keras 2 trains it (the state at compile decides); {keras3} after a move to Keras 3."
        return (
            f"{head}{effect} Set `{model}.trainable = True` before its training call and `False` "
            f"before `{gan}`'s: that works in Keras 2 and 3."
        )


def _frozen_before_compile(
    events: list[Event], index: int, train: TrainEvent
) -> Optional[TrainableEvent]:
    """The ``trainable = False`` over the trained model, still in force, set before its last compile."""
    model = train.model
    compiled: Optional[CompileEvent] = None
    for earlier in reversed(events[:index]):
        if isinstance(earlier, EscapeEvent) and any(
            obj.contains(model) or model.contains(obj) for obj in earlier.objects
        ):
            return None
        if isinstance(earlier, CompileEvent) and earlier.model is model and compiled is None:
            compiled = earlier
            continue
        if not isinstance(earlier, TrainableEvent):
            continue
        target = earlier.target
        if not (target.contains(model) or model.contains(target)):
            continue
        if earlier.value is not False or not target.contains(model):
            return None
        if compiled is None or not _same_branch(earlier, train):
            return None
        return earlier
    return None


@dataclass(frozen=True)
class _LateFreeze:
    """A freeze of the trained model after its compile: the change, and the compile of another
    model containing it that followed (the GAN idiom), if any."""

    freeze: TrainableEvent
    gan: Optional[CompileEvent]


def _frozen_after_compile(
    events: list[Event], index: int, train: TrainEvent
) -> Optional[_LateFreeze]:
    """``M.compile(); M.trainable = False; ...; M.fit()``: the freeze, still in force at this first
    training call of ``M`` since its compile (Keras 3 applies it; Keras 2 does not)."""
    model = train.model
    freeze: Optional[TrainableEvent] = None
    for position in range(index - 1, -1, -1):
        earlier = events[position]
        if not may_follow(earlier, train):
            continue
        if isinstance(earlier, EscapeEvent) and any(
            obj.contains(model) or model.contains(obj) for obj in earlier.objects
        ):
            return None
        if isinstance(earlier, TrainEvent) and earlier.model is model:
            return None  # not the first training call since the freeze or the compile
        if isinstance(earlier, TrainableEvent) and (
            earlier.target.contains(model) or model.contains(earlier.target)
        ):
            if (
                freeze is not None
                or earlier.value is not False
                or not earlier.target.contains(model)
            ):
                return None
            freeze = earlier
            continue
        if isinstance(earlier, CompileEvent) and earlier.model is model:
            if freeze is None:
                return None
            later = events[position + 1 : index]
            gan = next(
                (
                    e
                    for e in later
                    if isinstance(e, CompileEvent)
                    and e.model is not model
                    and e.model.contains(model)
                    and events.index(e) > events.index(freeze)
                ),
                None,
            )
            return _LateFreeze(freeze, gan)
    return None


def _same_branch(freeze: Event, train: Event) -> bool:
    """Whether every ``if`` the freeze depends on also holds where the model is trained."""
    if not freeze.conditional:
        return True
    outer: tuple[Guard, ...] = freeze.context.guards
    inner = train.context.guards
    if not outer or len(inner) < len(outer):
        return False
    return all(a.test is b.test and a.holds == b.holds for a, b in zip(outer, inner))
