"""Scopes, literals and argument access: the small pieces every part of the interpreter uses."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Optional

import libcst as cst

from bnlint.facts.objects import Const, Layers, ListValue, Obj, Tensor, Value


class Frame:
    """Variables of one scope, with the enclosing scope as parent; ``params`` are the names a
    function's caller binds."""

    __slots__ = ("params", "parent", "vars")

    def __init__(
        self, parent: Optional[Frame] = None, params: frozenset[str] = frozenset()
    ) -> None:
        self.vars: Mapping[str, Value] = {}
        self.parent = parent
        self.params = params

    def lookup(self, name: str) -> tuple[bool, Value]:
        """(whether the name is bound in this scope or an enclosing one, its value)."""
        frame: Optional[Frame] = self
        while frame is not None:
            if name in frame.vars:
                return True, frame.vars[name]
            frame = frame.parent
        return False, None

    def is_parameter(self, name: str) -> bool:
        """Whether the name, as seen from here, is a parameter of an enclosing function."""
        frame: Optional[Frame] = self
        while frame is not None:
            if name in frame.vars:
                return name in frame.params
            frame = frame.parent
        return False


class VersionedVars(dict):
    """The module's variables, remembering the values they had before each rebinding, so that a
    function analysed on its own can see the globals of the moment it was defined (``as_of``)."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = 0
        self.history: dict[str, list[tuple[int, Value]]] = {}

    def __setitem__(self, name: str, value: Value) -> None:
        self.clock += 1
        if name in self and self[name] is not value:
            self.history.setdefault(name, []).append((self.clock, self[name]))
        super().__setitem__(name, value)

    def pop(self, name: str, *default: Value) -> Value:  # type: ignore[override]
        """Remove a variable, remembering the value it had."""
        self.clock += 1
        if name in self:
            self.history.setdefault(name, []).append((self.clock, self[name]))
        return super().pop(name, *default)

    def as_of(self, clock: int) -> Mapping[str, Value]:
        """The variables as they were at ``clock``; names bound only later keep their value now."""
        return _AsOf(self, clock)


class _AsOf(Mapping):
    """A read-only view of ``VersionedVars`` at one moment."""

    def __init__(self, current: VersionedVars, clock: int) -> None:
        self.current = current
        self.clock = clock

    def __getitem__(self, name: str) -> Value:
        for changed, before in self.current.history.get(name, ()):
            if changed > self.clock:
                return before
        return self.current[name]

    def __contains__(self, name: object) -> bool:
        return name in self.current or name in self.current.history

    def __iter__(self) -> Iterator[str]:
        return iter({*self.current, *self.current.history})

    def __len__(self) -> int:
        return len({*self.current, *self.current.history})


NAME_CONSTANTS = {"True": Const(True), "False": Const(False), "None": Const(None)}


def literal(node: cst.BaseExpression) -> Optional[Const]:
    """The value of a literal number, string, bool or None, else None."""
    node_type = type(node)
    if node_type is cst.Name:
        return NAME_CONSTANTS.get(node.value)  # type: ignore[attr-defined]
    if node_type not in LITERAL_TYPES:
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
        inner = literal(node.expression)
        if inner is not None and isinstance(inner.value, (int, float)):
            return Const(-inner.value)
    return None


def truth(value: Value) -> Optional[bool]:
    """Whether a value is truthy, when it is a known literal (None when unknown)."""
    return bool(value.value) if isinstance(value, Const) else None


def flag_value(value: Value) -> Optional[bool]:
    """True or False when a value is known to be that bool (a literal, or a parameter or name
    bound to one), else None."""
    return value.value if isinstance(value, Const) and isinstance(value.value, bool) else None


LITERAL_TYPES = frozenset({cst.Integer, cst.Float, cst.SimpleString, cst.UnaryOperation})


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


def merge_tensors(tensors: list[Tensor]) -> Optional[Tensor]:
    """One tensor computed from all of these (None when there are none)."""
    if not tensors:
        return None
    if len(tensors) == 1:
        return tensors[0]
    return Tensor(
        frozenset().union(*(t.sources for t in tensors)),
        any(t.symbolic for t in tensors),
        _ordered_union(t.graphs for t in tensors),
    )


def _ordered_union(groups: Iterable[tuple]) -> tuple:
    """Every ``(model, node)`` of the groups once, in the order first met."""
    seen: dict[tuple[int, int], object] = {}
    for group in groups:
        for item in group:
            seen.setdefault((id(item[0]), id(item[1])), item)
    return tuple(seen.values())


def tensors_in(value: Value) -> list[Tensor]:
    """The tensors a value is or holds."""
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, ListValue):
        return [t for item in value.items for t in tensors_in(item)]
    return []


def objects_in(values: list[Value]) -> Iterator[Obj]:
    """The Keras objects these values are or hold (optimizers left out)."""
    for value in values:
        if isinstance(value, Obj) and value.kind != "optimizer":
            yield value
        elif isinstance(value, ListValue):
            yield from objects_in(list(value.items))
        elif isinstance(value, Layers):
            yield value.owner
