"""TensorFlow SavedModel export, and the serving function other converters start from.

The signature is named ``serving_default`` (what TensorFlow Serving, the TFLite converter
and ``saved_model_cli`` look for), with one input ``inputs`` and one output ``outputs``: the
same names in every exported format, instead of Keras' generated ``keras_tensor``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

SIGNATURE = "serving_default"
INPUT_NAME = "inputs"
OUTPUT_NAME = "outputs"


def serving_function(model: keras.Model) -> tuple[Any, list[tf.TensorSpec]]:
    """A ``tf.function`` calling ``model`` for inference, and its input signature (any batch)."""
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ValueError("only models with one input and one output can be exported")
    source = model.inputs[0]
    spec = tf.TensorSpec((None, *source.shape[1:]), source.dtype, name=INPUT_NAME)

    def serve(inputs: tf.Tensor) -> dict[str, tf.Tensor]:
        return {OUTPUT_NAME: model(inputs, training=False)}

    return tf.function(serve, input_signature=[spec]), [spec]


def write_savedmodel(model: keras.Model, path: Path) -> None:
    function, _ = serving_function(model)
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(name=SIGNATURE, fn=function)  # its input signature is its own
    archive.write_out(str(path), verbose=False)
