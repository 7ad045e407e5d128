"""The model and its pretrained backbone, built in one file and trained in another (train.py)."""

from tensorflow import keras
from tensorflow.keras import layers


class Classifier(keras.Model):
    """A small convolutional classifier with BatchNormalization and Dropout."""

    def __init__(self, classes):
        super().__init__()
        self.conv = layers.Conv2D(32, 3, padding="same")
        self.norm = layers.BatchNormalization()
        self.dropout = layers.Dropout(0.3)
        self.head = layers.Dense(classes)

    def call(self, x, training=None):
        x = self.norm(self.conv(x), training=training)
        return self.head(self.dropout(layers.GlobalAveragePooling2D()(x), training=training))


def build_finetuner(classes):
    """A pretrained MobileNetV2 with a new head, built on the backbone's own graph, compiled."""
    base = keras.applications.MobileNetV2(include_top=False, weights="imagenet")
    x = layers.GlobalAveragePooling2D()(base.output)
    model = keras.Model(base.input, layers.Dense(classes)(x))
    for layer in base.layers:
        layer.trainable = False
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model
