"""Function and class definitions: what a ``def`` or ``class`` binds, and which bodies are analysed."""

from __future__ import annotations

from dataclasses import replace
from typing import Optional

import libcst as cst

from bnlint import keras_api
from bnlint.facts.objects import KerasName, Obj, ProjectClass, UserClass, UserFunction, Value
from bnlint.facts.state import BuilderState
from bnlint.facts.values import VersionedVars


class DefinitionInterpreter(BuilderState):
    """Binds functions and classes, and queues their bodies for analysis."""

    def define_function(
        self, node: cst.FunctionDef, owner: Optional[UserClass] = None
    ) -> UserFunction:
        for decorator in node.decorators:
            self.expr(decorator.decorator)
        function = UserFunction(
            node=node, closure=self.frame, owner=owner, context=self.ctx, snapshot=self._globals()
        )
        if owner is None:
            self.frame.vars[node.name.value] = function
            self.imports.forget(node.name.value)
            self.facts.functions.append(node)
            if id(node) not in self.queued:
                self.queued.add(id(node))
                self.pending.append((function, None))
        return function

    def _globals(self) -> Optional[int]:
        """The moment of the module's variables, when defining at module level."""
        variables = self.frame.vars
        return variables.clock if isinstance(variables, VersionedVars) else None

    def define_class(self, node: cst.ClassDef) -> None:
        bases = [self.expr(arg.value) for arg in node.bases]
        is_model = False
        is_layer = False
        inherited: dict[str, UserFunction] = {}
        inherited_attrs: dict[str, Value] = {}
        for base in bases:
            if isinstance(base, KerasName):
                if base.canonical in keras_api.MODEL_CLASSES:
                    is_model = True
                elif (
                    keras_api.layer_class(base.canonical) or base.canonical == "keras.layers.Layer"
                ):
                    is_layer = True
            elif isinstance(base, ProjectClass):
                is_model = is_model or base.summary.is_keras_model
                is_layer = is_layer or base.summary.is_keras_layer
            elif isinstance(base, UserClass):
                is_model = is_model or base.is_keras_model
                is_layer = is_layer or base.is_keras_layer
                inherited.update(base.methods)
                if base.instance is not None:
                    inherited_attrs.update(base.instance.attrs)
        name = node.name.value
        cls = UserClass(node=node, name=name, is_keras_model=is_model, is_keras_layer=is_layer)
        cls.project_bases = [base.summary for base in bases if isinstance(base, ProjectClass)]
        cls.bases_known = all(
            (isinstance(base, KerasName) and keras_api.is_keras(base.canonical))
            or (isinstance(base, UserClass) and base.bases_known)
            or isinstance(base, ProjectClass)
            or (isinstance(arg.value, cst.Name) and arg.value.value == "object")
            for arg, base in zip(node.bases, bases)
        )
        kind = "model" if is_model else "layer" if is_layer else "instance"
        cls.instance = Obj(
            kind=kind,
            node=node,
            keras_class=f"user:{name}",
            origin="subclass",
            user_class=cls,
            attrs=dict(inherited_attrs),
            label=name,
        )
        self.frame.vars[name] = cls
        self.imports.forget(name)
        self.facts.classes.append(cls)
        cls.methods.update(inherited)
        class_ctx = replace(self.ctx, class_name=name, class_is_model=is_model)
        with self.context(class_name=name, class_is_model=is_model):
            for statement in node.body.body:
                if isinstance(statement, cst.FunctionDef):
                    cls.methods[statement.name.value] = UserFunction(
                        node=statement,
                        closure=self.frame,
                        owner=cls,
                        context=class_ctx,
                        snapshot=self._globals(),
                    )
                    for decorator in statement.decorators:
                        self.expr(decorator.decorator)
        for init_name in ("__init__", "build"):
            method = cls.methods.get(init_name)
            if method is not None and method.owner is cls and id(method.node) not in self.queued:
                self.queued.add(id(method.node))
                trace = self.analyze_root(method, cls.instance)
                if init_name == "__init__":
                    self.init_traces[id(cls)] = trace
        for method in cls.methods.values():
            if method.owner is cls and id(method.node) not in self.queued:
                self.queued.add(id(method.node))
                self.pending.append((method, cls.instance))
