"""Read each export back in its own runtime and compare it with the model in memory.

Keras files load with ``safe_mode=True``, SavedModels through ``tf.saved_model.load`` and the
serving signature, TFLite files in the LiteRT interpreter (``ai_edge_litert`` when installed,
else TensorFlow's own), ONNX files in onnxruntime, weights into a freshly built copy of the
architecture, and the Keras script by running its ``build_model()``. Each runs the same
batch as the model; a file that does not load is an ExportError, so nothing is kept.
"""

from __future__ import annotations

import csv
import math
import runpy
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from studio.core.errors import ExportError
from studio.core.export_formats import ExportOptions
from studio.core.export_result import FLOAT_TOLERANCE, Verification
from studio.core.keras_code import data_file_for
from studio.ml.export_savedmodel import INPUT_NAME, OUTPUT_NAME, SIGNATURE
from studio.ml.export_source import ExportSource
from studio.ml.model_io import load_keras

Runner = Callable[[Path, np.ndarray, keras.Model], np.ndarray]


def verify_export(format_name: str, path: Path, source: ExportSource,
                  options: ExportOptions | None = None) -> Verification:
    options = options or ExportOptions()
    if format_name == "history":
        return _check_history(path, source.history)
    x = source.verification_samples()
    if format_name == "python":
        return _check_script(path, source, x)
    runtime, run = _RUNNERS[format_name]
    if format_name == "tflite":
        runtime = _tflite_runtime()[0]
    try:
        exported = np.asarray(run(path, x, source.model), dtype="float64")
    except ExportError:
        raise
    except Exception as error:
        raise ExportError(f"{path}: the export does not load in {runtime} "
                          f"({_first_line(error)}).") from None
    return compare(source.model.predict(x, batch_size=len(x), verbose=0), exported,
                   runtime=runtime, labels=source.verification_labels(),
                   classification=source.classification, exact=options.exact)


def compare(reference: np.ndarray, exported: np.ndarray, *, runtime: str,
            labels: np.ndarray | None = None, classification: bool = False,
            exact: bool = True) -> Verification:
    reference = np.asarray(reference, dtype="float64")
    if exported.shape != reference.shape:
        raise ExportError(f"The export's output has shape {exported.shape}, the model's "
                          f"{reference.shape}.")
    agreement = accuracy = reference_accuracy = None
    if classification and reference.shape[-1] > 1:
        predicted, expected = exported.argmax(-1), reference.argmax(-1)
        agreement = float(np.mean(predicted == expected))
        if labels is not None:
            truth = np.asarray(labels).reshape(predicted.shape)
            accuracy = float(np.mean(predicted == truth))
            reference_accuracy = float(np.mean(expected == truth))
    scale = max(1.0, float(np.max(np.abs(reference)))) if reference.size else 1.0
    return Verification(runtime, samples=len(reference),
                        max_abs_diff=float(np.max(np.abs(exported - reference))),
                        class_agreement=agreement, accuracy=accuracy,
                        reference_accuracy=reference_accuracy,
                        tolerance=FLOAT_TOLERANCE * scale if exact else None)


def _run_keras(path: Path, x: np.ndarray, model: keras.Model) -> np.ndarray:
    loaded = load_keras(path)
    return np.asarray(loaded.predict(x, batch_size=len(x), verbose=0))


def _run_savedmodel(path: Path, x: np.ndarray, model: keras.Model) -> np.ndarray:
    loaded = tf.saved_model.load(str(path))
    serve = loaded.signatures[SIGNATURE]
    return np.asarray(serve(**{INPUT_NAME: tf.constant(x)})[OUTPUT_NAME])


def _run_weights(path: Path, x: np.ndarray, model: keras.Model) -> np.ndarray:
    rebuilt = keras.models.clone_model(model)  # same architecture, fresh weights
    rebuilt.load_weights(path)
    return np.asarray(rebuilt.predict(x, batch_size=len(x), verbose=0))


def _run_tflite(path: Path, x: np.ndarray, model: keras.Model) -> np.ndarray:
    interpreter = _tflite_runtime()[1](model_content=path.read_bytes())
    source = interpreter.get_input_details()[0]
    interpreter.resize_tensor_input(source["index"], x.shape)
    interpreter.allocate_tensors()
    source = interpreter.get_input_details()[0]
    result = interpreter.get_output_details()[0]
    interpreter.set_tensor(source["index"], _quantized(x, source))
    interpreter.invoke()
    output = interpreter.get_tensor(result["index"])
    if np.issubdtype(output.dtype, np.integer):
        scale, zero_point = result["quantization"]
        return np.asarray((np.asarray(output, dtype="float32") - zero_point) * scale)
    return np.asarray(output)


def _quantized(x: np.ndarray, detail: Mapping[str, Any]) -> np.ndarray:
    """Real inputs in the integer encoding an int8 model expects (real = scale * (q - zero))."""
    dtype = np.dtype(detail["dtype"])
    if not np.issubdtype(dtype, np.integer):
        return x.astype(dtype)
    scale, zero_point = detail["quantization"]
    limits = np.iinfo(dtype)
    return np.asarray(np.clip(np.round(x / scale + zero_point), limits.min, limits.max),
                      dtype=dtype)


def _tflite_runtime() -> tuple[str, Callable[..., Any]]:
    try:
        from ai_edge_litert.interpreter import Interpreter

        return "LiteRT (ai-edge-litert)", Interpreter
    except ImportError:
        def interpreter(**kwargs: object) -> Any:
            with warnings.catch_warnings():  # "deprecated in favour of ai-edge-litert"
                warnings.simplefilter("ignore")
                return tf.lite.Interpreter(**kwargs)

        return "the TensorFlow Lite interpreter", interpreter


def _run_onnx(path: Path, x: np.ndarray, model: keras.Model) -> np.ndarray:
    import onnxruntime

    session = onnxruntime.InferenceSession(path.read_bytes(),
                                           providers=["CPUExecutionProvider"])
    return np.asarray(session.run([OUTPUT_NAME], {INPUT_NAME: x})[0])


_RUNNERS: dict[str, tuple[str, Runner]] = {
    "keras": ("Keras (safe_mode)", _run_keras),
    "savedmodel": ("TensorFlow (tf.saved_model.load, serving_default)", _run_savedmodel),
    "tflite": ("the TensorFlow Lite interpreter", _run_tflite),
    "onnx": ("onnxruntime", _run_onnx),
    "weights": ("Keras (weights loaded into a rebuilt model)", _run_weights),
}


def _check_script(path: Path, source: ExportSource, x: np.ndarray) -> Verification:
    """Run the script's ``build_model()``, give it the trained weights, and compare."""
    try:
        module = runpy.run_path(str(path), run_name="studio_export_check")
        built = module["build_model"]()
    except Exception as error:
        raise ExportError(f"{path}: the generated script does not run "
                          f"({_first_line(error)}).") from None
    model = source.model
    if built.count_params() != model.count_params():
        raise ExportError(f"{path}: the script builds a model of {built.count_params():,} "
                          f"parameters, not the trained model's {model.count_params():,}.")
    try:
        built.set_weights(model.get_weights())
    except ValueError as error:
        raise ExportError(f"{path}: the script builds a different architecture "
                          f"({_first_line(error)}).") from None
    for layer in built.layers:
        if isinstance(layer, keras.layers.Normalization):
            layer.finalize_state()  # its mean and variance are derived from the weights
    detail = f"its build_model() makes the same {model.count_params():,}-parameter model"
    data = data_file_for(path)
    if data.exists():
        with np.load(data, allow_pickle=False) as arrays:
            detail += f", and {data.name} holds {len(arrays['x'])} samples"
    result = compare(model.predict(x, batch_size=len(x), verbose=0),
                     np.asarray(built.predict(x, batch_size=len(x), verbose=0),
                                dtype="float64"),
                     runtime="Python (the generated script)",
                     classification=source.classification)
    return Verification(result.runtime, result.samples, result.max_abs_diff,
                        result.class_agreement, tolerance=result.tolerance, detail=detail)


def _check_history(path: Path, rows: Sequence[Mapping[str, float]]) -> Verification:
    with open(path, newline="", encoding="utf-8") as handle:
        read = [{key: float(value) for key, value in row.items()
                 if key != "epoch" and value != ""} for row in csv.DictReader(handle)]
    expected = [{key: float(value) for key, value in row.items()} for row in rows]
    if len(read) != len(expected) or not all(map(_same_row, read, expected)):
        raise ExportError(f"{path}: the history read back differs from the run's.")
    columns = len({key for row in expected for key in row})
    return Verification("Python's csv reader",
                        detail=f"{len(read)} epoch(s) of {columns} metrics read back identical")


def _same_row(read: Mapping[str, float], expected: Mapping[str, float]) -> bool:
    return read.keys() == expected.keys() and all(
        read[key] == value or (math.isnan(read[key]) and math.isnan(value))
        for key, value in expected.items())


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
