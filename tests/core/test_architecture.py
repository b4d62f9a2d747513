"""Architectures round-trip through their own JSON file; bad files are explained."""

from __future__ import annotations

import json

import pytest

from studio.core.architecture import load_architecture, save_architecture
from studio.core.defaults import default_project
from studio.core.errors import ModelSpecError, StudioError
from studio.core.model_spec import LayerSpec, ModelSpec
from studio.core.project import save_project


def test_round_trip_keeps_every_layer_and_parameter(tmp_path):
    spec = ModelSpec((LayerSpec.create("Input", shape=[8, 8, 1]),
                      LayerSpec.create("Conv2D", filters=4, kernel_regularizer="l2",
                                       regularization=0.003),
                      LayerSpec.create("Reshape", target_shape=[6, 24]),
                      LayerSpec.create("Normalization")))
    path = tmp_path / "arch.json"
    save_architecture(spec, path)
    assert json.loads(path.read_text())["format"] == "training-studio-architecture"
    assert load_architecture(path) == spec


def test_a_project_file_gives_its_stack(tmp_path):
    project = default_project()
    path = tmp_path / "project.json"
    save_project(project, path)
    assert load_architecture(path) == project.model


@pytest.mark.parametrize(("text", "message"), [
    ("{not json", r"not valid JSON \(line 1"),
    ("[1, 2]", "expected a JSON object"),
    ('{"format": "something-else"}', "not a Training Studio architecture"),
    ('{"format": "training-studio-architecture", "format_version": 99, "layers": []}',
     "newer Training Studio"),
    ('{"format": "training-studio-architecture", "layers": [{"type": "Dense", '
     '"params": {"units": 0}}]}', r"Layer 1 \(Dense\) parameter 'units' must be between"),
])
def test_bad_files_are_explained_naming_the_file(tmp_path, text, message):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(ModelSpecError, match=message) as caught:
        load_architecture(path)
    assert str(path) in str(caught.value)


def test_a_failed_save_says_where(tmp_path):
    target = tmp_path / "arch.json"
    target.mkdir()  # a folder in the way: the final replace fails
    with pytest.raises(StudioError, match="could not save the architecture") as caught:
        save_architecture(ModelSpec((LayerSpec.create("Flatten"),)), target)
    assert str(target) in str(caught.value)
