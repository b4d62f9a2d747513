"""Try the model: draw or load an image, or type a row of values, and see what it predicts.

Predictions run on the prediction worker, never here: the canvas asks for one at most every
``THROTTLE_MS`` while a stroke is drawn (a QTimer, so the drawing stays smooth however slow
the model) and once more when the stroke ends; the worker skips requests that a newer one
superseded. The class probabilities are drawn as bars with the class names, and said in words.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.core.dataset_catalog import DatasetInfo
from studio.core.dataset_spec import DatasetSpec
from studio.core.prediction import Prediction, image_input, row_input
from studio.ui.drawing_canvas import DrawingCanvas
from studio.workers.prediction_runner import PredictionRunner

if TYPE_CHECKING:
    import numpy as np
    import pyqtgraph as pg

THROTTLE_MS = 50
SEEN_SIZE = 84  # the "what the model saw" picture, scaled up without smoothing
_BAR = (31, 90, 180)
_BEST = (220, 110, 20)
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.webp);;All files (*)"


class TryModelView(QWidget):
    def __init__(self, runner: PredictionRunner | None = None,
                 parent: QWidget | None = None) -> None:
        """``runner`` answers the predictions; without one the view makes its own. Either
        way ``shutdown`` stops it (the window calls it before closing)."""
        super().__init__(parent)
        self.runner = runner if runner is not None else PredictionRunner(self)
        self.runner.predicted.connect(self._show)
        self.runner.failed.connect(self._failed)
        self.runner.prepared.connect(self._prepared)
        self._info: DatasetInfo | None = None
        self._prediction: Prediction | None = None
        self.plot: pg.PlotWidget | None = None
        self._bars: Any = None

        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.status_label.setAccessibleName("Try the model: status")

        self.canvas = DrawingCanvas()
        self.canvas.changed.connect(self._drawing_changed)
        self.canvas.stroke_finished.connect(self._predict_drawing)
        self.clear_button = QPushButton("Clear")
        self.clear_button.setAccessibleName("Clear the drawing")
        self.clear_button.clicked.connect(self.canvas.clear)
        self.load_button = QPushButton("Load image…")
        self.load_button.setAccessibleName("Load an image file")
        self.load_button.setToolTip("Predict an image file, resized to the model's input")
        self.load_button.clicked.connect(self._choose_image)
        self.invert_check = QCheckBox("Dark on light (invert loaded images)")
        self.invert_check.setAccessibleName("Invert loaded images")
        self.invert_check.setToolTip("The datasets are light strokes on a dark background; "
                                     "tick this for a photo of dark ink on paper")
        buttons = QVBoxLayout()
        for widget in (self.clear_button, self.load_button, self.invert_check):
            buttons.addWidget(widget)
        buttons.addStretch(1)
        self.image_box = QGroupBox("Draw or load an image")
        image_layout = QHBoxLayout(self.image_box)
        image_layout.addWidget(self.canvas)
        image_layout.addLayout(buttons)

        self.row_hint = QLabel()
        self.row_hint.setWordWrap(True)
        self.row_edit = QLineEdit()
        self.row_edit.setAccessibleName("Feature values")
        self.row_edit.setToolTip("Raw values as in the data file, separated by commas")
        self.row_edit.returnPressed.connect(self.predict_row)
        self.row_button = QPushButton("Predict")
        self.row_button.setAccessibleName("Predict the typed values")
        self.row_button.clicked.connect(self.predict_row)
        row_line = QHBoxLayout()
        row_line.addWidget(self.row_edit, 1)
        row_line.addWidget(self.row_button)
        self.row_box = QGroupBox("Type a row of feature values")
        row_layout = QVBoxLayout(self.row_box)
        row_layout.addWidget(self.row_hint)
        row_layout.addLayout(row_line)

        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        self.result_label.setAccessibleName("Prediction")
        self.result_label.setStyleSheet("font-weight: bold;")
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #b00020;")
        self.error_label.setAccessibleName("Input problem")
        self.seen_label = QLabel()
        self.seen_label.setFixedSize(SEEN_SIZE, SEEN_SIZE)
        self.seen_label.setAccessibleName("What the model saw")
        self.seen_label.setToolTip("The input as the model saw it, after resizing")
        self.result_box = QGroupBox("Prediction")
        self._result_layout = QVBoxLayout(self.result_box)
        top = QHBoxLayout()
        top.addWidget(self.seen_label)
        top.addWidget(self.result_label, 1)
        self._result_layout.addLayout(top)
        self._result_layout.addWidget(self.error_label)

        layout = QVBoxLayout(self)
        layout.addWidget(self.status_label)
        layout.addWidget(self.image_box)
        layout.addWidget(self.row_box)
        layout.addWidget(self.result_box, 1)

        self._timer = QTimer(self, singleShot=True, interval=THROTTLE_MS)
        self._timer.timeout.connect(self._predict_drawing)
        self.set_model(None, None)

    # ----- model --------------------------------------------------------------------------
    def set_model(self, model: Any, dataset: DatasetSpec | DatasetInfo | None) -> None:
        """Try ``model`` (a keras.Model; None for none). A DatasetSpec lets inputs be prepared
        with the project's normalisation; a DatasetInfo alone means they are used as typed."""
        info = dataset.info if isinstance(dataset, DatasetSpec) else dataset
        self._info = info if model is not None else None
        self._prediction = None
        self._bars = None
        if self.plot is not None:
            self.plot.clear()
        self.result_label.setText("")
        self.error_label.setText("")
        self.seen_label.clear()
        image = image_input(self._info) if self._info is not None else None
        row = row_input(self._info) if self._info is not None else None
        self.image_box.setEnabled(image is not None)
        self.row_box.setEnabled(row is not None)
        self.row_hint.setText("")
        if self._info is None:
            self.status_label.setText("No trained model to try yet: train one, or open a "
                                      "run's model.")
        elif image is not None:
            self.status_label.setText(f"Draw in the square (or load an image): it is resized "
                                      f"to {image[0]}x{image[1]}, as the model's input.")
        elif row is not None:
            self.status_label.setText(f"Type the {row} input value{'s' if row > 1 else ''} "
                                      "of one sample.")
        else:
            shape = "x".join(map(str, self._info.input_shape))
            self.status_label.setText(f"Inputs of shape {shape} can be neither drawn nor "
                                      "typed here.")
        if model is not None and dataset is not None:
            self.runner.set_model(model, dataset)

    def shutdown(self) -> None:
        """Stop the prediction thread (before the window closes)."""
        self._timer.stop()
        self.runner.shutdown()

    @property
    def prediction(self) -> Prediction | None:
        return self._prediction

    def probabilities(self) -> tuple[float, ...]:
        """The values shown: class probabilities, or the predicted values."""
        return self._prediction.values if self._prediction is not None else ()

    # ----- inputs -------------------------------------------------------------------------
    def _drawing_changed(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def _predict_drawing(self) -> None:
        self._timer.stop()
        if self._info is None or image_input(self._info) is None:
            return
        if self.canvas.blank:
            self._prediction = None
            self.result_label.setText("")
            self.seen_label.clear()
            if self._bars is not None:
                self._bars.setOpts(height=[0.0] * len(self._bars.opts["height"]))
            return
        self.runner.predict_image(self.canvas.pixels(), fit_to_content=True)

    def _choose_image(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load an image", "", IMAGE_FILTER)
        if path:
            self.load_image(path)

    def load_image(self, path: str) -> bool:
        """Predict the image file at ``path``; False (and a message) if it is unreadable."""
        shape = image_input(self._info) if self._info is not None else None
        if shape is None:
            return False
        image = QImage(path)
        if image.isNull():
            self.error_label.setText(f"{path}: not an image Qt can read.")
            return False
        self.runner.predict_image(image_array(image, shape[2]),
                                  invert=self.invert_check.isChecked())
        return True

    def predict_row(self) -> None:
        if self._info is not None and row_input(self._info) is not None:
            self.runner.predict_row(self.row_edit.text())

    # ----- answers ------------------------------------------------------------------------
    def _prepared(self, names: object) -> None:
        if self._info is None or row_input(self._info) is None or not isinstance(names, tuple):
            return
        self.row_hint.setText(f"{len(names)} value{'s' if len(names) > 1 else ''}, in this "
                              f"order: {', '.join(map(str, names))}.")
        self.row_edit.setPlaceholderText(", ".join(map(str, names[:6]))
                                         + (", …" if len(names) > 6 else ""))

    def _failed(self, message: str) -> None:
        self.error_label.setText(message)

    def _show(self, prediction: object) -> None:
        if not isinstance(prediction, Prediction) or self._info is None:
            return
        self._prediction = prediction
        self.error_label.setText("")
        label = "Predicted" if prediction.task == "regression" else "Prediction"
        self.result_label.setText(f"{label}: {prediction.text()}")
        if prediction.seen_size is not None:
            height, width = prediction.seen_size
            seen = QImage(prediction.seen, width, height, width,
                          QImage.Format.Format_Grayscale8).copy()
            self.seen_label.setPixmap(QPixmap.fromImage(seen).scaled(
                SEEN_SIZE, SEEN_SIZE, Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.FastTransformation))
        if prediction.task == "classification":
            self._draw_bars(prediction)
        elif self.plot is not None:
            self.plot.hide()

    def _draw_bars(self, prediction: Prediction) -> None:
        import pyqtgraph as pg

        if self.plot is None:
            self.plot = pg.PlotWidget()
            self.plot.setBackground("w")
            self.plot.setLabel("left", "probability")
            self.plot.setYRange(0, 1, padding=0.02)
            self.plot.setMouseEnabled(x=False, y=False)
            self.plot.setAccessibleName("Class probabilities")
            self.plot.setMinimumHeight(150)
            self._result_layout.addWidget(self.plot, 1)
        self.plot.show()
        count = len(prediction.values)
        brushes = [pg.mkBrush(_BEST if i == prediction.best else _BAR) for i in range(count)]
        if self._bars is None or len(self._bars.opts["height"]) != count:
            self.plot.clear()
            self._bars = pg.BarGraphItem(x=list(range(count)), height=list(prediction.values),
                                         width=0.7, brushes=brushes)
            self.plot.addItem(self._bars)
            self.plot.getAxis("bottom").setTicks([list(enumerate(prediction.names))])
        else:
            self._bars.setOpts(height=list(prediction.values), brushes=brushes)
        self.plot.setAccessibleDescription(self.result_label.text())


def image_array(image: QImage, channels: int) -> np.ndarray:
    """A QImage as a uint8 (H, W) grey or (H, W, 3) colour array."""
    import numpy as np

    grey = channels == 1
    image = image.convertToFormat(QImage.Format.Format_Grayscale8 if grey
                                  else QImage.Format.Format_RGB888)
    width, height, stride = image.width(), image.height(), image.bytesPerLine()
    rows = np.frombuffer(image.constBits(), dtype=np.uint8,
                         count=stride * height).reshape(height, stride)
    if grey:
        return rows[:, :width].copy()
    return rows[:, :width * 3].reshape(height, width, 3).copy()
