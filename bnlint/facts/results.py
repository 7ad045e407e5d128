"""What the facts engine hands to the rules for one file."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Optional, TypeVar

import libcst as cst

from bnlint.facts.events import Context, Event, Trace
from bnlint.facts.imports import ImportTable
from bnlint.facts.objects import Obj, UserClass, Value


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


@dataclass(frozen=True)
class UnknownCallerCall:
    """A call with a literal ``training=`` on something of unknown origin reached through a
    parameter (``def evaluate(model, ds): model(x, training=True)``, ``self.net(x, training=True)``):
    the keyword says it is a Keras model or layer."""

    node: cst.Call
    training_arg: cst.Arg
    training: bool
    context: Context
    statement: Optional[cst.CSTNode]


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
    #: Calls with a literal ``training=`` whose callee is a parameter of unknown origin.
    parameter_calls: list[UnknownCallerCall] = field(default_factory=list)

    def events(self, kind: type[E]) -> Iterator[tuple[Trace, int, E]]:
        """Every event of a kind, with its trace and index in that trace."""
        for trace in self.traces:
            for index, event in enumerate(trace.events):
                if isinstance(event, kind):
                    yield trace, index, event


E = TypeVar("E", bound=Event)
