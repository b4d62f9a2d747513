"""The generated Keras script runs on its own and builds the same architecture."""

from __future__ import annotations

import ast

from studio.core.defaults import default_project
from studio.core.keras_code import keras_script
from studio.core.layer_catalog import LAYER_TYPES
from studio.core.model_spec import LayerSpec, ModelSpec


def test_script_is_valid_python_naming_every_layer():
    project = default_project()
    script = keras_script(project)
    ast.parse(script)
    for index, layer in enumerate(project.model.layers):
        assert f'keras.layers.{layer.type}(' in script
        assert f'name="{index + 1:02d}_{layer.type.lower()}"' in script
    assert "learning_rate=0.001" in script and "epochs=10" in script


def test_every_layer_type_is_written_with_keras_argument_names():
    spec = ModelSpec(tuple(LayerSpec.create(name) for name in LAYER_TYPES))
    from dataclasses import replace

    script = keras_script(replace(default_project(), model=spec))
    ast.parse(script)
    assert "target_shape=(8, 8, 1)" in script


def test_regularizers_are_written_as_keras_objects_and_input_is_not_repeated():
    from dataclasses import replace

    dense = LayerSpec.create("Dense", units=10, activation="softmax", kernel_regularizer="l1_l2",
                             regularization=0.001, kernel_initializer="he_normal")
    spec = ModelSpec((LayerSpec.create("Input", shape=[8, 8, 1]), LayerSpec.create("Flatten"),
                      dense))
    script = keras_script(replace(default_project(), model=spec))
    assert "kernel_regularizer=keras.regularizers.L1L2(l1=0.001, l2=0.001)" in script
    assert "kernel_initializer='he_normal'" in script and "regularization=" not in script
    assert script.count("keras.Input(") == 1 and "keras.layers.Input(" not in script
    assert "layer.adapt(" not in script
