"""Builds a file's facts with one abstract interpretation of its statements, in execution order.

The module body is interpreted first, then every function and method once on its own. Calls of
functions and methods defined in the same file are followed (their events join the caller's trace),
which is how "a helper that compiles its argument" or "returns a compiled model" is understood.
What cannot be known becomes ``None`` (unknown), and unknown things never produce findings.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Optional, TypeVar

import libcst as cst

from bnlint import keras_api
from bnlint.facts.events import (
    TRAINING_ABSENT,
    TRAINING_OTHER,
    AddEvent,
    CallEvent,
    CompileEvent,
    Context,
    EscapeEvent,
    Event,
    Guard,
    MethodCallEvent,
    Trace,
    TrainableEvent,
    TrainEvent,
)
from bnlint.facts.imports import ImportTable, dotted_name
from bnlint.facts.nodes import EXPRESSION_TYPES, STATEMENT_TYPES, code_children
from bnlint.facts.objects import (
    Const,
    Enumerated,
    KerasName,
    Layers,
    ListValue,
    Obj,
    OptimizerOf,
    Tensor,
    UserClass,
    UserFunction,
    Value,
)

#: How deep calls of same-file functions are followed.
MAX_INLINE_DEPTH = 4
#: Statements interpreted per file before calls stop being followed (keeps huge files linear).
MAX_STEPS = 200_000

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


@dataclass(frozen=True)
class CallFact:
    """A call whose callee resolved to a Keras/TensorFlow API or a same-file Keras class."""

    canonical: str
    node: cst.Call
    context: Context


@dataclass(frozen=True)
class AttributeAssignment:
    """``X.trainable = v`` or ``X.training = v`` on any object (known or not)."""

    attr: str
    target: Value
    statement: cst.CSTNode
    target_node: cst.Attribute
    value_node: cst.BaseExpression
    context: Context


@dataclass
class Facts:
    """Everything the rules read about one file."""

    module: cst.Module
    imports: ImportTable
    traces: list[Trace] = field(default_factory=list)
    calls: list[CallFact] = field(default_factory=list)
    attribute_assignments: list[AttributeAssignment] = field(default_factory=list)
    classes: list[UserClass] = field(default_factory=list)
    functions: list[cst.FunctionDef] = field(default_factory=list)
    #: Every ``Sequential`` and functional ``Model(inputs, outputs)`` built in the file.
    models: list[Obj] = field(default_factory=list)

    def events(self, kind: type[E]) -> Iterator[tuple[Trace, int, E]]:
        """Every event of a kind, with its trace and index in that trace."""
        for trace in self.traces:
            for index, event in enumerate(trace.events):
                if isinstance(event, kind):
                    yield trace, index, event


E = TypeVar("E", bound=Event)


class _Frame:
    """Variables of one scope, with the enclosing scope as parent."""

    __slots__ = ("parent", "vars")

    def __init__(self, parent: Optional[_Frame] = None) -> None:
        self.vars: dict[str, Value] = {}
        self.parent = parent

    def lookup(self, name: str) -> tuple[bool, Value]:
        frame: Optional[_Frame] = self
        while frame is not None:
            if name in frame.vars:
                return True, frame.vars[name]
            frame = frame.parent
        return False, None


_NAME_CONSTANTS = {"True": Const(True), "False": Const(False), "None": Const(None)}


def _literal(node: cst.BaseExpression) -> Optional[Const]:
    """The value of a literal number, string, bool or None, else None."""
    node_type = type(node)
    if node_type is cst.Name:
        return _NAME_CONSTANTS.get(node.value)  # type: ignore[attr-defined]
    if node_type not in _LITERAL_TYPES:
        return None
    if isinstance(node, (cst.Integer, cst.Float)):
        try:
            return Const(
                float(node.value.replace("_", ""))
                if isinstance(node, cst.Float)
                else int(node.value.replace("_", ""), 0)
            )
        except ValueError:
            return None
    if isinstance(node, cst.SimpleString):
        raw = node.value
        quote = raw[:3] if raw[:3] in ('"""', "'''") else raw[:1]
        if quote in ('"', "'", '"""', "'''") and "\\" not in raw:
            return Const(raw[len(quote) : -len(quote)])
        try:
            return Const(node.evaluated_value)
        except Exception:
            return None
    if (
        isinstance(node, cst.UnaryOperation)
        and isinstance(node.operator, cst.Minus)
        and isinstance(node.expression, (cst.Integer, cst.Float))
    ):
        inner = _literal(node.expression)
        if inner is not None and isinstance(inner.value, (int, float)):
            return Const(-inner.value)
    return None


_LITERAL_TYPES = frozenset({cst.Integer, cst.Float, cst.SimpleString, cst.UnaryOperation})


def keyword(call: cst.Call, name: str) -> Optional[cst.Arg]:
    """The ``name=`` keyword argument of a call, if given."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def positional(call: cst.Call, index: int) -> Optional[cst.Arg]:
    """The ``index``-th positional argument of a call (before any ``*args``), if given."""
    for count, arg in enumerate(call.args):
        if arg.keyword is not None or arg.star:
            return None
        if count == index:
            return arg
    return None


def has_star_args(call: cst.Call) -> bool:
    """Whether the call passes ``*args`` or ``**kwargs`` (whose contents are unknown)."""
    return any(arg.star for arg in call.args)


class _Builder:
    def __init__(self, module: cst.Module) -> None:
        self.module = module
        self.facts = Facts(module=module, imports=ImportTable())
        self.imports = self.facts.imports
        self.module_frame = _Frame()
        self.frame = self.module_frame
        self.trace = Trace("<module>")
        self.ctx = Context()
        self.cond = 0
        self.stack: list[cst.FunctionDef] = []
        self.returns: list[list[Value]] = []
        self.steps = 0
        self.parts: dict[tuple[int, object], Obj] = {}
        self.seen_calls: set[int] = set()
        self.seen_attr_sets: dict[int, int] = {}
        self.pending: list[tuple[UserFunction, Optional[Obj]]] = []
        self.queued: set[int] = set()
        self.init_traces: dict[int, Trace] = {}
        self.current_statement: Optional[cst.CSTNode] = None
        self.init_bindings: dict[tuple[int, str], Value] = {}

    # ----------------------------------------------------------------- roots
    def build(self) -> Facts:
        self.facts.traces.append(self.trace)
        self.block(self.module.body)
        while self.pending:
            function, self_obj = self.pending.pop(0)
            self.analyze_root(function, self_obj)
        return self.facts

    def analyze_root(self, function: UserFunction, self_obj: Optional[Obj]) -> Trace:
        node = function.node
        trace = Trace(node.name.value)
        owner = function.owner
        if owner is not None and node.name.value not in ("__init__", "build"):
            prefix = self.init_traces.get(id(owner))
            if prefix is not None:
                trace.events.extend(prefix.events)
        self.facts.traces.append(trace)
        frame = _Frame(
            function.closure if isinstance(function.closure, _Frame) else self.module_frame
        )
        params = self._param_names(node)
        for index, name in enumerate(params):
            value: Value = None
            if index == 0 and self_obj is not None and self._is_instance_method(node):
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
        saved = (self.frame, self.trace, self.ctx, self.cond, self.stack, self.returns)
        self.frame, self.trace, self.ctx, self.cond, self.stack, self.returns = (
            frame,
            trace,
            ctx,
            0,
            [node],
            [[]],
        )
        try:
            self.block(node.body)
        finally:
            self.frame, self.trace, self.ctx, self.cond, self.stack, self.returns = saved
        return trace

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

    # ------------------------------------------------------------ statements
    def block(self, body: object) -> None:
        if isinstance(body, (cst.IndentedBlock, cst.Module)):
            statements: Sequence[cst.CSTNode] = body.body
        elif isinstance(body, cst.SimpleStatementSuite):
            statements = [body]
        else:
            statements = body  # type: ignore[assignment]
        with contextlib.ExitStack() as skipped:
            for statement in statements:
                self.statement(statement)
                if _is_continue_guard(statement):
                    skipped.enter_context(self.guarded(statement.test, holds=False))  # type: ignore[attr-defined]

    @contextlib.contextmanager
    def guarded(self, test: cst.BaseExpression, holds: bool) -> Iterator[None]:
        """Events inside depend on ``test`` being ``holds``."""
        with self.context(guards=(*self.ctx.guards, Guard(test, holds))):
            yield

    @contextlib.contextmanager
    def conditional(self) -> Iterator[None]:
        self.cond += 1
        try:
            yield
        finally:
            self.cond -= 1

    @contextlib.contextmanager
    def context(self, **changes: object) -> Iterator[None]:
        saved = self.ctx
        self.ctx = replace(self.ctx, **changes)  # type: ignore[arg-type]
        try:
            yield
        finally:
            self.ctx = saved

    def statement(self, node: cst.CSTNode) -> None:
        self.steps += 1
        previous_statement, self.current_statement = self.current_statement, node
        if isinstance(node, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            for small in node.body:
                self.small_statement(small, node)
        elif isinstance(node, cst.If):
            self.expr(node.test)
            with self.conditional():
                with self.guarded(node.test, holds=True):
                    self.block(node.body)
                with self.guarded(node.test, holds=False):
                    if isinstance(node.orelse, cst.If):
                        self.statement(node.orelse)
                    elif isinstance(node.orelse, cst.Else):
                        self.block(node.orelse.body)
        elif isinstance(node, cst.For):
            iterable = self.expr(node.iter)
            with self.conditional(), self.context(loop=node, loop_iter=iterable):
                self.bind_loop_target(node.target, iterable, node)
                self.block(node.body)
            if node.orelse is not None:
                with self.conditional():
                    self.block(node.orelse.body)
        elif isinstance(node, cst.While):
            self.expr(node.test)
            with self.conditional():
                self.block(node.body)
                if node.orelse is not None:
                    self.block(node.orelse.body)
        elif isinstance(node, cst.With):
            tape: Optional[Obj] = None
            tapes = self.ctx.tapes
            for item in node.items:
                value = self.expr(item.item)
                if isinstance(value, Obj) and value.kind == "tape":
                    tape = value
                    tapes = (*tapes, value)
                if item.asname is not None:
                    self.assign(item.asname.name, value, node)
            if tape is not None:
                with self.context(tape=tape, tapes=tapes):
                    self.block(node.body)
            else:
                self.block(node.body)
        elif isinstance(node, (cst.Try, cst.TryStar)):
            self.block(node.body)
            with self.conditional():
                for handler in node.handlers:
                    if handler.type is not None:
                        self.expr(handler.type)
                    self.block(handler.body)
                if node.orelse is not None:
                    self.block(node.orelse.body)
            if node.finalbody is not None:
                self.block(node.finalbody.body)
        elif isinstance(node, cst.FunctionDef):
            self.define_function(node)
        elif isinstance(node, cst.ClassDef):
            self.define_class(node)
        elif isinstance(node, cst.Match):
            self.expr(node.subject)
            with self.conditional():
                for case in node.cases:
                    self.block(case.body)
        else:
            self.generic(node)
        self.current_statement = previous_statement

    def small_statement(self, node: cst.BaseSmallStatement, line: cst.CSTNode) -> None:
        if isinstance(node, cst.Assign):
            value = self.expr(node.value)
            for target in node.targets:
                self.assign(target.target, value, node, node.value)
        elif isinstance(node, cst.AnnAssign):
            if node.value is not None:
                self.assign(node.target, self.expr(node.value), node, node.value)
        elif isinstance(node, cst.AugAssign):
            self.expr(node.value)
            if not isinstance(node.target, cst.Name):
                self.generic(node.target)
        elif isinstance(node, cst.Expr):
            self.expr(node.value)
        elif isinstance(node, cst.Return):
            value = self.expr(node.value) if node.value is not None else Const(None)
            if self.returns:
                self.returns[-1].append(value)
        elif isinstance(node, (cst.Import, cst.ImportFrom)):
            self.imports.add(node)
            self._unshadow_imports(node)
        else:
            self.generic(node)

    def _unshadow_imports(self, node: cst.Import | cst.ImportFrom) -> None:
        """An import rebinds its names: forget any variable of the same name in this frame."""
        names = node.names if not isinstance(node.names, cst.ImportStar) else ()
        for alias in names:
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
            else:
                local = (dotted_name(alias.name) or "").split(".")[0]
            self.frame.vars.pop(local, None)

    # --------------------------------------------------------- definitions
    def define_function(
        self, node: cst.FunctionDef, owner: Optional[UserClass] = None
    ) -> UserFunction:
        for decorator in node.decorators:
            self.expr(decorator.decorator)
        function = UserFunction(node=node, closure=self.frame, owner=owner, context=self.ctx)
        if owner is None:
            self.frame.vars[node.name.value] = function
            self.imports.forget(node.name.value)
            self.facts.functions.append(node)
            if id(node) not in self.queued:
                self.queued.add(id(node))
                self.pending.append((function, None))
        return function

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
            elif isinstance(base, UserClass):
                is_model = is_model or base.is_keras_model
                is_layer = is_layer or base.is_keras_layer
                inherited.update(base.methods)
                if base.instance is not None:
                    inherited_attrs.update(base.instance.attrs)
        name = node.name.value
        cls = UserClass(node=node, name=name, is_keras_model=is_model, is_keras_layer=is_layer)
        cls.bases_known = all(
            (isinstance(base, KerasName) and keras_api.is_keras(base.canonical))
            or (isinstance(base, UserClass) and base.bases_known)
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
                        node=statement, closure=self.frame, owner=cls, context=class_ctx
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

    # ----------------------------------------------------------- binding
    def assign(
        self,
        target: cst.BaseExpression,
        value: Value,
        statement: cst.CSTNode,
        value_node: Optional[cst.BaseExpression] = None,
    ) -> None:
        if isinstance(target, cst.Name):
            self.frame.vars[target.value] = value
            if self.frame is self.module_frame:
                self.imports.forget(target.value)
        elif isinstance(target, cst.Attribute):
            owner = self.expr(target.value)
            attr = target.attr.value
            if attr in ("trainable", "training") and value_node is not None:
                self._attribute_assignment(attr, owner, statement, target, value_node)
            elif isinstance(owner, Obj):
                owner.attrs[attr] = value
        elif isinstance(target, (cst.Tuple, cst.List)):
            items = value.items if isinstance(value, ListValue) else ()
            for index, element in enumerate(target.elements):
                item = items[index] if len(items) == len(target.elements) else None
                inner = element.value
                if isinstance(element, cst.StarredElement):
                    item = None
                self.assign(inner, item, statement)
        elif isinstance(target, cst.StarredElement):
            self.assign(target.value, None, statement)
        else:
            self.generic(target)

    def _attribute_assignment(
        self,
        attr: str,
        owner: Value,
        statement: cst.CSTNode,
        target: cst.Attribute,
        value_node: cst.BaseExpression,
    ) -> None:
        record = AttributeAssignment(attr, owner, statement, target, value_node, self.ctx)
        index = self.seen_attr_sets.get(id(statement))
        if index is None:
            self.seen_attr_sets[id(statement)] = len(self.facts.attribute_assignments)
            self.facts.attribute_assignments.append(record)
        elif isinstance(owner, Obj) and not isinstance(
            self.facts.attribute_assignments[index].target, Obj
        ):
            # A function analysed on its own first, then inlined where its argument is known.
            self.facts.attribute_assignments[index] = record
        if attr == "trainable" and isinstance(owner, Obj):
            literal = _literal(value_node)
            flag = (
                literal.value if literal is not None and isinstance(literal.value, bool) else None
            )
            self.emit(
                TrainableEvent,
                statement,
                target=owner,
                value=flag,
                value_node=value_node,
                target_node=target,
            )

    def bind_loop_target(
        self, target: cst.BaseExpression, iterable: Value, loop: cst.CSTNode
    ) -> None:
        if (
            isinstance(iterable, Enumerated)
            and isinstance(target, cst.Tuple)
            and len(target.elements) == 2
        ):
            self.assign(target.elements[0].value, None, loop)
            self.assign(target.elements[1].value, self.element_of(iterable.inner, loop), loop)
            return
        self.assign(target, self.element_of(iterable, loop), loop)

    def element_of(self, iterable: Value, loop: cst.CSTNode) -> Value:
        if isinstance(iterable, Layers):
            return self.part(iterable.owner, ("loop", id(loop)), loop)
        if isinstance(iterable, ListValue) and iterable.items:
            first = iterable.items[0]
            if all(item is first for item in iterable.items):
                return first
        return None

    def part(self, owner: Obj, key: object, node: cst.CSTNode) -> Obj:
        memo_key = (id(owner), key)
        existing = self.parts.get(memo_key)
        if existing is not None:
            return existing
        created = Obj(
            kind="part",
            node=node,
            parent=owner,
            origin="part",
            pretrained=owner.pretrained,
            label=owner.label,
        )
        self.parts[memo_key] = created
        return created

    # ------------------------------------------------------------ events
    def emit(self, kind: type[Event], node: cst.CSTNode, **fields: object) -> None:
        self.trace.events.append(
            kind(node=node, context=self.ctx, conditional=self.cond > 0, **fields)
        )

    # ---------------------------------------------------------- expressions
    def expr(self, node: cst.BaseExpression) -> Value:
        handler = _EXPRESSION_HANDLERS.get(type(node))
        if handler is not None:
            return handler(self, node)
        return self.generic(node)

    def literal_expr(self, node: cst.BaseExpression) -> Value:
        literal = _literal(node)
        return literal if literal is not None else self.generic(node)

    def sequence(self, node: cst.List | cst.Tuple) -> Value:
        items = tuple(self.expr(element.value) for element in node.elements)
        return ListValue(items, tuple(node.elements))

    def lambda_expr(self, node: cst.Lambda) -> Value:
        return None

    def if_expr(self, node: cst.IfExp) -> Value:
        self.expr(node.test)
        body = self.expr(node.body)
        orelse = self.expr(node.orelse)
        return body if body == orelse else None

    def named_expr(self, node: cst.NamedExpr) -> Value:
        value = self.expr(node.value)
        self.assign(node.target, value, node)
        return value

    def generic(self, node: cst.CSTNode) -> Value:
        """Evaluate every sub-expression; the result is a tensor if any input is one, else unknown."""
        tensors: list[Tensor] = []
        for child in code_children(node):
            child_type = type(child)
            if child_type in EXPRESSION_TYPES:
                value = self.expr(child)
            elif child_type in STATEMENT_TYPES:
                self.statement(child)
                continue
            elif child_type is cst.IndentedBlock:
                self.block(child)
                continue
            else:
                value = self.generic(child)
            if type(value) is Tensor:
                tensors.append(value)
        return _merge_tensors(tensors)

    def name(self, node: cst.Name) -> Value:
        constant = _NAME_CONSTANTS.get(node.value)
        if constant is not None:
            return constant
        found, value = self.frame.lookup(node.value)
        if found:
            return value
        canonical = self.imports.canonical(node)
        return KerasName(canonical) if canonical else None

    def attribute(self, node: cst.Attribute) -> Value:
        head = node
        while isinstance(head, cst.Attribute):
            head = head.value  # type: ignore[assignment]
        if isinstance(head, cst.Name) and not self.frame.lookup(head.value)[0]:
            qualified = self.imports.qualified(node)
            if qualified is not None:
                canonical = self.imports.canonical(node)
                return KerasName(canonical) if canonical else None
        owner = self.expr(node.value)
        return self.attribute_of(owner, node.attr.value)

    def attribute_of(self, owner: Value, attr: str) -> Value:
        if isinstance(owner, KerasName):
            return KerasName(f"{owner.canonical}.{attr}")
        if not isinstance(owner, Obj):
            return None
        if attr in owner.attrs:
            return owner.attrs[attr]
        if owner.kind in ("model", "part", "layer") or owner.user_class is not None:
            if attr in ("layers", "submodules", "_layers", "_flatten_layers"):
                return Layers(owner)
            if attr in ("input", "inputs", "output", "outputs"):
                return Tensor(frozenset({owner}), symbolic=True)
            if attr == "optimizer":
                return OptimizerOf(owner)
        return None

    def subscript(self, node: cst.Subscript) -> Value:
        owner = self.expr(node.value)
        index_literal: Optional[Const] = None
        sliced = False
        for element in node.slice:
            inner = element.slice
            if isinstance(inner, cst.Index):
                value = self.expr(inner.value)
                if isinstance(value, Const):
                    index_literal = value
            else:
                sliced = True
                self.generic(inner)
        if isinstance(owner, Layers):
            if sliced or len(node.slice) != 1:
                return Layers(owner.owner, sliced=True)
            key = index_literal.value if index_literal is not None else ("expr", id(node))
            return self.part(owner.owner, ("index", key), node)
        if (
            isinstance(owner, ListValue)
            and index_literal is not None
            and isinstance(index_literal.value, int)
        ):
            try:
                return owner.items[index_literal.value]
            except IndexError:
                return None
        if isinstance(owner, Tensor):
            return owner
        return None

    def comprehension(self, node: cst.BaseComp) -> Value:
        saved = self.frame
        self.frame = _Frame(saved)
        try:
            clause: Optional[cst.CompFor] = node.for_in
            while clause is not None:
                iterable = self.expr(clause.iter)
                self.bind_loop_target(clause.target, iterable, clause)
                for condition in clause.ifs:
                    self.expr(condition.test)
                clause = clause.inner_for_in
            if isinstance(node, cst.DictComp):
                self.expr(node.key)
                self.expr(node.value)
            else:
                self.expr(node.elt)  # type: ignore[attr-defined]
        finally:
            self.frame = saved
        return None

    # ----------------------------------------------------------------- calls
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
        return _merge_tensors([v for _, v in args if isinstance(v, Tensor)])

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
        objects = tuple(_objects_in([v for _, v in args]))
        if objects:
            self.emit(EscapeEvent, node, objects=objects)

    def keras_call(
        self, canonical: str, node: cst.Call, args: list[tuple[cst.Arg, Value]]
    ) -> Value:
        values = {id(arg): value for arg, value in args}

        def arg_value(name: str, index: Optional[int]) -> tuple[Optional[cst.Arg], Value]:
            arg = keyword(node, name)
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
            _, inputs = arg_value("inputs", 0)
            _, outputs = arg_value("outputs", 1)
            if outputs is None:
                model.members_complete = False
            for value in (inputs, outputs):
                for tensor in _tensors_in(value):
                    for source in tensor.sources:
                        if source not in model.members:
                            model.members.append(source)
                if value is not None and not _tensors_in(value):
                    model.members_complete = False
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
        if canonical == "tensorflow.GradientTape":
            return Obj(kind="tape", node=node, keras_class=canonical, label="tape")
        return _merge_tensors([t for _, v in args for t in _tensors_in(v)])

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
                literal = values.get(id(arg))
                if isinstance(literal, Const):
                    key = ("get_layer", literal.value)
            return self.part(receiver, key, node)
        self.emit(MethodCallEvent, node, receiver=receiver, method=method)
        if method in ("__call__", "call"):
            return self.layer_call(receiver, node, args)
        return None

    def layer_call(self, callee: Obj, node: cst.Call, args: list[tuple[cst.Arg, Value]]) -> Value:
        training_arg = keyword(node, "training") or positional(node, 1)
        training: object = TRAINING_ABSENT
        if training_arg is not None:
            literal = _literal(training_arg.value)
            training = (
                literal.value
                if literal is not None and isinstance(literal.value, bool)
                else TRAINING_OTHER
            )
        elif any(arg.star == "**" for arg in node.args):
            training = TRAINING_OTHER
        inputs = tuple(value for arg, value in args if arg.keyword is None and not arg.star)
        tensors = [t for _, v in args for t in _tensors_in(v)]
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
            literal = _literal(args[2][0].value)
            flag = (
                literal.value if literal is not None and isinstance(literal.value, bool) else None
            )
            self.emit(
                TrainableEvent, node, target=args[0][1], value=flag, value_node=args[2][0].value
            )
        return None

    def instantiate(
        self, cls: UserClass, node: cst.Call, args: list[tuple[cst.Arg, Value]]
    ) -> Value:
        if cls.is_keras:
            self.record_call(f"user:{cls.name}", node)
            self._bind_init_attributes(cls, args)
        self.escape(node, args)
        return cls.instance

    def _bind_init_attributes(self, cls: UserClass, args: list[tuple[cst.Arg, Value]]) -> None:
        """``GAN(generator=g)`` whose ``__init__`` does ``self.generator = generator``: bind the attribute.

        Only Keras objects passed straight to an attribute the ``__init__`` left unknown are bound; an
        attribute given different objects by two instantiations becomes unknown again.
        """
        init = cls.methods.get("__init__")
        if init is None or cls.instance is None or any(arg.star for arg, _ in args):
            return
        params = [*init.node.params.posonly_params, *init.node.params.params]
        if not params or not self._is_instance_method(init.node):
            return
        self_name = params[0].name.value
        names = [p.name.value for p in params[1:]] + [
            p.name.value for p in init.node.params.kwonly_params
        ]
        passed: dict[str, Value] = {}
        for index, (arg, value) in enumerate(args):
            if arg.keyword is not None:
                passed[arg.keyword.value] = value
            elif index < len(params) - 1:
                passed[names[index]] = value
        for line in init.node.body.body if isinstance(init.node.body, cst.IndentedBlock) else ():
            if not isinstance(line, cst.SimpleStatementLine):
                continue
            for small in line.body:
                if not (
                    isinstance(small, cst.Assign)
                    and len(small.targets) == 1
                    and isinstance(small.targets[0].target, cst.Attribute)
                    and isinstance(small.targets[0].target.value, cst.Name)
                    and small.targets[0].target.value.value == self_name
                    and isinstance(small.value, cst.Name)
                    and small.value.value in names
                ):
                    continue
                attr = small.targets[0].target.attr.value
                value = passed.get(small.value.value)
                key = (id(cls), attr)
                if cls.instance.attrs.get(attr) is not None and key not in self.init_bindings:
                    continue
                if not isinstance(value, Obj) or value.kind not in ("model", "layer", "part"):
                    value = None
                if key in self.init_bindings and self.init_bindings[key] is not value:
                    value = None
                self.init_bindings[key] = value
                cls.instance.attrs[attr] = value

    def _minimize_with_tape(self, method: str, node: cst.Call, values: dict[int, Value]) -> None:
        """``optimizer.minimize(loss, var_list, tape=tape)`` takes the tape's gradients."""
        tape_arg = keyword(node, "tape")
        var_list = keyword(node, "var_list") or positional(node, 1)
        tape = values.get(id(tape_arg)) if tape_arg is not None else None
        if method == "minimize" and isinstance(tape, Obj) and tape.kind == "tape" and var_list:
            tape.gradient_sources.append(values.get(id(var_list)))
            tape.gradient_targets.append(var_list.value)

    def inline(
        self,
        function: UserFunction,
        node: cst.Call,
        args: list[tuple[cst.Arg, Value]],
        self_obj: Optional[Obj],
    ) -> Value:
        definition = function.node
        if (
            definition in self.stack
            or len(self.stack) >= MAX_INLINE_DEPTH
            or self.steps > MAX_STEPS
            or any(arg.star for arg, _ in args)
        ):
            self.escape(node, args)
            return None
        closure = function.closure if isinstance(function.closure, _Frame) else self.module_frame
        frame = _Frame(closure)
        names = self._param_names(definition)
        params = [
            *definition.params.posonly_params,
            *definition.params.params,
            *definition.params.kwonly_params,
        ]
        for param in params:
            default = param.default
            frame.vars[param.name.value] = _literal(default) if default is not None else None
        for extra in (definition.params.star_arg, definition.params.star_kwarg):
            if isinstance(extra, cst.Param):
                frame.vars[extra.name.value] = None
        positional_names = [
            p.name.value for p in [*definition.params.posonly_params, *definition.params.params]
        ]
        offset = 0
        if self_obj is not None and self._is_instance_method(definition) and positional_names:
            frame.vars[positional_names[0]] = self_obj
            offset = 1
        index = offset
        for arg, value in args:
            if arg.keyword is not None:
                if arg.keyword.value in names:
                    frame.vars[arg.keyword.value] = value
            elif index < len(positional_names):
                frame.vars[positional_names[index]] = value
                index += 1
        base_ctx = function.context or Context()
        ctx = replace(
            self.ctx,
            functions=(*base_ctx.functions, definition.name.value),
            class_name=base_ctx.class_name,
            class_is_model=base_ctx.class_is_model,
            tape=self.ctx.tape,
        )
        saved_frame, saved_ctx = self.frame, self.ctx
        self.frame, self.ctx = frame, ctx
        self.stack.append(definition)
        self.returns.append([])
        try:
            self.block(definition.body)
        finally:
            self.stack.pop()
            returned = self.returns.pop()
            self.frame, self.ctx = saved_frame, saved_ctx
        distinct = [v for v in returned if v != Const(None)]
        if distinct and all(v is distinct[0] or v == distinct[0] for v in distinct):
            return distinct[0]
        return None


_EXPRESSION_HANDLERS: dict[type, object] = {
    cst.Name: _Builder.name,
    cst.Attribute: _Builder.attribute,
    cst.Call: _Builder.call,
    cst.Subscript: _Builder.subscript,
    cst.Integer: _Builder.literal_expr,
    cst.Float: _Builder.literal_expr,
    cst.SimpleString: _Builder.literal_expr,
    cst.UnaryOperation: _Builder.literal_expr,
    cst.List: _Builder.sequence,
    cst.Tuple: _Builder.sequence,
    cst.Lambda: _Builder.lambda_expr,
    cst.ListComp: _Builder.comprehension,
    cst.SetComp: _Builder.comprehension,
    cst.GeneratorExp: _Builder.comprehension,
    cst.DictComp: _Builder.comprehension,
    cst.IfExp: _Builder.if_expr,
    cst.NamedExpr: _Builder.named_expr,
}


def _is_continue_guard(statement: cst.CSTNode) -> bool:
    """``if test: continue`` with no ``else``: what follows in the loop body runs only when not ``test``."""
    if not isinstance(statement, cst.If) or statement.orelse is not None:
        return False
    body = statement.body
    lines = body.body if isinstance(body, cst.IndentedBlock) else [body]
    if len(lines) != 1 or not isinstance(
        lines[0], (cst.SimpleStatementLine, cst.SimpleStatementSuite)
    ):
        return False
    small = lines[0].body
    return len(small) == 1 and isinstance(small[0], cst.Continue)


def _merge_tensors(tensors: list[Tensor]) -> Optional[Tensor]:
    if not tensors:
        return None
    if len(tensors) == 1:
        return tensors[0]
    return Tensor(
        frozenset().union(*(t.sources for t in tensors)), any(t.symbolic for t in tensors)
    )


def _tensors_in(value: Value) -> list[Tensor]:
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, ListValue):
        return [t for item in value.items for t in _tensors_in(item)]
    return []


def _objects_in(values: list[Value]) -> Iterator[Obj]:
    for value in values:
        if isinstance(value, Obj) and value.kind != "optimizer":
            yield value
        elif isinstance(value, ListValue):
            yield from _objects_in(list(value.items))
        elif isinstance(value, Layers):
            yield value.owner


def build_facts(module: cst.Module) -> Facts:
    """Analyse a parsed module once and return the facts every rule reads."""
    return _Builder(module).build()
