"""End to end in the real window: Train the default project, watch curves, save, reload."""

from __future__ import annotations

import keras
import numpy as np

from studio.ml.datasets import load_dataset


def test_train_default_project_then_save_and_reload_the_model(window, qtbot, tmp_path):
    training = window.training
    assert training.train_button.isEnabled()
    with qtbot.waitSignal(window.training_finished, timeout=120000) as finished:
        qtbot.mouseClick(training.train_button, qtbot_button())
    result = finished.args[0]
    assert result.epochs_completed == window.document.project.training.epochs

    # The curves received points: batch points for training, one point per epoch otherwise.
    epochs = result.epochs_completed
    for plot in (training.loss_plot, training.accuracy_plot):
        assert plot.point_count("batch") >= epochs
        assert plot.point_count("train") == epochs
        assert plot.point_count("val") == epochs
        qtbot.waitUntil(lambda plot=plot: len(plot.curves["val"].getData()[0]) == epochs,
                        timeout=5000)  # the timer redraws the curve
    np.testing.assert_allclose(training.loss_plot.buffers["val"].y,
                               [row["val_loss"] for row in result.history])
    assert training.progress.value() == 1000
    assert "Finished" in training.progress_label.text()
    assert training.save_button.isEnabled()

    path = tmp_path / "digits.keras"
    with qtbot.waitSignal(window.model_saved, timeout=30000):
        assert window.save_model(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    x = load_dataset(window.document.project.dataset).x_val[:64]
    np.testing.assert_allclose(reloaded.predict(x, verbose=0),
                               window.trained_model.predict(x, verbose=0), atol=1e-6)


def test_stop_ends_within_one_batch_and_keeps_the_model(window, qtbot):
    from dataclasses import replace

    project = window.document.project
    window.document.edit(replace(project, training=replace(project.training, epochs=300)),
                         "epochs")
    qtbot.waitUntil(lambda: window.can_train()[0], timeout=10000)
    with qtbot.waitSignal(window.training_finished, timeout=120000) as finished:
        window.train()
        qtbot.waitUntil(lambda: window.training.loss_plot.point_count("batch") > 0,
                        timeout=60000)
        qtbot.mouseClick(window.training.stop_button, qtbot_button())
    result = finished.args[0]
    assert result.stopped_early and result.epochs_completed < 300
    assert "Stopped after" in window.training.progress_label.text()
    assert window.trained_model is result.model
    assert window.training.train_button.isEnabled(), "a new run can start"


def qtbot_button():
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton
