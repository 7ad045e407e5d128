"""A module's summary, made from its facts: what its importers need to know, as small values.

Functions and methods are analysed once more with each parameter bound to a stand-in object, so that
what they do to their parameters (set ``trainable``, compile, train, call in training mode) can be
read off the events; that analysis goes to scratch facts, never to the module's own findings.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Optional

from bnlint import keras_api
from bnlint.facts.events import (
    CompileEvent,
    EscapeEvent,
    Event,
    MethodCallEvent,
    TrainableEvent,
    TrainEvent,
)
from bnlint.facts.forwarding import training_parameter
from bnlint.facts.guards import GuardReader
from bnlint.facts.nodes import code_words
from bnlint.facts.objects import Obj, UserClass, UserFunction, Value
from bnlint.facts.queries import CallModes, layer_names
from bnlint.facts.results import Facts
from bnlint.facts.state import BuilderState
from bnlint.facts.summaries import ClassSummary, Effect, FunctionSummary, Member, ObjectSummary
from bnlint.facts.unfreezing import (
    BatchnormUnfreezes,
    head_layer_count,
    pretrained_with_batchnorm,
)
from bnlint.facts.user_calls import init_parameter_attributes

#: Methods whose effects importers never need (they are Keras's own machinery, or construction).
_UNSUMMARISED_METHODS = frozenset({"__init__", "build", "call", "__call__", "get_config"})
#: What a method's code must mention for its summary to matter to an importer: it changes
#: ``trainable``, compiles, trains or loads weights, or builds a model it may return.
_METHOD_MATTERS = re.compile(
    r"trainable|compile|fit|train_on_batch|load_weights|load_model|Model\(|Sequential|applications"
)
#: How deep nested objects (a base inside a model, an attribute of an instance) are summarised.
_MAX_DEPTH = 2


class SummaryInterpreter(BuilderState):
    """Summarises the module the builder has just analysed."""

    def summarize_name(self, name: str) -> Optional[Member]:
        """What ``name`` is in the module just analysed (call after ``build``): a class, a
        function, a module-level model, a name imported from another project module, or None."""
        value = self.module_frame.vars.get(name)
        modes = CallModes(self.facts)
        guards = GuardReader(self.module, self.imports, keras_api.BATCHNORM_LAYERS)
        reach = BatchnormUnfreezes(self.module, guards, unchanged_setter_skipped=False)
        with self._scratch():
            if isinstance(value, UserClass) and value.node is not None:
                return self._class_summary(value, modes, reach)
            if isinstance(value, UserFunction) and value.owner is None:
                return self._function_summary(value, None, modes, reach)
        if isinstance(value, Obj) and value.kind in ("model", "layer"):
            module_events = self.facts.traces[0].events if self.facts.traces else []
            return object_summary(value, modes, module_events)
        if value is None and name not in self.module_frame.vars:
            return self.reexport(name)
        return None

    @contextlib.contextmanager
    def _scratch(self) -> Iterator[None]:
        """Analyses made only to summarise leave the module's facts as they were."""
        with self.swapped(
            facts=Facts(module=self.module, imports=self.imports),
            seen_calls=set(),
            seen_attr_sets={},
            pending=[],
            queued=set(self.queued),
        ):
            yield

    def _class_summary(
        self, cls: UserClass, modes: CallModes, reach: BatchnormUnfreezes
    ) -> ClassSummary:
        self.construct(cls)
        init = cls.methods.get("__init__")
        init_params: tuple[str, ...] = ()
        bindings: tuple[tuple[str, str], ...] = ()
        if init is not None:
            params = [*init.node.params.posonly_params, *init.node.params.params]
            init_params = tuple(p.name.value for p in params[1:])
            bindings = tuple(init_parameter_attributes(init.node))
        methods = tuple(
            (name, self._function_summary(method, cls.instance, modes, reach))
            for name, method in cls.methods.items()
            if name not in _UNSUMMARISED_METHODS
            and any(_METHOD_MATTERS.search(word) for word in code_words(method.node))
        )
        instance = cls.instance
        init_trace = self.init_traces.get(id(cls))
        built = init_trace.events if init_trace is not None else []
        modes = CallModes(self.facts, built)
        return ClassSummary(
            name=cls.name,
            is_keras_model=cls.is_keras_model,
            is_keras_layer=cls.is_keras_layer,
            instance=object_summary(instance, modes, built) if instance is not None else None,
            init_params=init_params,
            init_bindings=bindings,
            methods=methods,
        )

    def _function_summary(
        self,
        function: UserFunction,
        instance: Optional[Obj],
        modes: CallModes,
        reach: BatchnormUnfreezes,
    ) -> FunctionSummary:
        node = function.node
        params = [*node.params.posonly_params, *node.params.params, *node.params.kwonly_params]
        names = tuple(p.name.value for p in params)
        is_method = instance is not None and self._is_instance_method(node)
        stand_ins = {
            name: Obj(
                kind="model", node=node, origin="parameter", label=name, members_complete=False
            )
            for index, name in enumerate(names)
            if not (is_method and index == 0)
        }
        trace, returned = self.analyze_with(function, instance if is_method else None, stand_ins)
        owners: dict[int, tuple[int, tuple[str, ...]]] = {
            id(obj): (names.index(name), ()) for name, obj in stand_ins.items()
        }
        if is_method and instance is not None:
            owners[id(instance)] = (0, ())
            for attr, value in instance.attrs.items():
                if isinstance(value, Obj):
                    owners.setdefault(id(value), (0, (attr,)))
        effects = tuple(_effects(trace.events, owners, reach))
        distinct = [v for v in returned if v is not None and id(v) not in owners]
        returns: Optional[ObjectSummary] = None
        single = distinct[0] if distinct and all(v is distinct[0] for v in distinct) else None
        if isinstance(single, Obj) and (
            single.kind in ("model", "layer") or single.user_class is not None
        ):
            returns = object_summary(single, CallModes(self.facts, trace.events), trace.events)
        return FunctionSummary(params=names, returns=returns, effects=effects, is_method=is_method)


def object_summary(
    obj: Obj, modes: CallModes, events: list[Event], depth: int = 0
) -> ObjectSummary:
    """What an importer needs to know about a model, layer or instance built in this module."""
    parameter = training_parameter(obj.user_class) if obj.user_class is not None else None
    attrs: tuple[tuple[str, ObjectSummary], ...] = ()
    if obj.user_class is not None and depth < _MAX_DEPTH:
        attrs = tuple(
            (name, object_summary(value, modes, events, depth + 1))
            for name, value in obj.attrs.items()
            if isinstance(value, Obj) and value.kind in ("model", "layer")
        )
    bases = (
        tuple(object_summary(base, modes, [], depth + 1) for base in obj.graph_bases)
        if depth < _MAX_DEPTH
        else ()
    )
    inference = (
        tuple(
            object_summary(member, modes, [], depth + 1)
            for member in obj.members
            if pretrained_with_batchnorm(member) and modes.always_inference(member)
        )
        if depth < _MAX_DEPTH and obj.origin == "functional"
        else ()
    )
    trainable: Optional[bool] = None
    layers_frozen = False
    roots = {id(obj), *(id(base) for base in obj.graph_bases)}
    for event in events:
        if isinstance(event, TrainableEvent) and event.target is obj:
            trainable = event.value
        elif isinstance(event, TrainableEvent) and event.value is False:
            layers_frozen = layers_frozen or any(
                id(ancestor) in roots for ancestor in event.target.ancestors()
            )
    return ObjectSummary(
        kind=obj.kind if obj.kind in ("model", "layer") else "instance",
        label=obj.label,
        keras_class=obj.keras_class,
        origin=obj.origin or "project",
        pretrained=obj.pretrained,
        weights_loaded=obj.weights_loaded,
        batchnorm=obj.has_batchnorm,
        noise=obj.has_noise,
        sensitive=tuple(layer_names(modes.mode_sensitive_layers(obj))),
        compiled=obj.compiled_on_creation
        or any(isinstance(e, CompileEvent) and e.model is obj for e in events),
        trainable=trainable,
        layers_frozen=layers_frozen,
        graph_bases=bases,
        head_layers=head_layer_count(obj) if obj.graph_bases else 0,
        inference_bases=inference,
        attrs=attrs,
        forwarding=(parameter.name, parameter.position, _literal_of(parameter.default))
        if parameter is not None
        else None,
        is_keras=obj.user_class.is_keras if obj.user_class is not None else True,
    )


def _literal_of(value: Value) -> object:
    return getattr(value, "value", None)


def _effects(
    events: list[Event],
    owners: dict[int, tuple[int, tuple[str, ...]]],
    reach: BatchnormUnfreezes,
) -> Iterator[Effect]:
    """What the events do to the stand-ins (parameters) and their attributes."""
    for event in events:
        if isinstance(event, TrainableEvent) and event.value is not None:
            found = _owner(event.target, owners)
            if found is not None:
                (param, path), over_layers = found
                span = event.target.span
                yield Effect(
                    param,
                    path,
                    "trainable",
                    event.value,
                    over_layers=over_layers,
                    span=(span.start, span.stop) if span is not None else None,
                    batchnorm=reach.reaches_batchnorm(event) if over_layers else None,
                )
        elif isinstance(event, (CompileEvent, TrainEvent)) and not getattr(
            event, "synthetic", False
        ):
            found = _owner(event.model, owners)
            if found is not None and not found[1]:
                yield Effect(*found[0], "compile" if isinstance(event, CompileEvent) else "train")
        elif isinstance(event, MethodCallEvent) and event.method == "load_weights":
            found = _owner(event.receiver, owners)
            if found is not None and not found[1]:
                yield Effect(*found[0], "load_weights")
        elif isinstance(event, EscapeEvent):
            for obj in event.objects:
                found = _owner(obj, owners)
                if found is not None and not found[1]:
                    yield Effect(*found[0], "escape")


def _owner(
    obj: Obj, owners: dict[int, tuple[int, tuple[str, ...]]]
) -> Optional[tuple[tuple[int, tuple[str, ...]], bool]]:
    """((parameter, attribute path), whether ``obj`` is layers taken out of it) for an object
    that is a stand-in, an attribute of ``self``, or taken out of one of them."""
    if id(obj) in owners:
        return owners[id(obj)], False
    if obj.kind == "part":
        for ancestor in obj.ancestors():
            if id(ancestor) in owners:
                return owners[id(ancestor)], True
    return None
