"""BNL001: ``trainable`` changed after ``compile()``, then training without compiling again."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Optional

import libcst as cst

from bnlint.diagnostics import Severity
from bnlint.facts.events import CompileEvent, EscapeEvent, Event, TrainableEvent, TrainEvent
from bnlint.facts.queries import (
    may_follow,
    receiver_code,
    report_node,
    short_code,
    state_when_compiled,
    trained_between,
)
from bnlint.rules.base import Finding, Rule, RuleContext, RuleDoc


class TrainableAfterCompile(Rule):
    """``X.trainable = v`` after ``M.compile()``, where X is M or part of M, then ``M.fit()``."""

    code = "BNL001"
    name = "trainable-after-compile"
    severity = Severity.ERROR
    summary = "`trainable` changed after `compile()` and before training, with no new `compile()`"
    triggers = ("trainable",)
    reads_project = True
    doc = RuleDoc(
        what_it_does="""
Flags `X.trainable = ...` that happens after `M.compile(...)` (or after `load_model(...)`, which
compiles), where X is M or part of M (`M.layers[i]`, a loop over `M.layers`, `M.get_layer(...)`, a base
model called or listed while building M, an alias), when `M.fit()` / `fit_generator()` /
`train_on_batch()` follows with no `compile()` of M in between, and the change is lost: the new
value differs from the state the next training call's model was compiled with. A change made inside
a helper (`make_trainable(D, False)`, `freeze_all(model)`) is reported on the call of the helper.
Not flagged: the toggles of a GAN loop (`D.trainable = True` before `D.train_on_batch`, `False`
before `gan.train_on_batch`: each sets the state its model was compiled with), a compile (of M or
of another model containing X, the GAN idiom) before training, a call of an unknown function that
receives the model, and a change and a fit in the two arms of one `if`/`else`.""",
        why_is_this_bad="""
`compile()` captures which weights are trainable. Changing `trainable` afterwards looks like it
worked, `summary()` and `trainable_weights` show the new flags, but training does not follow
it: in Keras 2 the change is ignored until `compile()` is called again, so a "frozen" base keeps
training (or an "unfrozen" one stays frozen). Keras 3 applies the change only if no `fit()` ran
since `compile()`; after a fit it is ignored on TensorFlow and crashes on JAX.""",
        example="""
model.compile(optimizer="adam", loss="mse")
model.fit(x, y)
base.trainable = True          # ignored by the next fit
model.fit(x, y)""",
        use_instead="""
model.compile(optimizer="adam", loss="mse")
model.fit(x, y)
base.trainable = True
model.compile(optimizer=keras.optimizers.Adam(1e-5), loss="mse")  # a new optimizer instance
model.fit(x, y)""",
        fix_safety="No automatic fix: call `compile()` again after changing `trainable`, with a new optimizer instance.",
        keras_versions="""
Keras 2 (tf.keras up to TF 2.15, tf_keras): the change is ignored during fit until compile is called
again, always (even before the first fit, even eagerly). Keras 3: applied if no fit ran since
compile; after a fit, ignored on the TensorFlow backend and a crash on JAX (`optimizer_variables must
be a list ... corresponding 1:1`). With `keras-version = "3"`, a change before the first fit is not
reported (a whole model frozen so is BNL012's). GAN loop toggles do nothing in Keras 2 and are
needed in Keras 3 (see BNL012), so they are correct code in both.""",
    )

    def check(self, context: RuleContext) -> Iterator[Finding]:
        reported: set[int] = set()
        for trace in context.facts.traces:
            events = trace.events
            for index, event in enumerate(events):
                if isinstance(event, TrainableEvent) and event.value is not None:
                    finding = self._check_change(context, events, index, event)
                    if finding is not None and id(finding.node) not in reported:
                        reported.add(id(finding.node))
                        yield finding

    def _check_change(
        self, context: RuleContext, events: list[Event], index: int, change: TrainableEvent
    ) -> Optional[Finding]:
        target = change.target
        compiled = {
            id(e.model): e
            for e in events[:index]
            if isinstance(e, CompileEvent) and e.model.contains(target) and may_follow(e, change)
        }
        if not compiled:
            return None
        for later in events[index + 1 :]:
            if not may_follow(change, later):
                continue
            if isinstance(later, CompileEvent) and later.model.contains(target):
                return None
            if (
                isinstance(later, TrainableEvent)
                and later.value is not None
                and (later.target.contains(target))
            ):
                return None  # a later change decides the state from here on
            if isinstance(later, EscapeEvent) and any(
                obj.contains(target) or id(obj) in compiled for obj in later.objects
            ):
                return None
            if isinstance(later, TrainEvent) and id(later.model) in compiled:
                compile_event = compiled[id(later.model)]
                if state_when_compiled(events, compile_event, target) is change.value:
                    return None  # the next training uses the state it was compiled with
                fit_since = trained_between(events, compile_event, change, later.model)
                if context.keras_version == "3" and not fit_since:
                    return None
                node = report_node(change, later)
                return Finding(
                    node=node,
                    message=self._message(context, change, compile_event, later, fit_since, node),
                )
        return None

    @staticmethod
    def _message(
        context: RuleContext,
        change: TrainableEvent,
        compile_event: CompileEvent,
        train: TrainEvent,
        fit_since: bool,
        reported: cst.CSTNode,
    ) -> str:
        module = context.module
        target = (
            short_code(module, change.target_node)
            if change.target_node is not None
            else "trainable"
        )
        change_text = f"`{target} = ...`"
        if change.target_node is None and isinstance(change.node, cst.Call):
            change_text = f"`{short_code(module, change.node)}` (which sets `trainable`)"
        elif reported is not change.node:
            change_text = f"`{short_code(module, reported)}` (which sets {change_text})"
        model = receiver_code(module, train.node) or "the model"
        compiled_by = (
            compile_event.by
            if compile_event.synthetic
            else f"`{receiver_code(module, compile_event.node) or model}.compile()`"
        )
        head = (
            f"{change_text} after {compiled_by} has no effect on `{model}.{train.method}()` "
            "until the model is compiled again"
        )
        if context.keras_version == "2":
            detail = "Keras 2 ignores the change during fit until compile() is called again."
        elif context.keras_version == "3":
            detail = "Keras 3 ignores it on TensorFlow and crashes on JAX because a fit already ran since compile."
        elif fit_since:
            detail = (
                "Keras 2 ignores it until compile() is called again; Keras 3 ignores it on TensorFlow "
                "and crashes on JAX because a fit already ran since compile."
            )
        else:
            detail = (
                "Keras 2 ignores it until compile() is called again (Keras 3 applies it only because "
                "no fit ran since compile)."
            )
        return f"{head}: {detail} Call `{model}.compile()` again, with a new optimizer instance."
