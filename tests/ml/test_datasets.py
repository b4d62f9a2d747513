"""Every kind of source loads, splits (seeded, stratified) and normalises on the training split."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from studio.core.csv_table import CsvImportSettings
from studio.core.dataset_catalog import DatasetInfo
from studio.core.dataset_spec import (
    BuiltinSource,
    CsvSource,
    DatasetSpec,
    GeneratedSource,
    KerasSource,
)
from studio.core.errors import DatasetError
from studio.ml.dataset_import import image_folder_source, numpy_source
from studio.ml.dataset_preview import preview_dataset
from studio.ml.datasets import load_dataset


@pytest.mark.parametrize("name", ["spirals", "circles", "xor", "moons"])
def test_generated_classification_sets_are_balanced_and_seeded(name):
    spec = DatasetSpec(GeneratedSource(name, samples=400, noise=0.1), seed=3)
    first, again = load_dataset(spec), load_dataset(spec)
    np.testing.assert_array_equal(first.x_train, again.x_train)
    assert first.x_train.shape == (320, 2) and first.x_val.shape == (80, 2)
    assert abs(int(np.bincount(first.y_train)[0]) - 160) <= 2
    other = load_dataset(replace(spec, seed=4))
    assert not np.array_equal(first.x_train, other.x_train)


def test_sine_is_a_regression_with_noise_as_asked():
    spec = DatasetSpec(GeneratedSource("sine", samples=2000, noise=0.0), normalization="none")
    data = load_dataset(spec)
    assert data.info.task == "regression" and data.y_train.dtype == np.float32
    np.testing.assert_allclose(data.y_train, np.sin(data.x_train[:, 0]), atol=1e-5)


def test_three_way_split_is_stratified_and_disjoint():
    spec = DatasetSpec(BuiltinSource("iris"), validation_split=0.2, test_split=0.2)
    data = load_dataset(spec)
    assert (len(data.x_train), len(data.x_val), len(data.x_test)) == (90, 30, 30)
    for labels in (data.y_val, data.y_test):
        assert np.bincount(labels).tolist() == [10, 10, 10]
    rows = {tuple(r) for part in (data.x_train, data.x_val, data.x_test) for r in part}
    assert len(rows) >= 147  # iris has 3 duplicate flowers; no sample is used twice


def test_normalisation_statistics_come_from_the_training_split_only():
    spec = DatasetSpec(BuiltinSource("wine"), validation_split=0.3)
    standard = load_dataset(spec)
    np.testing.assert_allclose(standard.x_train.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(standard.x_train.std(axis=0), 1.0, atol=1e-3)
    assert np.abs(standard.x_val.mean(axis=0)).max() > 0.01, "validation is not re-centred"
    minmax = load_dataset(replace(spec, normalization="minmax"))
    assert minmax.x_train.min() == 0.0 and minmax.x_train.max() == 1.0
    raw = load_dataset(replace(spec, normalization="none"))
    assert raw.x_train.max() > 100  # proline is in the hundreds
    assert "training split" in standard.normalization


def test_without_shuffling_validation_is_the_end_of_the_file(tmp_path):
    x = np.arange(40, dtype="float32").reshape(20, 2)
    y = np.arange(20, dtype="float32")  # regression
    np.savez(tmp_path / "series.npz", x=x, y=y)
    source = numpy_source(tmp_path / "series.npz")
    assert source.info.task == "regression" and source.info.input_shape == (2,)
    data = load_dataset(DatasetSpec(source, validation_split=0.25, shuffle=False,
                                    normalization="none"))
    np.testing.assert_array_equal(data.y_val, [15, 16, 17, 18, 19])
    np.testing.assert_array_equal(data.y_train, np.arange(15))


def test_a_csv_source_loads_with_its_import_settings(tmp_path):
    path = tmp_path / "plants.csv"
    lines = ["height;colour;kind"] + [f"{i % 7 + 1};{'red' if i % 2 else 'blue'};"
                                      f"{'tall' if i % 7 > 3 else 'short'}" for i in range(60)]
    path.write_text("\n".join(lines) + "\n")
    recorded = DatasetInfo("plants", "plants.csv", "classification", (3,), 2, 60, "",
                           ("short", "tall"))
    spec = DatasetSpec(CsvSource(path, CsvImportSettings("kind"), recorded))
    data = load_dataset(spec)
    assert data.x_train.shape == (48, 3) and set(np.unique(data.y_train)) == {0, 1}
    preview = preview_dataset(spec)
    assert preview.feature_names == ("height", "colour=blue", "colour=red")
    assert preview.labels[0] == "short" and preview.rows[0] == (1.0, 1.0, 0.0)


def test_a_file_that_changed_since_import_is_explained(tmp_path):
    np.savez(tmp_path / "d.npz", x=np.zeros((30, 4), "float32"), y=np.arange(30) % 3)
    source = numpy_source(tmp_path / "d.npz")
    np.savez(tmp_path / "d.npz", x=np.zeros((30, 5), "float32"), y=np.arange(30) % 3)
    with pytest.raises(DatasetError, match=r"now gives samples of shape \(5,\).*expects \(4,\)"):
        load_dataset(DatasetSpec(source))


def test_image_folders_are_scaled_and_previewed_as_images(tmp_path):
    import tensorflow as tf

    for label, value in (("dark", 30), ("light", 220)):
        (tmp_path / label).mkdir()
        for i in range(6):
            pixels = tf.fill((12, 10, 3), tf.constant(value, tf.uint8))
            (tmp_path / label / f"{i}.png").write_bytes(tf.io.encode_png(pixels).numpy())
    source = image_folder_source(tmp_path, (8, 8), "grayscale")
    assert source.info.input_shape == (8, 8, 1) and source.info.class_names == ("dark",
                                                                                "light")
    data = load_dataset(DatasetSpec(source, validation_split=0.34))
    assert data.x_train.max() <= 1.0 and data.x_train.shape[1:] == (8, 8, 1)
    preview = preview_dataset(DatasetSpec(source, validation_split=0.34))
    assert preview.image_shape == (8, 8, 1) and len(preview.images[0]) == 64
    assert sum(preview.class_counts[0]) + sum(preview.class_counts[1]) == 12


def test_keras_datasets_come_from_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    (tmp_path / "datasets").mkdir()
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "datasets" / "mnist.npz",
             x_train=rng.integers(0, 256, (40, 28, 28), dtype="uint8"),
             y_train=np.arange(40, dtype="uint8") % 10,
             x_test=rng.integers(0, 256, (20, 28, 28), dtype="uint8"),
             y_test=np.arange(20, dtype="uint8") % 10)
    data = load_dataset(DatasetSpec(KerasSource("mnist"), validation_split=0.5))
    assert data.x_train.shape == (30, 28, 28, 1) and data.x_train.max() <= 1.0
    with pytest.raises(DatasetError, match="cifar"):
        load_dataset(DatasetSpec(KerasSource("cifar10")))


def test_a_split_too_small_for_the_classes_is_refused():
    with pytest.raises(DatasetError, match=r"test_split 0\.01 keeps 2 of 178 samples "
                                           r"for testing, fewer than the 3 classes"):
        load_dataset(DatasetSpec(BuiltinSource("wine"), test_split=0.01))


def test_regression_trains_with_mse_and_reports_mae(quick_project):
    from studio.core.model_spec import LayerSpec, ModelSpec
    from studio.ml.session import train_project

    spec = ModelSpec((LayerSpec.create("Dense", units=16, activation="tanh"),
                      LayerSpec.create("Dense", units=1, activation="linear")))
    project = replace(quick_project, model=spec,
                      dataset=DatasetSpec(GeneratedSource("sine", samples=400, noise=0.05)),
                      training=replace(quick_project.training, epochs=3, batch_size=32))
    result = train_project(project, lambda event: None)
    assert set(result.history[-1]) == {"loss", "mae", "learning_rate", "val_loss", "val_mae"}
    assert result.model.loss.__class__.__name__ == "MeanSquaredError"


def test_a_small_class_falls_back_to_an_unstratified_validation_split(tmp_path):
    y = np.array([0] * 3 + [1] * 97)
    np.savez(tmp_path / "rare.npz", x=np.arange(200, dtype="float32").reshape(100, 2), y=y)
    spec = DatasetSpec(numpy_source(tmp_path / "rare.npz"), validation_split=0.2,
                       test_split=0.5, seed=0)
    data = load_dataset(spec)
    assert (len(data.y_train), len(data.y_val), len(data.y_test)) == (30, 20, 50)


def test_two_arrays_named_like_samples_and_labels_are_recognised(tmp_path):
    np.savez(tmp_path / "pics.npz", images=np.zeros((12, 4, 4, 1), "uint8"),
             labels=np.arange(12) % 2)
    source = numpy_source(tmp_path / "pics.npz")
    assert source.info.input_shape == (4, 4, 1) and source.info.num_classes == 2


def test_the_test_split_is_evaluated_once_at_the_end(quick_project):
    from studio.core.events import TrainingEnded
    from studio.ml.session import train_project

    project = replace(quick_project, dataset=replace(quick_project.dataset, test_split=0.2))
    ended = []
    result = train_project(project, lambda e: ended.append(e)
                           if isinstance(e, TrainingEnded) else None)
    assert set(result.test_logs) == {"loss", "accuracy"}
    data = load_dataset(project.dataset)
    accuracy = float(np.mean(result.model.predict(data.x_test, verbose=0).argmax(axis=1)
                             == data.y_test))
    assert result.test_logs["accuracy"] == pytest.approx(accuracy, abs=1e-6)
    assert ended[0].test_logs == result.test_logs


def test_a_csv_whose_task_changed_since_import_is_explained(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b\n" + "".join(f"{i},{i * 0.37:.2f}\n" for i in range(40)))
    recorded = DatasetInfo("t", "t.csv", "classification", (1,), 2, 40, "", ("x", "y"))
    with pytest.raises(DatasetError, match="now reads as a regression"):
        load_dataset(DatasetSpec(CsvSource(path, CsvImportSettings("b"), recorded)))
