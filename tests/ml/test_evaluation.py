"""Evaluating real trained models: every number agrees with scikit-learn's own report."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from sklearn.metrics import (
    classification_report,
    mean_absolute_error,
    r2_score,
    roc_auc_score,
    root_mean_squared_error,
)

from studio.core.dataset_spec import BuiltinSource, DatasetSpec, GeneratedSource
from studio.core.defaults import default_project
from studio.core.errors import DatasetError
from studio.core.evaluation import EvaluationCancelled, samples_in_cell
from studio.core.model_spec import LayerSpec, ModelSpec
from studio.core.project import Project
from studio.core.training_config import TrainingConfig
from studio.ml.datasets import load_dataset
from studio.ml.evaluation import evaluate, evaluate_dataset, loaded_gallery
from studio.ml.session import train_project


def _train(project):
    return train_project(project, lambda event: None).model


def _dense(*units_and_activations):
    return ModelSpec(tuple(LayerSpec.create("Dense", units=u, activation=a)
                           for u, a in units_and_activations))


@pytest.fixture(scope="module")
def digits():
    """The default digits CNN, 2 epochs, with a test split."""
    project = default_project()
    project = replace(project, dataset=replace(project.dataset, test_split=0.2),
                      training=replace(project.training, epochs=2, batch_size=64))
    return project, _train(project)


@pytest.fixture(scope="module")
def cancer():
    project = Project("cancer", DatasetSpec(BuiltinSource("breast_cancer"), test_split=0.25),
                      _dense((16, "relu"), (2, "softmax")), TrainingConfig(epochs=3))
    return project, _train(project)


@pytest.fixture(scope="module")
def sine():
    project = Project("sine", DatasetSpec(GeneratedSource("sine", samples=300, noise=0.1),
                                          test_split=0.2),
                      _dense((16, "tanh"), (1, "linear")), TrainingConfig(epochs=3))
    return project, _train(project)


def test_classification_numbers_match_scikit_learn(digits):
    project, model = digits
    data = load_dataset(project.dataset)
    report = evaluate_dataset(model, project.dataset)
    evaluation, results = report.evaluation, report.evaluation.classification
    assert evaluation.split == "test" and not evaluation.note
    assert evaluation.samples == len(data.x_test) == round(1797 * 0.2)
    assert results is not None and evaluation.regression is None
    assert sum(map(sum, results.confusion)) == len(data.x_test)
    assert tuple(results.labels) == tuple(data.y_test.tolist())
    for row, shares in zip(results.confusion, results.confusion_normalised, strict=True):
        assert sum(shares) == pytest.approx(1.0)
        assert shares == pytest.approx([count / sum(row) for count in row])
    expected = classification_report(results.labels, results.predicted, labels=range(10),
                                      target_names=evaluation.class_names, output_dict=True,
                                      zero_division=0)
    for score in results.per_class:
        theirs = expected[score.name]
        assert (score.precision, score.recall, score.f1) == pytest.approx(
            (theirs["precision"], theirs["recall"], theirs["f1-score"]))
        assert score.support == theirs["support"]
    assert results.accuracy == pytest.approx(expected["accuracy"])
    # Keras' own loss and accuracy on the same samples.
    keras_logs = model.evaluate(data.x_test, data.y_test, verbose=0, return_dict=True)
    assert evaluation.logs["loss"] == pytest.approx(float(keras_logs["loss"]), rel=1e-4)
    assert evaluation.logs["accuracy"] == pytest.approx(results.accuracy, abs=1e-6)
    predicted = model.predict(data.x_test, verbose=0)
    assert np.allclose(results.probabilities, predicted, atol=1e-6)
    assert results.roc is None  # ten classes


def test_gallery_shows_the_test_samples_as_read(digits):
    project, model = digits
    data = load_dataset(project.dataset)
    gallery = evaluate_dataset(model, project.dataset).gallery
    assert gallery.count == len(data.x_test) and gallery.image_shape == (8, 8, 1)
    pixels = np.frombuffer(gallery.pixels, np.uint8).reshape(data.x_test.shape)
    # The digits are 0..16, scaled by 16 for training; the gallery shows them on 0..255.
    assert np.abs(pixels.astype(float) - data.x_test * 255).max() <= 1.0


def test_most_confidently_wrong_first_in_a_real_cell(digits):
    project, model = digits
    evaluation = evaluate_dataset(model, project.dataset).evaluation
    results = evaluation.classification
    cells = [(count, t, p) for t, row in enumerate(results.confusion)
             for p, count in enumerate(row) if t != p and count]
    assert cells, "two epochs leave some mistakes"
    count, true, guess = max(cells)
    chosen = samples_in_cell(evaluation, true, guess)
    assert len(chosen) == count
    assert all(results.labels[i] == true and results.predicted[i] == guess for i in chosen)
    confidences = [max(results.probabilities[i]) for i in chosen]
    assert confidences == sorted(confidences, reverse=True)


def test_without_a_test_split_the_validation_split_is_evaluated_and_said(digits):
    project, model = digits
    spec = replace(project.dataset, test_split=0.0)
    data = load_dataset(spec)
    evaluation = evaluate(model, data)
    assert evaluation.split == "validation" and evaluation.samples == len(data.x_val)
    assert "no test split" in evaluation.note.lower()
    assert "no test split" in evaluation.summary().lower()
    gallery = loaded_gallery(data, evaluation.split)
    assert gallery.count == len(data.x_val) and not gallery.as_read
    with pytest.raises(ValueError, match="split must be one of"):
        evaluate(model, data, split="holdout")


def test_binary_roc_matches_scikit_learn(cancer):
    project, model = cancer
    evaluation = evaluate_dataset(model, project.dataset).evaluation
    results = evaluation.classification
    roc = results.roc
    assert roc is not None and roc.positive == "benign"
    assert 0.0 <= roc.auc <= 1.0
    scores = [p[1] for p in results.probabilities]
    assert roc.auc == pytest.approx(roc_auc_score(results.labels, scores))
    assert roc.fpr[0] == 0.0 and roc.tpr[0] == 0.0 and roc.fpr[-1] == 1.0 == roc.tpr[-1]
    assert list(roc.fpr) == sorted(roc.fpr) and list(roc.tpr) == sorted(roc.tpr)
    assert len(roc.thresholds) == len(roc.fpr)
    # Tabular samples come as read, with the dataset's feature names.
    gallery = evaluate_dataset(model, project.dataset).gallery
    assert gallery.feature_names[0] == "mean radius" and len(gallery.feature_names) == 30
    assert gallery.row(0)[0] > 5  # a raw radius in millimetres, not a standardised value


def test_regression_pairs_residuals_and_scores_match_scikit_learn(sine):
    project, model = sine
    data = load_dataset(project.dataset)
    evaluation = evaluate_dataset(model, project.dataset).evaluation
    fit = evaluation.regression
    assert evaluation.classification is None and fit is not None
    assert len(fit.targets) == len(fit.predicted) == len(data.x_test) == evaluation.samples
    assert np.allclose(fit.targets, data.y_test.ravel())
    assert np.allclose(fit.predicted, model.predict(data.x_test, verbose=0).ravel(), atol=1e-6)
    assert np.allclose(fit.residuals, np.subtract(fit.predicted, fit.targets))
    assert fit.mae == pytest.approx(mean_absolute_error(fit.targets, fit.predicted))
    assert fit.rmse == pytest.approx(root_mean_squared_error(fit.targets, fit.predicted))
    assert fit.r2 == pytest.approx(r2_score(fit.targets, fit.predicted))
    assert "mae" in evaluation.logs and "loss" in evaluation.logs


def test_cancelling_stops_the_evaluation(digits):
    project, model = digits
    with pytest.raises(EvaluationCancelled):
        evaluate(model, load_dataset(project.dataset), cancelled=lambda: True)


def test_an_uncompiled_model_gets_the_task_loss(cancer):
    from studio.ml.summary import build_model

    project, _ = cancer
    fresh = build_model(project.model, project.dataset.info)
    evaluation = evaluate(fresh, load_dataset(project.dataset))
    assert set(evaluation.logs) >= {"loss", "accuracy"}


def test_a_model_that_does_not_fit_the_data_is_refused(sine):
    import keras

    project, _ = sine
    two = keras.Sequential([keras.Input((1,)), keras.layers.Dense(2)])
    two.compile(loss="mse")
    with pytest.raises(DatasetError, match="predicts 2 values per sample, but the data has 1"):
        evaluate(two, load_dataset(project.dataset))
