"""Try the model: draw, load an image or type a row, and see the class probabilities."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QImage, QPainter

from studio.core.dataset_spec import BuiltinSource, DatasetSpec
from studio.core.defaults import default_project
from studio.core.model_spec import LayerSpec, ModelSpec
from studio.ui.try_model_view import TryModelView

TIMEOUT_MS = 30000
DIGITS = DatasetSpec(BuiltinSource("digits"))
IRIS = DatasetSpec(BuiltinSource("iris"))


@pytest.fixture(scope="module")
def digits_model():
    from studio.ml.summary import build_model

    return build_model(default_project().model, DIGITS.info, seed=4)


@pytest.fixture(scope="module")
def iris_model():
    from studio.ml.summary import build_model

    spec = ModelSpec((LayerSpec.create("Dense", units=3, activation="softmax"),))
    return build_model(spec, IRIS.info, seed=4)


@pytest.fixture
def view(qtbot):
    view = TryModelView()
    qtbot.addWidget(view)
    view.show()
    yield view
    view.shutdown()


def _draw(qtbot, canvas, points):
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=points[0])
    for point in points[1:]:
        qtbot.mouseMove(canvas, pos=point)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=points[-1])


def test_without_a_model_nothing_can_be_tried(view):
    assert not view.image_box.isEnabled() and not view.row_box.isEnabled()
    assert "No trained model" in view.status_label.text()


def test_drawing_shows_probabilities_that_sum_to_one(view, qtbot, digits_model):
    view.set_model(digits_model, DIGITS)
    assert view.image_box.isEnabled() and not view.row_box.isEnabled()
    assert "8x8" in view.status_label.text()
    _draw(qtbot, view.canvas, [QPoint(84, 20 + 10 * i) for i in range(13)])
    assert not view.canvas.blank
    pixels = view.canvas.pixels()
    assert pixels.shape == (168, 168) and pixels[84, 84] == 255 and pixels[84, 10] == 0
    qtbot.waitUntil(lambda: view.prediction is not None, timeout=TIMEOUT_MS)
    probabilities = view.probabilities()
    assert len(probabilities) == 10 and sum(probabilities) == pytest.approx(1.0, abs=1e-5)
    heights = view._bars.opts["height"]
    assert list(heights) == pytest.approx(list(probabilities))
    best = view.prediction.names[view.prediction.best]
    assert view.result_label.text().startswith(f"Prediction: {best} (")
    assert view.plot.accessibleDescription() == view.result_label.text()
    assert not view.seen_label.pixmap().isNull()
    view.clear_button.click()
    assert view.canvas.blank
    qtbot.waitUntil(lambda: view.prediction is None, timeout=TIMEOUT_MS)
    assert view.result_label.text() == ""


def test_a_loaded_image_is_predicted(view, qtbot, digits_model, tmp_path):
    view.set_model(digits_model, DIGITS)
    image = QImage(40, 30, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.fillRect(15, 5, 8, 20, QColor("black"))
    painter.end()
    path = tmp_path / "one.png"
    assert image.save(str(path))
    view.invert_check.setChecked(True)
    assert view.load_image(str(path))
    qtbot.waitUntil(lambda: view.prediction is not None, timeout=TIMEOUT_MS)
    assert sum(view.probabilities()) == pytest.approx(1.0, abs=1e-5)
    assert not view.load_image(str(tmp_path / "missing.png"))
    assert "not an image" in view.error_label.text()


def test_a_typed_row_is_predicted_and_bad_values_are_named(view, qtbot, iris_model):
    view.set_model(iris_model, IRIS)
    assert view.row_box.isEnabled() and not view.image_box.isEnabled()
    qtbot.waitUntil(lambda: "sepal length (cm)" in view.row_hint.text(), timeout=TIMEOUT_MS)
    qtbot.keyClicks(view.row_edit, "5.1, 3.5, oops, 0.2")
    qtbot.keyClick(view.row_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(view.error_label.text()), timeout=TIMEOUT_MS)
    assert "'petal length (cm)' (value 3 of 4): 'oops' is not a number" in \
        view.error_label.text()
    view.row_edit.setText("5.1, 3.5, 1.4, 0.2")
    view.row_button.click()
    qtbot.waitUntil(lambda: view.prediction is not None, timeout=TIMEOUT_MS)
    assert view.prediction.names == ("setosa", "versicolor", "virginica")
    assert sum(view.probabilities()) == pytest.approx(1.0, abs=1e-5)
    assert view.error_label.text() == ""
