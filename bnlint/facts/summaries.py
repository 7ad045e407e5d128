"""What a project module's names are, as small values: the facts its importers need, never a tree.

A summary is made per name an importer asks for. It says, per class, whether it is a Keras Layer or Model, what an instance contains
(BatchNormalization, Dropout and noise layers, a pretrained base) and which ``call()`` parameter it
forwards as ``training=``; per function, what it returns (a model and its composition, a pretrained
base, a compiled model) and what it does to its parameters (sets ``trainable`` and to what, over
layers or not, compiles, trains them); and the module-level models. Summaries
are plain data so that they can be kept in the results cache as JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Optional, Protocol, Union


@dataclass(frozen=True)
class ObjectSummary:
    """A Keras model, layer or optimizer (or an instance of a project class) as its importer sees it."""

    kind: str
    label: str
    keras_class: Optional[str] = None
    origin: str = "project"
    pretrained: bool = False
    weights_loaded: bool = False
    #: Contains BatchNormalization / Dropout or noise layers: True, False (known absent), None.
    batchnorm: Optional[bool] = None
    noise: Optional[bool] = None
    #: The names of the layers inside whose mode a call decides (``BatchNormalization``,
    #: ``Dropout``, ``MobileNetV2``): those not fixed in training mode already.
    sensitive: tuple[str, ...] = ()
    #: Compiled when handed over (returned by a builder that compiles it, or compiled at module level).
    compiled: bool = False
    #: ``trainable`` as last set on the whole object before it was handed over (None: never set).
    trainable: Optional[bool] = None
    #: Some of its layers (or its base's) were set ``trainable = False`` before it was handed over.
    layers_frozen: bool = False
    #: Pretrained models whose own graph it is built on, and how many head layers it adds after them.
    graph_bases: tuple[ObjectSummary, ...] = ()
    head_layers: int = 0
    #: Pretrained bases called with ``training=False`` recorded while building it (Keras 3's fit
    #: overrides that once they are unfrozen).
    inference_bases: tuple[ObjectSummary, ...] = ()
    #: For instances of project classes: their Keras attributes (``self.model``), by name.
    attrs: tuple[tuple[str, ObjectSummary], ...] = ()
    #: The ``call()`` parameter forwarded as ``training=``: (name, position, default literal).
    forwarding: Optional[tuple[str, Optional[int], Any]] = None
    #: A Keras object, or an instance of a class that derives from a Keras Layer or Model.
    is_keras: bool = True


@dataclass(frozen=True)
class Effect:
    """What a function does to one of its parameters (or an attribute of it, ``self.model``)."""

    param: int
    path: tuple[str, ...]
    #: ``trainable``, ``compile``, ``train``, ``load_weights``, or ``escape`` (handed to code
    #: bnlint cannot follow, which may compile or change it).
    action: str
    #: The ``trainable`` value set (None: unknown).
    value: Optional[bool] = None
    #: Applies to layers taken out of it (``for layer in model.layers[k:]``), not to it as a whole.
    over_layers: bool = False
    span: Optional[tuple[Optional[int], Optional[int]]] = None
    #: For ``trainable = True`` over layers: whether BatchNormalization layers are reached (a loop
    #: that skips them: False; cannot tell: None).
    batchnorm: Optional[bool] = None


@dataclass(frozen=True)
class FunctionSummary:
    """A function or method: its parameters, what it returns, what it does to its parameters."""

    params: tuple[str, ...]
    returns: Optional[ObjectSummary] = None
    #: The returned value is an instance of a project class (module file, class name).
    returns_class: Optional[tuple[str, str]] = None
    effects: tuple[Effect, ...] = ()
    is_method: bool = False


@dataclass(frozen=True)
class ClassSummary:
    """A class: Keras or not, what an instance holds, what its ``__init__`` binds, its methods."""

    name: str
    is_keras_model: bool = False
    is_keras_layer: bool = False
    instance: Optional[ObjectSummary] = None
    init_params: tuple[str, ...] = ()
    #: ``self.<attr> = <param>`` in ``__init__``: (attribute, parameter).
    init_bindings: tuple[tuple[str, str], ...] = ()
    methods: tuple[tuple[str, FunctionSummary], ...] = ()

    @property
    def is_keras(self) -> bool:
        """Whether the class derives from a Keras Layer or Model."""
        return self.is_keras_model or self.is_keras_layer

    def method(self, name: str) -> Optional[FunctionSummary]:
        """The summary of a method, if the class (or a base in its module) defines it."""
        return next((summary for key, summary in self.methods if key == name), None)


@dataclass(frozen=True)
class Reexport:
    """A name a module imports from another project module (``from .models import Net`` in a
    package's ``__init__.py``): where it really comes from (``name`` "" for a whole module)."""

    path: str
    name: str


#: What a project module's name stands for.
Member = Union[ClassSummary, FunctionSummary, ObjectSummary, Reexport]


class SummaryProvider(Protocol):
    """Gives the facts engine the summaries of the project modules a file imports."""

    def resolve(self, name: str, level: int) -> Optional[str]:
        """The file of module ``name`` imported with ``level`` leading dots, if a project module."""

    def member(self, path: str, name: str) -> Optional[Member]:
        """What ``name`` is in the project module at ``path`` (None: unknown, or the module cannot
        be read or parsed)."""

    def star_source(self, path: str, name: str) -> Optional[str]:
        """The project module that ``from <the module at path> import *`` brings ``name`` from,
        if one defines it."""

    def imported_words(self, code: str, triggers: tuple) -> set[str]:
        """The trigger words (of ``triggers``) found in the code of the project modules that
        ``code`` imports, without parsing anything."""


# ------------------------------------------------------------------ JSON
_TYPES: dict[str, type] = {
    cls.__name__: cls for cls in (ObjectSummary, Effect, FunctionSummary, ClassSummary, Reexport)
}


def to_data(value: Any) -> Any:
    """A summary as JSON-ready data (dataclasses become tagged dictionaries)."""
    if hasattr(value, "__dataclass_fields__"):
        data = {"@": type(value).__name__}
        for item in fields(value):
            data[item.name] = to_data(getattr(value, item.name))
        return data
    if isinstance(value, dict):
        return {"@dict": [[key, to_data(item)] for key, item in value.items()]}
    if isinstance(value, (tuple, list)):
        return [to_data(item) for item in value]
    return value


def from_data(data: Any) -> Any:
    """The summary that ``to_data`` wrote (lists come back as tuples)."""
    if isinstance(data, dict):
        if "@dict" in data:
            return {key: from_data(item) for key, item in data["@dict"]}
        cls = _TYPES[data["@"]]
        return cls(**{key: from_data(item) for key, item in data.items() if key != "@"})
    if isinstance(data, list):
        return tuple(from_data(item) for item in data)
    return data
