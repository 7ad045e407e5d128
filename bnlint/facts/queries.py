"""Questions several rules ask of the facts: is this an unfreeze, what is this model called."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Optional

import libcst as cst

from bnlint import keras_api
from bnlint.facts.events import CallEvent, CompileEvent, Event, TrainableEvent, TrainEvent
from bnlint.facts.imports import ImportTable
from bnlint.facts.objects import Obj, UserFunction, Value
from bnlint.facts.results import Facts


class CallModes:
    """The ``training`` values each Keras object is called with, across a file's traces."""

    def __init__(self, facts: Facts, more: Iterable[Event] = ()) -> None:
        self._modes: dict[int, set[object]] = {}
        events = [event for _, _, event in facts.events(CallEvent)]
        events.extend(event for event in more if isinstance(event, CallEvent))
        for event in events:
            self._modes.setdefault(id(event.callee), set()).add(event.training)

    def always_training(self, obj: Obj) -> bool:
        """Whether every call of ``obj`` fixes ``training=True`` (a Monte Carlo layer, or a base
        recorded in training mode): calling its model without ``training`` keeps it so."""
        return self._modes.get(id(obj)) == {True}

    def always_inference(self, obj: Obj) -> bool:
        """Whether every call of ``obj`` records ``training=False`` (a base kept in inference)."""
        return self._modes.get(id(obj)) == {False}

    def mode_sensitive_layers(self, model: Obj) -> list[Obj]:
        """The BatchNormalization, Dropout and noise layers (or applications that have them) that
        ``model`` is seen to contain and whose mode a call of ``model`` decides (for a model built in
        another project file, itself when its summary lists some)."""
        if model.contained is not None:
            return [model] if model.contained else []
        _, batchnorm = model.family_members(keras_api.BATCHNORM_LAYERS)
        _, noise = model.family_members(keras_api.NOISE_LAYERS, by_application=False)
        found = [layer for layer in batchnorm if not self.always_training(layer)]
        found.extend(
            layer for layer in noise if layer not in found and not self.always_training(layer)
        )
        return found


def layer_names(objects: list[Obj]) -> list[str]:
    """``["BatchNormalization", "Dropout"]``: what a list of contained layers is, for a message."""
    names: list[str] = []
    for obj in objects:
        found = obj.contained or (obj.layer_class or obj.application or obj.label or "a layer",)
        names.extend(name for name in found if name not in names)
    return names


def unfreezes(event: Event, obj: Obj) -> bool:
    """Whether ``event`` sets ``trainable = True`` on ``obj``, on a model containing it, or on its layers."""
    if not isinstance(event, TrainableEvent) or event.value is not True:
        return False
    target = event.target
    return target.contains(obj) or obj.contains(target)


def exclusive(first: Event, second: Event) -> bool:
    """Whether two events sit in the two arms of one ``if``/``else``: neither follows the other."""
    arms = {(id(guard.test), id(guard.call)): guard.holds for guard in first.context.guards}
    return any(
        arms.get((id(guard.test), id(guard.call)), guard.holds) != guard.holds
        for guard in second.context.guards
    )


def may_follow(first: Event, second: Event) -> bool:
    """Whether ``second`` (later in a trace) can run after ``first``: not in the other arm of an ``if``."""
    return not exclusive(first, second)


def report_node(event: Event, *related: Event) -> cst.CSTNode:
    """Where a finding about ``event`` belongs, given the events it is judged against: in the
    function where their call paths meet. A change made inside a helper (``make_trainable(D,
    False)``) between a compile and a fit of the caller is reported on the call of the helper; one
    made in the same function as the compile and the fit, on its own line."""
    shared = len(event.calls)
    for other in related:
        common = 0
        for mine, theirs in zip(event.calls, other.calls):
            if mine is not theirs:
                break
            common += 1
        shared = min(shared, common)
    return event.calls[shared] if shared < len(event.calls) else event.node


def receiver_code(module: cst.Module, call: cst.CSTNode) -> Optional[str]:
    """``model`` for ``model.fit(...)``: the code of the object a method is called on."""
    if isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute):
        return module.code_for_node(call.func.value)
    return None


def short_code(module: cst.Module, node: cst.CSTNode, limit: int = 40) -> str:
    """The code of a node on one line, shortened for a message."""
    text = " ".join(module.code_for_node(node).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def gan_idiom(events: list[Event], target: Obj) -> bool:
    """``D`` compiled on its own and also compiled as part of another model: toggling is the GAN idiom."""
    compiled_alone = any(isinstance(e, CompileEvent) and e.model is target for e in events)
    compiled_inside = any(
        isinstance(e, CompileEvent) and e.model is not target and e.model.contains(target)
        for e in events
    )
    return compiled_alone and compiled_inside


def state_when_compiled(events: list[Event], compile_event: Event, target: Obj) -> Optional[bool]:
    """The ``trainable`` state ``target`` had when ``compile_event`` ran: the last literal change of
    it (or of a model containing it) that can precede the compile; True when none (a new or loaded
    model is trainable); None when such a change has an unknown value, or changed only some of the
    same layers (``base.layers`` frozen, ``model.layers[-20:]`` set later)."""
    position = events.index(compile_event)
    for earlier in reversed(events[:position]):
        if not isinstance(earlier, TrainableEvent) or not may_follow(earlier, compile_event):
            continue
        if earlier.target.contains(target):
            return earlier.value
        if _share_layers(earlier.target, target):
            return None
    return True


def _share_layers(first: Obj, second: Obj) -> bool:
    """Whether layers taken out of two layer lists can be the same layers: both are drawn from one
    model, or from a model and an outer model built on its graph; or ``first`` is a model that is
    one of the layers ``second`` is drawn from (a base in a ``Sequential``)."""
    if second.kind != "part":
        return False
    if first.kind != "part":
        ancestors = second.ancestors()
        return bool(ancestors) and ancestors[-1] is not first and ancestors[-1].contains(first)
    roots = []
    for part in (first, second):
        ancestors = part.ancestors()
        root = ancestors[-1] if ancestors else None
        roots.append({id(root), *(id(base) for base in root.graph_bases)} if root else set())
    return bool(roots[0] & roots[1])


def trained_between(events: list[Event], start: Event, end: Event, model: Obj) -> bool:
    """Whether ``model`` is trained (fit / train_on_batch) after ``start`` and before ``end``."""
    inside = False
    for event in events:
        if event is start:
            inside = True
        elif event is end:
            return False
        elif inside and isinstance(event, TrainEvent) and event.model is model:
            return True
    return False


def is_keras_object(value: Value) -> bool:
    """Whether a value is known to be a Keras model or layer.

    Built by a Keras constructor, taken out of a Keras model, or an instance of a same-file subclass
    of a Keras class whose bases are all known (a mixin from elsewhere could add any method).
    """
    if not isinstance(value, Obj):
        return False
    if value.kind == "part":
        ancestors = value.ancestors()
        return bool(ancestors) and ancestors[-1].kind != "part" and is_keras_object(ancestors[-1])
    if value.user_class is not None:
        return value.user_class.is_keras and value.user_class.bases_known
    return value.kind in ("model", "layer") and value.is_keras


def accepts_keyword(function: UserFunction, name: str) -> bool:
    """Whether a same-file function can be called with ``name=...`` (a parameter or ``**kwargs``)."""
    params = function.node.params
    if params.star_kwarg is not None:
        return True
    return any(param.name.value == name for param in (*params.params, *params.kwonly_params))


def torch_backend_possible(imports: ImportTable, source: str) -> bool:
    """Whether the file may run Keras 3 on the torch backend (where layers are ``torch.nn.Module``).

    True when it imports torch anywhere or sets ``KERAS_BACKEND`` next to the word ``torch``.
    """
    if any(path == "torch" or path.startswith("torch.") for path in imports.aliases.values()):
        return True
    return "KERAS_BACKEND" in source and "torch" in source
