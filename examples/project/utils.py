"""Helpers used by train.py."""


def unfreeze_top(model, count):
    """Make the last ``count`` layers trainable."""
    for layer in model.layers[-count:]:
        layer.trainable = True
