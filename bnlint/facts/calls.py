"""Calls: the dispatch of every call to Keras APIs, Keras objects, same-file code or the unknown."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from bnlint import keras_api
from bnlint.facts.events import (
    TRAINING_ABSENT,
    TRAINING_OTHER,
    AddEvent,
    CallEvent,
    CompileEvent,
    EscapeEvent,
    MethodCallEvent,
    TrainableEvent,
    TrainEvent,
)
from bnlint.facts.objects import (
    Const,
    Enumerated,
    KerasName,
    Layers,
    Obj,
    Tensor,
    UserClass,
    UserFunction,
    Value,
)
from bnlint.facts.results import CallFact
from bnlint.facts.state import BuilderState
from bnlint.facts.values import keyword, literal, merge_tensors, objects_in, positional, tensors_in

#: Methods whose Keras meaning bnlint records even when a subclass overrides them.
_KERAS_EVENT_METHODS = frozenset(
    {"compile", "fit", "fit_generator", "train_on_batch", "add", "get_layer"}
)

#: Builtins that never compile, train or change a model they receive.
_HARMLESS_FUNCTIONS = frozenset(
    {
        "print",
        "len",
        "isinstance",
        "issubclass",
        "str",
        "repr",
        "type",
        "id",
        "hasattr",
        "getattr",
        "sorted",
        "list",
        "tuple",
        "range",
        "zip",
        "min",
        "max",
        "sum",
        "any",
        "all",
        "dict",
        "set",
        "vars",
        "dir",
        "format",
        "iter",
        "next",
        "reversed",
        "enumerate",
        "hash",
        "callable",
        "super",
    }
)
#: Container and string methods that never compile or change what they are given.
_HARMLESS_METHODS = frozenset(
    {
        "append",
        "extend",
        "insert",
        "update",
        "setdefault",
        "format",
        "join",
        "get",
        "items",
        "keys",
        "values",
        "pop",
        "add",
        "info",
        "debug",
        "warning",
        "write",
    }
)


class CallInterpreter(BuilderState):
    """Evaluates calls and records what they do to Keras objects."""

    def call(self, node: cst.Call) -> Value:
        func = node.func
        receiver: Value = None
        method: Optional[str] = None
        callee: Value
        if isinstance(func, cst.Attribute) and self._is_import_chain(func):
            callee = self.attribute(func)
        elif isinstance(func, cst.Attribute):
            receiver = self.expr(func.value)
            method = func.attr.value
            callee = self.attribute_of(receiver, method)
        else:
            callee = self.expr(func)
        args = [(arg, self.expr(arg.value)) for arg in node.args]

        if isinstance(callee, KerasName):
            self.record_call(callee.canonical, node)
            return self.keras_call(callee.canonical, node, args)
        if isinstance(callee, UserFunction):
            return self.inline(callee, node, args, self_obj=None)
        if isinstance(callee, UserClass):
            return self.instantiate(callee, node, args)
        if isinstance(callee, Obj) and callee.kind in ("model", "layer", "part"):
            return self.layer_call(callee, node, args)
        if method is not None and isinstance(receiver, Obj):
            return self.method_call(receiver, method, node, args)
        if isinstance(func, cst.Name) and func.value == "setattr":
            return self.setattr_call(node, args)
        if isinstance(func, cst.Name) and func.value == "enumerate" and args:
            return Enumerated(args[0][1])
        if (
            isinstance(func, cst.Name)
            and func.value == "reversed"
            and args
            and isinstance(args[0][1], Layers)
        ):
            return args[0][1]
        harmless = (isinstance(func, cst.Name) and func.value in _HARMLESS_FUNCTIONS) or (
            method in _HARMLESS_METHODS
        )
        if not harmless:
            self.escape(node, args)
        return merge_tensors([v for _, v in args if isinstance(v, Tensor)])

    def _is_import_chain(self, node: cst.Attribute) -> bool:
        head: cst.BaseExpression = node
        while isinstance(head, cst.Attribute):
            head = head.value
        return (
            isinstance(head, cst.Name)
            and not self.frame.lookup(head.value)[0]
            and self.imports.qualified(node) is not None
        )

    def record_call(self, canonical: str, node: cst.Call) -> None:
        if id(node) not in self.seen_calls:
            self.seen_calls.add(id(node))
            self.facts.calls.append(CallFact(canonical, node, self.ctx))

    def escape(self, node: cst.Call, args: list[tuple[cst.Arg, Value]]) -> None:
        objects = tuple(objects_in([v for _, v in args]))
        if objects:
            self.emit(EscapeEvent, node, objects=objects)

    def method_call(
        self, receiver: Obj, method: str, node: cst.Call, args: list[tuple[cst.Arg, Value]]
    ) -> Value:
        values = {id(arg): value for arg, value in args}
        if receiver.kind == "tape":
            if method == "watch" and args:
                receiver.watched.append(args[0][1])
            elif method == "gradient" and len(args) >= 2:
                receiver.gradient_sources.append(args[1][1])
                receiver.gradient_targets.append(args[1][0].value)
            return None
        user_class = receiver.user_class
        if user_class is not None and not user_class.is_keras:
            if method in user_class.methods:
                return self.inline(user_class.methods[method], node, args, self_obj=receiver)
            self.escape(node, args)
            return None
        if (
            user_class is not None
            and method in user_class.methods
            and method not in _KERAS_EVENT_METHODS
        ):
            return self.inline(user_class.methods[method], node, args, self_obj=receiver)
        if receiver.kind == "optimizer":
            self._minimize_with_tape(method, node, values)
            return None
        if method == "compile":
            arg = keyword(node, "optimizer") or positional(node, 0)
            self.emit(
                CompileEvent,
                node,
                model=receiver,
                optimizer_arg=arg,
                optimizer=values.get(id(arg)) if arg is not None else None,
            )
            return None
        if method in keras_api.TRAIN_METHODS:
            self.emit(TrainEvent, node, model=receiver, method=method)
            return None
        if method == "add" and args and receiver.kind == "model":
            member = args[0][1]
            if isinstance(member, Obj):
                receiver.members.append(member)
                self.emit(AddEvent, node, model=receiver, member=member)
            else:
                receiver.members_complete = False
            return None
        if method == "get_layer":
            arg = keyword(node, "name") or keyword(node, "index") or positional(node, 0)
            key: object = ("get_layer", id(node))
            if arg is not None:
                given = values.get(id(arg))
                if isinstance(given, Const):
                    key = ("get_layer", given.value)
            return self.part(receiver, key, node)
        self.emit(MethodCallEvent, node, receiver=receiver, method=method)
        if method in ("__call__", "call"):
            return self.layer_call(receiver, node, args)
        return None

    def layer_call(self, callee: Obj, node: cst.Call, args: list[tuple[cst.Arg, Value]]) -> Value:
        training_arg = keyword(node, "training") or positional(node, 1)
        training: object = TRAINING_ABSENT
        if training_arg is not None:
            constant = literal(training_arg.value)
            training = (
                constant.value
                if constant is not None and isinstance(constant.value, bool)
                else TRAINING_OTHER
            )
        elif any(arg.star == "**" for arg in node.args):
            training = TRAINING_OTHER
        inputs = tuple(value for arg, value in args if arg.keyword is None and not arg.star)
        tensors = [t for _, v in args for t in tensors_in(v)]
        symbolic = any(t.symbolic for t in tensors)
        self.emit(
            CallEvent,
            node,
            callee=callee,
            training=training,
            training_arg=training_arg,
            inputs=inputs,
            symbolic=symbolic,
            statement=self.current_statement,
        )
        sources = frozenset({callee}).union(*(t.sources for t in tensors))
        return Tensor(sources, symbolic)

    def setattr_call(self, node: cst.Call, args: list[tuple[cst.Arg, Value]]) -> Value:
        if len(args) == 3 and args[1][1] == Const("trainable") and isinstance(args[0][1], Obj):
            constant = literal(args[2][0].value)
            flag = (
                constant.value
                if constant is not None and isinstance(constant.value, bool)
                else None
            )
            self.emit(
                TrainableEvent, node, target=args[0][1], value=flag, value_node=args[2][0].value
            )
        return None

    def _minimize_with_tape(self, method: str, node: cst.Call, values: dict[int, Value]) -> None:
        """``optimizer.minimize(loss, var_list, tape=tape)`` takes the tape's gradients."""
        tape_arg = keyword(node, "tape")
        var_list = keyword(node, "var_list") or positional(node, 1)
        tape = values.get(id(tape_arg)) if tape_arg is not None else None
        if method == "minimize" and isinstance(tape, Obj) and tape.kind == "tape" and var_list:
            tape.gradient_sources.append(values.get(id(var_list)))
            tape.gradient_targets.append(var_list.value)
