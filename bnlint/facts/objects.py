"""What a variable or ``self.attr`` can hold, as far as bnlint can tell without running the code."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional, Union

import libcst as cst

from bnlint import keras_api

if TYPE_CHECKING:
    from bnlint.facts.events import Context


@dataclass(eq=False)
class Obj:
    """A Keras model, layer, optimizer, GradientTape or user-class instance; identity matters.

    ``kind`` is one of ``model``, ``layer``, ``part`` (a layer or sub-model taken out of a model:
    ``M.layers[i]``, a loop over ``M.layers``, ``M.get_layer(...)``), ``optimizer``, ``tape``.
    """

    kind: str
    node: cst.CSTNode
    keras_class: Optional[str] = None
    origin: Optional[str] = None
    pretrained: bool = False
    compiled_on_creation: bool = False
    parent: Optional[Obj] = None
    members: list[Obj] = field(default_factory=list)
    attrs: dict[str, Value] = field(default_factory=dict)
    members_complete: bool = True
    user_class: Optional[UserClass] = None
    learning_rate: Optional[float] = None
    learning_rate_known: bool = False
    watched: list[Value] = field(default_factory=list)
    gradient_sources: list[Value] = field(default_factory=list)
    #: The expressions gradients were taken with respect to (``tape.gradient(loss, <target>)``).
    gradient_targets: list[cst.BaseExpression] = field(default_factory=list)
    label: str = ""

    @property
    def layer_class(self) -> Optional[str]:
        """``Dropout`` for a ``keras.layers.Dropout`` layer, else None."""
        return keras_api.layer_class(self.keras_class)

    @property
    def application(self) -> Optional[str]:
        """``MobileNetV2`` for a model from ``keras.applications``, else None."""
        return keras_api.application_name(self.keras_class)

    @property
    def is_model_like(self) -> bool:
        """Models, parts of models and instances of Keras subclasses can be compiled and trained."""
        return self.kind in ("model", "part") or (
            self.user_class is not None and self.user_class.is_keras
        )

    def ancestors(self) -> list[Obj]:
        """The objects this one was taken out of (``M`` for ``M.layers[0]``), nearest first."""
        chain = []
        current = self.parent
        while current is not None and current not in chain:
            chain.append(current)
            current = current.parent
        return chain

    def all_members(self) -> list[Obj]:
        """Every object this model was built from, transitively (attributes of subclasses included)."""
        seen: list[Obj] = []
        stack = list(self._direct_members())
        while stack:
            obj = stack.pop()
            if obj in seen or obj is self:
                continue
            seen.append(obj)
            stack.extend(obj._direct_members())
        return seen

    def _direct_members(self) -> list[Obj]:
        found = list(self.members)
        if self.user_class is not None:
            found.extend(
                v for v in self.attrs.values() if isinstance(v, Obj) and v.kind != "optimizer"
            )
        return found

    def contains(self, other: Obj) -> bool:
        """Whether ``other`` is this object or part of it (member, sub-member, or taken out of it)."""
        if other is self or self in other.ancestors():
            return True
        members = self.all_members()
        if other in members:
            return True
        return any(anc in members for anc in other.ancestors())

    def _family_state(self, family: frozenset[str], by_application: bool) -> Optional[bool]:
        """True: contains a layer of the family; False: known to contain none; None: cannot tell."""
        if self.kind == "layer":
            return self.layer_class in family if self.layer_class else None
        if self.kind == "model" and self.application:
            if by_application:
                return keras_api.APPLICATIONS.get(self.application)
            return False
        if self.kind == "model" and self.origin in ("load_model", "unknown"):
            return None
        if self.kind == "part":
            return None
        members = self._direct_members()
        if not members:
            return None
        unknown = not self.members_complete
        for member in members:
            state = member._family_state(family, by_application)
            if state:
                return True
            if state is None:
                unknown = True
        return None if unknown else False

    @property
    def has_batchnorm(self) -> Optional[bool]:
        """Whether the object contains BatchNormalization (None when unknown)."""
        return self._family_state(keras_api.BATCHNORM_LAYERS, by_application=True)

    @property
    def has_noise(self) -> Optional[bool]:
        """Whether the object contains Dropout or a noise layer (None when unknown)."""
        return self._family_state(keras_api.NOISE_LAYERS, by_application=False)


@dataclass(frozen=True)
class Const:
    """A literal number, string, bool or None."""

    value: object


@dataclass(frozen=True)
class Tensor:
    """A tensor, with the Keras objects it was computed by; ``symbolic`` when it derives from Input."""

    sources: frozenset = frozenset()
    symbolic: bool = False


@dataclass(frozen=True)
class Layers:
    """``M.layers`` / ``M.submodules`` (``sliced`` for ``M.layers[a:b]``)."""

    owner: Obj
    sliced: bool = False


@dataclass(frozen=True)
class ListValue:
    """A list or tuple literal: its values and element nodes."""

    items: tuple
    elements: tuple


@dataclass(frozen=True)
class KerasName:
    """A name that resolved to a Keras or TensorFlow API (``keras.layers.Dropout``)."""

    canonical: str


@dataclass(frozen=True)
class OptimizerOf:
    """``M.optimizer``: the optimizer of a compiled model."""

    model: Obj


@dataclass(eq=False)
class UserFunction:
    """A function or method defined in the linted file; calls to it are followed."""

    node: cst.FunctionDef
    closure: object
    owner: Optional[UserClass] = None
    context: Optional[Context] = None


@dataclass(eq=False)
class UserClass:
    """A class defined in the linted file; Keras when it subclasses a Keras Layer or Model."""

    node: cst.ClassDef
    name: str
    is_keras_model: bool = False
    is_keras_layer: bool = False
    #: Every base class resolved to Keras, ``object`` or a same-file class whose bases are known too.
    bases_known: bool = True
    methods: dict[str, UserFunction] = field(default_factory=dict)
    instance: Optional[Obj] = None

    @property
    def is_keras(self) -> bool:
        """Whether the class derives from a Keras Layer or Model."""
        return self.is_keras_model or self.is_keras_layer


Value = Union[
    Obj, Const, Tensor, Layers, ListValue, KerasName, OptimizerOf, UserFunction, UserClass, None
]


@dataclass(frozen=True)
class Enumerated:
    """``enumerate(x)``: iterating yields ``(index, element of x)``."""

    inner: Value
