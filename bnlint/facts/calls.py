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
from bnlint.facts.forwarding import training_parameter
from bnlint.facts.objects import (
    Const,
    Enumerated,
    IndexRange,
    KerasName,
    LayerCount,
    Layers,
    ListValue,
    Obj,
    ProjectClass,
    ProjectFunction,
    Span,
    Tensor,
    UserClass,
    UserFunction,
    Value,
)
from bnlint.facts.results import CallFact, UnknownCallerCall
from bnlint.facts.state import BuilderState
from bnlint.facts.summaries import FunctionSummary
from bnlint.facts.values import (
    flag_value,
    keyword,
    literal,
    merge_tensors,
    objects_in,
    positional,
    tensors_in,
)

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


#: Methods that call the function they are given (``strategy.run(step_fn, args=(x,))``).
_RUNS_ITS_FUNCTION = frozenset(
    {"run", "experimental_run", "experimental_run_v2", "call_for_each_replica"}
)

#: Builtins that keep track of layer lists: ``reversed(M.layers)``, ``len(M.layers)``, ``range(...)``.
_LAYER_LIST_FUNCTIONS = frozenset({"reversed", "len", "range"})


def _layer_list_call(name: str, values: list[Value]) -> Value:
    """``reversed(M.layers)`` is the same layers, ``len(M.layers)`` their count, and
    ``range(k, len(M.layers))`` indices over a span of them; None for anything else."""
    if name == "reversed" and len(values) == 1 and isinstance(values[0], Layers):
        return values[0]
    if (
        name == "len"
        and len(values) == 1
        and isinstance(values[0], Layers)
        and not values[0].sliced
    ):
        return LayerCount(values[0].owner)
    if name != "range" or not 1 <= len(values) <= 2:
        return None
    counts = [value for value in values if isinstance(value, LayerCount)]
    if any(count.owner is not counts[0].owner for count in counts):
        return None
    bounds = [
        _index_bound(value) for value in ([Const(0), *values] if len(values) == 1 else values)
    ]
    if any(bound is False for bound in bounds):
        return None
    start, stop = bounds
    if counts:
        return IndexRange(counts[0].owner, Span(start or None, stop))  # type: ignore[arg-type]
    return _literal_range(start, stop)  # type: ignore[arg-type]


def _literal_range(start: int, stop: int) -> Optional[IndexRange]:
    """``range(-25, 0)``, literal ints counting from the end, as indices into whatever layer list
    they index: its last 25 layers. Other literal ranges (``range(10)``, mostly epochs) are unknown."""
    if start < 0 and stop == 0:
        return IndexRange(None, Span(start, None))
    if start < 0 and start < stop < 0:
        return IndexRange(None, Span(start, stop))
    return None


def _index_bound(value: Value) -> object:
    """A range bound as a list index (None: the end), or False when it is not one."""
    if isinstance(value, Const) and type(value.value) is int:
        return value.value
    if isinstance(value, LayerCount):
        return value.offset if value.offset < 0 else None if value.offset == 0 else False
    return False


def _project_method(receiver: Obj, method: str) -> Optional[FunctionSummary]:
    """The summary of a method defined in another project file: the receiver's class is there, or
    a same-file class inherits the method from one that is."""
    if receiver.project_class is not None:
        return receiver.project_class.method(method)
    user_class = receiver.user_class
    if user_class is None or method in user_class.methods:
        return None
    for base in user_class.project_bases:
        found = base.method(method)
        if found is not None:
            return found
    return None


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
        if isinstance(callee, ProjectClass):
            return self.instantiate_project(callee, node, args)
        if isinstance(callee, ProjectFunction):
            return self.call_project(callee.summary, node, args, self_obj=None, name=callee.name)
        if isinstance(callee, Obj) and callee.kind in ("model", "layer", "part"):
            return self.layer_call(callee, node, args)
        if isinstance(callee, Obj) and callee.user_class is not None:
            return self.instance_call(callee, callee.user_class, node, args)
        if method is not None and isinstance(receiver, Obj):
            return self.method_call(receiver, method, node, args)
        if isinstance(func, cst.Name) and func.value == "setattr":
            return self.setattr_call(node, args)
        if isinstance(func, cst.Name) and func.value == "enumerate" and args:
            return Enumerated(args[0][1])
        if isinstance(func, cst.Name) and func.value in _LAYER_LIST_FUNCTIONS:
            counted = _layer_list_call(func.value, [value for _, value in args])
            if counted is not None:
                return counted
        if callee is None:
            self._parameter_call(node)
        if method in _RUNS_ITS_FUNCTION and args and isinstance(args[0][1], UserFunction):
            return self._run_passed_function(args[0][1], node, args)
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
        project_method = _project_method(receiver, method)
        if project_method is not None:
            return self.call_project(project_method, node, args, self_obj=receiver, name=method)
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
            given = values.get(id(arg)) if arg is not None else None
            if isinstance(given, Const):
                key = ("get_layer", given.value)
            part = self.part(receiver, key, node)
            if isinstance(given, Const) and isinstance(given.value, str):
                part.layer_name = given.value
            return part
        self.emit(MethodCallEvent, node, receiver=receiver, method=method)
        if method == "load_weights":
            receiver.weights_loaded = True
        if method in ("__call__", "call"):
            return self.layer_call(receiver, node, args)
        return None

    def instance_call(
        self, callee: Obj, cls: UserClass, node: cst.Call, args: list[tuple[cst.Arg, Value]]
    ) -> Value:
        """``obj(x)`` on an instance of a plain same-file class: a model call when its
        ``__call__`` forwards a training flag, else its ``__call__`` followed like any method."""
        if training_parameter(cls) is not None:
            return self.layer_call(callee, node, args)
        method = cls.methods.get("__call__")
        if method is not None:
            return self.inline(method, node, args, self_obj=callee)
        self.escape(node, args)
        return None

    def layer_call(self, callee: Obj, node: cst.Call, args: list[tuple[cst.Arg, Value]]) -> Value:
        parameter = callee.forwarding or (
            training_parameter(callee.user_class) if callee.user_class else None
        )
        training_arg = keyword(node, "training")
        training_keyword = "training"
        if training_arg is None and parameter is not None:
            training_keyword = parameter.name
            training_arg = keyword(node, parameter.name)
            if training_arg is None and parameter.position is not None:
                training_arg = positional(node, parameter.position)
        elif training_arg is None:
            training_arg = positional(node, 1)
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
        elif parameter is not None and parameter.default == Const(True):
            training = True
        self._add_to_current_self(callee)
        inputs = tuple(value for arg, value in args if arg.keyword is None and not arg.star)
        tensors = [t for _, v in args for t in tensors_in(v)]
        symbolic = any(t.symbolic for t in tensors)
        self.emit(
            CallEvent,
            node,
            callee=callee,
            training=training,
            training_arg=training_arg,
            training_keyword=training_keyword,
            inputs=inputs,
            symbolic=symbolic,
            statement=self.current_statement,
        )
        sources = frozenset({callee}).union(*(t.sources for t in tensors))
        graphs = merge_tensors(tensors).graphs if tensors else ()  # type: ignore[union-attr]
        return Tensor(sources, symbolic, graphs)

    def _run_passed_function(
        self, function: UserFunction, node: cst.Call, args: list[tuple[cst.Arg, Value]]
    ) -> Value:
        """``strategy.run(step_fn, args=(x, y))``: follow ``step_fn`` here, with those arguments."""
        passed = dict((arg.keyword.value, value) for arg, value in args if arg.keyword is not None)
        given = passed.get("args")
        arguments = (
            [
                (cst.Arg(value=element.value), item)
                for element, item in zip(given.elements, given.items)
            ]
            if isinstance(given, ListValue)
            else []
        )
        return self.inline(function, node, arguments, self_obj=None)

    def _parameter_call(self, node: cst.Call) -> None:
        """Record ``param(x, training=True)`` (or ``self.attr(...)``) on an unknown callee."""
        arg = keyword(node, "training")
        if arg is None or id(node) in self.seen_calls:
            return
        constant = literal(arg.value)
        head: cst.BaseExpression = node.func
        while isinstance(head, cst.Attribute):
            head = head.value
        if (
            constant is None
            or not isinstance(constant.value, bool)
            or not isinstance(head, cst.Name)
            or not self.frame.is_parameter(head.value)
        ):
            return
        self.seen_calls.add(id(node))
        self.facts.parameter_calls.append(
            UnknownCallerCall(node, arg, constant.value, self.ctx, self.current_statement)
        )

    def _add_to_current_self(self, callee: Obj) -> None:
        """A layer or model called inside a method of an object is part of that object."""
        owner = self.current_self
        if (
            owner is not None
            and callee is not owner
            and callee.kind != "part"
            and callee not in owner.members
            and not callee.contains(owner)
        ):
            owner.members.append(callee)

    def setattr_call(self, node: cst.Call, args: list[tuple[cst.Arg, Value]]) -> Value:
        if len(args) == 3 and args[1][1] == Const("trainable") and isinstance(args[0][1], Obj):
            self.emit(
                TrainableEvent,
                node,
                target=args[0][1],
                value=flag_value(args[2][1]),
                value_node=args[2][0].value,
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
