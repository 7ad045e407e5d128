"""Names imported from other modules of the project, and calls into them, through their summaries.

``from models import Net``, ``import utils``, ``from .helpers import freeze_all``: the name is looked
up in the summary of the module it comes from (given by the ``SummaryProvider``). Instantiating a
project class, calling a project function or method, and reading a module-level model give objects
built from the summaries; what a function does to its arguments becomes events at the call, where a
finding about it belongs. Without a provider (a file linted alone), every such name stays unknown.
"""

from __future__ import annotations

from typing import Optional

import libcst as cst

from bnlint.facts.events import (
    CompileEvent,
    EscapeEvent,
    MethodCallEvent,
    TrainableEvent,
    TrainEvent,
)
from bnlint.facts.forwarding import TrainingParameter
from bnlint.facts.imports import dotted_name
from bnlint.facts.objects import (
    Const,
    Obj,
    ProjectClass,
    ProjectFunction,
    ProjectModule,
    Span,
    Value,
)
from bnlint.facts.state import BuilderState
from bnlint.facts.summaries import (
    ClassSummary,
    Effect,
    FunctionSummary,
    ObjectSummary,
    Reexport,
)

#: How many re-exports (``from .models import Net`` in ``__init__.py``) are followed for one name.
_MAX_REEXPORTS = 5


class ProjectInterpreter(BuilderState):
    """Resolves names imported from project modules and follows calls into them."""

    def record_project_import(self, node: cst.Import | cst.ImportFrom) -> None:
        """Remember which module (and name) each local name of an import statement comes from."""
        if isinstance(node, cst.Import):
            for alias in node.names:
                full = dotted_name(alias.name) or ""
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    self.project_names[alias.asname.name.value] = (full, 0, None)
                else:
                    head = full.split(".")[0]
                    self.project_names[head] = (head, 0, None)
            return  # a module imported whole is reached through its own summary
        module = dotted_name(node.module) if node.module is not None else ""
        level = len(node.relative)
        if isinstance(node.names, cst.ImportStar):
            self.star_imports.append((module or "", level))
            return
        for alias in node.names:
            name = dotted_name(alias.name) or ""
            local = name
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
            self.project_names[local] = (module or "", level, name)
            if self.frame is self.module_frame:
                self.module_imports[local] = (module or "", level, name)

    def project_value(self, local: str) -> Value:
        """What an imported name is, when it comes from a project module (else None)."""
        origin = self.project_names.get(local)
        if origin is None and self.star_imports:
            return self._star_imported(local)
        if origin is None or self.provider is None:
            return None
        key = ("import", local, origin)
        if key in self.project_memo:
            return self.project_memo[key]
        module, level, name = origin
        value: Value = None
        if name is None:
            value = self._project_module(module, level)
        else:
            submodule = self._project_module(f"{module}.{name}" if module else name, level)
            if submodule is not None:
                value = submodule
            else:
                found = self._project_module(module, level) if module or level else None
                if isinstance(found, ProjectModule):
                    value = self.module_member(found.path, name)
        self.project_memo[key] = value
        return value

    def _star_imported(self, local: str) -> Value:
        """A name that no statement of this file binds, taken from a project module imported
        with ``from module import *`` (the last such import that defines it wins, as in Python;
        names starting with ``_`` are not imported by ``*``)."""
        if self.provider is None or local.startswith("_"):
            return None
        key = ("star", local)
        if key not in self.project_memo:
            value: Value = None
            for module, level in reversed(self.star_imports):
                path = self.provider.resolve(module, level)
                source = self.provider.star_source(path, local) if path is not None else None
                if source is not None:
                    value = self.module_member(source, local)
                    break
            self.project_memo[key] = value
        return self.project_memo[key]

    def reexport(self, local: str) -> Optional[Reexport]:
        """Where a name this module imports at its top level really comes from, when that is
        another project module (so that importers of this module can follow it)."""
        origin = self.module_imports.get(local)
        if origin is None or self.provider is None:
            return None
        module, level, name = origin
        submodule = self.provider.resolve(f"{module}.{name}" if module else name, level)
        if submodule is not None:
            return Reexport(submodule, "")
        path = self.provider.resolve(module, level) if module or level else None
        return Reexport(path, name) if path is not None else None

    def _project_module(self, name: str, level: int) -> Optional[ProjectModule]:
        path = self.provider.resolve(name, level) if self.provider is not None else None
        return ProjectModule(path, name, level) if path is not None else None

    def module_member(self, path: str, name: str, hops: int = 0) -> Value:
        """``module.name``: a class, function, model or submodule of a project module."""
        member = self.provider.member(path, name) if self.provider is not None else None
        if isinstance(member, ClassSummary):
            return ProjectClass(path, member)
        if isinstance(member, FunctionSummary):
            return ProjectFunction(path, name, member)
        if isinstance(member, ObjectSummary):
            key = ("object", path, name)
            if key not in self.project_memo:
                self.project_memo[key] = self.materialize(member, None, label=name)
            return self.project_memo[key]
        if not isinstance(member, Reexport) or hops >= _MAX_REEXPORTS:
            return None
        if not member.name:
            return ProjectModule(member.path, name, 0)
        return self.module_member(member.path, member.name, hops + 1)

    def project_attribute(self, owner: ProjectModule, attr: str) -> Value:
        """``pkg.attr`` on an imported project module: a member, or a submodule."""
        member = self.module_member(owner.path, attr)
        if member is not None:
            return member
        return self._project_module(f"{owner.name}.{attr}", owner.level)

    # ----------------------------------------------------------- objects
    def materialize(
        self,
        summary: ObjectSummary,
        node: Optional[cst.CSTNode],
        depth: int = 0,
        label: Optional[str] = None,
    ) -> Obj:
        """An object of this file standing for one built in another project file (``label``:
        how a message names it, such as ``build_model()``)."""
        obj = Obj(
            kind=summary.kind if summary.kind in ("model", "layer") else "instance",
            node=node if node is not None else self.module,
            keras_class=summary.keras_class,
            origin=summary.origin,
            pretrained=summary.pretrained,
            weights_loaded=summary.weights_loaded,
            members_complete=False,
            label=label or summary.label,
            contained=summary.sensitive,
            is_keras=summary.is_keras,
        )
        for key, known in (("batchnorm", summary.batchnorm), ("noise", summary.noise)):
            if known is not None:
                obj.known_families[key] = known
        if summary.forwarding is not None:
            name, position, default = summary.forwarding
            obj.forwarding = TrainingParameter(
                name, position, Const(default) if default is not None else None
            )
        if depth < 2:
            obj.graph_bases = [
                self.materialize(base, node, depth + 1) for base in summary.graph_bases
            ]
            for name, attr in summary.attrs:
                obj.attrs[name] = self.materialize(attr, node, depth + 1)
            obj.inference_bases = [
                self.materialize(base, node, depth + 1) for base in summary.inference_bases
            ]
        if summary.graph_bases:
            obj.head_count = summary.head_layers
        if node is not None:
            self._handed_over(obj, summary, node)
        return obj

    def _handed_over(self, obj: Obj, summary: ObjectSummary, node: cst.CSTNode) -> None:
        """A model handed over compiled (and frozen or not) is compiled here, at the call."""
        for name, attr in summary.attrs:
            if name in obj.attrs:
                self._handed_over(obj.attrs[name], attr, node)  # type: ignore[arg-type]
        if summary.trainable is not None:
            self.emit(TrainableEvent, node, target=obj, value=summary.trainable)
        if summary.layers_frozen:
            frozen = self.part(obj, ("frozen before handed over", id(node)), node, Span())
            self.emit(TrainableEvent, node, target=frozen, value=False, over_layers=True)
        if summary.compiled:
            obj.compiled_on_creation = True
            by = f"`{obj.label}` (which compiles it, in another file)"
            self.emit(CompileEvent, node, model=obj, synthetic=True, by=by)

    def instantiate_project(
        self, cls: ProjectClass, node: cst.Call, args: list[tuple[cst.Arg, Value]]
    ) -> Value:
        """``Net(...)`` for a class of another project file."""
        summary = cls.summary
        if summary.instance is None:
            self.escape(node, args)
            return None
        obj = self.materialize(summary.instance, node)
        obj.project_class = summary
        obj.label = summary.name
        if not summary.is_keras:
            obj.kind = "instance"
        passed = self._bind(summary.init_params, args, offset=0)
        for attr, param in summary.init_bindings:
            value = passed.get(param)
            if isinstance(value, Obj) and value.kind in ("model", "layer", "part"):
                obj.attrs[attr] = value
                obj.bound_attrs.add(attr)
        self.escape(node, args)
        return obj

    # ------------------------------------------------------------- calls
    def call_project(
        self,
        function: FunctionSummary,
        node: cst.Call,
        args: list[tuple[cst.Arg, Value]],
        self_obj: Optional[Obj],
        name: str = "",
    ) -> Value:
        """A call of a project function or method: its effects on the arguments happen here."""
        if any(arg.star for arg, _ in args):
            self.escape(node, args)
            return None
        params = function.params
        offset = 1 if function.is_method and self_obj is not None else 0
        passed = self._bind(params[offset:], args, offset=0)
        if offset:
            passed[params[0]] = self_obj
        for effect in function.effects:
            if effect.param >= len(params) or (
                offset and effect.param == 0 and effect.path and not _bound_here(self_obj, effect)
            ):
                continue
            target = _follow(passed.get(params[effect.param]), effect.path)
            if target is not None:
                self._apply(effect, target, node)
        if function.returns is not None:
            key = ("returns", id(node))
            if key not in self.project_memo:
                label = f"{name}()" if name else None
                self.project_memo[key] = self.materialize(function.returns, node, label=label)
            return self.project_memo[key]
        return None

    def _apply(self, effect: Effect, target: Obj, node: cst.Call) -> None:
        if effect.action == "trainable":
            if effect.over_layers:
                span = Span(*effect.span) if effect.span is not None else None
                target = self.part(target, ("project", id(node), effect), node, span)
            self.emit(
                TrainableEvent,
                node,
                target=target,
                value=effect.value,
                batchnorm=effect.batchnorm,
                over_layers=effect.over_layers,
            )
        elif effect.action == "compile":
            self.emit(CompileEvent, node, model=target)
        elif effect.action == "train":
            self.emit(TrainEvent, node, model=target, method="fit")
        elif effect.action == "load_weights":
            target.weights_loaded = True
            self.emit(MethodCallEvent, node, receiver=target, method="load_weights")
        elif effect.action == "escape":
            self.emit(EscapeEvent, node, objects=(target,))

    @staticmethod
    def _bind(
        params: tuple[str, ...], args: list[tuple[cst.Arg, Value]], offset: int
    ) -> dict[str, Value]:
        """Parameter name -> the value a call passes (positional, then by keyword)."""
        passed: dict[str, Value] = {}
        index = offset
        for arg, value in args:
            if arg.keyword is not None:
                passed[arg.keyword.value] = value
            elif index < len(params):
                passed[params[index]] = value
                index += 1
        return passed


def _bound_here(instance: Optional[Obj], effect: Effect) -> bool:
    """Whether a method's effect on ``self.<attr>`` concerns an object this file handed to the
    instance (``Trainer(model)``): one the class built itself is judged in the class's own file."""
    return instance is not None and effect.path[0] in instance.bound_attrs


def _follow(value: Value, path: tuple[str, ...]) -> Optional[Obj]:
    """``value.a.b`` for an attribute path, when every step is a known object."""
    current = value
    for attr in path:
        if not isinstance(current, Obj):
            return None
        current = current.attrs.get(attr)
    return current if isinstance(current, Obj) else None
