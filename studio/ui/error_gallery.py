"""The samples of one confusion-matrix cell: thumbnails for images, a table for rows.

Each sample says its true class, the predicted one and the model's confidence, so the most
confidently wrong samples (listed first) can be judged at a glance: a wrong label in the
data, or a real blind spot of the model.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.core.evaluation import Evaluation, GallerySamples, samples_in_cell

#: More thumbnails than this make a cell slow to open and no easier to judge.
LIMIT = 200
THUMBNAIL = 64
MAX_COLUMNS = 200  # feature columns shown (as the Data tab's sample table)


class ErrorGallery(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.heading = QLabel("Choose a cell of the confusion matrix to see its samples.")
        self.heading.setWordWrap(True)
        self.heading.setAccessibleName("Gallery heading")
        self.images = QListWidget()
        self.images.setAccessibleName("Samples of the chosen cell")
        self.images.setViewMode(QListView.ViewMode.IconMode)
        self.images.setIconSize(QSize(THUMBNAIL, THUMBNAIL))
        self.images.setResizeMode(QListView.ResizeMode.Adjust)
        self.images.setMovement(QListView.Movement.Static)
        self.images.setWordWrap(True)
        self.rows = QTableWidget()
        self.rows.setAccessibleName("Samples of the chosen cell")
        self.rows.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.rows.setTabKeyNavigation(False)
        for view in (self.images, self.rows):
            view.setAccessibleDescription("Each sample with its true and predicted class and "
                                          "the model's confidence, most confident first.")
        self.rows.verticalHeader().hide()  # the sample column numbers the rows
        self.pages = QStackedWidget()
        self.pages.addWidget(self.images)
        self.pages.addWidget(self.rows)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.heading)
        layout.addWidget(self.pages, 1)
        self._shown: list[int] = []

    def shown(self) -> list[int]:
        """Indices (into the evaluated split) of the samples listed, in order."""
        return list(self._shown)

    def clear(self, text: str = "Choose a cell of the confusion matrix to see its "
                                "samples.") -> None:
        self._shown = []
        self.images.clear()
        self.rows.clear()
        self.rows.setRowCount(0)
        self.rows.setColumnCount(0)
        self.heading.setText(text)

    def show_cell(self, evaluation: Evaluation, samples: GallerySamples | None,
                  true_class: int, predicted_class: int) -> None:
        results = evaluation.classification
        if results is None:
            self.clear()
            return
        names = evaluation.class_names
        chosen = samples_in_cell(evaluation, true_class, predicted_class)
        self._shown = chosen[:LIMIT]
        wrong = true_class != predicted_class
        order = "most confidently wrong first" if wrong else "most confident first"
        text = (f"True {names[true_class]}, predicted {names[predicted_class]}: "
                f"{len(chosen):,} sample{'s' if len(chosen) != 1 else ''}")
        if chosen:
            text += f", {order}"
        if len(chosen) > LIMIT:
            text += f" (the first {LIMIT} shown)"
        if samples is None or samples.count != evaluation.samples:
            samples = None
            text += ". (The samples themselves are not at hand.)"
        elif not samples.as_read:
            text += (". Shown as the model saw them (normalised)." if samples.is_images
                     else ". Values as the model saw them (normalised).")
        else:
            text += "."
        self.heading.setText(text)
        self.images.clear()
        self.rows.clear()
        if samples is not None and samples.is_images:
            self.pages.setCurrentWidget(self.images)
            self._fill_images(evaluation, samples)
        else:
            self.pages.setCurrentWidget(self.rows)
            self._fill_rows(evaluation, samples)

    def _describe(self, evaluation: Evaluation, index: int) -> tuple[str, str, float]:
        results = evaluation.classification
        assert results is not None
        names = evaluation.class_names
        return (names[results.labels[index]], names[results.predicted[index]],
                results.confidence(index))

    def _fill_images(self, evaluation: Evaluation, samples: GallerySamples) -> None:
        assert samples.image_shape is not None
        height, width, channels = samples.image_shape
        fmt = QImage.Format.Format_Grayscale8 if channels == 1 else QImage.Format.Format_RGB888
        for index in self._shown:
            true, guess, confidence = self._describe(evaluation, index)
            image = QImage(samples.image(index), width, height, width * channels, fmt).copy()
            pixmap = QPixmap.fromImage(image).scaled(
                THUMBNAIL, THUMBNAIL, Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.FastTransformation)
            item = QListWidgetItem(QIcon(pixmap), f"{guess} {confidence:.0%}")
            words = (f"Sample {index} of the {evaluation.split} split: true {true}, predicted "
                     f"{guess} with {confidence:.1%} confidence")
            item.setToolTip(words)
            item.setData(Qt.ItemDataRole.AccessibleTextRole, words)
            item.setData(Qt.ItemDataRole.UserRole, index)
            self.images.addItem(item)

    def _fill_rows(self, evaluation: Evaluation, samples: GallerySamples | None) -> None:
        features = samples.feature_names[:MAX_COLUMNS] if samples is not None else ()
        table = self.rows
        table.setColumnCount(4 + len(features))
        table.setHorizontalHeaderLabels(["sample", "true", "predicted", "confidence",
                                         *features])
        table.setRowCount(len(self._shown))
        for row, index in enumerate(self._shown):
            true, guess, confidence = self._describe(evaluation, index)
            cells = [str(index), true, guess, f"{confidence:.1%}"]
            if samples is not None:
                cells += [f"{value:.4g}" for value in samples.row(index)[:MAX_COLUMNS]]
            for column, text in enumerate(cells):
                table.setItem(row, column, QTableWidgetItem(text))
