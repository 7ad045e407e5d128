"""BNL007: a model called without ``training`` where it is being trained (GradientTape, train_step)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Optional

import libcst as cst

from bnlint.diagnostics import Applicability, Severity
from bnlint.facts.events import TRAINING_ABSENT, CallEvent
from bnlint.facts.gradients import ANY_OWNER, GradientTargets
from bnlint.facts.intent import name_words
from bnlint.facts.objects import Obj
from bnlint.facts.queries import CallModes, layer_names
from bnlint.fixes import BlockIndentation, add_keyword
from bnlint.keras_api import BATCHNORM_LAYERS, NOISE_LAYERS
from bnlint.rules.base import Finding, FixProposal, NodeEdit, Rule, RuleContext, RuleDoc

#: Name words of models that are used in inference mode on purpose while another one trains.
_REFERENCE_WORDS = frozenset({"teacher", "target", "ema", "frozen", "momentum", "pretrained"})


class TrainingLoopCallWithoutTraining(Rule):
    """A Keras model or layer called without ``training`` in a GradientTape or ``train_step``."""

    code = "BNL007"
    name = "training-loop-call-without-training"
    severity = Severity.WARNING
    summary = "model called without `training=True` in a training step"
    triggers = ("GradientTape", "train_step")
    reads_project = True
    fixable = Applicability.UNSAFE
    doc = RuleDoc(
        what_it_does="""
Flags a call of a Keras model or layer (`model(x)`, `self(x)`, `self.generator(z)`) without a
`training` argument inside `with tf.GradientTape() as tape:` whose gradients are taken with respect to
that model's weights, or inside the `train_step` of a Model subclass, when the model is seen to
contain BatchNormalization, Dropout or a noise layer (built in this file, or a `keras.applications`
architecture that has BatchNormalization); the message names what it contains.
A user model whose `call()` (or `__call__`) forwards one of its own parameters as `training=`
(`def call(self, x, is_training=False): ... self.bn(x, training=is_training)`) is judged by that
parameter: `net(x, is_training=True)` is a call in training mode.
Not flagged: models whose layers bnlint has not seen (a `load_model(...)` result, attributes filled
from `**kwargs`, a parameter no call site binds, a value from a third-party call), tapes that watch
or differentiate inputs (adversarial examples, deep dream, style transfer), models other than the
one whose weights are differentiated (a frozen feature extractor, a teacher, a target network), and
models whose mode-dependent layers are all called with `training=True` already (Monte Carlo models,
a base recorded with `training=True`).""",
        why_is_this_bad="""
Without `training`, a model called directly runs in inference mode: Dropout does nothing and
BatchNormalization normalises with its moving statistics and never updates them. The training step
then trains a different network than the one `fit()` would train, and the moving statistics used at
inference are never learned.""",
        example="""
with tf.GradientTape() as tape:
    logits = model(x)
    loss = loss_fn(y, logits)
grads = tape.gradient(loss, model.trainable_variables)""",
        use_instead="""
with tf.GradientTape() as tape:
    logits = model(x, training=True)
    loss = loss_fn(y, logits)
grads = tape.gradient(loss, model.trainable_variables)""",
        fix_safety="""
Unsafe: `training=True` is added to the call. It changes what the step computes (dropout on, batch
statistics used and moving statistics updated), which is the intent of a training step but changes
results.""",
        keras_versions="""
Keras 2 and 3, every backend (observed on tf_keras 2.21 and keras 3.15.1 with TensorFlow and JAX):
a direct call without `training` runs Dropout off and BatchNormalization on its moving statistics,
without updating them.""",
    )

    def check(self, context: RuleContext) -> Iterator[Finding]:
        candidates = [event for _, _, event in context.facts.events(CallEvent) if _candidate(event)]
        if not candidates:
            return
        modes = CallModes(context.facts)
        tapes = [tape for event in candidates for tape in event.context.tapes]
        gradients = GradientTargets(context.module, tapes)
        indentation = BlockIndentation(context.module)
        for event in candidates:
            call = event.node
            assert isinstance(call, cst.Call)
            contained = modes.mode_sensitive_layers(event.callee)
            if not contained:
                continue
            callee_code = " ".join(context.code(call.func).split())
            if _REFERENCE_WORDS.intersection(name_words(callee_code.replace(".", "_"))):
                continue
            if event.context.tapes:
                owners = _owners(gradients, event.context.tapes)
                if owners is None or not _trains(callee_code, owners):
                    continue
            yield self._finding(context, event, call, callee_code, contained, indentation)

    def _finding(
        self,
        context: RuleContext,
        event: CallEvent,
        call: cst.Call,
        callee_code: str,
        contained: list[Obj],
        indentation: BlockIndentation,
    ) -> Finding:
        where = "a GradientTape" if event.context.tapes else "`train_step`"
        flag = event.training_keyword
        message = (
            f"`{callee_code}(...)` is called without `{flag}` inside {where}, so it runs in "
            f"inference mode: {_effect(contained)} (Keras 2 and 3). Pass `{flag}=True`."
        )
        fixed = add_keyword(call, flag, "True")
        fix = FixProposal(
            Applicability.UNSAFE,
            f"Call with `{flag}=True`",
            (NodeEdit(call, indentation.code(fixed, event.statement)),),
        )
        return Finding(node=call, message=message, fix=fix)


def _candidate(event: CallEvent) -> bool:
    """A direct call without ``training`` in a tape or ``train_step``, of a model that may need it."""
    context = event.context
    in_train_step = context.function == "train_step" and context.class_is_model
    return (
        event.training == TRAINING_ABSENT
        and isinstance(event.node, cst.Call)
        and not any(arg.star for arg in event.node.args)
        and not event.symbolic
        and (bool(context.tapes) or in_train_step)
    )


def _owners(gradients: GradientTargets, tapes: tuple) -> Optional[set[str]]:
    """The models whose weights the recording tapes differentiate; None if any tape does otherwise."""
    owners: set[str] = set()
    for tape in tapes:
        found = gradients.weight_owners(tape)
        if found is None:
            return None
        owners |= found
    return owners


def _trains(callee_code: str, owners: set[str]) -> bool:
    """Whether the called object is (part of) a model whose weights the tape differentiates."""
    return ANY_OWNER in owners or any(
        callee_code == owner or callee_code.startswith(owner + ".") for owner in owners
    )


def _effect(contained: list[Obj]) -> str:
    """What inference mode does to the layers the model contains, naming them."""
    names = layer_names(contained)
    noise = [name for name in names if name in NOISE_LAYERS]
    batchnorm = [name for name in names if name not in NOISE_LAYERS]
    effects = []
    if batchnorm:
        inside = [name for name in batchnorm if name not in BATCHNORM_LAYERS]
        where = f" (in {_listed(inside)})" if inside else ""
        effects.append(
            f"its BatchNormalization{where} normalises with the moving statistics and never "
            "updates them"
        )
    if noise:
        effects.append(f"its {_listed(noise)} {'does' if len(noise) == 1 else 'do'} nothing")
    return "; ".join(effects)


def _listed(names: list[str]) -> str:
    """``A``, ``A and B``, ``A, B and C``."""
    shown = [*names[:3], "others"] if len(names) > 4 else names
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} and {shown[-1]}"
