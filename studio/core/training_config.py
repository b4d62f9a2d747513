"""Training settings saved in a project and shared by the window and ``studio train``.

Every setting has a default, so an older project (or a hand-written one) that names only a few
of them still loads. Each is checked with a message that names it and its allowed values.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from studio.core.errors import ProjectError

OPTIMIZERS = ("adam", "sgd", "rmsprop", "adamw", "adagrad", "nadam")
#: Which optional settings each optimizer uses (the form shows only these).
OPTIMIZER_SETTINGS: Mapping[str, tuple[str, ...]] = {
    "adam": ("beta_1", "beta_2"),
    "sgd": ("momentum", "nesterov"),
    "rmsprop": ("momentum",),
    "adamw": ("beta_1", "beta_2", "weight_decay"),
    "adagrad": (),
    "nadam": ("beta_1", "beta_2"),
}
SCHEDULES = ("constant", "step", "exponential", "cosine", "plateau")
SCHEDULE_TEXT = {
    "constant": "Constant",
    "step": "Step decay (times factor every N epochs)",
    "exponential": "Exponential (times factor every epoch)",
    "cosine": "Cosine (down to 0 at the last epoch)",
    "plateau": "Reduce on plateau (times factor after N epochs without progress)",
}
#: "auto" picks from the task: sparse cross-entropy to classify, mean squared error otherwise.
LOSSES = ("auto", "sparse_categorical_crossentropy", "mean_squared_error",
          "mean_absolute_error", "huber")
CLASSIFICATION_LOSSES = ("sparse_categorical_crossentropy",)
REGRESSION_LOSSES = ("mean_squared_error", "mean_absolute_error", "huber")
#: Extra metrics; accuracy (classification) or MAE (regression) is always shown.
CLASSIFICATION_METRICS = ("precision", "recall", "f1", "auc")
REGRESSION_METRICS = ("mse", "rmse", "r2")
CLASS_WEIGHTS = ("none", "balanced")


@dataclass(frozen=True)
class TrainingConfig:
    """How to train: the optimizer and its schedule, loss, metrics, stopping and weighting."""

    epochs: int = 10
    batch_size: int = 32
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    momentum: float = 0.9
    nesterov: bool = False
    beta_1: float = 0.9
    beta_2: float = 0.999
    weight_decay: float = 0.004
    schedule: str = "constant"
    schedule_factor: float = 0.5
    schedule_every: int = 10
    loss: str = "auto"
    metrics: tuple[str, ...] = ()
    early_stopping: bool = False
    monitor: str = "val_loss"
    patience: int = 5
    restore_best_weights: bool = True
    class_weight: str = "none"
    deterministic: bool = False
    tensorboard: bool = False

    def __post_init__(self) -> None:
        _check_int("epochs", self.epochs, 1, 100_000)
        _check_int("batch_size", self.batch_size, 1, 65_536)
        _check_int("schedule_every", self.schedule_every, 1, 10_000)
        _check_int("patience", self.patience, 1, 10_000)
        _check_choice("optimizer", self.optimizer, OPTIMIZERS)
        _check_choice("schedule", self.schedule, SCHEDULES)
        _check_choice("loss", self.loss, LOSSES)
        _check_choice("class_weight", self.class_weight, CLASS_WEIGHTS)
        _check_number("learning_rate", self.learning_rate, 1e-7, 10)
        _check_number("momentum", self.momentum, 0.0, 0.9999)
        _check_number("beta_1", self.beta_1, 0.0, 0.9999)
        _check_number("beta_2", self.beta_2, 0.0, 0.99999)
        _check_number("weight_decay", self.weight_decay, 0.0, 1.0)
        _check_number("schedule_factor", self.schedule_factor, 0.001, 0.999)
        for name in ("nesterov", "early_stopping", "restore_best_weights", "deterministic",
                     "tensorboard"):
            if not isinstance(getattr(self, name), bool):
                raise ProjectError(f"training.{name} must be true or false; "
                                   f"got {getattr(self, name)!r}.")
        known = CLASSIFICATION_METRICS + REGRESSION_METRICS
        if not isinstance(self.metrics, tuple) or any(m not in known for m in self.metrics):
            raise ProjectError(f"training.metrics must be a list drawn from "
                               f"{', '.join(known)}; got {list(self.metrics)!r}.")
        if not isinstance(self.monitor, str) or not self.monitor.replace("_", "").isalnum():
            raise ProjectError(f"training.monitor must name a logged value such as val_loss; "
                               f"got {self.monitor!r}.")

    def loss_for(self, task: str) -> str:
        """The loss to train with; raises ProjectError when it does not fit the task."""
        if self.loss == "auto":
            return ("sparse_categorical_crossentropy" if task == "classification"
                    else "mean_squared_error")
        allowed = CLASSIFICATION_LOSSES if task == "classification" else REGRESSION_LOSSES
        if self.loss not in allowed:
            raise ProjectError(f"training.loss {self.loss} does not fit a {task}; use "
                               f"{' or '.join(allowed)} (or auto).")
        return self.loss

    def metrics_for(self, task: str) -> tuple[str, ...]:
        """The extra metrics that apply to ``task`` (others are ignored, not refused)."""
        allowed = CLASSIFICATION_METRICS if task == "classification" else REGRESSION_METRICS
        return tuple(m for m in self.metrics if m in allowed)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["metrics"] = list(self.metrics)
        return data

    @classmethod
    def from_dict(cls, data: object) -> TrainingConfig:
        if not isinstance(data, Mapping):
            raise ProjectError("'training' must be an object such as {\"epochs\": 10}.")
        unknown = sorted(set(data) - {f.name for f in fields(cls)})
        if unknown:
            raise ProjectError(f"training: unknown setting {unknown[0]!r}.")
        values = dict(data)
        if "metrics" in values:
            metrics = values["metrics"]
            if not isinstance(metrics, list) or not all(isinstance(m, str) for m in metrics):
                raise ProjectError("training.metrics must be a list of metric names.")
            values["metrics"] = tuple(metrics)
        return cls(**values)


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ProjectError(
            f"training.{name} must be a whole number from {low} to {high}; got {value!r}."
        )


def _check_number(name: str, value: object, low: float, high: float) -> None:
    if (isinstance(value, bool) or not isinstance(value, int | float)
            or not math.isfinite(value) or not low <= value <= high):
        raise ProjectError(f"training.{name} must be a number from {low:g} to {high:g}; "
                           f"got {value!r}.")


def _check_choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ProjectError(f"training.{name} must be one of {', '.join(choices)}; "
                           f"got {value!r}.")


#: Words in a metric's name that mean "higher is better" (accuracy, AUC, F1, R², IoU ...).
HIGHER_IS_BETTER_WORDS = ("acc", "auc", "precision", "recall", "f1", "r2", "iou", "dice")


def higher_is_better(metric: str) -> bool:
    """True for accuracy-like metric names, False for loss- and error-like ones (what early
    stopping and the best checkpoint must be told: Keras refuses to guess for most names)."""
    name = metric.lower()
    return any(word in name for word in HIGHER_IS_BETTER_WORDS)
