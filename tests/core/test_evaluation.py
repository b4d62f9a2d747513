"""Evaluation results as plain data: gallery order, text alternatives, compact samples."""

from __future__ import annotations

from array import array

import pytest

from studio.core.dataset_catalog import BUILTIN_DATASETS, GENERATED_DATASETS
from studio.core.evaluation import (
    ClassificationResults,
    ClassScore,
    Evaluation,
    GallerySamples,
    RegressionResults,
    RocCurve,
    confusion_text,
    regression_text,
    roc_text,
    samples_in_cell,
)
from studio.core.prediction import Prediction, image_input, row_input

IRIS = BUILTIN_DATASETS["iris"]

# Six samples of three classes: 0 -> 0, 1 -> 2 (0.9), 1 -> 2 (0.6), 1 -> 1, 2 -> 2, 1 -> 2 (0.95)
LABELS = (0, 1, 1, 1, 2, 1)
PREDICTED = (0, 2, 2, 1, 2, 2)
PROBABILITIES = ((0.8, 0.1, 0.1), (0.05, 0.05, 0.9), (0.1, 0.3, 0.6), (0.2, 0.7, 0.1),
                 (0.0, 0.2, 0.8), (0.0, 0.05, 0.95))


def _evaluation(note: str = "") -> Evaluation:
    confusion = ((1, 0, 0), (0, 1, 3), (0, 0, 1))
    normalised = ((1.0, 0.0, 0.0), (0.0, 0.25, 0.75), (0.0, 0.0, 1.0))
    scores = tuple(ClassScore(name, 1.0, 1.0, 1.0, 1) for name in IRIS.class_names)
    results = ClassificationResults(LABELS, PREDICTED, PROBABILITIES, confusion, normalised,
                                    scores, accuracy=0.5)
    return Evaluation(IRIS, "test", len(LABELS), {"loss": 0.75, "accuracy": 0.5}, note,
                      classification=results)


def test_a_cell_lists_its_samples_most_confidently_wrong_first():
    evaluation = _evaluation()
    assert samples_in_cell(evaluation, 1, 2) == [5, 1, 2]  # 0.95, 0.9, 0.6
    assert samples_in_cell(evaluation, 1, 1) == [3]
    assert samples_in_cell(evaluation, 2, 0) == []


def test_ties_keep_sample_order_and_regressions_have_no_cells():
    evaluation = _evaluation()
    results = evaluation.classification
    tied = ClassificationResults((1, 1, 1), (2, 2, 2), ((0, 0.4, 0.6),) * 3, (), (), (), 0.0)
    assert samples_in_cell(Evaluation(IRIS, "test", 3, classification=tied), 1, 2) == [0, 1, 2]
    assert results is not None and results.confidence(2) == pytest.approx(0.6)
    regression = Evaluation(GENERATED_DATASETS["sine"].info(100), "test", 0,
                            regression=RegressionResults((), (), (), 0, 0, 0))
    assert samples_in_cell(regression, 0, 0) == []


def test_summary_says_the_split_the_metrics_and_why_it_is_not_the_test_split():
    text = _evaluation("No test split.").summary()
    assert text.startswith("Test split, 6 samples:")
    assert "loss 0.75" in text and "accuracy 50.0%" in text
    assert text.endswith("No test split.")


def test_a_regression_summary_adds_only_what_keras_did_not_report():
    results = RegressionResults((1.0, 2.0), (1.5, 1.0), (0.5, -1.0), 0.75, 0.79, -2.0)
    evaluation = Evaluation(GENERATED_DATASETS["sine"].info(100), "validation", 2,
                            {"loss": 0.625, "mae": 0.75}, regression=results)
    assert evaluation.summary() == ("Validation split, 2 samples: loss 0.625, mae 0.75, "
                                    "RMSE 0.79, R² -2.")


def test_confusion_in_words_names_the_most_frequent_mistake():
    text = confusion_text(_evaluation())
    assert text.startswith("3 of 6 samples classified correctly (50.0%).")
    assert "versicolor taken for virginica 3 times" in text


def test_roc_and_regression_in_words():
    roc = RocCurve("benign", (0.0, 1.0), (0.0, 1.0), (float("inf"), 0.0), 0.9871)
    assert "'benign'" in roc_text(roc) and "0.987" in roc_text(roc)
    results = RegressionResults((1.0, 2.0), (1.5, 1.0), (0.5, -1.0), 0.75, 0.79, -2.0)
    text = regression_text(results)
    assert "MAE 0.75" in text and "R² -2" in text and "from -1 to 0.5" in text


def test_gallery_samples_slice_their_compact_storage():
    images = GallerySamples(2, (2, 2, 1), bytes(range(8)))
    assert images.is_images and images.image(1) == bytes([4, 5, 6, 7])
    rows = GallerySamples(2, feature_names=("a", "b", "c"),
                          values=array("d", [1, 2, 3, 4, 5, 6]))
    assert not rows.is_images and rows.row(1) == (4.0, 5.0, 6.0)


def test_which_inputs_can_be_drawn_or_typed():
    assert image_input(BUILTIN_DATASETS["digits"]) == (8, 8, 1)
    assert image_input(IRIS) is None and row_input(IRIS) == 4
    assert row_input(BUILTIN_DATASETS["digits"]) is None


def test_a_prediction_in_words():
    prediction = Prediction("classification", ("a", "b", "c"), (0.1, 0.7, 0.2))
    assert prediction.best == 1
    assert prediction.text() == "b (70.0%); then c (20.0%), a (10.0%)"
    assert Prediction("regression", ("value",), (0.83125,)).text() == "value 0.8313"
