"""Metrics computed by scikit-learn on the validation split at the end of every epoch.

Keras' Precision, Recall and AUC expect one-hot or binary labels; the studio trains with class
indices and softmax, so macro-averaged precision, recall, F1 and ROC AUC (one-vs-rest) come
from scikit-learn on the epoch's predictions instead, and R² for regressions. They are added
to the epoch's logs as ``val_<name>`` before any later callback (early stopping, the studio's
own) sees them.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np
from sklearn import metrics as sk_metrics


class ValidationMetrics(keras.callbacks.Callback):
    def __init__(self, x_val: np.ndarray, y_val: np.ndarray, names: tuple[str, ...],
                 num_classes: int, batch_size: int) -> None:
        super().__init__()
        self._x, self._y = x_val, y_val
        self._names = names
        self._classes = num_classes
        self._batch_size = batch_size
        #: How predictions are made; the multi-worker loop calls the model itself, where
        #: ``predict`` is not available.
        self.predict: Callable[[np.ndarray], np.ndarray] = lambda x: self.model.predict(
            x, batch_size=self._batch_size, verbose=0)

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        if logs is None or not self._names:
            return
        predicted = np.asarray(self.predict(self._x))
        for name in self._names:
            logs[f"val_{name}"] = self._score(name, predicted)

    def _score(self, name: str, predicted: np.ndarray) -> float:
        y = self._y
        if name == "r2":
            return float(sk_metrics.r2_score(y, predicted.reshape(y.shape)))
        labels = list(range(self._classes))
        if name == "auc":
            if not np.all(np.isfinite(predicted)):
                return float("nan")
            if len(np.unique(y)) < 2:
                return float("nan")  # undefined with one class in the validation split
            if self._classes == 2:
                return float(sk_metrics.roc_auc_score(y, predicted[:, 1]))
            probabilities = predicted / np.clip(predicted.sum(axis=1, keepdims=True), 1e-12,
                                                None)
            return float(sk_metrics.roc_auc_score(y, probabilities, multi_class="ovr",
                                                  labels=labels))
        chosen = predicted.argmax(axis=1)
        score = {"precision": sk_metrics.precision_score, "recall": sk_metrics.recall_score,
                 "f1": sk_metrics.f1_score}[name]
        return float(score(y, chosen, labels=labels, average="macro", zero_division=0))
