"""A saved .keras file loads back with safe_mode=True and predicts the same."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from studio.core.errors import ExportError
from studio.ml.datasets import load_dataset
from studio.ml.model_io import load_keras, save_keras
from studio.ml.session import train_project


def test_saved_model_reloads_with_identical_predictions(tmp_path, quick_project):
    result = train_project(quick_project, lambda event: None)
    path = save_keras(result.model, tmp_path / "model.keras")
    reloaded = keras.saving.load_model(path, safe_mode=True)
    x = load_dataset(quick_project.dataset).x_val[:32]
    np.testing.assert_allclose(reloaded.predict(x, verbose=0), result.model.predict(x, verbose=0),
                               atol=1e-6)
    assert [p.name for p in tmp_path.iterdir()] == ["model.keras"]
    assert load_keras(path).count_params() == result.model.count_params()


def test_bad_model_files_get_a_clear_message(tmp_path):
    with pytest.raises(ExportError, match="no such model file"):
        load_keras(tmp_path / "missing.keras")
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"this is not a zip archive")
    with pytest.raises(ExportError, match=r"broken\.keras: not a loadable Keras model"):
        load_keras(broken)


def test_save_requires_the_keras_suffix(tmp_path):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    with pytest.raises(ExportError, match=r"must end in \.keras"):
        save_keras(model, tmp_path / "model.h5")
