"""After training in the real window: evaluate, try the model, export and verify the file."""

from __future__ import annotations

from dataclasses import replace

import keras
import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt


@pytest.fixture
def trained(window, qtbot):
    project = window.document.project
    window.document.edit(replace(project, training=replace(project.training, epochs=2)),
                         "two epochs")
    qtbot.waitUntil(lambda: window.can_train()[0], timeout=30000)
    assert not window.export_model_action.isEnabled()
    with qtbot.waitSignal(window.training_finished, timeout=120000):
        assert window.train()
    qtbot.waitUntil(lambda: window.evaluation.evaluate_button.isEnabled(), timeout=10000)
    return window


def test_evaluate_shows_the_confusion_matrix_and_its_samples(trained, qtbot):
    window = trained
    window.evaluation.evaluate_button.click()
    assert window.can_train() == (False, "Wait for the evaluation to end.")
    qtbot.waitUntil(lambda: window.evaluation.evaluation is not None, timeout=60000)
    evaluation = window.evaluation.evaluation
    results = evaluation.classification
    assert sum(map(sum, results.confusion)) == evaluation.samples
    assert evaluation.samples == len(results.labels) > 0
    wrong = [(t, p) for t, p in zip(results.labels, results.predicted, strict=True) if t != p]
    true_class, predicted = wrong[0] if wrong else (results.labels[0], results.labels[0])
    window.evaluation.choose_cell(true_class, predicted)
    shown = window.evaluation.gallery.shown()
    assert shown and all(results.labels[i] == true_class and results.predicted[i] == predicted
                         for i in shown)
    confidences = [results.confidence(i) for i in shown]
    assert confidences == sorted(confidences, reverse=True), "most confident first"


def test_try_the_model_by_drawing_a_digit(trained, qtbot):
    """The digits model takes 8x8 images: the canvas is offered, and a stroke predicts."""
    view = trained.try_model
    assert view.image_box.isEnabled() and not view.row_box.isEnabled()
    canvas = view.canvas
    left, right = QPoint(canvas.width() // 3, canvas.height() // 2), \
        QPoint(2 * canvas.width() // 3, canvas.height() // 2)
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=left)
    qtbot.mouseMove(canvas, right)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=right)
    qtbot.waitUntil(lambda: view.prediction is not None, timeout=30000)
    assert len(view.probabilities()) == 10
    assert sum(view.probabilities()) == pytest.approx(1.0, abs=1e-3)


def test_export_tflite_from_the_window_is_verified(trained, qtbot, tmp_path):
    window = trained
    assert window.export_model_action.isEnabled()
    assert window.export_model()
    dialog = window.export_dialog
    target = tmp_path / "digits.tflite"
    dialog.choose("tflite", target)
    assert dialog.export()
    dialog.reject()
    assert dialog.isVisible(), "the dialog stays until its export has finished"
    qtbot.waitUntil(lambda: dialog.result_found is not None, timeout=120000)
    result = dialog.result_found
    assert target.exists() and result.path == target
    assert result.verification.max_abs_diff <= 1e-5
    assert "verified in" in dialog.status.text() and "Warning" not in dialog.status.text()

    # The file exists now: replacing it is asked first, and "no" starts nothing.
    dialog.confirm_overwrite = lambda path: False
    assert not dialog.export()
    dialog.confirm_overwrite = lambda path: True
    dialog.result_found = None
    dialog.choose("keras", tmp_path / "digits.keras")
    assert dialog.export()
    qtbot.waitUntil(lambda: dialog.result_found is not None, timeout=60000)
    model = keras.saving.load_model(tmp_path / "digits.keras", safe_mode=True)
    x = np.zeros((1, *model.input_shape[1:]), dtype="float32")
    assert np.allclose(model.predict(x, verbose=0), window.trained_model.predict(x, verbose=0),
                       atol=1e-6)
    dialog.close()
