"""Which parameter of a user model's ``call()`` (or ``__call__``) it forwards as ``training=``.

Real models often take their own flag and pass it on: ``def call(self, x, is_training=False): ...
self.bn(x, training=is_training)``. A call ``net(x, is_training=True)`` is then a call in training
mode. The parameter is found in the method's code: passed as ``training=`` to anything, as the second
positional argument of a Keras layer attribute (``self.bn(x, is_training)``), or on to another user
model's own forwarding parameter (``self.block(x, is_training=is_training)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import libcst as cst

from bnlint.facts.nodes import code_children
from bnlint.facts.objects import Obj, UserClass, Value
from bnlint.facts.values import literal


@dataclass(frozen=True)
class TrainingParameter:
    """A forwarding parameter: its name, its position among the call's positional arguments
    (0 is the first input; None when keyword-only), and its default (a literal, or None)."""

    name: str
    position: Optional[int]
    default: Value


#: Set on a class while its parameter is being found, so that mutual forwarding ends.
_IN_PROGRESS = object()
_NOT_FORWARDED = object()


def training_parameter(cls: UserClass) -> Optional[TrainingParameter]:
    """The parameter ``cls`` forwards as ``training=`` from the method its calls run, if any."""
    cached = cls.forwarded
    if cached is _IN_PROGRESS or cached is _NOT_FORWARDED:
        return None
    if isinstance(cached, TrainingParameter):
        return cached
    cls.forwarded = _IN_PROGRESS
    found = _find(cls)
    cls.forwarded = found if found is not None else _NOT_FORWARDED
    return found


def call_method(cls: UserClass) -> Optional[cst.FunctionDef]:
    """The method a call of an instance runs: ``call`` for Keras classes, else ``__call__``."""
    for name in ("call", "__call__") if cls.is_keras else ("__call__",):
        method = cls.methods.get(name)
        if method is not None:
            return method.node
    return None


def _find(cls: UserClass) -> Optional[TrainingParameter]:
    method = call_method(cls)
    if method is None:
        return None
    params = method.params
    positional = [*params.posonly_params, *params.params][1:]  # after self
    candidates = {param.name.value: param for param in (*positional, *params.kwonly_params)}
    attrs = cls.instance.attrs if cls.instance is not None else {}
    for call in _calls(method.body):
        name = _forwarded_in(call, candidates, attrs)
        if name is not None:
            param = candidates[name]
            position = next((i for i, p in enumerate(positional) if p is param), None)
            default = literal(param.default) if param.default is not None else None
            return TrainingParameter(name, position, default)
    return None


def _forwarded_in(
    call: cst.Call, candidates: dict[str, cst.Param], attrs: dict[str, Value]
) -> Optional[str]:
    """The candidate parameter this call passes on as ``training``, if any."""
    callee = _attribute_of_self(call.func, attrs)
    for index, arg in enumerate(call.args):
        if not isinstance(arg.value, cst.Name) or arg.value.value not in candidates or arg.star:
            continue
        if arg.keyword is not None:
            if arg.keyword.value == "training":
                return arg.value.value
            parameter = _parameter_of(callee)
            if parameter is not None and parameter.name == arg.keyword.value:
                return arg.value.value
            continue
        if callee is None or index == 0:
            continue
        parameter = _parameter_of(callee)
        if parameter is not None:
            if parameter.position == index:
                return arg.value.value
        elif index == 1 and callee.kind == "layer" and callee.layer_class is not None:
            return arg.value.value
    return None


def _attribute_of_self(func: cst.BaseExpression, attrs: dict[str, Value]) -> Optional[Obj]:
    """The object behind ``self.attr`` (``self`` being the method's first parameter by convention)."""
    if (
        isinstance(func, cst.Attribute)
        and isinstance(func.value, cst.Name)
        and func.value.value == "self"
    ):
        value = attrs.get(func.attr.value)
        return value if isinstance(value, Obj) else None
    return None


def _parameter_of(callee: Optional[Obj]) -> Optional[TrainingParameter]:
    if callee is None or callee.user_class is None:
        return None
    return training_parameter(callee.user_class)


def _calls(node: cst.CSTNode) -> list[cst.Call]:
    """Every call in a function body, nested functions and classes left out."""
    found: list[cst.Call] = []
    stack: list[cst.CSTNode] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Call):
            found.append(current)
        for child in code_children(current):
            if not isinstance(child, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
                stack.append(child)
    found.reverse()
    return found
