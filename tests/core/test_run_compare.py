"""Only the settings that differ between runs are listed, per layer for architectures."""

from __future__ import annotations

from dataclasses import replace

from studio.core.defaults import default_project
from studio.core.run_compare import differences


def test_only_differing_settings_are_listed():
    base = default_project()
    faster = replace(base, training=replace(base.training, learning_rate=0.01))
    wider = replace(base, model=base.model.replaced(
        4, base.model.layers[4].with_param("units", 128)))
    rows = differences([base.to_dict(), faster.to_dict(), wider.to_dict()])
    assert rows == [("model.layers.5.params.units", [64, 64, 128]),
                    ("training.learning_rate", [0.001, 0.01, 0.001])]


def test_a_deeper_model_shows_its_extra_layer():
    base = default_project()
    deeper = replace(base, model=base.model.removed(5))
    rows = dict(differences([base.to_dict(), deeper.to_dict()]))
    assert rows["model.layers.count"] == [7, 6]
    assert rows["model.layers.7.type"] == ["Dense", None]
