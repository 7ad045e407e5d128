"""Parsing without LibCST's node validation, which the parser's own output never needs.

Every LibCST node checks its fields when it is created (``CSTNode.__post_init__`` calls
``_validate``): a safety net for trees that code builds by hand. The parser builds its nodes the same
way, from text it has just accepted, so each of them is checked for nothing; LibCST's source says as
much ("avoid validating the tree when parsing a file"). Parsing without the checks is about a tenth
faster and gives the same trees (checked on every file of the benchmark corpus). Nodes made while no
parse runs (fixes) are still checked. When LibCST's node creation is not the one this module knows,
nothing is changed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Callable, Optional


def _known_validation() -> Optional[tuple[type, Callable[[Any], None]]]:
    """(CSTNode, its ``__post_init__``) when that method does nothing but call ``_validate``."""
    try:
        from libcst._nodes.base import CSTNode
    except ImportError:  # pragma: no cover - another LibCST
        return None
    post_init = CSTNode.__dict__.get("__post_init__")
    code = getattr(post_init, "__code__", None)
    if code is None or code.co_names != ("_validate",):
        return None  # pragma: no cover - another LibCST
    return CSTNode, post_init


def _no_validation(node: object) -> None:
    """A node's ``__post_init__`` while a parse runs."""


_KNOWN = _known_validation()
_lock = threading.Lock()
_parses = 0


@contextmanager
def unvalidated_nodes() -> Iterator[None]:
    """Nodes created meanwhile (by the parser) are not validated; parses in other threads may
    overlap (the checks come back when the last one ends)."""
    global _parses
    if _KNOWN is None:  # pragma: no cover - another LibCST
        yield
        return
    node_class, validating = _KNOWN
    with _lock:
        _parses += 1
        if _parses == 1:
            node_class.__post_init__ = _no_validation  # type: ignore[attr-defined]
    try:
        yield
    finally:
        with _lock:
            _parses -= 1
            if _parses == 0:
                node_class.__post_init__ = validating  # type: ignore[attr-defined]
