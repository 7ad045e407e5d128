"""Calls of Keras and TensorFlow APIs: layers, models, applications, load_model, optimizers, tapes."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from bnlint import keras_api
from bnlint.facts.events import AddEvent, CompileEvent, GraphModelEvent
from bnlint.facts.objects import Const, ListValue, Obj, Tensor, UserFunction, Value
from bnlint.facts.state import BuilderState
from bnlint.facts.values import has_star_args, keyword, merge_tensors, positional, tensors_in


class KerasCallInterpreter(BuilderState):
    """Turns calls of Keras constructors and functions into objects."""

    def keras_call(
        self, canonical: str, node: cst.Call, args: list[tuple[cst.Arg, Value]]
    ) -> Value:
        values = {id(arg): value for arg, value in args}

        def arg_value(
            name: str, index: Optional[int], old_name: Optional[str] = None
        ) -> tuple[Optional[cst.Arg], Value]:
            arg = keyword(node, name)
            if arg is None and old_name is not None:
                arg = keyword(node, old_name)
            if arg is None and index is not None:
                arg = positional(node, index)
            return arg, (values.get(id(arg)) if arg is not None else None)

        layer = keras_api.layer_class(canonical)
        if layer is not None:
            return Obj(
                kind="layer", node=node, keras_class=canonical, origin="constructor", label=layer
            )
        if canonical == "keras.Input":
            return Tensor(frozenset(), symbolic=True)
        if canonical == "keras.Sequential":
            model = Obj(
                kind="model",
                node=node,
                keras_class=canonical,
                origin="sequential",
                label="Sequential",
            )
            self.facts.models.append(model)
            _, layers = arg_value("layers", 0)
            if isinstance(layers, ListValue):
                for element, item in zip(layers.elements, layers.items):
                    if isinstance(item, Obj):
                        model.members.append(item)
                        self.emit(AddEvent, element.value, model=model, member=item)
                    elif not (isinstance(item, Tensor) and item.symbolic and not item.sources):
                        model.members_complete = False  # a keras.Input element adds no layer
            elif layers is not None or has_star_args(node):
                model.members_complete = False
            return model
        if canonical == "keras.Model":
            model = Obj(
                kind="model", node=node, keras_class=canonical, origin="functional", label="Model"
            )
            self.facts.models.append(model)
            _, inputs = arg_value("inputs", 0, "input")  # Keras 1 named them input= and output=
            _, outputs = arg_value("outputs", 1, "output")
            if outputs is None:
                model.members_complete = False
            graphs: dict[int, tuple[Obj, cst.CSTNode]] = {}
            for value in (inputs, outputs):
                for tensor in tensors_in(value):
                    for source in tensor.sources:
                        if source not in model.members:
                            model.members.append(source)
                    for base, where in tensor.graphs:
                        if id(base) not in graphs or _is_output(where, graphs[id(base)][1]):
                            graphs[id(base)] = (base, where)
                if value is not None and not tensors_in(value):
                    model.members_complete = False
            for base, where in graphs.values():
                model.graph_bases.append(base)
                self.emit(GraphModelEvent, where, model=model, base=base)
            return model
        application = keras_api.application_name(canonical)
        if application is not None and application in keras_api.APPLICATIONS:
            weights_arg, weights = arg_value("weights", None)
            pretrained = not (weights_arg is not None and weights == Const(None))
            return Obj(
                kind="model",
                node=node,
                keras_class=canonical,
                origin="applications",
                pretrained=pretrained,
                label=application,
            )
        if canonical in ("keras.models.load_model", "keras.models.model_from_json"):
            loaded = canonical == "keras.models.load_model"
            compile_arg, compile_value = arg_value("compile", None)
            compiles = loaded and (compile_arg is None or compile_value == Const(True))
            model = Obj(
                kind="model",
                node=node,
                keras_class=canonical,
                origin="load_model" if loaded else "unknown",
                pretrained=loaded,
                compiled_on_creation=compiles,
                members_complete=False,
                label="loaded model",
            )
            if compiles:
                self.emit(CompileEvent, node, model=model, synthetic=True)
            return model
        if canonical == "keras.models.clone_model":
            return Obj(
                kind="model",
                node=node,
                keras_class=canonical,
                origin="unknown",
                members_complete=False,
                label="cloned model",
            )
        optimizer = keras_api.optimizer_class(canonical)
        if optimizer is not None:
            return self.optimizer(canonical, optimizer, node, arg_value)
        if canonical == "tensorflow.function" and args and isinstance(args[0][1], UserFunction):
            return args[0][1]  # tf.function(step): calling the result runs ``step``
        if canonical == "tensorflow.GradientTape":
            return Obj(kind="tape", node=node, keras_class=canonical, label="tape")
        return merge_tensors([t for _, v in args for t in tensors_in(v)])

    def optimizer(self, canonical: str, name: str, node: cst.Call, arg_value) -> Obj:  # type: ignore[no-untyped-def]
        obj = Obj(kind="optimizer", node=node, keras_class=canonical, label=name)
        rate_arg, rate = arg_value("learning_rate", 0)
        if rate_arg is None:
            rate_arg, rate = arg_value("lr", None)
        if rate_arg is None and not has_star_args(node):
            obj.learning_rate = keras_api.OPTIMIZER_DEFAULT_LR.get(name)
            obj.learning_rate_known = obj.learning_rate is not None
        elif (
            isinstance(rate, Const)
            and isinstance(rate.value, (int, float))
            and not isinstance(rate.value, bool)
        ):
            obj.learning_rate = float(rate.value)
            obj.learning_rate_known = True
        return obj


def _is_output(candidate: cst.CSTNode, chosen: cst.CSTNode) -> bool:
    """Whether ``candidate`` (a ``base.output``) should replace ``chosen`` (a ``base.input``) as the
    place a model built on ``base``'s graph is reported."""
    return _attr(candidate).startswith("output") and not _attr(chosen).startswith("output")


def _attr(node: cst.CSTNode) -> str:
    return node.attr.value if isinstance(node, cst.Attribute) else ""
