"""The Keras fine-tuning recipe done right: bnlint reports nothing here."""

import tensorflow as tf
from tensorflow import keras

train_ds = tf.keras.utils.image_dataset_from_directory("data/train", image_size=(224, 224))

base = keras.applications.MobileNetV2(include_top=False, weights="imagenet")
base.trainable = False  # freeze before compile

inputs = keras.Input(shape=(224, 224, 3))
x = keras.applications.mobilenet_v2.preprocess_input(inputs)
x = base(x, training=False)  # BatchNormalization stays in inference mode (Keras 2)
x = keras.layers.GlobalAveragePooling2D()(x)
x = keras.layers.Dropout(0.2)(x)
outputs = keras.layers.Dense(5, activation="softmax")(x)
model = keras.Model(inputs, outputs)

model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(train_ds, epochs=5)

base.trainable = True
for layer in base.layers:  # keep BatchNormalization frozen: works in Keras 2 and 3
    if isinstance(layer, keras.layers.BatchNormalization):
        layer.trainable = False
model.compile(
    optimizer=keras.optimizers.Adam(learning_rate=1e-5),  # recompile, low rate, new optimizer
    loss="sparse_categorical_crossentropy",
    metrics=["accuracy"],
)
model.fit(train_ds, epochs=5)
