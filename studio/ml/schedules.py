"""Learning-rate schedules as a callback, so the rate stays a plain variable.

Keras' LearningRateSchedule objects would make the optimizer's rate a function of the step,
which the user could then not change while paused. Here the callback sets the rate at the
start of each epoch from a base rate, and ``rebase`` restarts the schedule from a new rate.
"""

from __future__ import annotations

import math

import keras

from studio.core.training_config import TrainingConfig


class LearningRatePolicy(keras.callbacks.Callback):
    """Step, exponential or cosine decay per epoch (constant and plateau are not handled here)."""

    def __init__(self, config: TrainingConfig, epochs: int) -> None:
        super().__init__()
        self.kind = config.schedule
        self.factor = config.schedule_factor
        self.every = config.schedule_every
        self.epochs = epochs
        self.base = config.learning_rate
        self.start_epoch = 0

    def rebase(self, learning_rate: float, epoch: int, epochs: int) -> None:
        """The user set ``learning_rate`` at ``epoch``: decay from there (to ``epochs``)."""
        self.base, self.start_epoch, self.epochs = learning_rate, epoch, epochs

    def rate(self, epoch: int) -> float:
        done = max(0, epoch - self.start_epoch)
        if self.kind == "step":
            return self.base * self.factor ** (done // self.every)
        if self.kind == "exponential":
            return self.base * self.factor ** done
        if self.kind == "cosine":
            span = max(1, self.epochs - self.start_epoch)
            return self.base * 0.5 * (1 + math.cos(math.pi * min(done, span) / span))
        return self.base

    def on_epoch_begin(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        self.model.optimizer.learning_rate.assign(self.rate(epoch))


def schedule_callbacks(config: TrainingConfig, epochs: int) -> list[keras.callbacks.Callback]:
    if config.schedule == "constant":
        return []
    if config.schedule == "plateau":
        return [keras.callbacks.ReduceLROnPlateau(monitor="val_loss",
                                                  factor=config.schedule_factor,
                                                  patience=config.schedule_every,
                                                  min_lr=1e-7, verbose=0)]
    return [LearningRatePolicy(config, epochs)]
