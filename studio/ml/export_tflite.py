"""TensorFlow Lite export: float32, or quantised for smaller, faster models on devices.

- dynamic: weights stored as 8-bit integers, computed in float (about 4x smaller);
- float16: weights stored as 16-bit floats (2x smaller, GPU delegates run them natively);
- int8: weights and activations 8-bit, input and output too, calibrated on training
  samples: what microcontrollers and Edge TPUs need. The interpreter's input and output
  details carry the scale and zero point that map real numbers to and from int8.

The converter starts from a SavedModel (the route TensorFlow itself takes for Keras 3 models),
written to a temporary folder beside the output.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from studio.ml.export_savedmodel import write_savedmodel


def tflite_bytes(model: keras.Model, quantize: str = "none",
                 representative: np.ndarray | None = None, scratch: Path | None = None) -> bytes:
    if quantize == "int8" and (representative is None or not len(representative)):
        raise ValueError("int8 quantisation needs representative samples to calibrate on")
    with tempfile.TemporaryDirectory(prefix=".tflite-", dir=scratch) as folder:
        write_savedmodel(model, Path(folder) / "saved_model")
        converter = tf.lite.TFLiteConverter.from_saved_model(str(Path(folder) / "saved_model"))
        if quantize != "none":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if quantize == "float16":
            converter.target_spec.supported_types = [tf.float16]
        elif quantize == "int8" and representative is not None:
            converter.representative_dataset = _calibration(representative)
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            converter.inference_input_type = tf.int8
            converter.inference_output_type = tf.int8
        return bytes(converter.convert())


def write_tflite(model: keras.Model, path: Path, quantize: str = "none",
                 representative: np.ndarray | None = None) -> None:
    content = tflite_bytes(model, quantize, representative, scratch=path.parent)
    path.write_bytes(content)


def _calibration(samples: np.ndarray) -> Callable[[], Iterator[list[np.ndarray]]]:
    """The converter asks for one sample at a time, each as a batch of one."""
    samples = np.asarray(samples, dtype="float32")

    def batches() -> Iterator[list[np.ndarray]]:
        for index in range(len(samples)):
            yield [samples[index:index + 1]]

    return batches
