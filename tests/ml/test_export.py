"""Every export format on a real trained model, read back by a runtime of its own.

The checks here load each file themselves (not through ``export_verify``), so a verifier that
compared the model with itself would not hide a broken export.
"""

from __future__ import annotations

import csv
import os
import runpy
import sys
import warnings
from dataclasses import replace

import keras
import numpy as np
import pytest
import tensorflow as tf

from studio.core.dataset_spec import DatasetSpec, GeneratedSource
from studio.core.defaults import default_project
from studio.core.errors import ExportError
from studio.core.export_formats import ExportOptions
from studio.core.model_spec import LayerSpec, ModelSpec
from studio.core.run_record import read_history
from studio.ml.export import export_model
from studio.ml.export_source import ExportSource, open_export_source
from studio.ml.model_io import load_keras
from studio.ml.session import train_project
from studio.ml.summary import build_model

FLOAT = 1e-5


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """One real run folder (model.keras, run.json, history.csv): the default project, 1 epoch."""
    project = default_project()
    project = replace(project, training=replace(project.training, epochs=1, batch_size=64))
    folder = tmp_path_factory.mktemp("export") / "run"
    train_project(project, lambda event: None, run_dir=folder)
    return folder


@pytest.fixture(scope="module")
def source(run_dir):
    return open_export_source(run_dir)


@pytest.fixture(scope="module")
def batch(source):
    x = source.samples[:64]
    return x, source.model.predict(x, verbose=0)


def only(folder, *names):
    assert sorted(p.name for p in folder.iterdir()) == sorted(names)  # no leftovers


def test_a_run_folder_brings_its_data_project_and_history(source, run_dir):
    assert source.project is not None and source.project.name == "Digits CNN"
    assert source.samples.shape[1:] == (8, 8, 1) and len(source.labels) == len(source.samples)
    assert source.representative.shape[1:] == (8, 8, 1)
    assert list(source.history) == read_history(run_dir) and len(source.history) == 1
    assert source.classification and not source.data_problem


def test_keras(source, batch, tmp_path):
    result = export_model(source, "keras", tmp_path / "digits.keras")
    x, expected = batch
    reloaded = keras.saving.load_model(tmp_path / "digits.keras", safe_mode=True)
    assert np.max(np.abs(reloaded.predict(x, verbose=0) - expected)) <= FLOAT
    assert result.verification.runtime == "Keras (safe_mode)"
    assert result.verification.max_abs_diff <= FLOAT and result.verification.passed
    assert result.verification.class_agreement == 1.0
    assert result.files == (tmp_path / "digits.keras",) and result.size > 0
    only(tmp_path, "digits.keras")


def test_savedmodel_serves_through_serving_default(source, batch, tmp_path):
    result = export_model(source, "savedmodel", tmp_path / "digits_saved_model")
    x, expected = batch
    loaded = tf.saved_model.load(str(tmp_path / "digits_saved_model"))
    serve = loaded.signatures["serving_default"]
    outputs = serve(inputs=tf.constant(x))
    assert list(outputs) == ["outputs"]
    assert np.max(np.abs(outputs["outputs"].numpy() - expected)) <= FLOAT
    assert result.verification.max_abs_diff <= FLOAT and result.verification.passed
    assert (tmp_path / "digits_saved_model" / "saved_model.pb").is_file()
    only(tmp_path, "digits_saved_model")


def run_tflite(path, x):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        interpreter = tf.lite.Interpreter(model_path=str(path))
    source = interpreter.get_input_details()[0]
    interpreter.resize_tensor_input(source["index"], x.shape)
    interpreter.allocate_tensors()
    source, result = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    if source["dtype"] == np.int8:
        scale, zero = source["quantization"]
        x = np.clip(np.round(x / scale + zero), -128, 127).astype(np.int8)
    interpreter.set_tensor(source["index"], x)
    interpreter.invoke()
    output = interpreter.get_tensor(result["index"])
    if result["dtype"] == np.int8:
        scale, zero = result["quantization"]
        output = (output.astype(np.float32) - zero) * scale
    return source["dtype"], output


def test_tflite_float32(source, batch, tmp_path):
    result = export_model(source, "tflite", tmp_path / "digits.tflite")
    x, expected = batch
    dtype, output = run_tflite(tmp_path / "digits.tflite", x)
    assert dtype == np.float32
    assert np.max(np.abs(output - expected)) <= FLOAT
    assert result.verification.max_abs_diff <= FLOAT and result.verification.passed
    assert result.verification.tolerance is not None
    only(tmp_path, "digits.tflite")


@pytest.fixture(scope="module")
def float_tflite_size(source, tmp_path_factory):
    return export_model(source, "tflite", tmp_path_factory.mktemp("f") / "m.tflite").size


@pytest.mark.parametrize("quantize, input_dtype, smaller_than", [
    ("dynamic", np.float32, 0.5), ("float16", np.float32, 0.6), ("int8", np.int8, 0.5),
])
def test_quantised_tflite_is_smaller_and_reports_the_accuracy_change(
        source, batch, tmp_path, float_tflite_size, quantize, input_dtype, smaller_than):
    path = tmp_path / f"digits_{quantize}.tflite"
    result = export_model(source, "tflite", path, options=ExportOptions(quantize))
    check = result.verification
    assert check.tolerance is None and check.passed  # reported, not enforced
    assert check.accuracy is not None and check.reference_accuracy is not None
    assert abs(check.accuracy_change) <= 0.05
    assert check.class_agreement >= 0.9
    assert "accuracy" in check.line() and "change" in check.line()
    assert result.size < smaller_than * float_tflite_size
    x, expected = batch
    dtype, output = run_tflite(path, x)
    assert dtype == input_dtype
    assert np.mean(output.argmax(1) == expected.argmax(1)) >= 0.9
    only(tmp_path, path.name)


def test_onnx_runs_in_onnxruntime(source, batch, tmp_path):
    onnxruntime = pytest.importorskip("onnxruntime")
    result = export_model(source, "onnx", tmp_path / "digits.onnx",
                          options=ExportOptions(opset=15))
    x, expected = batch
    session = onnxruntime.InferenceSession(str(tmp_path / "digits.onnx"),
                                           providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["inputs"]
    assert [o.name for o in session.get_outputs()] == ["outputs"]
    assert np.max(np.abs(session.run(None, {"inputs": x})[0] - expected)) <= FLOAT
    import onnx

    assert onnx.load(str(tmp_path / "digits.onnx")).opset_import[0].version == 15
    assert result.verification.runtime == "onnxruntime"
    assert result.verification.max_abs_diff <= FLOAT and result.verification.passed
    only(tmp_path, "digits.onnx")


def test_onnx_keeps_a_normalization_layers_statistics_inside_the_graph(tmp_path):
    """tf2onnx's from_function would turn the captured mean and variance into inputs."""
    pytest.importorskip("onnxruntime")
    x = np.random.default_rng(1).normal(5.0, 3.0, (64, 4)).astype("float32")
    norm = keras.layers.Normalization()
    norm.adapt(x)
    model = keras.Sequential([keras.Input((4,)), norm, keras.layers.Dense(3)])
    result = export_model(ExportSource(model, samples=x), "onnx", tmp_path / "norm.onnx")
    assert result.verification.max_abs_diff <= FLOAT


def test_weights_load_into_a_rebuilt_model(source, batch, tmp_path):
    result = export_model(source, "weights", tmp_path / "digits.weights.h5")
    x, expected = batch
    rebuilt = build_model(source.project.model, source.project.dataset.info)
    rebuilt.load_weights(tmp_path / "digits.weights.h5")
    assert np.max(np.abs(rebuilt.predict(x, verbose=0) - expected)) <= FLOAT
    assert result.verification.max_abs_diff <= FLOAT and result.verification.passed
    only(tmp_path, "digits.weights.h5")


def test_python_script_builds_the_trained_architecture(source, batch, tmp_path):
    result = export_model(source, "python", tmp_path / "digits.py")
    built = runpy.run_path(str(tmp_path / "digits.py"), run_name="check")["build_model"]()
    built.set_weights(source.model.get_weights())
    x, expected = batch
    assert np.max(np.abs(built.predict(x, verbose=0) - expected)) <= FLOAT
    assert "build_model() makes the same" in result.verification.line()
    assert result.verification.max_abs_diff <= FLOAT
    only(tmp_path, "digits.py")  # the digits come from scikit-learn: no data file


def test_python_script_for_generated_data_writes_its_data_beside_it(tmp_path):
    spec = ModelSpec((LayerSpec.create("Dense", units=8, activation="tanh"),
                      LayerSpec.create("Dense", units=1, activation="linear")))
    project = replace(default_project(), model=spec,
                      dataset=DatasetSpec(GeneratedSource("sine", 200, 0.1)))
    model = build_model(spec, project.dataset.info)
    source = ExportSource(model, project=project)
    result = export_model(source, "python", tmp_path / "sine.py")
    assert result.files == (tmp_path / "sine.py", tmp_path / "sine.npz")
    with np.load(tmp_path / "sine.npz") as data:
        assert data["x"].shape == (200, 1)
    assert "sine.npz holds 200 samples" in result.verification.detail
    only(tmp_path, "sine.py", "sine.npz")


def test_history_csv(source, tmp_path):
    result = export_model(source, "history", tmp_path / "history.csv")
    with open(tmp_path / "history.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 1 and rows[0]["epoch"] == "1"
    assert float(rows[0]["val_accuracy"]) == source.history[0]["val_accuracy"]
    assert "1 epoch(s)" in result.verification.line()


# Bad input: each is a clear ExportError, and nothing is left behind.


def test_an_existing_file_is_kept_unless_overwriting_is_allowed(source, tmp_path):
    target = tmp_path / "digits.onnx"
    target.write_bytes(b"an older export")
    with pytest.raises(ExportError, match=r"digits\.onnx already exists; choose another name"):
        export_model(source, "onnx", target)
    assert target.read_bytes() == b"an older export"
    export_model(source, "onnx", target, overwrite=True)
    assert target.read_bytes() != b"an older export"
    only(tmp_path, "digits.onnx")


def test_overwriting_replaces_an_earlier_savedmodel_but_never_an_unrelated_folder(
        source, tmp_path):
    export_model(source, "savedmodel", tmp_path / "served")
    export_model(source, "savedmodel", tmp_path / "served", overwrite=True)
    only(tmp_path, "served")
    photos = tmp_path / "photos.tflite"
    photos.mkdir()
    (photos / "cat.jpg").write_bytes(b"")
    with pytest.raises(ExportError, match="holds something other than a SavedModel"):
        export_model(source, "savedmodel", photos, overwrite=True)
    with pytest.raises(ExportError, match=r"photos\.tflite is a folder; choose a file name "
                                          r"ending in \.tflite"):
        export_model(source, "tflite", photos, overwrite=True)
    assert (photos / "cat.jpg").exists()


def test_a_path_below_a_file_cannot_be_written(source, tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(ExportError, match=r"cannot write in .*file .*choose a folder"):
        export_model(source, "keras", tmp_path / "file" / "digits.keras")
    only(tmp_path, "file")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_cannot_be_written(source, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        with pytest.raises(ExportError, match=r"cannot write in .*locked"):
            export_model(source, "tflite", locked / "digits.tflite")
    finally:
        locked.chmod(0o755)
    only(locked)


def test_a_failed_conversion_names_the_path_and_leaves_the_old_file(source, tmp_path,
                                                                    monkeypatch):
    pytest.importorskip("tf2onnx")
    import tf2onnx

    def broken(*args, **kwargs):
        raise KeyError("unsupported op: Frobnicate")

    monkeypatch.setattr(tf2onnx.convert, "from_graph_def", broken)
    target = tmp_path / "digits.onnx"
    target.write_bytes(b"old")
    with pytest.raises(ExportError, match=r"digits\.onnx: the ONNX conversion failed \("
                                          r".*Frobnicate.*\); try another opset than 17"):
        export_model(source, "onnx", target, overwrite=True)
    assert target.read_bytes() == b"old"
    only(tmp_path, "digits.onnx")


def test_an_export_that_does_not_load_back_is_not_kept(source, tmp_path, monkeypatch):
    import studio.ml.export_tflite as export_tflite

    monkeypatch.setattr(export_tflite, "tflite_bytes", lambda *args, **kwargs: b"garbage")
    target = tmp_path / "digits.tflite"
    with pytest.raises(ExportError) as raised:
        export_model(source, "tflite", target)
    assert str(raised.value).startswith(  # the destination, not the hidden staging folder
        f"{target}: the export does not load in the TensorFlow Lite interpreter (")
    only(tmp_path)


def test_an_unsupported_opset_says_which_ones_work(source, tmp_path):
    pytest.importorskip("tf2onnx")
    with pytest.raises(ExportError, match=r"opset 99 is not one tf2onnx .* writes; choose 9 "
                                          r"to \d+"):
        export_model(source, "onnx", tmp_path / "digits.onnx", options=ExportOptions(opset=99))
    only(tmp_path)


def test_without_tf2onnx_onnx_says_what_to_install_and_the_rest_still_works(
        source, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tf2onnx", None)
    with pytest.raises(ExportError, match=r"pip install 'training-studio\[onnx\]'"):
        export_model(source, "onnx", tmp_path / "digits.onnx")
    export_model(source, "keras", tmp_path / "digits.keras")
    only(tmp_path, "digits.keras")


def test_a_folder_without_a_trained_model_is_refused(tmp_path):
    with pytest.raises(ExportError, match=r"no trained model in this folder \(model\.keras is "
                                          r"missing\)"):
        open_export_source(tmp_path)
    with pytest.raises(ExportError, match="no such run folder or model file"):
        open_export_source(tmp_path / "nothing")


def test_a_bare_keras_file_exports_models_but_not_the_script_history_or_int8(
        run_dir, tmp_path):
    source = open_export_source(run_dir / "model.keras")
    assert source.project is None and "no data" in source.data_problem
    result = export_model(source, "tflite", tmp_path / "digits.tflite")
    assert result.verification.samples == 32  # random inputs of the model's shape
    assert result.verification.max_abs_diff <= FLOAT
    with pytest.raises(ExportError, match="made from the project"):
        export_model(source, "python", tmp_path / "digits.py")
    with pytest.raises(ExportError, match="no training history"):
        export_model(source, "history", tmp_path / "history.csv")
    with pytest.raises(ExportError, match=r"calibrates on samples of the training data, and "
                                          r"there are none \(a \.keras file carries no data\)"):
        export_model(source, "tflite", tmp_path / "int8.tflite", options=ExportOptions("int8"))
    only(tmp_path, "digits.tflite")


def lambda_model_file(folder):
    model = keras.Sequential([keras.Input((3,)),
                              keras.layers.Lambda(lambda x: x * 2.0, name="lambda"),
                              keras.layers.Dense(2)])
    path = folder / "lambda.keras"
    model.save(path)
    return path


def test_a_lambda_layer_is_refused_with_the_reason(tmp_path):
    path = lambda_model_file(tmp_path)
    with pytest.raises(ExportError, match=r"lambda\.keras: has a Lambda layer \(lambda\), which "
                                          r"holds Python code\. Keras' safe mode refuses to run "
                                          r"code stored in a file"):
        open_export_source(path)
    # The loader every window path uses refuses it with the same reason, before Keras runs.
    with pytest.raises(ExportError, match=r"has a Lambda layer \(lambda\), which holds Python"):
        load_keras(path)
    # And Keras' safe mode, which every load uses, would refuse it anyway.
    with pytest.raises(ValueError, match=r"`Lambda` layer .*arbitrary code execution"):
        keras.saving.load_model(path, safe_mode=True)
