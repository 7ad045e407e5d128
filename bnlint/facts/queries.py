"""Questions several rules ask of the facts: is this an unfreeze, what is this model called."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from bnlint.facts.events import Event, TrainableEvent
from bnlint.facts.objects import Obj


def unfreezes(event: Event, obj: Obj) -> bool:
    """Whether ``event`` sets ``trainable = True`` on ``obj``, on a model containing it, or on its layers."""
    if not isinstance(event, TrainableEvent) or event.value is not True:
        return False
    target = event.target
    return target.contains(obj) or obj.contains(target)


def receiver_code(module: cst.Module, call: cst.CSTNode) -> Optional[str]:
    """``model`` for ``model.fit(...)``: the code of the object a method is called on."""
    if isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute):
        return module.code_for_node(call.func.value)
    return None


def short_code(module: cst.Module, node: cst.CSTNode, limit: int = 40) -> str:
    """The code of a node on one line, shortened for a message."""
    text = " ".join(module.code_for_node(node).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
