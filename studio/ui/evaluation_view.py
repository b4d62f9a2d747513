"""The Evaluate tab: how good the trained model is on data it did not train on.

Shows what ``studio.ml.evaluation`` found (the evaluation itself runs on the evaluation
worker): the loss and metrics; for a classification the confusion matrix (counts or row
shares), per-class precision, recall and F1, a ROC curve for binary tasks, and the samples of
any chosen cell, most confidently wrong first; for a regression predicted against true values
and the residuals. Every plot has a text alternative beside it. pyqtgraph is imported with
the first plot, so building this tab costs the window's start-up nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.core.evaluation import (
    Evaluation,
    GallerySamples,
    confusion_text,
    regression_text,
    roc_text,
)
from studio.ui.confusion_table import ConfusionTable
from studio.ui.error_gallery import ErrorGallery

if TYPE_CHECKING:
    import pyqtgraph as pg

#: Scatter plots draw at most this many points (evenly spread); the numbers use them all.
PLOT_POINTS = 20_000
_BLUE = (31, 90, 180)
_GREY = (150, 150, 150)


class EvaluationView(QWidget):
    evaluate_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._evaluation: Evaluation | None = None
        self._samples: GallerySamples | None = None
        self.roc_plot: pg.PlotWidget | None = None
        self.fit_plot: pg.PlotWidget | None = None
        self.residual_plot: pg.PlotWidget | None = None

        self.evaluate_button = QPushButton("Evaluate")
        self.evaluate_button.setAccessibleName("Evaluate the model")
        self.evaluate_button.setToolTip("Evaluate the trained model on the test split (or on "
                                        "the validation split when there is none)")
        self.evaluate_button.clicked.connect(self.evaluate_requested)
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.status_label.setAccessibleName("Evaluation status")
        self.summary_label = QLabel()
        self.summary_label.setWordWrap(True)
        self.summary_label.setAccessibleName("Evaluation summary")
        self.summary_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        top = QHBoxLayout()
        top.addWidget(self.evaluate_button)
        top.addWidget(self.status_label, 1)

        self.pages = QStackedWidget()
        self.empty_label = QLabel("No evaluation yet.")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.pages.addWidget(self.empty_label)
        self.pages.addWidget(self._classification_page())
        self.pages.addWidget(self._regression_page())

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.pages, 1)
        self.clear()

    # ----- pages --------------------------------------------------------------------------
    def _classification_page(self) -> QWidget:
        self.confusion = ConfusionTable()
        self.confusion.cell_chosen.connect(self._cell_chosen)
        self.normalised_check = QCheckBox("Normalised (share of each true class)")
        self.normalised_check.setAccessibleName("Normalised confusion matrix")
        self.normalised_check.setToolTip("Show each row as shares of its true class instead of "
                                         "counts")
        self.normalised_check.toggled.connect(self.confusion.set_normalised)
        self.confusion_label = QLabel()
        self.confusion_label.setWordWrap(True)
        self.confusion_label.setAccessibleName("Confusion matrix in words")
        confusion_box = QGroupBox("Confusion matrix (rows: true class, columns: predicted)")
        confusion_layout = QVBoxLayout(confusion_box)
        confusion_layout.addWidget(self.normalised_check)
        confusion_layout.addWidget(self.confusion, 1)
        confusion_layout.addWidget(self.confusion_label)

        self.class_table = QTableWidget()
        self.class_table.setAccessibleName("Precision, recall and F1 per class")
        self.class_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.class_table.setTabKeyNavigation(False)
        self.class_table.setAccessibleDescription("One row per class: precision, recall, F1 "
                                                  "and the number of samples.")
        self.class_table.verticalHeader().hide()  # row numbers would read as class names
        self.class_table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.Stretch)
        class_box = QGroupBox("Per class")
        QVBoxLayout(class_box).addWidget(self.class_table)

        self.roc_box = QGroupBox("ROC curve")
        self._roc_layout = QVBoxLayout(self.roc_box)
        self.roc_label = QLabel()
        self.roc_label.setWordWrap(True)
        self.roc_label.setAccessibleName("ROC curve in words")
        self._roc_layout.addWidget(self.roc_label)

        self.gallery = ErrorGallery()
        gallery_box = QGroupBox("Samples of the chosen cell")
        QVBoxLayout(gallery_box).addWidget(self.gallery)

        left = QSplitter(Qt.Orientation.Vertical)
        for box in (confusion_box, class_box, self.roc_box):
            left.addWidget(box)
        page = QSplitter()
        page.addWidget(left)
        page.addWidget(gallery_box)
        page.setSizes([600, 400])
        return page

    def _regression_page(self) -> QWidget:
        self.regression_label = QLabel()
        self.regression_label.setWordWrap(True)
        self.regression_label.setAccessibleName("Regression results in words")
        self.fit_box = QGroupBox("Predicted against true values")
        self.residual_box = QGroupBox("Residuals (predicted minus true)")
        for box in (self.fit_box, self.residual_box):
            QVBoxLayout(box)
        plots = QHBoxLayout()
        plots.addWidget(self.fit_box)
        plots.addWidget(self.residual_box)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.regression_label)
        layout.addLayout(plots, 1)
        return page

    # ----- state --------------------------------------------------------------------------
    @property
    def evaluation(self) -> Evaluation | None:
        return self._evaluation

    def set_can_evaluate(self, enabled: bool, reason: str = "") -> None:
        """Enable Evaluate when there is a model; ``reason`` says why not."""
        self.evaluate_button.setEnabled(enabled)
        self.evaluate_button.setToolTip(reason or "Evaluate the trained model on the test "
                                                  "split (or on the validation split when "
                                                  "there is none)")

    def set_busy(self, text: str = "Evaluating…") -> None:
        self.evaluate_button.setEnabled(False)
        self.status_label.setText(text)

    def set_error(self, message: str) -> None:
        self.evaluate_button.setEnabled(True)
        self.status_label.setText(message)

    def clear(self) -> None:
        self._evaluation = self._samples = None
        self.status_label.setText("Train a model (or open a run's model), then press "
                                  "Evaluate.")
        self.summary_label.setText("")
        self.confusion.show_evaluation(None)
        self.confusion_label.setText("")
        self.class_table.clear()
        self.class_table.setRowCount(0)
        self.gallery.clear()
        self.roc_label.setText("")
        self.regression_label.setText("")
        self.pages.setCurrentWidget(self.empty_label)

    def show_evaluation(self, evaluation: Evaluation,
                        data_for_gallery: GallerySamples | None = None) -> None:
        """Show ``evaluation``; ``data_for_gallery`` holds the evaluated split's inputs."""
        self._evaluation, self._samples = evaluation, data_for_gallery
        self.evaluate_button.setEnabled(True)
        self.status_label.setText("")
        self.summary_label.setText(evaluation.summary())
        if evaluation.classification is not None:
            self._show_classification(evaluation)
        elif evaluation.regression is not None:
            self._show_regression(evaluation)
        else:
            self.pages.setCurrentWidget(self.empty_label)

    def choose_cell(self, true_class: int, predicted_class: int) -> None:
        """Fill the gallery with one cell's samples (as clicking the cell does)."""
        self.confusion.choose(true_class, predicted_class)

    # ----- classification -----------------------------------------------------------------
    def _show_classification(self, evaluation: Evaluation) -> None:
        results = evaluation.classification
        assert results is not None
        self.pages.setCurrentIndex(1)
        self.confusion.show_evaluation(evaluation)
        self.confusion.set_normalised(self.normalised_check.isChecked())
        self.confusion_label.setText(confusion_text(evaluation))
        table = self.class_table
        table.clear()
        table.setColumnCount(5)
        table.setHorizontalHeaderLabels(["class", "precision", "recall", "F1", "support"])
        table.setRowCount(len(results.per_class))
        for row, score in enumerate(results.per_class):
            cells = (score.name, f"{score.precision:.3f}", f"{score.recall:.3f}",
                     f"{score.f1:.3f}", f"{score.support:,}")
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                table.setItem(row, column, item)
        self._show_roc(evaluation)
        self.gallery.clear()
        mistakes = [(count, true, guess) for true, row in enumerate(results.confusion)
                    for guess, count in enumerate(row) if true != guess and count]
        if mistakes:  # open on the most frequent mistake
            _, true, guess = max(mistakes, key=lambda item: (item[0], -item[1], -item[2]))
            self.choose_cell(true, guess)

    def _show_roc(self, evaluation: Evaluation) -> None:
        results = evaluation.classification
        roc = results.roc if results is not None else None
        binary = evaluation.info.num_classes == 2
        self.roc_box.setVisible(binary)
        if not binary:
            return
        if roc is None:
            self.roc_label.setText("No ROC curve: the evaluated split holds only one class.")
            if self.roc_plot is not None:
                self.roc_plot.clear()
            return
        plot = self.roc_plot
        if plot is None:
            plot = self.roc_plot = _make_plot("false positive rate", "true positive rate",
                                              "ROC curve")
            plot.addLegend(offset=(-10, -10))
            self._roc_layout.insertWidget(0, plot, 1)
        import pyqtgraph as pg

        plot.clear()
        plot.plot([0, 1], [0, 1], pen=pg.mkPen(_GREY, width=1, style=Qt.PenStyle.DashLine),
                  name="chance")
        plot.plot(list(roc.fpr), list(roc.tpr), pen=pg.mkPen(_BLUE, width=2),
                  name=f"AUC {roc.auc:.3f}")
        plot.setTitle(f"ROC for class '{roc.positive}'", color="k")
        text = roc_text(roc)
        self.roc_label.setText(text)
        plot.setAccessibleDescription(text)

    def _cell_chosen(self, true_class: int, predicted_class: int) -> None:
        if self._evaluation is not None:
            self.gallery.show_cell(self._evaluation, self._samples, true_class,
                                   predicted_class)

    # ----- regression ---------------------------------------------------------------------
    def _show_regression(self, evaluation: Evaluation) -> None:
        results = evaluation.regression
        assert results is not None
        self.pages.setCurrentIndex(2)
        import pyqtgraph as pg

        if self.fit_plot is None or self.residual_plot is None:
            self.fit_plot = _make_plot("true value", "predicted value",
                                       "Predicted against true values")
            self.residual_plot = _make_plot("predicted value", "residual", "Residuals")
            layout = self.fit_box.layout()
            assert layout is not None
            layout.addWidget(self.fit_plot)
            layout = self.residual_box.layout()
            assert layout is not None
            layout.addWidget(self.residual_plot)
        step = max(1, len(results.targets) // PLOT_POINTS)
        truth = results.targets[::step]
        guess = results.predicted[::step]
        residuals = results.residuals[::step]
        low = min(min(truth, default=0.0), min(guess, default=0.0))
        high = max(max(truth, default=1.0), max(guess, default=1.0))
        text = regression_text(results)
        if step > 1:
            text += f" The plots show every {step}th value."
        self.regression_label.setText(text)
        dots: dict[str, Any] = {"pen": None, "symbol": "o", "symbolSize": 5,
                                "symbolPen": None, "symbolBrush": pg.mkBrush(*_BLUE, 140)}
        fit = self.fit_plot
        fit.clear()
        fit.plot([low, high], [low, high], pen=pg.mkPen(_GREY, width=1,
                                                        style=Qt.PenStyle.DashLine))
        fit.plot(list(truth), list(guess), **dots)
        fit.setAccessibleDescription(text)
        residual = self.residual_plot
        residual.clear()
        residual.addItem(pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen(_GREY, width=1)))
        residual.plot(list(guess), list(residuals), **dots)
        residual.setAccessibleDescription(text)


def _make_plot(x_label: str, y_label: str, name: str) -> pg.PlotWidget:
    import pyqtgraph as pg

    plot = pg.PlotWidget()
    plot.setBackground("w")
    plot.showGrid(x=True, y=True, alpha=0.25)
    plot.setLabel("bottom", x_label)
    plot.setLabel("left", y_label)
    for side in ("bottom", "left"):
        plot.getAxis(side).enableAutoSIPrefix(False)  # values as they are, no "(x0.001)"
    plot.setAccessibleName(name)
    plot.setMinimumHeight(160)
    return plot
