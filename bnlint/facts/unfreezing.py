"""Which ``trainable`` changes unfreeze which layers of a pretrained base, BatchNormalization included.

A base's layers are reached by ``base.trainable = True``, by a loop over ``base.layers``, or by a loop
over the layers of an outer functional model built on the base's own graph
(``Model(base.input, head(base.output))`` holds the base's layers directly), unless its slice reaches
only the head layers added after the base. A frozen BatchNormalization layer always runs in inference
mode, so an unfreeze matters for BatchNormalization only when it reaches such a layer: loops that skip
them (``isinstance`` guards), a single named layer that is not one, and changes undone later do not.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Optional, Union

import libcst as cst

from bnlint.facts.events import Event, TrainableEvent
from bnlint.facts.guards import GuardReader
from bnlint.facts.objects import Obj
from bnlint.facts.queries import may_follow

#: Layer names that may be BatchNormalization in Keras applications (``conv1_bn``, ``bn_Conv1``,
#: ``batch_normalization_3``, ``block1a_bn``, ``conv1/bn``).
_BATCHNORM_NAME = re.compile(r"(?:^|[^a-z])bn(?:[^a-z]|$)|batch_?norm", re.IGNORECASE)


def pretrained_with_batchnorm(obj: Obj) -> bool:
    """A pretrained model (an application, a loaded model, a layer of one) not known to lack
    BatchNormalization, or one whose weights were loaded from a file and that is seen to have it."""
    if obj.kind not in ("model", "part"):
        return False
    if obj.pretrained:
        return obj.has_batchnorm is not False
    return obj.weights_loaded and obj.has_batchnorm is True


def head_layer_count(model: Obj) -> int:
    """How many layers a model built on other models' graphs adds after their layers."""
    if model.head_count is not None:
        return model.head_count
    return sum(
        1 for member in model.members if member not in model.graph_bases and member.kind != "part"
    )


def base_of_layers(part: Obj) -> Optional[Obj]:
    """The model whose own layers ``part`` (taken out of a layer list) reaches, or None.

    For the layers of an outer model built on a base's graph, that is the base, unless the slice
    reaches only the head layers (``model.layers[-2:]`` over a two-layer head).
    """
    parent = part.parent
    if part.kind != "part" or parent is None:
        return None
    if parent.graph_bases:
        span = part.span
        if span is not None and span.only_last(head_layer_count(parent)):
            return None
        return next((base for base in parent.graph_bases if base.pretrained), parent.graph_bases[0])
    return parent


def reaches_layers_of(event: TrainableEvent, base: Obj) -> bool:
    """Whether the change applies to ``base`` as a whole or to some of its own layers."""
    target = event.target
    if target is base:
        return True
    if target.kind == "part":
        reached = base_of_layers(target)
        return reached is not None and (reached is base or base.contains(reached))
    return False


class BatchnormUnfreezes:
    """Answers whether trainable changes unfreeze, or freeze again, a base's BatchNormalization."""

    def __init__(
        self,
        module: cst.Module,
        guards: GuardReader,
        unchanged_setter_skipped: Union[bool, Callable[[], bool]],
    ) -> None:
        """``unchanged_setter_skipped``: count ``outer.trainable = True`` on an outer model that was
        never frozen as changing nothing, as Keras 3 on TensorFlow does (Keras 2, and Keras 3 on
        JAX, set every layer inside trainable, a base frozen on its own included); a callable is
        asked on first need (the targeted Keras version is read only when a file needs it)."""
        self.module = module
        self.guards = guards
        self._unchanged_setter_skipped = unchanged_setter_skipped

    @property
    def unchanged_setter_skipped(self) -> bool:
        """Whether ``outer.trainable = True`` on a never-frozen outer model changes nothing."""
        if callable(self._unchanged_setter_skipped):
            self._unchanged_setter_skipped = self._unchanged_setter_skipped()
        return self._unchanged_setter_skipped

    def unfreezes(self, event: Event, base: Obj, earlier: Sequence[Event] = ()) -> bool:
        """Whether ``event`` makes some BatchNormalization layer of ``base`` trainable.

        ``earlier``: the events before it, to tell whether an outer model containing the base was
        ever frozen.
        """
        if not isinstance(event, TrainableEvent) or event.value is not True:
            return False
        if base.has_batchnorm is False:
            return False
        target = event.target
        if target is not base and target.kind != "part" and target.contains(base):
            if was_frozen(target, earlier, event):
                return True
            # Setting an outer model trainable reaches a base frozen on its own (not in Keras 3 on
            # TensorFlow); a base that nothing froze has nothing to unfreeze. A base built in
            # another file may have been frozen there.
            return not self.unchanged_setter_skipped and (
                base.contained is not None or _frozen_inside(base, earlier, event)
            )
        if not reaches_layers_of(event, base):
            return False
        if target is base or target.kind != "part":
            return True
        return self.reaches_batchnorm(event) is True

    def reaches_batchnorm(self, event: TrainableEvent) -> Optional[bool]:
        """Whether a change to layers taken out of a model reaches BatchNormalization layers: a
        loop that no guard stops for them, a layer named like one (None: cannot tell)."""
        if event.batchnorm is not None:
            return event.batchnorm  # told by the summary of a helper in another file
        target = event.target
        if target.layer_name is not None:
            return bool(_BATCHNORM_NAME.search(target.layer_name))
        if not isinstance(target.node, (cst.For, cst.CompFor)) and target.span is None:
            return False  # one layer by index: not known to be a BatchNormalization layer
        subject = _subject(event)
        if subject is None:
            return True
        return self.guards.reaches(event, subject, member=True)

    def refreezes(self, event: Event, base: Obj) -> bool:
        """Whether ``event`` sets ``trainable = False`` on BatchNormalization layers of ``base`` only."""
        if not (
            isinstance(event, TrainableEvent)
            and event.value is False
            and event.target is not base
            and reaches_layers_of(event, base)
        ):
            return False
        subject = _subject(event)
        return subject is not None and self.guards.only_family(event, subject)

    def unfrozen_after(self, events: Sequence[Event], start: int, base: Obj) -> Optional[Event]:
        """The first change after ``events[start]`` (from the first event when ``start`` is -1)
        that leaves a BatchNormalization layer of ``base`` trainable (not frozen again later), or
        None."""
        origin = events[start] if start >= 0 else None
        pending: Optional[Event] = None
        for index in range(start + 1, len(events)):
            event = events[index]
            if origin is not None and not may_follow(origin, event):
                continue
            if pending is None and self.unfreezes(event, base, events[:index]):
                pending = event
            elif pending is not None and self.refreezes(event, base) and may_follow(pending, event):
                pending = None
        return pending


def _frozen_inside(base: Obj, earlier: Sequence[Event], change: Event) -> bool:
    """Whether ``base`` itself, or some of its layers, was set ``trainable = False`` before
    ``change``."""
    return any(
        isinstance(event, TrainableEvent)
        and event.value is False
        and base.contains(event.target)
        and may_follow(event, change)
        for event in earlier
    )


def was_frozen(target: Obj, earlier: Sequence[Event], change: Event) -> bool:
    """Whether ``target`` (or a model containing it) was set ``trainable = False`` before ``change``."""
    return any(
        isinstance(event, TrainableEvent)
        and event.value is False
        and event.target.contains(target)
        and may_follow(event, change)
        for event in earlier
    )


def _subject(event: TrainableEvent) -> Optional[cst.BaseExpression]:
    """``layer`` in ``layer.trainable = True``."""
    target = event.target_node
    return target.value if isinstance(target, cst.Attribute) else None
