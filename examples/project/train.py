"""Silent mistakes that only show across files: bnlint reports them here, in train.py."""

import tensorflow as tf
from models import Classifier, build_finetuner
from utils import unfreeze_top

train_ds = tf.keras.utils.image_dataset_from_directory("data/train", image_size=(224, 224))
classifier = Classifier(10)
optimizer = tf.keras.optimizers.Adam()


@tf.function
def train_step(images, labels):
    with tf.GradientTape() as tape:
        logits = classifier(images)  # BNL007: Dropout and BatchNormalization in inference mode
        loss = tf.reduce_mean(tf.keras.losses.sparse_categorical_crossentropy(labels, logits, True))
    grads = tape.gradient(loss, classifier.trainable_variables)
    optimizer.apply_gradients(zip(grads, classifier.trainable_variables))


model = build_finetuner(5)
model.fit(train_ds, epochs=3)
unfreeze_top(model, 30)  # BNL001, BNL002, BNL010: compiled in models.py; unfreezes its BN
model.fit(train_ds, epochs=3)
