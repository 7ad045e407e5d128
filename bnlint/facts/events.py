"""The ordered events of a scope: compile, training, ``trainable`` changes, calls with their ``training``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import libcst as cst

from bnlint.facts.objects import Obj, Value

#: The ``training`` argument of a call: absent, a literal bool, or something else (a variable).
TRAINING_ABSENT = "absent"
TRAINING_OTHER = "other"


@dataclass(frozen=True)
class Guard:
    """An ``if`` test an event depends on: ``holds`` is True in its body, False in its ``else``.

    ``if test: continue`` in a loop body guards the statements after it with ``holds=False``.
    """

    test: cst.BaseExpression
    holds: bool
    #: The call of a same-file function whose inlined body holds the ``if`` (None: not inlined), so
    #: that the arms of two inlinings of one function are not mistaken for exclusive ones.
    call: Optional[cst.CSTNode] = None


@dataclass(frozen=True)
class Context:
    """Where an event happened: enclosing functions, class, GradientTape block, loop and ``if`` tests."""

    functions: tuple[str, ...] = ()
    class_name: Optional[str] = None
    class_is_model: bool = False
    tape: Optional[Obj] = None
    #: Every GradientTape recording at this point (nested or several in one ``with``), outermost first.
    tapes: tuple = ()
    loop: Optional[cst.CSTNode] = None
    loop_iter: Value = None
    guards: tuple[Guard, ...] = ()

    @property
    def function(self) -> Optional[str]:
        """The innermost enclosing function or method name."""
        return self.functions[-1] if self.functions else None


@dataclass(eq=False)
class Event:
    """Something that happened, in order, in one trace.

    ``calls``: the calls of same-file (or project) functions it happened inside, outermost first,
    as followed from the trace's own code (``make_trainable(D, False)`` for an assignment in that
    helper). A finding that relates events reports where their call paths part.
    """

    node: cst.CSTNode
    context: Context
    conditional: bool
    calls: tuple = ()


@dataclass(eq=False)
class CompileEvent(Event):
    """``M.compile(...)`` (or a ``load_model`` that compiles)."""

    model: Obj = None  # type: ignore[assignment]
    optimizer_arg: Optional[cst.Arg] = None
    optimizer: Value = None
    #: Not a ``compile()`` call: a ``load_model`` that compiles, or a builder of another project
    #: file that returns a compiled model (``by`` names it for messages).
    synthetic: bool = False
    by: str = "`load_model()` (which compiles)"


@dataclass(eq=False)
class TrainEvent(Event):
    """``M.fit(...)``, ``M.fit_generator(...)`` or ``M.train_on_batch(...)``."""

    model: Obj = None  # type: ignore[assignment]
    method: str = "fit"


@dataclass(eq=False)
class TrainableEvent(Event):
    """``X.trainable = value``; ``value`` is True/False when literal, else None."""

    target: Obj = None  # type: ignore[assignment]
    value: Optional[bool] = None
    value_node: Optional[cst.BaseExpression] = None
    target_node: Optional[cst.BaseExpression] = None
    #: Made by a helper of another project file on layers of the target: whether it reaches
    #: BatchNormalization layers, as its summary says (None: judged here, from the guards).
    batchnorm: Optional[bool] = None
    over_layers: bool = False


@dataclass(eq=False)
class CallEvent(Event):
    """A Keras layer or model called on inputs, with its ``training`` argument."""

    callee: Obj = None  # type: ignore[assignment]
    training: object = TRAINING_ABSENT
    training_arg: Optional[cst.Arg] = None
    #: The keyword that sets the mode: ``training``, or a user model's own forwarding parameter.
    training_keyword: str = "training"
    inputs: tuple = ()
    symbolic: bool = False
    #: The statement the call is part of (its comments can mark ``training=True`` as intentional).
    statement: Optional[cst.CSTNode] = None


@dataclass(eq=False)
class AddEvent(Event):
    """A layer or model put into a model: ``M.add(X)`` or an element of ``Sequential([...])``."""

    model: Obj = None  # type: ignore[assignment]
    member: Obj = None  # type: ignore[assignment]


@dataclass(eq=False)
class GraphModelEvent(Event):
    """A functional model built on another model's own graph (``Model(base.input, head(base.output))``).

    ``node`` is the first ``base.output`` (or ``base.input``) the model is built from.
    """

    model: Obj = None  # type: ignore[assignment]
    base: Obj = None  # type: ignore[assignment]


@dataclass(eq=False)
class EscapeEvent(Event):
    """Objects passed to a function bnlint cannot follow: it may compile or change them."""

    objects: tuple = ()


@dataclass(eq=False)
class MethodCallEvent(Event):
    """Any other method called on a known Keras object (``M.eval()``, ``M.predict(...)``)."""

    receiver: Obj = None  # type: ignore[assignment]
    method: str = ""


@dataclass
class Trace:
    """The ordered events of one analysis root: the module, or one function or method."""

    name: str
    events: list[Event] = field(default_factory=list)
