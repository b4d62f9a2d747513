"""A .keras model's architecture comes into the builder, or is refused with the reason."""

from __future__ import annotations

import keras
import pytest

from studio.core.dataset_catalog import BUILTIN_DATASETS
from studio.core.defaults import default_project
from studio.core.errors import ExportError, ModelSpecError
from studio.core.model_spec import LayerSpec, ModelSpec
from studio.ml.keras_import import import_keras_architecture
from studio.ml.model_io import save_keras
from studio.ml.summary import build_model

DIGITS = BUILTIN_DATASETS["digits"]


def test_a_studio_model_comes_back_as_the_same_stack(tmp_path):
    default = default_project().model
    conv = default.layers[0].with_param("kernel_regularizer", "l1_l2") \
        .with_param("regularization", 0.25).with_param("kernel_initializer", "he_uniform")
    spec = ModelSpec((LayerSpec.create("Normalization"), conv, *default.layers[1:],))
    path = save_keras(build_model(spec, DIGITS), tmp_path / "model.keras")
    imported = import_keras_architecture(path)
    assert imported.spec == ModelSpec((LayerSpec.create("Input", shape=[8, 8, 1]),
                                       *spec.layers))
    assert any("statistics are learned again" in note for note in imported.notes)
    assert any("Weights are not imported" in note for note in imported.notes)


def _saved(tmp_path, *layers, inputs=(8, 8, 1)):
    model = keras.Sequential([keras.Input(inputs), *layers])
    path = tmp_path / "other.keras"
    model.save(path)
    return path


def test_unsupported_layers_are_refused_by_name(tmp_path):
    path = _saved(tmp_path, keras.layers.Reshape((8, 8)), keras.layers.LSTM(4, name="memory"),
                  keras.layers.Dense(2), inputs=(64,))
    with pytest.raises(ModelSpecError, match=r"does not offer: LSTM \('memory'\)"):
        import_keras_architecture(path)


def test_a_model_with_branches_is_refused(tmp_path):
    inputs = keras.Input((4,))
    left, right = keras.layers.Dense(3)(inputs), keras.layers.Dense(3)(inputs)
    model = keras.Model(inputs, keras.layers.Concatenate()([left, right]))
    path = tmp_path / "branches.keras"
    model.save(path)
    with pytest.raises(ModelSpecError, match="not a plain stack"):
        import_keras_architecture(path)


@pytest.mark.parametrize(("layer", "message"), [
    (keras.layers.Conv2D(4, (3, 5), name="wide"), r"layer 'wide'.*kernel_size=\(3, 5\)"),
    (keras.layers.Conv2D(4, 3, dilation_rate=2, name="holes"), "layer 'holes'.*dilation_rate"),
    (keras.layers.Conv2D(4, 3, use_bias=False, name="nobias"), "layer 'nobias'.*use_bias"),
    (keras.layers.MaxPooling2D(2, strides=1, name="overlap"), "layer 'overlap'.*strides"),
    (keras.layers.Conv2D(4, 3, kernel_regularizer=keras.regularizers.L1L2(0.1, 0.2),
                         name="mixed"), "layer 'mixed'.*regularizer L1L2"),
])
def test_settings_the_builder_cannot_show_are_refused_by_layer_and_name(tmp_path, layer,
                                                                        message):
    with pytest.raises(ModelSpecError, match=message):
        import_keras_architecture(_saved(tmp_path, layer))


def test_unsafe_and_broken_files_are_refused_without_running_them(tmp_path):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Lambda(lambda x: x * 2)])
    path = tmp_path / "lambda.keras"
    model.save(path)
    with pytest.raises(ExportError, match=r"lambda\.keras: has a Lambda layer"):
        import_keras_architecture(path)
    junk = tmp_path / "junk.keras"
    junk.write_bytes(b"not a zip file")
    with pytest.raises(ExportError, match=r"junk\.keras"):
        import_keras_architecture(junk)


@pytest.mark.parametrize(("layer", "inputs", "message"), [
    (keras.layers.BatchNormalization(axis=1, name="bn"), (8, 8, 1), "layer 'bn'.*axis"),
    (keras.layers.BatchNormalization(epsilon=0.1, name="bn2"), (8, 8, 1), "'bn2'.*epsilon"),
    (keras.layers.LayerNormalization(axis=1, name="ln"), (8, 8, 1), "layer 'ln'.*axis"),
    (keras.layers.Dropout(0.5, noise_shape=(None, 1, 1, 1), name="drop"), (8, 8, 1),
     "layer 'drop'.*noise_shape"),
])
def test_any_setting_that_would_change_the_layer_is_refused(tmp_path, layer, inputs, message):
    with pytest.raises(ModelSpecError, match=message):
        import_keras_architecture(_saved(tmp_path, layer, inputs=inputs))
