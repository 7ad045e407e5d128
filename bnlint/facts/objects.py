"""What a variable or ``self.attr`` can hold, as far as bnlint can tell without running the code."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional, Union

import libcst as cst

from bnlint import keras_api

if TYPE_CHECKING:
    from bnlint.facts.events import Context
    from bnlint.facts.forwarding import TrainingParameter
    from bnlint.facts.summaries import ClassSummary, FunctionSummary


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
    #: For a functional model built on other models' own graphs (``Model(base.input,
    #: head(base.output))``): those models. Its ``layers`` then hold their layers directly.
    graph_bases: list[Obj] = field(default_factory=list)
    #: For a part taken out of ``M.layers`` by a slice or an index range: which layers it reaches.
    span: Optional[Span] = None
    #: Its weights were loaded from a file (``M.load_weights(...)``).
    weights_loaded: bool = False
    #: Built in another project file: the names of the mode-dependent layers its summary lists
    #: (None for objects built here, whose layers are seen).
    contained: Optional[tuple[str, ...]] = None
    #: An instance of a class of another project file: that class, its forwarding parameter, and
    #: how many head layers a model built on a base's graph adds (as the summary tells).
    project_class: Optional[ClassSummary] = None
    forwarding: Optional[TrainingParameter] = None
    head_count: Optional[int] = None
    #: Pretrained bases recorded with ``training=False`` inside it, as the summary tells.
    inference_bases: list[Obj] = field(default_factory=list)
    #: Attributes of a project class's instance that this file's arguments set (``Trainer(model)``).
    bound_attrs: set[str] = field(default_factory=set)
    #: Whether it is a Keras object (an instance of a project class that is not Keras is not).
    is_keras: bool = True
    #: For ``M.get_layer("name")``: the literal name.
    layer_name: Optional[str] = None
    #: Composition told by a summary of another project file instead of seen members:
    #: ``keras_api.family_key`` -> contained (True) or known absent (False).
    known_families: dict[str, bool] = field(default_factory=dict)

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
            for value in self.attrs.values():
                items = value.items if isinstance(value, ListValue) else (value,)
                found.extend(
                    item
                    for item in items
                    if isinstance(item, Obj)
                    and item.kind not in ("optimizer", "tape")
                    and item not in found
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

    def family_members(
        self, family: frozenset[str], by_application: bool = True
    ) -> tuple[Optional[bool], list[Obj]]:
        """(whether the object contains a layer of the family, as ``has_batchnorm``; the objects
        found: layers of the family, applications that contain one, or summarised models)."""
        return self._family_members(family, by_application, set())

    def _family_members(
        self, family: frozenset[str], by_application: bool, seen: set[int]
    ) -> tuple[Optional[bool], list[Obj]]:
        if id(self) in seen:
            return None, []
        seen.add(id(self))
        key = keras_api.family_key(family)
        if key in self.known_families:
            inside = self.known_families[key]
            return inside, [self] if inside else []
        if self.kind == "layer" and self.layer_class:
            inside = self.layer_class in family
            return inside, [self] if inside else []
        if self.kind == "layer" and self.user_class is None:
            return None, []
        if self.kind == "model" and self.application:
            if not by_application:
                return False, []
            inside = keras_api.APPLICATIONS.get(self.application)
            return inside, [self] if inside else []
        if self.kind == "part" or (
            self.kind == "model" and self.origin in ("load_model", "unknown")
        ):
            return None, []
        members = self._direct_members()
        if not members:
            return None, []
        unknown = not self.members_complete
        found: list[Obj] = []
        for member in members:
            state, inside = member._family_members(family, by_application, seen)
            if state:
                found.extend(obj for obj in inside if obj not in found)
            elif state is None:
                unknown = True
        if found:
            return True, found
        return (None if unknown else False), []

    @property
    def has_batchnorm(self) -> Optional[bool]:
        """Whether the object contains BatchNormalization (None when unknown)."""
        return self.family_members(keras_api.BATCHNORM_LAYERS)[0]

    @property
    def has_noise(self) -> Optional[bool]:
        """Whether the object contains Dropout or a noise layer (None when unknown)."""
        return self.family_members(keras_api.NOISE_LAYERS, by_application=False)[0]


@dataclass(frozen=True)
class Const:
    """A literal number, string, bool or None."""

    value: object


@dataclass(frozen=True)
class Tensor:
    """A tensor, with the Keras objects it was computed by; ``symbolic`` when it derives from Input.

    ``graphs`` holds ``(model, node)`` for every model whose own graph it derives from
    (``base.output`` at ``node``), in the order met: a model built from it holds that model's
    layers directly.
    """

    sources: frozenset = frozenset()
    symbolic: bool = False
    graphs: tuple = ()


@dataclass(frozen=True)
class Span:
    """Which layers of a layer list a slice or index range reaches: ``[start:stop]``, either open
    (None). ``Span(None, None)`` is every layer, which is also what unknown bounds count as."""

    start: Optional[int] = None
    stop: Optional[int] = None

    def only_last(self, count: int) -> bool:
        """Whether it reaches at most the last ``count`` layers (``[-2:]`` for ``count >= 2``)."""
        return (
            self.start is not None
            and -count <= self.start < 0
            and (self.stop is None or self.stop <= 0 or self.stop > self.start)
        )


@dataclass(frozen=True)
class Layers:
    """``M.layers`` / ``M.submodules``; ``span`` for a slice ``M.layers[a:b]`` (None: all of them)."""

    owner: Obj
    span: Optional[Span] = None

    @property
    def sliced(self) -> bool:
        """Whether only some layers are taken."""
        return self.span is not None


@dataclass(frozen=True)
class LayerCount:
    """``len(M.layers) + offset``."""

    owner: Obj
    offset: int = 0


@dataclass(frozen=True)
class IndexRange:
    """``range(a, len(M.layers))`` and the like: indices into ``M.layers`` over a span; without an
    owner, literal bounds that index any layer list alike (``range(-25, 0)``: its last 25)."""

    owner: Optional[Obj]
    span: Span


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
    #: The moment (``VersionedVars.clock``) it was defined at module level: analysed on its own, a
    #: function sees the globals of that moment (a notebook rebinds ``model`` in later cells), and
    #: the later ones only for names not yet bound then.
    snapshot: Optional[int] = None


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
    #: Base classes defined in other project files (their methods are known by summary only).
    project_bases: list[ClassSummary] = field(default_factory=list)
    #: Whether its ``__init__`` and ``build`` have been analysed (see ``construct``).
    constructed: bool = False
    #: The ``training`` forwarding parameter of its call method, once looked up (see forwarding).
    forwarded: object = None

    @property
    def is_keras(self) -> bool:
        """Whether the class derives from a Keras Layer or Model."""
        return self.is_keras_model or self.is_keras_layer


@dataclass(frozen=True, eq=False)
class ProjectModule:
    """A module of the project, imported (``import models``, ``from . import utils``)."""

    path: str
    name: str
    level: int


@dataclass(frozen=True, eq=False)
class ProjectClass:
    """A class defined in another module of the project."""

    path: str
    summary: ClassSummary


@dataclass(frozen=True, eq=False)
class ProjectFunction:
    """A function defined in another module of the project."""

    path: str
    name: str
    summary: FunctionSummary


Value = Union[
    Obj,
    Const,
    Tensor,
    Layers,
    IndexRange,
    LayerCount,
    ListValue,
    KerasName,
    OptimizerOf,
    UserFunction,
    UserClass,
    ProjectModule,
    ProjectClass,
    ProjectFunction,
    None,
]


@dataclass(frozen=True)
class Enumerated:
    """``enumerate(x)``: iterating yields ``(index, element of x)``."""

    inner: Value
