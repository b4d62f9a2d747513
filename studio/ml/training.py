"""Train a model on loaded data with the project's settings: the engine shared by window and CLI."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from studio.core.control import TrainingControl
from studio.core.dataset_catalog import Task
from studio.core.errors import OutOfMemory, StudioError
from studio.core.events import EpochEnded, EventSink, TrainingEnded, TrainingStarted
from studio.core.training_config import TrainingConfig, higher_is_better
from studio.ml.callback import StudioCallback, TrainingStopped
from studio.ml.datasets import LoadedData
from studio.ml.normalization import adapt_normalization
from studio.ml.pipeline import make_pipeline
from studio.ml.placement import ResolvedPlacement
from studio.ml.schedules import LearningRatePolicy, schedule_callbacks
from studio.ml.validation_metrics import ValidationMetrics


@dataclass
class TrainingResult:
    """The (possibly partly) trained model and what happened."""

    model: keras.Model
    history: list[dict[str, float]] = field(default_factory=list)
    stopped_early: bool = False
    diverged: bool = False  # loss became NaN or infinite
    reason: str = ""  # why it ended before the last epoch, in words
    test_logs: dict[str, float] = field(default_factory=dict)  # on the test split, if any

    @property
    def epochs_completed(self) -> int:
        return len(self.history)


def make_optimizer(config: TrainingConfig) -> keras.optimizers.Optimizer:
    rate = config.learning_rate
    name = config.optimizer
    if name == "sgd":
        return keras.optimizers.SGD(rate, momentum=config.momentum, nesterov=config.nesterov)
    if name == "rmsprop":
        return keras.optimizers.RMSprop(rate, momentum=config.momentum)
    if name == "adagrad":
        return keras.optimizers.Adagrad(rate)
    betas = {"beta_1": config.beta_1, "beta_2": config.beta_2}
    if name == "adamw":
        return keras.optimizers.AdamW(rate, weight_decay=config.weight_decay, **betas)
    if name == "nadam":
        return keras.optimizers.Nadam(rate, **betas)
    return keras.optimizers.Adam(rate, **betas)


def main_metric(task: Task) -> str:
    return "accuracy" if task == "classification" else "mae"


def compile_model(model: keras.Model, config: TrainingConfig, task: Task,
                  jit_compile: bool | str = "auto") -> None:
    """Loss from the task unless overridden; accuracy or MAE always; MSE/RMSE on request.

    The other requested metrics (precision, recall, F1, AUC, R²) come from scikit-learn on the
    validation split (``ValidationMetrics``). A model computing in float16 gets a loss-scaling
    optimizer, so small gradients do not underflow to zero.
    """
    losses = {
        "sparse_categorical_crossentropy": keras.losses.SparseCategoricalCrossentropy,
        "mean_squared_error": keras.losses.MeanSquaredError,
        "mean_absolute_error": keras.losses.MeanAbsoluteError,
        "huber": keras.losses.Huber,
    }
    loss = losses[config.loss_for(task)]()
    metrics: list[keras.metrics.Metric]
    if task == "classification":
        metrics = [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
    else:
        metrics = [keras.metrics.MeanAbsoluteError(name="mae")]
        extras = config.metrics_for(task)
        if "mse" in extras:
            metrics.append(keras.metrics.MeanSquaredError(name="mse"))
        if "rmse" in extras:
            metrics.append(keras.metrics.RootMeanSquaredError(name="rmse"))
    optimizer = make_optimizer(config)
    if any(layer.dtype_policy.name == "mixed_float16" for layer in model.layers):
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics, jit_compile=jit_compile)


def class_weights(y_train: np.ndarray, num_classes: int) -> dict[int, float]:
    """Weights inversely proportional to class frequency (scikit-learn's "balanced")."""
    from sklearn.utils.class_weight import compute_class_weight

    present = np.unique(y_train)
    weights = compute_class_weight("balanced", classes=present, y=y_train)
    result = {int(c): 1.0 for c in range(num_classes)}
    result.update({int(c): float(w) for c, w in zip(present, weights, strict=True)})
    return result


def run_training(model: keras.Model, data: LoadedData, config: TrainingConfig,
                 sink: EventSink, control: TrainingControl, *, seed: int = 0,
                 log_dir: Path | None = None,
                 extra_callbacks: list[keras.callbacks.Callback] | None = None,
                 prior_history: list[dict[str, float]] | None = None,
                 placement: ResolvedPlacement | None = None) -> TrainingResult:
    """Blocking, thread-agnostic training with progress sent to ``sink``.

    ``control`` may stop or pause it from another thread, and change the learning rate or the
    number of epochs while paused; the model keeps whatever it learned up to the last
    finished batch. ``log_dir`` receives TensorBoard logs when the settings ask for them.
    ``prior_history`` holds the epochs of an interrupted run that a BackupAndRestore among
    ``extra_callbacks`` resumes: they are sent again (``replayed``) so curves are whole.
    ``placement`` says where it trains (the model must have been made in its strategy's
    scope). Running out of accelerator memory raises ``OutOfMemory`` naming the batch size.
    """
    try:
        return _run_training(model, data, config, sink, control, seed, log_dir,
                             extra_callbacks, prior_history, placement)
    except tf.errors.ResourceExhaustedError:
        size = config.batch_size
        smaller = f" (try {size // 2})" if size > 1 else ""
        raise OutOfMemory(
            f"The device ran out of memory with batch size {size}. Use a smaller batch"
            f"{smaller}, turn on mixed precision, or find the largest batch that fits "
            "(Devices tab).", batch_size=size) from None


def _run_training(model: keras.Model, data: LoadedData, config: TrainingConfig,
                  sink: EventSink, control: TrainingControl, seed: int, log_dir: Path | None,
                  extra_callbacks: list[keras.callbacks.Callback] | None,
                  prior_history: list[dict[str, float]] | None,
                  placement: ResolvedPlacement | None) -> TrainingResult:
    task = data.info.task
    if not model.compiled:  # a fresh model: learn the input statistics, then compile
        adapt_normalization(model, data.x_train)
        compile_model(model, config, task,
                      placement.jit_compile if placement is not None else "auto")
    train = make_pipeline(data.x_train, data.y_train, config.batch_size, shuffle=True, seed=seed)
    val = make_pipeline(data.x_val, data.y_val, config.batch_size, shuffle=False, seed=seed)
    steps = math.ceil(len(data.x_train) / config.batch_size)
    callback = StudioCallback(sink, control, epochs=config.epochs, steps_per_epoch=steps,
                              batch_size=config.batch_size)
    callbacks = training_callbacks(config, data, log_dir)
    callback.schedule = next((c for c in callbacks if isinstance(c, LearningRatePolicy)), None)
    # The studio's callback records the epoch before any backup is written (extra callbacks
    # come after it): a run killed in between resumes with that epoch cut from its history.
    callbacks += [callback, *(extra_callbacks or [])]
    weights = (class_weights(data.y_train, data.info.num_classes)
               if config.class_weight == "balanced" and task == "classification" else None)
    prior = list(prior_history or [])
    callback.history.extend(prior)
    sink(TrainingStarted(config.epochs, steps, len(data.x_train), len(data.x_val),
                         initial_epoch=len(prior), metric=main_metric(task),
                         device=placement.summary(config.batch_size) if placement else "",
                         device_notes=placement.notes if placement else ()))
    for epoch, row in enumerate(prior):
        sink(EpochEnded(epoch, config.epochs, 0.0, row, replayed=True))
    stopped = control.stop_requested
    early = next((c for c in callbacks if isinstance(c, keras.callbacks.EarlyStopping)), None)
    while not stopped and len(callback.history) < callback.epochs:
        # Fit again from where it ended when the user raised the number of epochs.
        done = len(callback.history)
        # Keras' BackupAndRestore sets this when it resumes a run, and fit prefers it to its
        # initial_epoch argument: a second fit would train the resumed epochs again. (A
        # resuming backup sets it again inside fit.)
        model._initial_epoch = None
        try:
            model.fit(train, validation_data=val, initial_epoch=done, epochs=callback.epochs,
                      verbose=0, shuffle=False, callbacks=callbacks, class_weight=weights)
        except TrainingStopped:
            stopped = True
        # Only a raised number of epochs continues; early stopping, NaN or a lowered number
        # of epochs end the run (they set stop_training).
        if len(callback.history) == done or model.stop_training:
            break
    history = callback.history
    reason, diverged = end_reason(config, history, stopped, early)
    stopped = stopped or len(history) < callback.epochs
    test_logs: dict[str, float] = {}
    if len(data.x_test) and history and not diverged:
        test = make_pipeline(data.x_test, data.y_test, config.batch_size, shuffle=False,
                             seed=seed)
        test_logs = {key: float(value) for key, value in
                     model.evaluate(test, verbose=0, return_dict=True).items()}
    sink(TrainingEnded(len(history), stopped, reason, test_logs))
    return TrainingResult(model, history, stopped, diverged, reason, test_logs)


def end_reason(config: TrainingConfig, history: list[dict[str, float]], stopped: bool,
               early: keras.callbacks.EarlyStopping | None) -> tuple[str, bool]:
    """Why a run ended before its last epoch, in words ("" if it did not), and whether its
    loss became NaN or infinite."""
    diverged = bool(history) and not math.isfinite(history[-1].get("loss", 0.0))
    if stopped:
        return "stopped by the user", diverged
    if diverged:
        return "the loss became NaN or infinite", diverged
    if early is not None and early.stopped_epoch > 0:
        reason = (f"early stopping: {config.monitor} did not improve for {config.patience} "
                  "epochs")
        if config.restore_best_weights:
            reason += f"; the weights of epoch {early.best_epoch + 1} were restored"
        return reason, diverged
    return "", diverged


def training_callbacks(config: TrainingConfig, data: LoadedData, log_dir: Path | None
               ) -> list[keras.callbacks.Callback]:
    """Order matters: metrics first (they add logs), then what reads the logs."""
    task = data.info.task
    stop_on_nan = keras.callbacks.TerminateOnNaN()
    # Its check may run on Keras' callback threads where the backend allows it (not with
    # TensorFlow's): the loop then never waits each batch for the loss to come back from the
    # device (it stops within a batch or two of a NaN).
    stop_on_nan.async_safe = True
    callbacks: list[keras.callbacks.Callback] = [stop_on_nan]
    extra = tuple(m for m in config.metrics_for(task) if m not in ("mse", "rmse"))
    if extra:
        callbacks.append(ValidationMetrics(data.x_val, data.y_val, extra,
                                           data.info.num_classes, config.batch_size))
    callbacks += schedule_callbacks(config, config.epochs)
    if config.early_stopping:
        callbacks.append(keras.callbacks.EarlyStopping(
            monitor=config.monitor, patience=config.patience,
            mode="max" if higher_is_better(config.monitor) else "min",
            restore_best_weights=config.restore_best_weights, verbose=0))
    if config.tensorboard and log_dir is not None:
        _require_tensorboard()
        callbacks.append(keras.callbacks.TensorBoard(log_dir=str(log_dir), histogram_freq=0,
                                                     write_graph=False))
    return callbacks


def _require_tensorboard() -> None:
    """Keras' TensorBoard callback needs the tensorboard package, which the studio does not
    require: say so before training rather than fail in its first epoch."""
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        raise StudioError("The training settings ask for TensorBoard logs, which need the "
                          "tensorboard package: install it (pip install "
                          "'training-studio[tensorboard]') or turn 'TensorBoard logs' off.") \
            from None
