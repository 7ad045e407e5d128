"""Keras name resolution from a module's own import statements (no scope metadata needed)."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from bnlint import keras_api


def dotted_name(node: cst.BaseExpression) -> Optional[str]:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    parts: list[str] = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if not isinstance(node, cst.Name):
        return None
    parts.append(node.value)
    return ".".join(reversed(parts))


def _module_path(node: cst.BaseExpression) -> str:
    return dotted_name(node) or ""


class ImportTable:
    """Maps local names to the fully qualified names they were imported as.

    ``import tensorflow as tf`` maps ``tf`` to ``tensorflow``; ``from tensorflow.keras.layers import
    Dropout as D`` maps ``D`` to ``tensorflow.keras.layers.Dropout``; ``import keras.layers`` binds
    ``keras``. Star imports from Keras modules are remembered so that bare layer names still resolve.
    """

    def __init__(self) -> None:
        self.aliases: dict[str, str] = {}
        self.star_modules: list[str] = []

    def add(self, node: cst.Import | cst.ImportFrom) -> None:
        """Record the names an import statement binds."""
        if isinstance(node, cst.Import):
            for alias in node.names:
                full = _module_path(alias.name)
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    self.aliases[alias.asname.name.value] = full
                else:
                    head = full.split(".")[0]
                    self.aliases[head] = head
            return
        if node.relative or node.module is None:
            return
        module = _module_path(node.module)
        if isinstance(node.names, cst.ImportStar):
            self.star_modules.append(module)
            return
        for alias in node.names:
            name = _module_path(alias.name)
            local = name
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
            self.aliases[local] = f"{module}.{name}"

    def bind_alias(self, local: str, path: str) -> None:
        """Make ``local`` an alias of ``path`` (``Dense = tf.keras.layers.Dense``)."""
        self.aliases[local] = path

    def forget(self, local: str) -> None:
        """``local`` was rebound to something that is not an import."""
        self.aliases.pop(local, None)

    def qualified(self, node: cst.BaseExpression) -> Optional[str]:
        """The fully qualified name of a Name/Attribute chain whose head was imported, else None."""
        dotted = dotted_name(node)
        if dotted is None:
            return None
        head, _, rest = dotted.partition(".")
        base = self.aliases.get(head)
        if base is None:
            base = self._from_star(head)
            if base is None:
                return None
        return f"{base}.{rest}" if rest else base

    def _from_star(self, name: str) -> Optional[str]:
        for module in self.star_modules:
            candidate = f"{module}.{name}"
            canonical = keras_api.canonical_name(candidate)
            if canonical and keras_api.is_keras(canonical) and canonical != f"keras.{name}":
                return candidate
            if canonical and (
                keras_api.layer_class(canonical)
                or keras_api.application_name(canonical)
                or keras_api.optimizer_class(canonical)
                or canonical in keras_api.MODEL_CLASSES
            ):
                return candidate
        return None

    def canonical(self, node: cst.BaseExpression) -> Optional[str]:
        """The canonical Keras/TensorFlow name of an expression, or None."""
        path = self.qualified(node)
        return keras_api.canonical_name(path) if path else None
