"""Measure ``bnlint server``'s latency in an editor: from a change of a 1,000-line training script to
its published diagnostics.

It starts ``bnlint server`` as an editor does (pygls' own client, over stdio), opens a generated training
script of at least 1,000 lines (data pipeline, custom layers, a fine-tuning recipe with its findings,
a GradientTape loop), then edits one line at a time and waits for the diagnostics of each new version.
The latency includes the server's pause before analysing (it waits for typing to rest); the table
also shows it without that pause.

Usage (from outside the repository, with bnlint installed with its server extra)::

    python -m pip install 'bnlint[server]'
    python benchmarks/server_latency.py --changes 30
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

from lsprotocol import types
from pygls.lsp.client import LanguageClient
from pygls.uris import from_fs_path

HEADER = '''"""Fine-tune an image classifier: data pipeline, model, training loop, evaluation."""

import argparse
import math
import os

import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

AUTOTUNE = tf.data.AUTOTUNE
IMAGE_SIZE = (224, 224)
'''

BLOCK = '''

def decode_example_{i}(record, image_size=IMAGE_SIZE):
    """Decode one serialized example into an (image, label) pair."""
    features = {{
        "image": tf.io.FixedLenFeature([], tf.string),
        "label": tf.io.FixedLenFeature([], tf.int64),
    }}
    parsed = tf.io.parse_single_example(record, features)
    image = tf.io.decode_jpeg(parsed["image"], channels=3)
    image = tf.image.resize(image, image_size)
    image = tf.cast(image, tf.float32) / 255.0
    return image, parsed["label"]


def make_dataset_{i}(pattern, batch_size, shuffle=True):
    files = tf.data.Dataset.list_files(pattern, shuffle=shuffle)
    dataset = files.interleave(tf.data.TFRecordDataset, num_parallel_calls=AUTOTUNE)
    if shuffle:
        dataset = dataset.shuffle(10_000)
    dataset = dataset.map(decode_example_{i}, num_parallel_calls=AUTOTUNE)
    return dataset.batch(batch_size).prefetch(AUTOTUNE)


class SqueezeExcite{i}(layers.Layer):
    """Channel attention with dropout on the gate."""

    def __init__(self, ratio=16, rate=0.1, **kwargs):
        super().__init__(**kwargs)
        self.ratio = ratio
        self.dropout = layers.Dropout(rate)

    def build(self, input_shape):
        channels = input_shape[-1]
        self.squeeze = layers.Dense(max(1, channels // self.ratio), activation="relu")
        self.excite = layers.Dense(channels, activation="sigmoid")

    def call(self, inputs, training=None):
        pooled = tf.reduce_mean(inputs, axis=[1, 2])
        gate = self.excite(self.dropout(self.squeeze(pooled), training=training))
        return inputs * gate[:, None, None, :]


def build_model_{i}(num_classes, dropout=0.3):
    base = keras.applications.EfficientNetB0(include_top=False, weights="imagenet")
    base.trainable = False
    inputs = keras.Input(IMAGE_SIZE + (3,))
    x = keras.applications.efficientnet.preprocess_input(inputs)
    x = base(x, training=False)
    x = SqueezeExcite{i}()(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.BatchNormalization()(x)
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs), base


def train_step_{i}(model, optimizer, loss_fn, images, labels):
    with tf.GradientTape() as tape:
        predictions = model(images, training=True)
        loss = loss_fn(labels, predictions)
    gradients = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables))
    return loss


def evaluate_{i}(model, dataset):
    accuracy = keras.metrics.SparseCategoricalAccuracy()
    for images, labels in dataset:
        accuracy.update_state(labels, model(images, training=False))
    return float(accuracy.result())


def fine_tune_{i}(train_pattern, val_pattern, epochs=5):
    train = make_dataset_{i}(train_pattern, 32)
    val = make_dataset_{i}(val_pattern, 32, shuffle=False)
    model, base = build_model_{i}(10)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    model.fit(train, validation_data=val, epochs=epochs)
    base.trainable = True
    model.fit(train, validation_data=val, epochs=epochs)
    optimizer = keras.optimizers.Adam(1e-5)
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    for epoch in range(epochs):
        for images, labels in train:
            train_step_{i}(model, optimizer, loss_fn, images, labels)
        print(epoch, evaluate_{i}(model, val))
    return model
'''

FOOTER = """

def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("train")
    parser.add_argument("val")
    parser.add_argument("--epochs", type=int, default=5)
    arguments = parser.parse_args()
    model = fine_tune_0(arguments.train, arguments.val, arguments.epochs)
    model.save(os.path.join("models", "final.keras"))


if __name__ == "__main__":
    main()
"""


def training_script(lines: int = 1000) -> str:
    """A realistic training script of at least ``lines`` lines, with findings to report."""
    parts = [HEADER]
    index = 0
    while sum(part.count("\n") for part in parts) + FOOTER.count("\n") < lines:
        parts.append(BLOCK.format(i=index))
        index += 1
    return "".join(parts) + FOOTER


async def measure(changes: int, command: list[str]) -> dict[str, object]:
    """Open the script in a fresh server, make ``changes`` edits one at a time, and time each."""
    client = LanguageClient("bnlint-latency", "1")
    published: dict[int, float] = {}
    codes: dict[int, list[str]] = {}
    arrived = asyncio.Event()

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def record(params: types.PublishDiagnosticsParams) -> None:
        if params.version is not None:
            published[params.version] = time.perf_counter()
            codes[params.version] = [str(d.code) for d in params.diagnostics]
            arrived.set()

    async def wait_for(version: int) -> float:
        while version not in published:
            arrived.clear()
            await asyncio.wait_for(arrived.wait(), 120)
        return published[version]

    text = training_script()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "train.py"
        path.write_text(text, encoding="utf-8")
        uri = from_fs_path(str(path)) or ""
        await client.start_io(*command)
        await client.initialize_async(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(), root_uri=from_fs_path(folder)
            )
        )
        client.initialized(types.InitializedParams())
        opened = time.perf_counter()
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)
            )
        )
        first = await wait_for(1) - opened
        latencies = []
        lines = text.split("\n")
        for version in range(2, changes + 2):
            # Edit one line, as a keystroke does: the learning rate of the fine-tuning step.
            lines[-20] = f"    parser.add_argument('--epochs', type=int, default={version})"
            started = time.perf_counter()
            client.text_document_did_change(
                types.DidChangeTextDocumentParams(
                    text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                    content_changes=[
                        types.TextDocumentContentChangeWholeDocument(text="\n".join(lines))
                    ],
                )
            )
            latencies.append(await wait_for(version) - started)
        await client.shutdown_async(None)
        client.exit(None)
        await client.stop()
    return {
        "lines": text.count("\n"),
        "findings": len(codes[1]),
        "first": first,
        "latencies": latencies,
    }


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=30, help="edits to time (one at a time)")
    arguments = parser.parse_args(argv)
    from bnlint.server.language_server import DEBOUNCE_SECONDS

    result = asyncio.run(measure(arguments.changes, [sys.executable, "-m", "bnlint", "server"]))
    latencies = sorted(result["latencies"])  # type: ignore[arg-type]
    median = statistics.median(latencies)
    p90 = latencies[int(0.9 * (len(latencies) - 1))]
    print(
        f"{result['lines']}-line training script, {result['findings']} findings, "
        f"{len(latencies)} changes, pause before analysis {DEBOUNCE_SECONDS * 1000:.0f} ms\n"
    )
    print("| | median | p90 | max |")
    print("| --- | ---: | ---: | ---: |")
    print(
        f"| change -> diagnostics | {median * 1000:.0f} ms | {p90 * 1000:.0f} ms "
        f"| {latencies[-1] * 1000:.0f} ms |"
    )
    less = [value - DEBOUNCE_SECONDS for value in latencies]
    print(
        f"| without the pause | {statistics.median(less) * 1000:.0f} ms "
        f"| {less[int(0.9 * (len(less) - 1))] * 1000:.0f} ms | {less[-1] * 1000:.0f} ms |"
    )
    print(f"\nOpen -> first diagnostics (fresh server): {result['first'] * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
