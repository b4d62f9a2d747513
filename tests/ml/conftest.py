from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import keras
import pytest

from studio.core.defaults import default_project


@pytest.fixture
def quick_project():
    """The default project, trained for 2 epochs with a large batch: seconds, not minutes."""
    project = default_project()
    return replace(project, training=replace(project.training, epochs=2, batch_size=64))


@pytest.fixture
def saved_models(monkeypatch) -> list[Path]:
    """The paths ``keras.Model.save`` is called with (Keras' own saves and ours), in order."""
    saved: list[Path] = []
    original = keras.Model.save

    def save(self, path, **kwargs):
        saved.append(Path(path))
        return original(self, path, **kwargs)

    monkeypatch.setattr(keras.Model, "save", save)
    return saved
