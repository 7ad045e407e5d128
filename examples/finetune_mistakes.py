"""Transfer learning with three silent mistakes that bnlint reports (BNL001, BNL002, BNL003)."""

import tensorflow as tf
from tensorflow import keras

train_ds = tf.keras.utils.image_dataset_from_directory("data/train", image_size=(224, 224))

base = keras.applications.MobileNetV2(include_top=False, weights="imagenet")
base.trainable = False

inputs = keras.Input(shape=(224, 224, 3))
x = keras.applications.mobilenet_v2.preprocess_input(inputs)
x = base(x)  # BNL002: BatchNormalization will run in training mode once the base is unfrozen
x = keras.layers.GlobalAveragePooling2D()(x)
x = keras.layers.Dropout(0.2, trainable=False)(x)  # BNL003: Dropout has no weights; still drops
outputs = keras.layers.Dense(5, activation="softmax")(x)
model = keras.Model(inputs, outputs)

model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(train_ds, epochs=5)

base.trainable = True  # BNL001: ignored by the next fit until compile() is called again
model.fit(train_ds, epochs=5)
