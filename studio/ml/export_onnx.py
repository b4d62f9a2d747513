"""ONNX export through tf2onnx (an optional extra: ``pip install 'training-studio[onnx]'``).

``tf2onnx.convert.from_keras`` fails on Keras 3 models, and ``from_function`` mistakes the
constants a function captures (a Normalization layer's mean and variance) for extra inputs.
So the serving function is frozen here (variables and captured constants become graph
constants) and the frozen graph is converted, its input and output renamed ``inputs`` and
``outputs`` as in the SavedModel.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

import keras

from studio.core.errors import ExportError
from studio.core.export_formats import MIN_OPSET
from studio.ml.export_savedmodel import INPUT_NAME, OUTPUT_NAME, serving_function


def supported_opsets() -> range:
    import tf2onnx

    return range(MIN_OPSET, max(tf2onnx.constants.OPSET_TO_IR_VERSION) + 1)


def onnx_bytes(model: keras.Model, opset: int) -> bytes:
    import tf2onnx
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    opsets = supported_opsets()
    if opset not in opsets:
        raise ExportError(f"ONNX opset {opset} is not one tf2onnx {tf2onnx.__version__} "
                          f"writes; choose {opsets.start} to {opsets.stop - 1}.")
    function, _ = serving_function(model)
    frozen = convert_variables_to_constants_v2(function.get_concrete_function())
    source, result = frozen.inputs[0].name, frozen.outputs[0].name
    with _tensorflow_warnings_silenced():
        proto, _ = tf2onnx.convert.from_graph_def(
            frozen.graph.as_graph_def(), name=model.name, input_names=[source],
            output_names=[result], opset=opset,
            tensors_to_rename={source: INPUT_NAME, result: OUTPUT_NAME})
    return bytes(proto.SerializeToString())


def write_onnx(model: keras.Model, path: Path, opset: int) -> None:
    path.write_bytes(onnx_bytes(model, opset))


@contextlib.contextmanager
def _tensorflow_warnings_silenced() -> Iterator[None]:
    """tf2onnx calls TF1 graph utilities, each of which logs a deprecation warning."""
    logger = logging.getLogger("tensorflow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)
