"""BNL013: TF1 batch norm trained with ``minimize`` but its UPDATE_OPS never run."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Optional

import libcst as cst

from bnlint import keras_api
from bnlint.diagnostics import Severity
from bnlint.facts.imports import ImportTable, dotted_name
from bnlint.facts.nodes import visit_code
from bnlint.facts.values import has_star_args, keyword, positional
from bnlint.rules.base import Finding, Rule, RuleContext, RuleDoc

#: Methods of a TF1 optimizer that build the train op.
_TRAIN_OP_METHODS = frozenset({"minimize", "apply_gradients"})
#: Helpers that put UPDATE_OPS into the train op themselves (slim / contrib), or user wrappers of them.
_UPDATE_AWARE_HELPERS = frozenset({"create_train_op", "optimize_loss"})
#: Position of ``updates_collections`` among contrib ``batch_norm``'s positional parameters.
_CONTRIB_UPDATES_COLLECTIONS_INDEX = 8
_CONTRIB_IS_TRAINING_INDEX = 9
_LAYERS_TRAINING_INDEX = keras_api.TF1_TRAINING_FUNCTIONS["tensorflow.layers.batch_normalization"]


def _mentions_update_ops(code: str) -> bool:
    """Whether ``tf.GraphKeys.UPDATE_OPS`` (or its string value ``"update_ops"``) appears in code."""
    return "UPDATE_OPS" in code or "update_ops" in code


class _FileScan(cst.CSTVisitor):
    """One pass over the module, in source order: what builds train ops and what runs the updates."""

    def __init__(
        self, module: cst.Module, imports: ImportTable, candidates: dict[int, str]
    ) -> None:
        self.module = module
        self.imports = imports
        self.candidates = candidates
        self.first_candidate: Optional[cst.Call] = None
        self.first_canonical = ""
        self.builds_train_op = False
        self.runs_updates = False

    def visit_Arg(self, node: cst.Arg) -> Optional[bool]:
        # ``updates_collections=tf.GraphKeys.UPDATE_OPS`` only names the default collection.
        if node.keyword is not None and node.keyword.value == "updates_collections":
            return False
        return None

    def visit_Name(self, node: cst.Name) -> None:
        # ``tf.GraphKeys.UPDATE_OPS``, or a name such as ``update_ops`` / ``bn_update_ops``.
        if "update_ops" in node.value.lower():
            self.runs_updates = True

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        if node.evaluated_value == "update_ops":
            self.runs_updates = True

    def visit_Call(self, node: cst.Call) -> None:
        canonical = (
            self.candidates.get(id(node))
            or self._partial_of_batch_norm(node)
            or self._batch_norm_normalizer(node)
        )
        if canonical and self.first_candidate is None:
            self.first_candidate = node
            self.first_canonical = canonical
        func = node.func
        name = func.attr.value if isinstance(func, cst.Attribute) else None
        if isinstance(func, cst.Name):
            name = func.value
        if name in _UPDATE_AWARE_HELPERS or (
            name == "control_dependencies" and self._mentions_updates(node)
        ):
            self.runs_updates = True
        elif (
            name in _TRAIN_OP_METHODS
            and isinstance(func, cst.Attribute)
            and self._may_be_optimizer(func.value)
        ):
            self.builds_train_op = True

    def _partial_of_batch_norm(self, call: cst.Call) -> Optional[str]:
        """``functools.partial(tf.layers.batch_normalization, training=...)``: the function's name."""
        if self.imports.qualified(call.func) != "functools.partial" or not call.args:
            return None
        function = call.args[0]
        if function.keyword is not None or function.star:
            return None
        canonical = self.imports.canonical(function.value)
        if keras_api.tf1_batch_norm(canonical) and _qualifies(
            self.module, call, canonical or "", bound=True
        ):
            return canonical
        return None

    def _batch_norm_normalizer(self, call: cst.Call) -> Optional[str]:
        """``conv2d(..., normalizer_fn=batch_norm, normalizer_params={"is_training": t})``."""
        normalizer = keyword(call, "normalizer_fn")
        params = keyword(call, "normalizer_params")
        if normalizer is None or params is None or not isinstance(params.value, cst.Dict):
            return None
        canonical = self.imports.canonical(normalizer.value)
        if canonical not in keras_api.TF1_CONTRIB_BATCH_NORM:
            return None
        entries: dict[str, cst.BaseExpression] = {}
        for element in params.value.elements:
            if not isinstance(element, cst.DictElement):
                return None  # ``**other_params``: unknown
            key = element.key
            if isinstance(key, cst.SimpleString) and isinstance(key.evaluated_value, str):
                entries[key.evaluated_value] = element.value
        training = entries.get("is_training")
        if training is None or (
            isinstance(training, cst.Name) and training.value in ("False", "None")
        ):
            return None
        collections = entries.get("updates_collections")
        if collections is not None and not _mentions_update_ops(
            self.module.code_for_node(collections)
        ):
            return None
        return canonical

    def _mentions_updates(self, call: cst.Call) -> bool:
        """``tf.control_dependencies(update_ops)``: an argument that names some updates."""
        return any("update" in self.module.code_for_node(arg.value).lower() for arg in call.args)

    def _may_be_optimizer(self, receiver: cst.BaseExpression) -> bool:
        """False for ``scipy.optimize.minimize`` and other imported non-TensorFlow modules."""
        if dotted_name(receiver) is None:
            return True
        qualified = self.imports.qualified(receiver)
        return qualified is None or keras_api.canonical_name(qualified) is not None


def _qualifies(module: cst.Module, call: cst.Call, canonical: str, bound: bool = False) -> bool:
    """A batch-norm call that trains and puts its updates in the default UPDATE_OPS collection.

    ``bound``: ``call`` is a ``functools.partial`` of the function, where only keywords count.
    """
    if has_star_args(call):
        return False
    contrib = canonical in keras_api.TF1_CONTRIB_BATCH_NORM
    training_keyword = keras_api.tf1_batch_norm(canonical)
    assert training_keyword is not None
    training = keyword(call, training_keyword)
    if training is None and not bound:
        training = positional(
            call, _CONTRIB_IS_TRAINING_INDEX if contrib else _LAYERS_TRAINING_INDEX
        )
    if training is None or (
        isinstance(training.value, cst.Name) and training.value.value in ("False", "None")
    ):
        return False
    if contrib:
        collections = keyword(call, "updates_collections")
        if collections is None and not bound:
            collections = positional(call, _CONTRIB_UPDATES_COLLECTIONS_INDEX)
        if collections is not None and not _mentions_update_ops(
            module.code_for_node(collections.value)
        ):
            return False
    return True


class Tf1BatchnormUpdateOpsMissing(Rule):
    """TF1 batch norm in training mode, a ``minimize``/``apply_gradients``, and no UPDATE_OPS run."""

    code = "BNL013"
    name = "tf1-batchnorm-update-ops-missing"
    severity = Severity.ERROR
    summary = "TF1 batch norm moving statistics never update: UPDATE_OPS not run with the train op"
    triggers = ("batch_norm",)
    doc = RuleDoc(
        what_it_does="""
Flags `tf.layers.batch_normalization`, `tf.compat.v1.layers.batch_normalization` and
`tf.contrib.layers.batch_norm` / slim `batch_norm` used with a training argument (`training=` /
`is_training=` not literally False) in a file that builds its train op with an optimizer's
`minimize` or `apply_gradients`, but never refers to `tf.GraphKeys.UPDATE_OPS` (typically
`with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):`). Reported once per file,
at the first such call. Silent for `updates_collections=None` (updates run in place), a custom
collection, slim's `create_train_op` / `tf.contrib.layers.optimize_loss`, which add the updates
themselves, and files that train with `tf.GradientTape` (eager execution runs the updates).""",
        why_is_this_bad="""
In graph mode these functions do not update the moving mean and variance themselves: they add the
update ops to the `UPDATE_OPS` collection, and only running them (as a control dependency of the
train op) updates the statistics. Without it training looks normal, because it uses batch
statistics, but the moving mean stays at 0 and the moving variance at 1, so inference
(`training=False`) normalises with wrong statistics and the evaluated model is broken.""",
        example="""
h = tf.layers.batch_normalization(h, training=is_training)
...
train_op = tf.train.AdamOptimizer(1e-3).minimize(loss)""",
        use_instead="""
h = tf.layers.batch_normalization(h, training=is_training)
...
update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
with tf.control_dependencies(update_ops):
    train_op = tf.train.AdamOptimizer(1e-3).minimize(loss)""",
        fix_safety="No automatic fix: where the train op is built is up to the code.",
        keras_versions="""
Observed on TF 2.21 with tf_keras 2.21 in graph mode: the moving mean stays [0, 0, 0] after 5 training
steps; with the control dependency it moves. Not a Keras 2 / Keras 3 question: TF >= 2.16 provides
`tf.compat.v1.layers` only with tf_keras installed and `TF_USE_LEGACY_KERAS=1` (otherwise
AttributeError), and `tf.contrib` does not exist in TF 2 (use `tf_slim`).""",
    )

    def check(self, context: RuleContext) -> Iterator[Finding]:
        canonicals = {
            id(call.node): call.canonical
            for call in context.facts.calls
            if keras_api.tf1_batch_norm(call.canonical)
            and _qualifies(context.module, call.node, call.canonical)
        }
        source = context.source
        may_bind = "batch_norm" in source and ("partial" in source or "normalizer_fn" in source)
        if not canonicals and not may_bind:
            return  # a whole-module scan costs a third of the parse: only when it can find something
        if any(call.canonical == "tensorflow.GradientTape" for call in context.facts.calls):
            return  # eager / tf.function training runs the updates as they are created
        scan = _FileScan(context.module, context.facts.imports, canonicals)
        visit_code(context.module, scan)
        first = scan.first_candidate
        if first is None or not scan.builds_train_op or scan.runs_updates:
            return
        yield Finding(node=first, message=self._message(context, first, scan.first_canonical))

    @staticmethod
    def _message(context: RuleContext, call: cst.Call, canonical: str) -> str:
        normalizer = keyword(call, "normalizer_fn")
        if normalizer is not None:
            callee = context.code(normalizer.value)
        elif context.facts.imports.qualified(call.func) == "functools.partial":
            callee = context.code(call.args[0].value)
        else:
            callee = context.code(call.func)
        message = (
            f"`{callee}` in training mode adds its moving mean/variance updates to "
            "`tf.GraphKeys.UPDATE_OPS`, and the `minimize`/`apply_gradients` train op in this file "
            "never runs them, so the moving statistics stay at 0 and 1 and the model is wrong wherever "
            "it runs with training off (evaluation, export); "
            "build the train op inside `with tf.control_dependencies("
            "tf.get_collection(tf.GraphKeys.UPDATE_OPS)):`."
        )
        if canonical == "tensorflow.layers.batch_normalization":
            message += (
                " (TF >= 2.16 has this layer only with tf_keras installed and "
                "TF_USE_LEGACY_KERAS=1.)"
            )
        return message
