"""BNL019: a ``training=`` recorded in a functional model, which Keras 3's fit/evaluate/predict override."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from bnlint import keras_api
from bnlint.diagnostics import Severity
from bnlint.facts.events import CallEvent, TrainableEvent
from bnlint.facts.guards import GuardReader
from bnlint.facts.intent import in_test_function, training_true_intended
from bnlint.facts.objects import Obj
from bnlint.facts.queries import short_code
from bnlint.facts.unfreezing import BatchnormUnfreezes, was_frozen
from bnlint.rules.base import Finding, Rule, RuleContext, RuleDoc


class Keras3RecordedTrainingOverridden(Rule):
    """``layer(x, training=...)`` recorded in a functional model, where it matters for Keras 3."""

    code = "BNL019"
    name = "keras3-recorded-training-overridden"
    severity = Severity.WARNING
    summary = "Keras 3 fit/evaluate/predict override a `training=` recorded in a functional model"
    triggers = ("training",)
    reads_project = True
    doc = RuleDoc(
        what_it_does="""
Flags a literal `training=` recorded while building a functional model (`layer(x, training=...)`
whose result flows into `keras.Model(inputs, outputs)`), when it matters: `training=False` on a
base that is unfrozen later so that some of its BatchNormalization layers become trainable, or
`training=True` where a comment or name declares Monte Carlo / intentional use (without that, the
keyword is BNL006's: one finding per keyword).
Not an unfreeze: a loop that skips the BatchNormalization layers or freezes them again (a frozen
BatchNormalization always runs in inference mode), one named layer that is not one, bases without
BatchNormalization (VGG, ConvNeXt), and `outer.trainable = True` on an outer model that was never
frozen (Keras 3 on TensorFlow skips a setter that changes nothing). Only when the target can be
Keras 3: silent for Keras 2, in files that import only `tf_keras`, and inside a subclassed model's
`call()`, which respects the argument.""",
        why_is_this_bad="""
Keras 3's fit(), evaluate() and predict() pass their own `training` to every layer, and it wins
over the recorded value. `base(x, training=False)` does not keep the base's BatchNormalization in
inference mode once the base is unfrozen: fine-tuning overwrites its moving statistics. A recorded
`Dropout(r)(x, training=True)` for Monte Carlo dropout is deterministic in predict().""",
        example="""
base = keras.applications.MobileNetV2(include_top=False)
inputs = keras.Input((224, 224, 3))
x = base(inputs, training=False)
model = keras.Model(inputs, keras.layers.Dense(10)(x))
base.trainable = True""",
        use_instead="""
x = base(inputs, training=False)   # still right for Keras 2
model = keras.Model(inputs, keras.layers.Dense(10)(x))
base.trainable = True
for layer in base.layers:          # what Keras 3 needs
    if isinstance(layer, keras.layers.BatchNormalization):
        layer.trainable = False""",
        fix_safety="No automatic fix: freeze the BatchNormalization layers, or use a subclassed model.",
        keras_versions="""
Keras 3.0 to 3.15 (observed on 3.15.1, TensorFlow and JAX backends): fit/evaluate/predict override
the recorded value; after unfreezing, 52/52 BatchNormalization layers of MobileNetV2 updated their
statistics despite `training=False`, and recorded Monte Carlo dropout was deterministic in predict().
Keras 2 respects the recorded value, so the rule is silent when targeting Keras 2.""",
    )

    def check(self, context: RuleContext) -> Iterator[Finding]:
        for finding in self._candidates(context):
            if context.keras_version == "2":  # read only when there is something to report
                return
            yield finding

    def _candidates(self, context: RuleContext) -> Iterator[Finding]:
        unfreezes = BatchnormUnfreezes(
            context.module,
            GuardReader(context.module, context.facts.imports, keras_api.BATCHNORM_LAYERS),
            unchanged_setter_skipped=True,
        )
        yield from self._built_elsewhere(context, unfreezes)
        functional = [m for m in context.facts.models if m.origin == "functional"]
        if not functional:
            return
        for trace in context.facts.traces:
            for index, event in enumerate(trace.events):
                if not isinstance(event, CallEvent):
                    continue
                arg = event.training_arg
                if (
                    event.training not in (True, False)
                    or arg is None
                    or arg.keyword is None
                    or not event.symbolic
                    or (event.context.class_name is not None and event.context.function == "call")
                    or in_test_function(event.context.functions)
                    or not any(event.callee in model.members for model in functional)
                ):
                    continue
                if event.training is True and not training_true_intended(event):
                    continue  # BNL006's finding: one finding per keyword
                if event.training is False and (
                    unfreezes.unfrozen_after(trace.events, index, event.callee) is None
                ):
                    continue
                yield Finding(node=arg, message=self._message(context, event))

    def _built_elsewhere(
        self, context: RuleContext, unfreezes: BatchnormUnfreezes
    ) -> Iterator[Finding]:
        """A model built in another project file with a base recorded as ``training=False``,
        unfrozen here: reported on the unfreeze (facts flow from the imported file to this one)."""
        for trace in context.facts.traces:
            for index, event in enumerate(trace.events):
                if not isinstance(event, TrainableEvent) or event.value is not True:
                    continue
                outer = event.target if event.target.kind != "part" else event.target.parent
                if outer is None or not outer.inference_bases:
                    continue
                earlier = trace.events[:index]
                if event.target is outer:
                    reached = was_frozen(outer, earlier, event)  # else Keras 3 on TF skips it
                else:
                    reached = event.target.span is None  # every layer, the base among them
                for base in outer.inference_bases:
                    if reached and not any(
                        unfreezes.refreezes(later, base) for later in trace.events[index + 1 :]
                    ):
                        yield Finding(
                            node=event.node, message=self._elsewhere_message(context, outer, base)
                        )
                        break

    @staticmethod
    def _elsewhere_message(context: RuleContext, outer: Obj, base: Obj) -> str:
        both = " (Keras 2 respects it)" if context.keras_version != "3" else ""
        return (
            f"This unfreezes the pretrained {base.label} that `{outer.label}` records with "
            f"`training=False` in another file: Keras 3 fit() overrides that recorded value, so its "
            f"BatchNormalization layers use batch statistics and overwrite their moving "
            f"statistics{both}. After unfreezing, set `trainable = False` on its "
            "BatchNormalization layers (works in Keras 2 and 3)."
        )

    @staticmethod
    def _message(context: RuleContext, event: CallEvent) -> str:
        call = event.node
        name = short_code(context.module, call.func) if isinstance(call, cst.Call) else "layer"
        both = context.keras_version != "3"
        if event.training is True:
            text = (
                f"Keras 3 fit(), evaluate() and predict() override this recorded `training=True` of "
                f"`{name}`: it runs in inference mode in predict() and evaluate(), so Monte Carlo "
                "sampling is deterministic"
            )
            advice = (
                "Call the model as `model(x, training=True)` or use a subclassed model whose "
                "call() passes `training=True`."
            )
        else:
            text = (
                f"Keras 3 fit() overrides this recorded `training=False` of `{name}`: once it is "
                "unfrozen its BatchNormalization layers use batch statistics and overwrite their "
                "moving statistics"
            )
            advice = (
                "After unfreezing, set `trainable = False` on its BatchNormalization layers "
                "(works in Keras 2 and 3), or use a subclassed model."
            )
        return f"{text}{' (Keras 2 respects it)' if both else ''}. {advice}"
