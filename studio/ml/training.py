"""Train a compiled-from-settings model on loaded data: the engine shared by window and CLI."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import keras

from studio.core.control import TrainingControl
from studio.core.dataset_catalog import Task
from studio.core.events import EventSink, TrainingEnded, TrainingStarted
from studio.core.training_config import TrainingConfig
from studio.ml.callback import StudioCallback, TrainingStopped
from studio.ml.datasets import LoadedData
from studio.ml.normalization import adapt_normalization
from studio.ml.pipeline import make_pipeline


@dataclass
class TrainingResult:
    """The (possibly partly) trained model and what happened."""

    model: keras.Model
    history: list[dict[str, float]] = field(default_factory=list)
    stopped_early: bool = False
    diverged: bool = False  # loss became NaN or infinite

    @property
    def epochs_completed(self) -> int:
        return len(self.history)


def make_optimizer(config: TrainingConfig) -> keras.optimizers.Optimizer:
    classes = {
        "adam": keras.optimizers.Adam,
        "sgd": keras.optimizers.SGD,
        "rmsprop": keras.optimizers.RMSprop,
        "adamw": keras.optimizers.AdamW,
    }
    return classes[config.optimizer](learning_rate=config.learning_rate)


def compile_model(model: keras.Model, config: TrainingConfig, task: Task) -> None:
    """Classification: sparse cross-entropy and accuracy; regression: MSE and MAE."""
    if task == "classification":
        loss: keras.losses.Loss = keras.losses.SparseCategoricalCrossentropy()
        metric: keras.metrics.Metric = keras.metrics.SparseCategoricalAccuracy(name="accuracy")
    else:
        loss = keras.losses.MeanSquaredError()
        metric = keras.metrics.MeanAbsoluteError(name="mae")
    model.compile(optimizer=make_optimizer(config), loss=loss, metrics=[metric])


def main_metric(task: Task) -> str:
    return "accuracy" if task == "classification" else "mae"


def run_training(model: keras.Model, data: LoadedData, config: TrainingConfig,
                 sink: EventSink, control: TrainingControl, *, seed: int = 0) -> TrainingResult:
    """Blocking, thread-agnostic training with progress sent to ``sink``.

    ``control`` may stop or pause it from another thread; the model keeps whatever it learned
    up to the last finished batch.
    """
    if not model.compiled:  # a fresh model: learn the input statistics, then compile
        adapt_normalization(model, data.x_train)
        compile_model(model, config, data.info.task)
    train = make_pipeline(data.x_train, data.y_train, config.batch_size, shuffle=True, seed=seed)
    val = make_pipeline(data.x_val, data.y_val, config.batch_size, shuffle=False, seed=seed)
    steps = math.ceil(len(data.x_train) / config.batch_size)
    callback = StudioCallback(sink, control, epochs=config.epochs, steps_per_epoch=steps,
                              batch_size=config.batch_size)
    sink(TrainingStarted(config.epochs, steps, len(data.x_train), len(data.x_val),
                         metric=main_metric(data.info.task)))
    stopped = control.stop_requested
    if not stopped:
        try:
            model.fit(train, validation_data=val, epochs=config.epochs, verbose=0,
                      shuffle=False, callbacks=[keras.callbacks.TerminateOnNaN(), callback])
        except TrainingStopped:
            stopped = True
    history = callback.history
    diverged = bool(history) and not math.isfinite(history[-1].get("loss", 0.0))
    stopped = stopped or len(history) < config.epochs
    sink(TrainingEnded(len(history), stopped))
    return TrainingResult(model, history, stopped, diverged)
