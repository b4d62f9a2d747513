"""Project file: round trip, validation messages that name the problem, atomic save."""

from __future__ import annotations

import json
import os
from dataclasses import replace

import pytest

from studio.core.dataset_catalog import DatasetInfo
from studio.core.dataset_spec import BuiltinSource, CsvSource, DatasetSpec, GeneratedSource
from studio.core.defaults import default_project, default_project_path
from studio.core.errors import ProjectError
from studio.core.model_spec import LayerSpec, ModelSpec
from studio.core.placement import Placement
from studio.core.project import FORMAT_VERSION, Project, load_project, save_project
from studio.core.training_config import TrainingConfig


def test_default_project_is_a_small_conv2d_on_digits():
    project = default_project()
    assert default_project_path().parent.name == "projects"
    assert project.dataset.name == "digits"
    assert "Conv2D" in [layer.type for layer in project.model.layers]
    assert project.model.layers[-1].params["units"] == 10


def test_round_trip_keeps_everything(tmp_path):
    project = Project(
        name="Iris MLP",
        dataset=DatasetSpec(BuiltinSource("iris"), validation_split=0.3, test_split=0.1, seed=7,
                            shuffle=False, normalization="minmax"),
        model=ModelSpec((LayerSpec.create("Dense", units=8),
                         LayerSpec.create("Reshape", target_shape=[2, 4]),
                         LayerSpec.create("Flatten"),
                         LayerSpec.create("Dense", units=3, activation="softmax"))),
        training=TrainingConfig(epochs=3, batch_size=16, optimizer="sgd", learning_rate=0.01),
    )
    path = tmp_path / "p.json"
    save_project(project, path)
    data = json.loads(path.read_text())
    assert data["format_version"] == FORMAT_VERSION
    assert load_project(path) == project


def test_save_is_atomic_and_keeps_the_old_file_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "p.json"
    save_project(default_project(), path)
    before = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    changed = replace(default_project(), name="Changed")
    with pytest.raises(ProjectError, match="No space left"):
        save_project(changed, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["p.json"], "temporary file left behind"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.pop("format"), "not a Training Studio project"),
        (lambda d: d.update(format_version=99), "newer Training Studio"),
        (lambda d: d.update(format_version="1"), "format_version"),
        (lambda d: d.pop("model"), "no 'model' section"),
        (lambda d: d["dataset"]["source"].update(name="mnist_from_mars"),
         "Unknown built-in dataset 'mnist_from_mars'"),
        (lambda d: d["dataset"]["source"].update(kind="ftp"), "source kind 'ftp' is unknown"),
        (lambda d: d["dataset"].update(normalization="zscore"), "dataset.normalization"),
        (lambda d: d["dataset"].update(test_split=0.8), "leave almost nothing to train on"),
        (lambda d: d["dataset"].update(source={"kind": "generated", "name": "spirals",
                                               "samples": 5}), "samples must be"),
        (lambda d: d["dataset"].update(validation_split=1.5), "validation_split"),
        (lambda d: d["dataset"].update(seed=-1), r"dataset\.seed must be a whole number from 0"),
        (lambda d: d["training"].update(learning_rate=float("nan")), "learning_rate"),
        (lambda d: d["model"]["layers"][4]["params"].update(units=float("inf")),
         "must be a finite number"),
        (lambda d: d["training"].update(epochs=0), "training.epochs"),
        (lambda d: d["training"].update(optimizer="magic"), "training.optimizer"),
        (lambda d: d["training"].update(momentun=0.9), "unknown setting 'momentun'"),
        (lambda d: d["model"]["layers"][4]["params"].update(units=0),
         r"Layer 5 \(Dense\) parameter 'units' must be between 1 and 65536; got 0"),
        (lambda d: d["model"]["layers"][0].update(type="Conv9D"), "Layer 1: unknown layer type"),
        (lambda d: d["model"]["layers"][0]["params"].update(colour="red"),
         "unknown parameter 'colour'"),
    ],
)
def test_invalid_projects_name_the_problem(tmp_path, mutate, message):
    data = default_project().to_dict()
    mutate(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ProjectError, match=message) as info:
        load_project(path)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_corrupt_json_names_file_and_position(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"format": "training-studio-project",\n  "name": oops}')
    with pytest.raises(ProjectError, match=r"broken.json: not valid JSON at line 2"):
        load_project(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ProjectError, match="no such project file"):
        load_project(tmp_path / "nope.json")
    with pytest.raises(ProjectError, match="is a folder"):
        load_project(tmp_path)


def test_utf8_bom_is_accepted(tmp_path):
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + default_project_path().read_bytes())
    assert load_project(path) == default_project()


def test_version_1_projects_are_migrated(tmp_path):
    data = default_project().to_dict()
    data["format_version"] = 1
    data["dataset"] = {"name": "wine", "validation_split": 0.25, "seed": 3}
    path = tmp_path / "old.json"
    path.write_text(json.dumps(data))
    dataset = load_project(path).dataset
    assert dataset == DatasetSpec(BuiltinSource("wine"), validation_split=0.25, seed=3)


def test_data_inside_the_project_folder_is_saved_relative(tmp_path):
    from studio.core.csv_table import CsvImportSettings

    (tmp_path / "data").mkdir()
    recorded = DatasetInfo("flowers", "flowers.csv", "classification", (4,), 3, 150, "",
                           ("a", "b", "c"))
    inside = CsvSource(tmp_path / "data" / "flowers.csv", CsvImportSettings("species"),
                       recorded)
    project = replace(default_project(), dataset=DatasetSpec(inside))
    save_project(project, tmp_path / "p.json")
    saved = json.loads((tmp_path / "p.json").read_text())["dataset"]["source"]
    assert saved["path"] == "data/flowers.csv"
    moved = tmp_path / "moved"
    moved.mkdir()
    (moved / "p.json").write_text((tmp_path / "p.json").read_text())
    assert load_project(moved / "p.json").dataset.source.path == moved / "data" / "flowers.csv"
    assert load_project(tmp_path / "p.json") == project

    elsewhere = replace(project, dataset=DatasetSpec(
        CsvSource(tmp_path.parent / "shared.csv", CsvImportSettings("y"), recorded)))
    save_project(elsewhere, tmp_path / "q.json")
    saved = json.loads((tmp_path / "q.json").read_text())["dataset"]["source"]
    assert saved["path"] == str(tmp_path.parent / "shared.csv")


def test_generated_sources_round_trip(tmp_path):
    project = replace(default_project(), dataset=DatasetSpec(GeneratedSource("sine", 300, 0.3)))
    save_project(project, tmp_path / "p.json")
    loaded = load_project(tmp_path / "p.json")
    assert loaded == project and loaded.dataset.info.task == "regression"


def test_version_2_projects_train_where_they_did_before(tmp_path):
    data = default_project().to_dict()
    data["format_version"] = 2
    del data["devices"]
    path = tmp_path / "v2.json"
    path.write_text(json.dumps(data))
    assert load_project(path).devices == Placement()


def test_device_choice_round_trips(tmp_path):
    chosen = Placement("mirrored", (0, 2), mixed_precision=True, xla="on")
    path = tmp_path / "p.json"
    save_project(replace(default_project(), devices=chosen), path)
    assert load_project(path).devices == chosen


@pytest.mark.parametrize(("devices", "message"), [
    ({"strategy": "tpu"}, r"devices.strategy must be one of auto, cpu, gpu, mirrored"),
    ({"gpus": [0, 0]}, "names a GPU twice"),
    ({"gpus": [-1]}, "GPU numbers"),
    ({"gpus": "0"}, "must be a list"),
    ({"xla": "yes"}, "devices.xla must be one of auto, on, off"),
    ({"mixed_precision": 1}, "devices.mixed_precision must be true or false"),
    ({"fast": True}, "unknown setting 'fast'"),
])
def test_bad_device_choices_are_named(tmp_path, devices, message):
    data = default_project().to_dict()
    data["devices"] = devices
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ProjectError, match=message):
        load_project(path)
