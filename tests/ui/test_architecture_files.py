"""File > Import/Export architecture in the real window: JSON and .keras, undoable, errors."""

from __future__ import annotations

import keras

from studio.core.model_spec import LayerSpec, ModelSpec
from studio.ml.model_io import save_keras
from studio.ml.summary import build_model


def test_export_then_import_json_round_trips_and_undoes(window, tmp_path):
    original = window.document.project.model
    path = tmp_path / "arch.json"
    assert window.export_architecture(path)
    window.builder.select(0)
    window.builder.remove_layer()
    window.import_architecture(path)
    assert window.document.project.model == original
    assert window.document.undo_stack.undoText().startswith("Import architecture from arch")
    window.document.undo_stack.undo()
    assert window.document.project.model != original


def test_importing_a_keras_model_replaces_the_stack(window, qtbot, tmp_path):
    spec = ModelSpec((LayerSpec.create("Flatten"), LayerSpec.create("Dense", units=24),
                      LayerSpec.create("Dropout", rate=0.25),
                      LayerSpec.create("Dense", units=10, activation="softmax")))
    info = window.document.project.dataset.info
    path = save_keras(build_model(spec, info), tmp_path / "mlp.keras")
    with qtbot.waitSignal(window.document.changed, timeout=30000):
        window.import_architecture(path)
    layers = window.document.project.model.layers
    assert [layer.type for layer in layers] == ["Input", "Flatten", "Dense", "Dropout", "Dense"]
    assert layers[2].params["units"] == 24
    qtbot.waitUntil(lambda: window.can_train()[0], timeout=30000)  # valid on the digits
    assert window.builder.table.item(0, 0).text() == "1. Input"


def test_an_unsupported_keras_model_is_refused_and_the_stack_kept(window, qtbot, tmp_path):
    before = window.document.project.model
    model = keras.Sequential([keras.Input((8, 8)), keras.layers.GRU(3, name="recurrent")])
    path = tmp_path / "rnn.keras"
    model.save(path)
    with qtbot.waitSignal(window.ml.import_failed, timeout=30000):
        window.import_architecture(path)
    assert "GRU ('recurrent')" in window.last_error
    assert window.document.project.model == before
