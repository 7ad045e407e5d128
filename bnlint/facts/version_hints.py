"""What a file's own imports say about the Keras version it runs on.

``tf_keras`` (and TensorFlow's old ``tensorflow.python.keras``) is Keras 2 by definition. Modules that
exist only in Keras 2 (``keras.layers.convolutional``, ``keras.engine``, the multi-backend
``keras.backend.tensorflow_backend``, ...) and modules that exist only in Keras 3 (``keras.ops``,
``keras_hub``) settle the version of a file whose project declares none.
"""

from __future__ import annotations

from typing import Optional

from bnlint import keras_api
from bnlint.facts.imports import ImportTable

#: Import roots that are always Keras 2, whatever Keras version is installed.
KERAS2_ROOTS = ("tf_keras", "tensorflow.python.keras")
#: Modules of standalone Keras that exist only in Keras 2.
KERAS2_ONLY_MODULES = (
    "keras.layers.advanced_activations",
    "keras.layers.convolutional",
    "keras.layers.normalization",
    "keras.engine",
    "keras.backend.tensorflow_backend",
    "keras.backend.theano_backend",
)
#: Modules that exist only with Keras 3.
KERAS3_ONLY_MODULES = ("keras.ops", "keras_hub")
#: Modules of multi-backend Keras (2.3 and older), before tf.keras.
MULTI_BACKEND_MODULES = ("keras.backend.tensorflow_backend", "keras.backend.theano_backend")


def _imported_paths(imports: ImportTable) -> list[str]:
    return [*imports.aliases.values(), *imports.star_modules]


def _under(path: str, roots: tuple[str, ...]) -> bool:
    return any(path == root or path.startswith(root + ".") for root in roots)


def keras2_by_definition(imports: ImportTable) -> bool:
    """Whether every Keras import of the file is ``tf_keras`` (or ``tensorflow.python.keras``)."""
    paths = [
        path
        for path in _imported_paths(imports)
        if keras_api.is_keras(keras_api.canonical_name(path))
    ]
    return bool(paths) and all(_under(path, KERAS2_ROOTS) for path in paths)


def version_from_imports(imports: ImportTable) -> Optional[str]:
    """ "2" or "3" when the file imports modules that exist in only one of them, else None."""
    paths = _imported_paths(imports)
    keras2 = keras2_by_definition(imports) or any(_under(p, KERAS2_ONLY_MODULES) for p in paths)
    keras3 = any(_under(p, KERAS3_ONLY_MODULES) for p in paths)
    if keras2 != keras3:
        return "2" if keras2 else "3"
    return None


def multi_backend_keras(imports: ImportTable) -> bool:
    """Whether the file imports multi-backend Keras's backend modules (Keras 2.3 and older)."""
    return any(_under(path, MULTI_BACKEND_MODULES) for path in _imported_paths(imports))


def file_keras_version(target: str, imports: ImportTable) -> str:
    """The Keras version a file's findings describe: ``tf_keras`` code is Keras 2 whatever the
    target; when the project declares nothing (``both``), the file's own imports may settle it."""
    if keras2_by_definition(imports):
        return "2"
    if target == "both":
        return version_from_imports(imports) or "both"
    return target
