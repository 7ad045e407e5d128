"""What bnlint knows about Keras: canonical names, layer families, model constructors, applications.

Every Keras name is reduced to a canonical spelling, so that ``tf.keras.layers.Dropout``,
``tensorflow.python.keras.layers.core.Dropout``, ``keras.src.layers.Dropout`` and ``tf_keras.layers.Dropout``
are all ``keras.layers.Dropout``. TF1 names keep a ``tensorflow.`` prefix (``tensorflow.layers.dropout``).
"""

from __future__ import annotations

from typing import Optional

#: Module paths whose contents are Keras, longest first so the most specific prefix wins.
KERAS_ROOTS: tuple[str, ...] = (
    "tensorflow.python.keras",
    "tensorflow.compat.v1.keras",
    "tensorflow.compat.v2.keras",
    "keras._tf_keras.keras",
    "tensorflow.keras",
    "tf_keras.src",
    "keras.src",
    "keras.api",
    "tf_keras",
    "keras",
)

#: Names that are canonical at the top of ``keras`` whichever submodule they come from.
_TOP_LEVEL_NAMES = {
    "Model": "keras.Model",
    "Functional": "keras.Model",
    "Sequential": "keras.Sequential",
    "Input": "keras.Input",
    "load_model": "keras.models.load_model",
    "clone_model": "keras.models.clone_model",
    "model_from_json": "keras.models.model_from_json",
    "model_from_yaml": "keras.models.model_from_json",
    "model_from_config": "keras.models.model_from_json",
    "set_learning_phase": "keras.backend.set_learning_phase",
    "learning_phase_scope": "keras.backend.learning_phase_scope",
    "learning_phase": "keras.backend.learning_phase",
}

#: Submodule families whose members are canonical by their last component.
_FAMILIES = ("layers", "applications", "optimizers", "losses", "metrics", "callbacks", "backend")

BATCHNORM_LAYERS = frozenset({"BatchNormalization", "SyncBatchNormalization"})

NOISE_LAYERS = frozenset(
    {
        "Dropout",
        "SpatialDropout1D",
        "SpatialDropout2D",
        "SpatialDropout3D",
        "GaussianDropout",
        "GaussianNoise",
        "AlphaDropout",
    }
)


def family_key(family: frozenset[str]) -> str:
    """A short stable name of a layer family: ``batchnorm`` or ``noise``."""
    return "batchnorm" if family is BATCHNORM_LAYERS else "noise"


_POOLING = {
    f"{kind}{dim}"
    for kind in (
        "MaxPooling",
        "AveragePooling",
        "MaxPool",
        "AvgPool",
        "GlobalMaxPooling",
        "GlobalAveragePooling",
        "GlobalMaxPool",
        "GlobalAvgPool",
    )
    for dim in ("1D", "2D", "3D")
}
_RESHAPING = {
    f"{kind}{dim}"
    for kind in ("ZeroPadding", "Cropping", "UpSampling")
    for dim in ("1D", "2D", "3D")
}

#: Layers that own no weights: ``trainable`` on them does nothing.
WEIGHTLESS_LAYERS = frozenset(
    NOISE_LAYERS
    | _POOLING
    | _RESHAPING
    | {
        "ActivityRegularization",
        "Activation",
        "ReLU",
        "ELU",
        "LeakyReLU",
        "ThresholdedReLU",
        "Softmax",
        "Flatten",
        "Reshape",
        "Permute",
        "RepeatVector",
        "Add",
        "Subtract",
        "Multiply",
        "Average",
        "Maximum",
        "Minimum",
        "Concatenate",
        "Dot",
    }
)

#: ``keras.applications`` constructors and whether the network contains BatchNormalization.
APPLICATIONS: dict[str, bool] = {
    "VGG16": False,
    "VGG19": False,
    "Xception": True,
    "InceptionV3": True,
    "InceptionResNetV2": True,
    "MobileNet": True,
    "MobileNetV2": True,
    "MobileNetV3Small": True,
    "MobileNetV3Large": True,
    "NASNetMobile": True,
    "NASNetLarge": True,
    **{f"ResNet{n}": True for n in ("50", "101", "152", "50V2", "101V2", "152V2")},
    **{f"ResNetRS{n}": True for n in ("50", "101", "152", "200", "270", "350", "420")},
    **{f"DenseNet{n}": True for n in ("121", "169", "201")},
    **{f"EfficientNetB{n}": True for n in range(8)},
    **{f"EfficientNetV2{n}": True for n in ("B0", "B1", "B2", "B3", "S", "M", "L")},
    **{f"ConvNeXt{n}": False for n in ("Tiny", "Small", "Base", "Large", "XLarge")},
    **{
        f"RegNet{kind}{size}": True
        for kind in ("X", "Y")
        for size in (
            "002",
            "004",
            "006",
            "008",
            "016",
            "032",
            "040",
            "064",
            "080",
            "120",
            "160",
            "320",
        )
    },
}

#: Optimizer classes and their default learning rates (identical in Keras 2 and 3).
OPTIMIZER_DEFAULT_LR: dict[str, float] = {
    "SGD": 0.01,
    "Adam": 0.001,
    "AdamW": 0.001,
    "Adamax": 0.001,
    "Nadam": 0.001,
    "RMSprop": 0.001,
    "Adagrad": 0.001,
    "Adadelta": 0.001,
    "Ftrl": 0.001,
    "Lion": 0.001,
    "Lamb": 0.001,
    "Adafactor": 0.001,
}

#: String spellings of optimizers accepted by ``compile(optimizer=...)``.
OPTIMIZER_STRINGS: dict[str, str] = {name.lower(): name for name in OPTIMIZER_DEFAULT_LR}

MODEL_CLASSES = frozenset({"keras.Model", "keras.Sequential"})

TRAIN_METHODS = frozenset({"fit", "fit_generator", "train_on_batch"})


def _keras_suffix(path: str) -> Optional[str]:
    """The part of ``path`` after its Keras root, '' for the root itself, or None if not Keras."""
    for root in KERAS_ROOTS:
        if path == root:
            return ""
        if path.startswith(root + "."):
            return path[len(root) + 1 :]
    return None


def canonical_name(path: str) -> Optional[str]:
    """The canonical spelling of a fully qualified name, or None if it is neither Keras nor TensorFlow.

    >>> canonical_name("tensorflow.keras.layers.Dropout")
    'keras.layers.Dropout'
    >>> canonical_name("tensorflow.compat.v1.layers.batch_normalization")
    'tensorflow.layers.batch_normalization'
    """
    suffix = _keras_suffix(path)
    if suffix is not None:
        return _canonical_keras(suffix)
    if path == "tf_slim" or path.startswith("tf_slim."):
        return "tensorflow.contrib.slim" + path[len("tf_slim") :]
    if path == "tensorflow" or path.startswith("tensorflow."):
        for legacy in ("tensorflow.compat.v1.", "tensorflow.compat.v2."):
            if path.startswith(legacy):
                return "tensorflow." + path[len(legacy) :]
        return path
    return None


def _canonical_keras(suffix: str) -> str:
    if not suffix:
        return "keras"
    parts = suffix.split(".")
    last = parts[-1]
    if last in _TOP_LEVEL_NAMES and (
        len(parts) == 1
        or parts[0] in ("models", "engine", "saving", "backend", "src", "api", "_api")
    ):
        return _TOP_LEVEL_NAMES[last]
    if last in _TOP_LEVEL_NAMES and last[0].isupper():
        return _TOP_LEVEL_NAMES[last]
    for family in _FAMILIES:
        if family in parts[:-1]:
            return f"keras.{family}.{last}"
    if parts[0] == "engine" or parts[0] == "models":
        return _TOP_LEVEL_NAMES.get(last, f"keras.{suffix}")
    return f"keras.{suffix}"


def is_keras(canonical: Optional[str]) -> bool:
    """Whether a canonical name belongs to Keras (not plain TensorFlow)."""
    return canonical is not None and (canonical == "keras" or canonical.startswith("keras."))


def layer_class(canonical: Optional[str]) -> Optional[str]:
    """The class name of a Keras layer (``Dropout``) for ``keras.layers.Dropout``, else None."""
    if canonical and canonical.startswith("keras.layers.") and canonical[13:14].isupper():
        return canonical[13:]
    return None


def application_name(canonical: Optional[str]) -> Optional[str]:
    """The constructor name of a ``keras.applications`` model (``MobileNetV2``), else None."""
    if canonical and canonical.startswith("keras.applications."):
        name = canonical[len("keras.applications.") :]
        if name[:1].isupper():
            return name
    return None


def optimizer_class(canonical: Optional[str]) -> Optional[str]:
    """The optimizer class name (``Adam``) for ``keras.optimizers.Adam``, else None."""
    if canonical and canonical.startswith("keras.optimizers."):
        name = canonical[len("keras.optimizers.") :]
        if name[:1].isupper():
            return name
    return None


# ------------------------------------------------------------------ TF1 (graph-mode) APIs
#: ``tf.layers`` / ``tf.compat.v1.layers`` functions whose ``training`` defaults to False, with the
#: position of ``training`` among their positional parameters.
TF1_TRAINING_FUNCTIONS: dict[str, int] = {
    "tensorflow.layers.batch_normalization": 14,
    "tensorflow.layers.dropout": 4,
}

#: ``tf.contrib.layers.batch_norm`` and its slim / tf_slim spellings (``is_training`` defaults to True).
TF1_CONTRIB_BATCH_NORM = frozenset(
    {
        "tensorflow.contrib.layers.batch_norm",
        "tensorflow.contrib.layers.python.layers.layers.batch_norm",
        "tensorflow.contrib.slim.batch_norm",
        "tensorflow.contrib.slim.layers.batch_norm",
    }
)


def tf1_batch_norm(canonical: Optional[str]) -> Optional[str]:
    """The name of the ``training`` keyword of a TF1 batch-norm function, else None.

    ``training`` for ``tf.layers.batch_normalization`` (and compat.v1), ``is_training`` for
    ``tf.contrib.layers.batch_norm`` and slim's ``batch_norm``.
    """
    if canonical == "tensorflow.layers.batch_normalization":
        return "training"
    if canonical in TF1_CONTRIB_BATCH_NORM:
        return "is_training"
    return None
