"""Evaluate a trained model on held-out data: loss, metrics, confusion, ROC, residuals.

Loss and the compiled metrics come from Keras' ``evaluate``; everything else from
scikit-learn on one ``predict`` of the same samples. Nothing here re-implements a metric.
The result is plain data (``studio.core.evaluation``), arrays turned into tuples once.
"""

from __future__ import annotations

from array import array

import keras
import numpy as np
from sklearn import metrics as sk_metrics

from studio.core.dataset_spec import DatasetSpec
from studio.core.errors import DatasetError
from studio.core.evaluation import (
    SPLITS,
    ClassificationResults,
    ClassScore,
    Evaluation,
    EvaluationCancelled,
    EvaluationReport,
    GallerySamples,
    RegressionResults,
    RocCurve,
)
from studio.ml.datasets import (
    Cancelled,
    LoadedData,
    Progress,
    normalise,
    read_source,
    split_indices,
)
from studio.ml.predict import class_probabilities, feature_names_for

DEFAULT_BATCH_SIZE = 256
NO_TEST_NOTE = ("There is no test split, so the validation split was evaluated instead. It "
                "may have guided training (early stopping, the best checkpoint), so these "
                "numbers can be optimistic; set a test share in the Data tab for an unbiased "
                "estimate.")


def evaluate(model: keras.Model, data: LoadedData, split: str = "test",
             batch_size: int = DEFAULT_BATCH_SIZE, cancelled: Cancelled | None = None
             ) -> Evaluation:
    """Evaluate ``model`` on one split of ``data``; "test" falls back to "validation".

    Raises DatasetError when the split is empty or the model's output does not fit the data,
    and EvaluationCancelled when ``cancelled()`` turns true.
    """
    split, x, y, note = choose_split(data, split)
    if not len(x):
        raise DatasetError(f"The {split} split has no samples to evaluate.")
    info = data.info
    _check_fits(model, data)
    _ensure_compiled(model, data)
    callbacks = [_stopper(model, cancelled)] if cancelled else []
    logs = model.evaluate(x, y, batch_size=batch_size, verbose=0, return_dict=True,
                          callbacks=callbacks)
    _check(cancelled)
    outputs = model.predict(x, batch_size=batch_size, verbose=0, callbacks=callbacks)
    _check(cancelled)
    if not np.all(np.isfinite(outputs)):
        raise DatasetError("The model predicts NaN or infinite values (its training "
                           "diverged), so it cannot be evaluated.")
    floats = {str(name): float(value) for name, value in logs.items()}
    if info.task == "classification":
        return Evaluation(info, split, len(x), floats, note,
                          classification=classification_results(y, outputs, data))
    return Evaluation(info, split, len(x), floats, note, regression=regression_results(y, outputs))


def choose_split(data: LoadedData, split: str) -> tuple[str, np.ndarray, np.ndarray, str]:
    """(split, x, y, note): the test split, or the validation split when there is none."""
    arrays = {"test": (data.x_test, data.y_test), "validation": (data.x_val, data.y_val),
              "train": (data.x_train, data.y_train)}
    if split not in arrays:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}; got {split!r}")
    if split == "test" and not len(data.x_test):
        return "validation", data.x_val, data.y_val, NO_TEST_NOTE
    return (split, *arrays[split], "")


def classification_results(y: np.ndarray, outputs: np.ndarray, data: LoadedData
                           ) -> ClassificationResults:
    info = data.info
    count = info.num_classes
    names = (info.class_names if len(info.class_names) == count
             else tuple(str(c) for c in range(count)))
    probabilities = class_probabilities(outputs, count)
    if probabilities.ndim != 2 or probabilities.shape[1] != count:
        raise DatasetError(f"The model gives {probabilities.shape[1:]} outputs per sample, "
                           f"but the data has {count} classes.")
    labels = list(range(count))
    truth = np.asarray(y).astype("int64").reshape(-1)
    predicted = probabilities.argmax(axis=1)
    confusion = sk_metrics.confusion_matrix(truth, predicted, labels=labels)
    normalised = sk_metrics.confusion_matrix(truth, predicted, labels=labels, normalize="true")
    precision, recall, f1, support = sk_metrics.precision_recall_fscore_support(
        truth, predicted, labels=labels, zero_division=0)
    scores = tuple(ClassScore(names[c], float(precision[c]), float(recall[c]), float(f1[c]),
                              int(support[c])) for c in labels)
    roc = None
    if count == 2 and len(np.unique(truth)) == 2:
        score = probabilities[:, 1]
        fpr, tpr, thresholds = sk_metrics.roc_curve(truth, score)
        roc = RocCurve(names[1], tuple(fpr.tolist()), tuple(tpr.tolist()),
                       tuple(thresholds.tolist()), float(sk_metrics.roc_auc_score(truth, score)))
    return ClassificationResults(
        tuple(truth.tolist()), tuple(predicted.tolist()),
        tuple(map(tuple, probabilities.tolist())), tuple(map(tuple, confusion.tolist())),
        tuple(map(tuple, normalised.tolist())), scores,
        float(sk_metrics.accuracy_score(truth, predicted)), roc)


def regression_results(y: np.ndarray, outputs: np.ndarray) -> RegressionResults:
    count = len(y)
    truth = np.asarray(y, dtype="float64").reshape(count, -1)
    guess = np.asarray(outputs, dtype="float64").reshape(count, -1)
    if truth.shape != guess.shape:
        raise DatasetError(f"The model predicts {guess.shape[1]} values per sample, but the "
                           f"data has {truth.shape[1]}.")
    r2 = float(sk_metrics.r2_score(truth, guess)) if count >= 2 else float("nan")
    return RegressionResults(
        tuple(truth.ravel().tolist()), tuple(guess.ravel().tolist()),
        tuple((guess - truth).ravel().tolist()),
        float(sk_metrics.mean_absolute_error(truth, guess)),
        float(sk_metrics.root_mean_squared_error(truth, guess)), r2, truth.shape[1])


def gallery_samples(x: np.ndarray, scale: float | None, feature_names: tuple[str, ...] = (),
                    as_read: bool = True) -> GallerySamples:
    """The inputs of ``x`` as the gallery shows them: grey or colour pixels, or rows.

    Raw images are scaled by their known maximum (``scale``), as the Data tab shows them;
    normalised ones (``as_read`` False) are stretched from their minimum to their maximum.
    """
    shape = tuple(int(d) for d in x.shape[1:])
    if len(shape) == 3 and shape[2] in (1, 3):
        values = x.astype("float32")
        if as_read:
            low, top = 0.0, scale or float(max(values.max(initial=0.0), 1.0))
        else:
            low = float(values.min(initial=0.0))
            top = float(values.max(initial=0.0)) - low or 1.0
        pixels = np.clip((values - low) / top * 255.0, 0, 255).astype("uint8")
        return GallerySamples(len(x), (shape[0], shape[1], shape[2]), pixels.tobytes(),
                              as_read=as_read)
    flat = x.reshape(len(x), -1).astype("float64")
    return GallerySamples(len(x), feature_names=feature_names_for(feature_names, flat.shape[1]),
                          values=array("d", flat.tobytes()), as_read=as_read)


def loaded_gallery(data: LoadedData, split: str) -> GallerySamples:
    """The gallery for data known only normalised (no source to read the raw values from)."""
    _, x, _, _ = choose_split(data, split)
    return gallery_samples(x, None, as_read=False)


def evaluate_dataset(model: keras.Model, spec: DatasetSpec, split: str = "test",
                     batch_size: int = DEFAULT_BATCH_SIZE, progress: Progress | None = None,
                     cancelled: Cancelled | None = None) -> EvaluationReport:
    """Load ``spec`` as training did and evaluate; the gallery shows the samples as read."""
    raw = read_source(spec.source, spec.seed, progress, cancelled)
    _check(cancelled)
    # load_dataset's steps, keeping the raw samples of the evaluated split for the gallery.
    train, val, test = split_indices(raw.y, spec, spec.info)
    x_train, x_val, x_test, how = normalise(raw.x[train], raw.x[val], raw.x[test],
                                            spec.normalization, raw.scale)
    data = LoadedData(spec.info, x_train, raw.y[train], x_val, raw.y[val], x_test, raw.y[test],
                      how)
    if progress:
        progress("Evaluating", 0, None)
    evaluation = evaluate(model, data, split, batch_size, cancelled)
    shown = {"train": train, "validation": val, "test": test}[evaluation.split]
    return EvaluationReport(evaluation,
                            gallery_samples(raw.x[shown], raw.scale, raw.feature_names))


def _check_fits(model: keras.Model, data: LoadedData) -> None:
    """Refuse a model whose outputs do not fit the data, before Keras fails obscurely."""
    outputs = getattr(model, "outputs", None)
    if not outputs or len(outputs) != 1:
        return  # a subclassed or multi-output model: let Keras judge
    shape = tuple(outputs[0].shape[1:])
    if None in shape:
        return
    given = int(np.prod(shape)) if shape else 1
    info = data.info
    if info.task == "classification":
        if given == info.num_classes or (info.num_classes == 2 and given == 1):
            return
        raise DatasetError(f"The model gives {given} outputs per sample, but the data has "
                           f"{info.num_classes} classes.")
    wanted = int(np.prod(data.y_train.shape[1:])) if data.y_train.ndim > 1 else 1
    if given != wanted:
        raise DatasetError(f"The model predicts {given} values per sample, but the data has "
                           f"{wanted}.")


def _ensure_compiled(model: keras.Model, data: LoadedData) -> None:
    """A model without a loss (built, or saved uncompiled) gets the task's default one."""
    if getattr(model, "compiled", False) and model.loss is not None:
        return
    from studio.core.training_config import TrainingConfig
    from studio.ml.training import compile_model

    compile_model(model, TrainingConfig(), data.info.task)


def _check(cancelled: Cancelled | None) -> None:
    if cancelled is not None and cancelled():
        raise EvaluationCancelled("The evaluation was cancelled.")


def _stopper(model: keras.Model, cancelled: Cancelled) -> keras.callbacks.Callback:
    """Ends Keras' evaluate or predict loop after the current batch once asked to."""

    def stop_evaluating(batch: int, logs: object = None) -> None:
        if cancelled():
            model.stop_evaluating = True

    def stop_predicting(batch: int, logs: object = None) -> None:
        if cancelled():
            model.stop_predicting = True

    return keras.callbacks.LambdaCallback(on_test_batch_end=stop_evaluating,
                                          on_predict_batch_end=stop_predicting)
