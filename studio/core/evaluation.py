"""What evaluating a trained model found, as plain data the Evaluate tab can show.

No numpy: the ML side turns its arrays into tuples once (``tolist`` takes milliseconds even
for tens of thousands of samples), the result crosses to the UI by reference in a queued
signal, and this module is testable alone. Per-sample inputs for the error gallery are the
heavy part, so they travel compactly: pixels as one ``bytes`` blob, feature rows as a flat
``array('d')`` (8 bytes a value, not a Python float object each).
"""

from __future__ import annotations

from array import array
from collections.abc import Mapping
from dataclasses import dataclass, field

from studio.core.dataset_catalog import DatasetInfo
from studio.core.errors import StudioError

#: The splits a model can be evaluated on, in order of preference.
SPLITS = ("test", "validation", "train")


class EvaluationCancelled(StudioError):
    """The user cancelled an evaluation before it finished."""


@dataclass(frozen=True)
class ClassScore:
    """scikit-learn's precision, recall and F1 of one class, and how many samples it has."""

    name: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class RocCurve:
    """A binary classifier's ROC curve, scored by the probability of ``positive``."""

    positive: str
    fpr: tuple[float, ...]
    tpr: tuple[float, ...]
    thresholds: tuple[float, ...]
    auc: float


@dataclass(frozen=True)
class ClassificationResults:
    labels: tuple[int, ...]  # the true class of each sample
    predicted: tuple[int, ...]  # the most probable class
    probabilities: tuple[tuple[float, ...], ...]  # per sample, per class
    confusion: tuple[tuple[int, ...], ...]  # rows: true class; columns: predicted class
    confusion_normalised: tuple[tuple[float, ...], ...]  # each row divided by its total
    per_class: tuple[ClassScore, ...]
    accuracy: float
    roc: RocCurve | None = None  # binary tasks with both classes present only

    def confidence(self, index: int) -> float:
        """The probability the model gave the class it predicted for sample ``index``."""
        return self.probabilities[index][self.predicted[index]]


@dataclass(frozen=True)
class RegressionResults:
    """Per-value pairs, flattened (``outputs`` values per sample), and scikit-learn's scores."""

    targets: tuple[float, ...]
    predicted: tuple[float, ...]
    residuals: tuple[float, ...]  # predicted minus true
    mae: float
    rmse: float
    r2: float
    outputs: int = 1


@dataclass(frozen=True)
class Evaluation:
    info: DatasetInfo
    split: str  # one of SPLITS
    samples: int
    #: Loss and metrics as Keras' ``evaluate`` reports them.
    logs: Mapping[str, float] = field(default_factory=dict)
    #: Why the split is not the one asked for, in words ("" when it is).
    note: str = ""
    classification: ClassificationResults | None = None
    regression: RegressionResults | None = None

    @property
    def class_names(self) -> tuple[str, ...]:
        names = self.info.class_names
        count = self.info.num_classes
        return names if len(names) == count else tuple(str(i) for i in range(count))

    def summary(self) -> str:
        """One line: which split, how many samples, loss and metrics."""
        parts = [f"{self.split.capitalize()} split, {self.samples:,} samples"]
        parts += [f"{name} {value:.1%}" if "acc" in name else f"{name} {_number(value)}"
                  for name, value in self.logs.items()]
        results = self.classification
        if results is not None and "accuracy" not in self.logs:
            parts.append(f"accuracy {results.accuracy:.1%}")
        if results is not None and results.roc is not None:
            parts.append(f"ROC AUC {results.roc.auc:.3f}")
        fit = self.regression
        if fit is not None:  # what Keras did not already report
            parts += [f"{name} {_number(value)}" for name, value in
                      (("MAE", fit.mae), ("RMSE", fit.rmse)) if name.lower() not in self.logs]
            parts.append(f"R² {_number(fit.r2)}")
        text = ": ".join([parts[0], ", ".join(parts[1:])]) if len(parts) > 1 else parts[0]
        return f"{text}. {self.note}" if self.note else f"{text}."


@dataclass(frozen=True)
class GallerySamples:
    """The evaluated split's inputs, indexed like the evaluation's samples.

    ``as_read`` is False when only normalised inputs were at hand: images are then stretched
    to the full grey range and rows show the values the model saw.
    """

    count: int
    image_shape: tuple[int, int, int] | None = None  # height, width, channels
    pixels: bytes = b""  # uint8, count x height x width x channels
    feature_names: tuple[str, ...] = ()
    values: array[float] = field(default_factory=lambda: array("d"))  # count x features
    as_read: bool = True

    @property
    def is_images(self) -> bool:
        return self.image_shape is not None

    def image(self, index: int) -> bytes:
        assert self.image_shape is not None
        height, width, channels = self.image_shape
        size = height * width * channels
        return self.pixels[index * size:(index + 1) * size]

    def row(self, index: int) -> tuple[float, ...]:
        width = len(self.feature_names)
        return tuple(self.values[index * width:(index + 1) * width])


@dataclass(frozen=True)
class EvaluationReport:
    """What the evaluation worker hands to the Evaluate tab."""

    evaluation: Evaluation
    gallery: GallerySamples


def samples_in_cell(evaluation: Evaluation, true_class: int, predicted_class: int
                    ) -> list[int]:
    """Indices of the samples of class ``true_class`` predicted as ``predicted_class``.

    Sorted by the probability given to the predicted class, highest first: off the diagonal
    the most confidently wrong come first, which are the ones worth looking at (a wrong
    label, or a real blind spot); ties keep sample order.
    """
    results = evaluation.classification
    if results is None:
        return []
    chosen = [i for i, (true, guess) in enumerate(zip(results.labels, results.predicted,
                                                      strict=True))
              if true == true_class and guess == predicted_class]
    return sorted(chosen, key=lambda i: -results.confidence(i))


def confusion_text(evaluation: Evaluation, mistakes: int = 3) -> str:
    """The confusion matrix in words (a text alternative for screen readers)."""
    results = evaluation.classification
    if results is None:
        return ""
    names = evaluation.class_names
    errors = sorted(((count, true, guess) for true, row in enumerate(results.confusion)
                     for guess, count in enumerate(row) if true != guess and count),
                    key=lambda item: (-item[0], item[1], item[2]))
    correct = sum(results.confusion[c][c] for c in range(len(results.confusion)))
    text = (f"{correct:,} of {evaluation.samples:,} samples classified correctly "
            f"({results.accuracy:.1%}).")
    if errors:
        listed = "; ".join(f"{names[true]} taken for {names[guess]} {count:,} "
                           f"time{'s' if count > 1 else ''}"
                           for count, true, guess in errors[:mistakes])
        text += f" Most frequent mistakes: {listed}."
    return text


def roc_text(roc: RocCurve) -> str:
    return (f"ROC curve for class '{roc.positive}': area under the curve {roc.auc:.3f} "
            "(1 is perfect, 0.5 is chance).")


def regression_text(results: RegressionResults) -> str:
    low = min(results.residuals, default=0.0)
    high = max(results.residuals, default=0.0)
    return (f"{len(results.targets):,} predicted values against the true ones: MAE "
            f"{_number(results.mae)}, RMSE {_number(results.rmse)}, R² {_number(results.r2)}; "
            f"residuals from {_number(low)} to {_number(high)}.")


def _number(value: float) -> str:
    return f"{value:.4g}"
