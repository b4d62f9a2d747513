"""The Evaluate tab: summary, confusion matrix and its gallery, per-class table, ROC, fit."""

from __future__ import annotations

from array import array

import pytest
from PySide6.QtCore import Qt

from studio.core.dataset_catalog import BUILTIN_DATASETS, GENERATED_DATASETS
from studio.core.evaluation import (
    ClassificationResults,
    ClassScore,
    Evaluation,
    GallerySamples,
    RegressionResults,
    RocCurve,
)
from studio.ui.evaluation_view import EvaluationView

IRIS = BUILTIN_DATASETS["iris"]
DIGITS = BUILTIN_DATASETS["digits"]
CANCER = BUILTIN_DATASETS["breast_cancer"]


def _classification(info, labels, probabilities, roc=None):
    """An evaluation with confusion counts worked out from ``labels`` and ``probabilities``."""
    classes = info.num_classes
    predicted = tuple(max(range(classes), key=p.__getitem__) for p in probabilities)
    confusion = [[0] * classes for _ in range(classes)]
    for true, guess in zip(labels, predicted, strict=True):
        confusion[true][guess] += 1
    shares = tuple(tuple(c / (sum(row) or 1) for c in row) for row in confusion)
    scores = tuple(ClassScore(name, 0.5, 0.25, 0.3333, sum(confusion[c]))
                   for c, name in enumerate(info.class_names))
    correct = sum(t == p for t, p in zip(labels, predicted, strict=True))
    results = ClassificationResults(tuple(labels), predicted, tuple(map(tuple, probabilities)),
                                    tuple(map(tuple, confusion)), shares, scores,
                                    correct / len(labels), roc)
    return Evaluation(info, "test", len(labels), {"loss": 0.5, "accuracy": correct / len(labels)},
                      classification=results)


# Iris: 1 -> 2 three times (0.95, 0.6, 0.9), 2 -> 1 once, the rest right.
IRIS_LABELS = (0, 1, 1, 1, 2, 1, 2, 0)
IRIS_PROBABILITIES = ((0.8, 0.1, 0.1), (0.0, 0.05, 0.95), (0.1, 0.3, 0.6), (0.2, 0.7, 0.1),
                      (0.0, 0.2, 0.8), (0.0, 0.1, 0.9), (0.1, 0.5, 0.4), (0.9, 0.05, 0.05))


@pytest.fixture
def view(qtbot):
    view = EvaluationView()
    qtbot.addWidget(view)
    view.resize(1100, 800)
    view.show()
    return view


def _click_cell(qtbot, table, row, column):
    item = table.item(row, column)
    table.scrollToItem(item)
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton,
                     pos=table.visualItemRect(item).center())


def _iris_rows():
    values = array("d", [float(i * 4 + f) for i in range(len(IRIS_LABELS)) for f in range(4)])
    return GallerySamples(len(IRIS_LABELS), feature_names=("a", "b", "c", "d"), values=values)


def test_confusion_matrix_counts_and_shares_with_class_names(view):
    view.show_evaluation(_classification(IRIS, IRIS_LABELS, IRIS_PROBABILITIES), _iris_rows())
    table = view.confusion
    assert view.pages.currentIndex() == 1
    assert "Test split, 8 samples" in view.summary_label.text()
    assert (table.rowCount(), table.columnCount()) == (3, 3)
    assert [table.verticalHeaderItem(r).text() for r in range(3)] == list(IRIS.class_names)
    assert table.horizontalHeaderItem(2).text() == "→ virginica"
    assert [[table.item(r, c).text() for c in range(3)] for r in range(3)] == [
        ["2", "0", "0"], ["0", "1", "3"], ["0", "1", "1"]]
    view.normalised_check.click()
    assert [table.item(1, c).text() for c in range(3)] == ["0%", "25%", "75%"]
    view.normalised_check.click()
    assert table.item(1, 2).text() == "3"
    assert "versicolor taken for virginica 3 times" in view.confusion_label.text()
    assert view.class_table.rowCount() == 3
    assert view.class_table.item(0, 1).text() == "0.500"
    assert view.roc_box.isHidden(), "no ROC curve for three classes"


def test_the_gallery_opens_on_the_most_frequent_mistake_most_confident_first(view, qtbot):
    view.show_evaluation(_classification(IRIS, IRIS_LABELS, IRIS_PROBABILITIES), _iris_rows())
    assert view.gallery.shown() == [1, 5, 2]  # 0.95, 0.9, 0.6
    rows = view.gallery.rows
    assert rows.rowCount() == 3
    assert [rows.item(0, c).text() for c in range(5)] == ["1", "versicolor", "virginica",
                                                          "95.0%", "4"]
    assert "most confidently wrong first" in view.gallery.heading.text()


def test_clicking_a_cell_fills_the_gallery(view, qtbot):
    view.show_evaluation(_classification(IRIS, IRIS_LABELS, IRIS_PROBABILITIES), _iris_rows())
    _click_cell(qtbot, view.confusion, 2, 1)
    assert view.gallery.shown() == [6]
    assert view.gallery.heading.text().startswith("True virginica, predicted versicolor: 1 "
                                                  "sample")
    _click_cell(qtbot, view.confusion, 0, 0)
    assert view.gallery.shown() == [7, 0]  # correct ones: most confident first
    _click_cell(qtbot, view.confusion, 0, 1)
    assert view.gallery.shown() == [] and view.gallery.rows.rowCount() == 0


def test_image_samples_are_thumbnails_with_true_predicted_and_confidence(view, qtbot):
    labels = (3, 3, 8, 3)
    probabilities = [[0.0] * 10 for _ in labels]
    for row, (guess, p) in zip(probabilities, ((8, 0.7), (8, 0.99), (8, 0.9), (3, 0.8)),
                               strict=True):
        row[guess] = p
        row[0] = 1 - p
    evaluation = _classification(DIGITS, labels, probabilities)
    gallery = GallerySamples(4, (8, 8, 1), bytes(range(256)))
    view.show_evaluation(evaluation, gallery)
    _click_cell(qtbot, view.confusion, 3, 8)
    images = view.gallery.images
    assert view.gallery.pages.currentWidget() is images
    assert images.count() == 2
    assert [images.item(i).data(Qt.ItemDataRole.UserRole) for i in range(2)] == [1, 0]
    assert images.item(0).text() == "8 99%"
    assert images.item(0).toolTip() == ("Sample 1 of the test split: true 3, predicted 8 with "
                                        "99.0% confidence")
    assert not images.item(0).icon().isNull()


def test_binary_tasks_show_the_roc_curve_with_its_auc(view):
    roc = RocCurve("benign", (0.0, 0.0, 0.5, 1.0), (0.0, 0.5, 1.0, 1.0),
                   (float("inf"), 0.9, 0.4, 0.1), 0.875)
    evaluation = _classification(CANCER, (0, 1, 1, 0), ((0.9, 0.1), (0.2, 0.8),
                                                        (0.6, 0.4), (0.3, 0.7)), roc)
    view.show_evaluation(evaluation, None)
    assert not view.roc_box.isHidden()
    curves = view.roc_plot.getPlotItem().listDataItems()
    assert len(curves) == 2
    x, y = curves[1].getData()
    assert list(x) == [0.0, 0.0, 0.5, 1.0] and list(y) == [0.0, 0.5, 1.0, 1.0]
    assert "0.875" in view.roc_label.text() and "'benign'" in view.roc_label.text()
    assert "ROC AUC 0.875" in view.summary_label.text()
    # Without the samples the gallery still lists the indices and says why.
    assert "not at hand" in view.gallery.heading.text()


def test_regression_shows_fit_and_residuals_with_their_scores(view):
    info = GENERATED_DATASETS["sine"].info(100)
    results = RegressionResults((0.0, 1.0, 2.0), (0.5, 1.0, 1.5), (0.5, 0.0, -0.5), 0.3333,
                                0.4082, 0.75)
    view.show_evaluation(Evaluation(info, "test", 3, {"loss": 0.1667, "mae": 0.3333},
                                    regression=results), None)
    assert view.pages.currentIndex() == 2
    assert "MAE 0.3333" in view.regression_label.text()
    assert "R² 0.75" in view.regression_label.text()
    line, dots = view.fit_plot.getPlotItem().listDataItems()
    assert list(line.getData()[0]) == [0.0, 2.0] and list(line.getData()[1]) == [0.0, 2.0]
    assert list(dots.getData()[0]) == [0.0, 1.0, 2.0]
    assert list(dots.getData()[1]) == [0.5, 1.0, 1.5]
    (residuals,) = view.residual_plot.getPlotItem().listDataItems()
    assert list(residuals.getData()[1]) == [0.5, 0.0, -0.5]
    assert view.fit_plot.accessibleDescription() == view.regression_label.text()


def test_evaluate_button_and_clear(view, qtbot):
    with qtbot.waitSignal(view.evaluate_requested, timeout=1000):
        view.evaluate_button.click()
    view.set_busy()
    assert not view.evaluate_button.isEnabled()
    view.show_evaluation(_classification(IRIS, IRIS_LABELS, IRIS_PROBABILITIES), None)
    assert view.evaluate_button.isEnabled()
    view.clear()
    assert view.pages.currentWidget() is view.empty_label
    assert view.confusion.rowCount() == 0 and view.evaluation is None
    assert view.summary_label.text() == ""
