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
