"""Calls into code of the same file: functions followed with their arguments, classes instantiated."""

from __future__ import annotations

from dataclasses import replace
from typing import Optional

import libcst as cst

from bnlint.facts.events import Context, Trace
from bnlint.facts.imports import dotted_name
from bnlint.facts.objects import Const, Obj, Tensor, UserClass, UserFunction, Value
from bnlint.facts.state import MAX_INLINE_DEPTH, MAX_STEPS, BuilderState
from bnlint.facts.values import Frame, VersionedVars, literal


class UserCallInterpreter(BuilderState):
    """Follows calls of same-file functions and methods, and binds what classes receive."""

    def analyze_root(self, function: UserFunction, self_obj: Optional[Obj]) -> Trace:
        """Analyse a function on its own (its trace joins the facts); parameters not bound by its
        call sites are unknown."""
        trace, _ = self.analyze_with(function, self_obj, self.agreed_arguments(function))
        self.facts.traces.append(trace)
        return trace

    def analyze_with(
        self, function: UserFunction, self_obj: Optional[Obj], bindings: dict[str, Value]
    ) -> tuple[Trace, list[Value]]:
        """Interpret a function's body with its parameters bound as given (the rest unknown);
        return its trace and the values it returns."""
        node = function.node
        trace = Trace(node.name.value)
        owner = function.owner
        if owner is not None and node.name.value not in ("__init__", "build"):
            prefix = self.init_traces.get(id(owner))
            if prefix is not None:
                trace.events.extend(prefix.events)
        closure = function.closure if isinstance(function.closure, Frame) else self.module_frame
        variables = self.module_frame.vars
        if (
            function.snapshot is not None
            and closure is self.module_frame
            and isinstance(variables, VersionedVars)
        ):
            closure = Frame(self.module_frame)
            closure.vars = variables.as_of(function.snapshot)
        frame = Frame(closure)
        params = self._param_names(node)
        frame.params = frozenset(params)
        is_method = self_obj is not None and self._is_instance_method(node)
        for index, name in enumerate(params):
            value: Value = bindings.get(name)
            if index == 0 and is_method:
                value = self_obj
            elif index == 1 and owner is not None and owner.is_keras and node.name.value == "call":
                value = Tensor(frozenset(), symbolic=True)
            frame.vars[name] = value
        base_ctx = function.context or Context()
        ctx = replace(
            base_ctx,
            functions=(*base_ctx.functions, node.name.value),
            tape=None,
            tapes=(),
            loop=None,
            loop_iter=None,
        )
        with self.swapped(
            frame=frame,
            trace=trace,
            ctx=ctx,
            cond=0,
            stack=[node],
            returns=[[]],
            inline_calls=[],
            current_self=self_obj if is_method else None,
        ):
            self.block(node.body)
            returned = self.returns[-1]
        return trace, returned

    def agreed_arguments(self, function: UserFunction) -> dict[str, Value]:
        """The parameters that every call of ``function`` in the file binds to the same Keras
        object or literal (empty when some call was not seen or the function is referenced
        otherwise, say passed to ``tf.function`` or ``strategy.run``)."""
        sites = self.call_sites.get(id(function.node))
        if not sites or len(sites) != self.call_count(function.node.name.value):
            return {}
        bindings = list(sites.values())
        agreed: dict[str, Value] = {}
        for name, first in bindings[0].items():
            known = (isinstance(first, Obj) and first.kind != "tape") or isinstance(first, Const)
            if known and all(
                binding.get(name) is first
                or (isinstance(first, Const) and binding.get(name) == first)
                for binding in bindings[1:]
            ):
                agreed[name] = first
        return agreed

    @staticmethod
    def _param_names(node: cst.FunctionDef) -> list[str]:
        params = node.params
        ordered = [*params.posonly_params, *params.params]
        names = [p.name.value for p in ordered]
        if isinstance(params.star_arg, cst.Param):
            names.append(params.star_arg.name.value)
        names.extend(p.name.value for p in params.kwonly_params)
        if params.star_kwarg is not None:
            names.append(params.star_kwarg.name.value)
        return names

    @staticmethod
    def _is_instance_method(node: cst.FunctionDef) -> bool:
        for decorator in node.decorators:
            name = (
                dotted_name(decorator.decorator)
                if isinstance(decorator.decorator, (cst.Name, cst.Attribute))
                else None
            )
            if name in ("staticmethod", "classmethod"):
                return False
        return True

    def instantiate(
        self, cls: UserClass, node: cst.Call, args: list[tuple[cst.Arg, Value]]
    ) -> Value:
        if cls.is_keras:
            self.record_call(f"user:{cls.name}", node)
        self.construct(cls)
        self._bind_init_attributes(cls, args)
        self.escape(node, args)
        return cls.instance

    def _bind_init_attributes(self, cls: UserClass, args: list[tuple[cst.Arg, Value]]) -> None:
        """``GAN(generator=g)`` or ``Trainer(model)`` whose ``__init__`` does ``self.generator =
        generator``: bind the attribute.

        Only Keras objects passed straight to an attribute the ``__init__`` left unknown are bound; an
        attribute given different objects by two instantiations becomes unknown again.
        """
        init = cls.methods.get("__init__")
        if init is None or cls.instance is None or any(arg.star for arg, _ in args):
            return
        params = [*init.node.params.posonly_params, *init.node.params.params]
        names = [p.name.value for p in params[1:]] + [
            p.name.value for p in init.node.params.kwonly_params
        ]
        passed: dict[str, Value] = {}
        for index, (arg, value) in enumerate(args):
            if arg.keyword is not None:
                passed[arg.keyword.value] = value
            elif index < len(params) - 1:
                passed[names[index]] = value
        for attr, param in init_parameter_attributes(init.node):
            value = passed.get(param)
            key = (id(cls), attr)
            if cls.instance.attrs.get(attr) is not None and key not in self.init_bindings:
                continue
            if not isinstance(value, Obj) or value.kind not in ("model", "layer", "part"):
                value = None
            if key in self.init_bindings and self.init_bindings[key] is not value:
                value = None
            self.init_bindings[key] = value
            cls.instance.attrs[attr] = value

    def inline(
        self,
        function: UserFunction,
        node: cst.Call,
        args: list[tuple[cst.Arg, Value]],
        self_obj: Optional[Obj],
    ) -> Value:
        """Interpret the function's body with its parameters bound to the call's arguments; the
        events join the caller's trace. Returns what it returns, when every return agrees."""
        definition = function.node
        is_method = self_obj is not None and self._is_instance_method(definition)
        bound = self.bind_arguments(definition, args, self_obj if is_method else None)
        self._record_call_site(definition, node, bound, is_method)
        if (
            definition in self.stack
            or len(self.stack) >= MAX_INLINE_DEPTH
            or self.steps > MAX_STEPS
            or any(arg.star for arg, _ in args)
        ):
            self.escape(node, args)
            return None
        closure = function.closure if isinstance(function.closure, Frame) else self.module_frame
        frame = Frame(closure, frozenset(self._param_names(definition)))
        frame.vars.update(bound)
        base_ctx = function.context or Context()
        ctx = replace(
            self.ctx,
            functions=(*base_ctx.functions, definition.name.value),
            class_name=base_ctx.class_name,
            class_is_model=base_ctx.class_is_model,
            tape=self.ctx.tape,
        )
        saved = (self.frame, self.ctx, self.current_self)
        self.frame, self.ctx = frame, ctx
        if is_method:
            self.current_self = self_obj
        self.stack.append(definition)
        self.returns.append([])
        self.inline_calls.append(node)
        try:
            self.block(definition.body)
        finally:
            self.inline_calls.pop()
            self.stack.pop()
            returned = self.returns.pop()
            self.frame, self.ctx, self.current_self = saved
        distinct = [v for v in returned if v != Const(None)]
        if distinct and all(v is distinct[0] or v == distinct[0] for v in distinct):
            return distinct[0]
        return None

    def bind_arguments(
        self,
        definition: cst.FunctionDef,
        args: list[tuple[cst.Arg, Value]],
        self_obj: Optional[Obj],
    ) -> dict[str, Value]:
        """Every parameter of ``definition`` -> its value in this call (literal defaults included)."""
        params = definition.params
        bound: dict[str, Value] = {}
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            bound[param.name.value] = literal(param.default) if param.default is not None else None
        for extra in (params.star_arg, params.star_kwarg):
            if isinstance(extra, cst.Param):
                bound[extra.name.value] = None
        positional_names = [p.name.value for p in (*params.posonly_params, *params.params)]
        index = 0
        if self_obj is not None and positional_names:
            bound[positional_names[0]] = self_obj
            index = 1
        for arg, value in args:
            if arg.star:
                continue
            if arg.keyword is not None:
                if arg.keyword.value in bound:
                    bound[arg.keyword.value] = value
            elif index < len(positional_names):
                bound[positional_names[index]] = value
                index += 1
        return bound

    def _record_call_site(
        self, definition: cst.FunctionDef, node: cst.Call, bound: dict[str, Value], is_method: bool
    ) -> None:
        """Remember what this call binds (a call met twice with different values binds nothing)."""
        sites = self.call_sites.setdefault(id(definition), {})
        values = dict(bound)
        if is_method:
            params = [*definition.params.posonly_params, *definition.params.params]
            values.pop(params[0].name.value, None)
        if any(arg.star for arg in node.args):
            values = {}
        previous = sites.get(id(node))
        if previous is not None:
            values = {
                name: value
                for name, value in values.items()
                if previous.get(name) is value
                or (isinstance(value, Const) and previous.get(name) == value)
            }
        sites[id(node)] = values


def init_parameter_attributes(init: cst.FunctionDef) -> list[tuple[str, str]]:
    """``self.<attr> = <param>`` statements at the top level of an ``__init__``: (attr, param)."""
    params = [*init.params.posonly_params, *init.params.params]
    if not params:
        return []
    self_name = params[0].name.value
    names = {p.name.value for p in params[1:]} | {p.name.value for p in init.params.kwonly_params}
    found: list[tuple[str, str]] = []
    for line in init.body.body if isinstance(init.body, cst.IndentedBlock) else ():
        if not isinstance(line, cst.SimpleStatementLine):
            continue
        for small in line.body:
            if (
                isinstance(small, cst.Assign)
                and len(small.targets) == 1
                and isinstance(small.targets[0].target, cst.Attribute)
                and isinstance(small.targets[0].target.value, cst.Name)
                and small.targets[0].target.value.value == self_name
                and isinstance(small.value, cst.Name)
                and small.value.value in names
            ):
                found.append((small.targets[0].target.attr.value, small.value.value))
    return found
