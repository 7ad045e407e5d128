"""BNL011: compiling for fine-tuning with a learning rate meant for training from scratch."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Optional

import libcst as cst

from bnlint import keras_api
from bnlint.diagnostics import Severity
from bnlint.facts.events import CompileEvent, Event, TrainableEvent
from bnlint.facts.gradients import ANY_OWNER, GradientTargets
from bnlint.facts.objects import Const, Obj, Value
from bnlint.facts.queries import gan_idiom, may_follow, short_code
from bnlint.facts.results import Facts
from bnlint.facts.unfreezing import base_of_layers
from bnlint.rules.base import Finding, Rule, RuleContext, RuleDoc

#: Learning rates from which fine-tuning a pretrained network is considered too fast (the defaults).
HIGH_RATE: dict[str, float] = {
    **dict.fromkeys(("Adam", "AdamW", "Adamax", "Nadam", "Lamb", "Lion", "RMSprop"), 1e-3),
    "SGD": 1e-2,
}

#: The learning rate is changed after compile or per epoch: the compiled value may not be used.
_RATE_CHANGED_LATER = re.compile(
    r"LearningRateScheduler|set_value\s*\(|\.(?:lr|learning_rate)\s*(?:=(?!=)|\.assign\s*\()"
)


@dataclass(frozen=True)
class _Rate:
    """An optimizer's class name and learning rate, and whether that rate is its default."""

    optimizer: str
    value: float
    default: bool


class FinetuneHighLearningRate(Rule):
    """``compile`` after unfreezing a pretrained base, with a default or high learning rate."""

    code = "BNL011"
    name = "finetune-high-learning-rate"
    severity = Severity.INFO
    summary = "fine-tuning a pretrained base with a learning rate meant for training from scratch"
    triggers = ("trainable",)
    reads_project = True
    doc = RuleDoc(
        what_it_does="""
Flags the optimizer of a `compile()` that follows the unfreezing of a pretrained base model
(`keras.applications`, `load_model`, a `get_layer` of one, or its layers) when the learning rate is
the optimizer's default or a literal (or module-level constant) at least as high: Adam, AdamW,
Adamax, Nadam, Lamb, Lion and RMSprop from 1e-3, SGD from 1e-2. String optimizers (`"adam"`,
`"rmsprop"`, `"sgd"`, ...) count at their defaults. Silent when the rate is unknown (a parameter,
a config value, a schedule), when a `LearningRateScheduler` or a later assignment changes it, for
compiles before the unfreeze or after the base was frozen again (the GAN idiom), when only head
layers of the outer model were unfrozen, and when the compiled model's own `train_step` takes its
gradients for part of its weights only (`tape.gradient(loss, self.student.trainable_variables)` in
knowledge distillation: the optimizer never updates the pretrained teacher).""",
        why_is_this_bad="""
A pretrained network is already close to a good solution. Fine-tuning it with the learning rate
used to train a new head (Adam's 1e-3) makes large updates to weights that only needed small ones,
and the features learned on the large dataset are destroyed in the first epochs: validation
accuracy drops and overfitting follows. The Keras transfer-learning guide recompiles with a rate
about 100 times lower (1e-5) before fine-tuning.""",
        example="""
base.trainable = True
model.compile(optimizer="adam", loss="categorical_crossentropy")
model.fit(train_ds, epochs=10)""",
        use_instead="""
base.trainable = True
model.compile(optimizer=keras.optimizers.Adam(1e-5), loss="categorical_crossentropy")
model.fit(train_ds, epochs=10)""",
        fix_safety="No automatic fix: choose a lower learning rate (typically 10 to 100 times lower).",
        keras_versions="""
Keras 2 and 3 use the same default learning rates (Adam, RMSprop and the other adaptive optimizers
1e-3, SGD 1e-2), and strings such as `"adam"` create an optimizer with its default rate in both.""",
    )

    def check(self, context: RuleContext) -> Iterator[Finding]:
        if _RATE_CHANGED_LATER.search(context.source):
            return
        reported: set[int] = set()
        for trace in context.facts.traces:
            events = trace.events
            for index, event in enumerate(events):
                if (
                    not isinstance(event, CompileEvent)
                    or event.optimizer_arg is None
                    or id(event.optimizer_arg) in reported
                ):
                    continue
                rate = _rate(event.optimizer)
                if rate is None or rate.value < HIGH_RATE[rate.optimizer]:
                    continue
                base = _unfrozen_pretrained_base(events, index, event.model)
                if base is None or _own_train_step_updates_part(
                    context.facts, context.module, event.model
                ):
                    continue
                reported.add(id(event.optimizer_arg))
                yield Finding(
                    node=event.optimizer_arg, message=self._message(context, event, rate, base)
                )

    @staticmethod
    def _message(context: RuleContext, compile_event: CompileEvent, rate: _Rate, base: Obj) -> str:
        argument = short_code(context.module, compile_event.optimizer_arg.value)  # type: ignore[union-attr]
        default = f" ({rate.optimizer}'s default)" if rate.default else ""
        return (
            f"`{argument}` fine-tunes the unfrozen pretrained {base.label or 'base'} with learning rate "
            f"{rate.value:g}{default}, the rate for training from scratch (the same in Keras 2 and 3): "
            "large updates destroy the pretrained features. Use a rate 10 to 100 times lower, "
            f"e.g. `{rate.optimizer}(learning_rate=1e-5)`."
        )


def _rate(optimizer: Value) -> Optional[_Rate]:
    """The optimizer's class and learning rate when both are known, else None."""
    if isinstance(optimizer, Const) and isinstance(optimizer.value, str):
        name = keras_api.OPTIMIZER_STRINGS.get(optimizer.value.lower())
        if name in HIGH_RATE:
            return _Rate(name, keras_api.OPTIMIZER_DEFAULT_LR[name], default=True)
        return None
    if (
        isinstance(optimizer, Obj)
        and optimizer.kind == "optimizer"
        and optimizer.label in HIGH_RATE
        and optimizer.learning_rate_known
        and optimizer.learning_rate is not None
    ):
        default = optimizer.learning_rate == keras_api.OPTIMIZER_DEFAULT_LR.get(optimizer.label)
        return _Rate(optimizer.label, optimizer.learning_rate, default)
    return None


def _unfrozen_pretrained_base(events: list[Event], index: int, model: Obj) -> Optional[Obj]:
    """The pretrained base of ``model`` unfrozen before ``events[index]`` and not frozen again."""
    earlier = events[:index]
    for position, event in enumerate(earlier):
        if (
            not isinstance(event, TrainableEvent)
            or event.value is not True
            or not may_follow(event, events[index])
        ):
            continue
        target = event.target
        base = _pretrained_in(target)
        if base is None or not (model.contains(target) or target.contains(model)):
            continue
        if gan_idiom(events, base) or gan_idiom(events, target):
            continue
        if _frozen_again(earlier[position + 1 :], target):
            continue
        return base
    return None


def _own_train_step_updates_part(facts: Facts, module: cst.Module, model: Obj) -> bool:
    """Whether the compiled model's class has its own ``train_step`` whose tapes differentiate
    only other models' weights (``tape.gradient(loss, self.student.trainable_variables)`` in
    knowledge distillation): the optimizer then never touches the pretrained teacher."""
    cls = model.user_class
    if cls is None or "train_step" not in cls.methods:
        return False
    tapes = {
        id(tape): tape
        for trace in facts.traces
        for event in trace.events
        if event.context.class_name == cls.name and event.context.function == "train_step"
        for tape in event.context.tapes
    }
    gradients = GradientTargets(module, list(tapes.values()))
    for tape in tapes.values():
        owners = gradients.weight_owners(tape)
        if owners and "self" not in owners and ANY_OWNER not in owners:
            return True
    return False


def _pretrained_in(target: Obj) -> Optional[Obj]:
    """The pretrained model that unfreezing ``target`` unfreezes (all or part of), if any."""
    if target.kind == "part" and target.parent is not None and target.parent.graph_bases:
        base = base_of_layers(target)  # None when only head layers are reached
        return base if base is not None and base.pretrained else None
    if target.pretrained and target.kind in ("model", "part"):
        for candidate in (target, *target.ancestors()):
            if candidate.kind == "model" and candidate.pretrained:
                return candidate
        return None
    if target.kind == "model":
        for member in target.all_members():
            if member.kind in ("model", "part") and member.pretrained:
                return member
    return None


def _frozen_again(events: list[Event], target: Obj) -> bool:
    """Whether ``target`` (or a model containing it) is set to anything but True later."""
    return any(
        isinstance(event, TrainableEvent)
        and event.value is not True
        and event.target.contains(target)
        for event in events
    )
