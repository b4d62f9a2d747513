"""Safety files within a share of the training time: which epochs are written, and that the
best checkpoint still holds the best epoch. A fake clock stands in for the epochs' and the
writes' durations; the files are real."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from studio.core.run_record import BACKUP_DIR, resumable_epochs
from studio.ml import safety_files
from studio.ml.safety_files import BudgetedSaves, FiniteCheckpoint


@pytest.fixture(autouse=True)
def _first_write_guess(monkeypatch):
    """The schedules below are worked out for a first write guessed at 0.05 s (2.5 s)."""
    monkeypatch.setattr(safety_files, "FIRST_WRITE_GUESS_S", 0.05)


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class _SlowCheckpoint(FiniteCheckpoint):
    """Its writes take ``cost`` seconds of the fake clock."""

    def __init__(self, clock: _Clock, cost: float, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._fake_clock, self._cost = clock, cost

    def on_epoch_end(self, epoch, logs=None):
        self._fake_clock.now += self._cost
        super().on_epoch_end(epoch, logs)


def _saves(tmp_path, clock, cost):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    model.optimizer.build(model.trainable_variables)
    backup = keras.callbacks.BackupAndRestore(str(tmp_path / BACKUP_DIR),
                                              double_checkpoint=True)
    last = _SlowCheckpoint(clock, cost, str(tmp_path / "last.keras"))
    best = FiniteCheckpoint(str(tmp_path / "best.keras"), monitor="val_loss", mode="min",
                            save_best_only=True, twin=last)
    saves = BudgetedSaves(backup, last, best, share=0.02, clock=clock)
    saves.set_model(model)
    saves.set_params({"epochs": 100, "steps": 1, "verbose": 0})
    return model, saves


def _epoch(model, saves, clock, epoch, val_loss, seconds):
    """An epoch of ``seconds`` whose weights are all ``epoch`` (to tell them apart later)."""
    saves.on_epoch_begin(epoch)
    model.set_weights([np.full_like(w, epoch) for w in model.get_weights()])
    clock.now += seconds
    saves.on_epoch_end(epoch, {"loss": 1.0, "val_loss": val_loss})


def _short_epochs(model, saves, clock, losses, first=0):
    """Epochs of 0.2 s from ``first``, one per validation loss."""
    for epoch, loss in enumerate(losses, start=first):
        _epoch(model, saves, clock, epoch, loss, seconds=0.2)


def test_short_epochs_are_written_within_the_share_and_at_the_end(tmp_path):
    clock = _Clock()
    model, saves = _saves(tmp_path, clock, cost=0.1)
    saves.on_train_begin()
    # 0.2 s epochs, 2 %: the first write is due after 2.5 s (a 0.05 s write guessed), at
    # epoch 12; it takes 0.1 s, so the next is due 5 s later, 25 epochs later.
    losses = [1.0 - 0.01 * e for e in range(12)] + [2.0] * 28  # best: epoch 11
    _short_epochs(model, saves, clock, losses)
    assert saves.written == [12, 37]
    saves.on_train_end()
    assert saves.written == [12, 37, 39]
    best = keras.saving.load_model(tmp_path / "best.keras")
    assert all(np.all(w == 11) for w in best.get_weights()), "the kept best epoch was lost"
    last = keras.saving.load_model(tmp_path / "last.keras")
    assert all(np.all(w == 39) for w in last.get_weights())
    assert all(np.all(w == 39) for w in model.get_weights()), "the model's weights changed"


def test_long_epochs_are_written_every_epoch(tmp_path):
    clock = _Clock()
    model, saves = _saves(tmp_path, clock, cost=0.1)
    saves.on_train_begin()
    for epoch in range(4):
        _epoch(model, saves, clock, epoch, 1.0 - epoch, seconds=10.0)
    assert saves.written == [0, 1, 2, 3]


def test_a_run_killed_between_writes_resumes_from_the_last_write(tmp_path):
    clock = _Clock()
    model, saves = _saves(tmp_path, clock, cost=0.1)
    saves.on_train_begin()
    _short_epochs(model, saves, clock, [1.0] * 30)
    # Killed here: on_train_end never comes. The backup holds epochs 1-13.
    assert saves.written[-1] == 12
    assert resumable_epochs(tmp_path) == 13


def test_a_fits_last_epoch_is_written_before_the_fit_ends_but_not_into_the_backup(tmp_path):
    """Early stopping may restore the best weights as the fit ends: the last checkpoint is
    written before that. Keras removes the backup as the fit ends, so it is not rewritten."""
    clock = _Clock()
    model, saves = _saves(tmp_path, clock, cost=0.1)
    saves.set_params({"epochs": 30, "steps": 1, "verbose": 0})
    saves.on_train_begin()
    _short_epochs(model, saves, clock, [1.0] * 30)
    assert saves.written == [12, 29]
    assert resumable_epochs(tmp_path) == 13
    last = keras.saving.load_model(tmp_path / "last.keras")
    assert all(np.all(w == 29) for w in last.get_weights())


def test_a_stopped_run_flushes_its_waiting_epoch_and_keeps_its_backup(tmp_path):
    clock = _Clock()
    model, saves = _saves(tmp_path, clock, cost=0.1)
    saves.on_train_begin()
    _short_epochs(model, saves, clock, [1.0] * 12 + [0.9, 0.5, 0.9, 0.95])
    assert saves.written == [12]
    saves.flush()  # the user's stop ended the fit without on_train_end
    assert saves.written == [12, 15]
    assert resumable_epochs(tmp_path) == 13
    best = keras.saving.load_model(tmp_path / "best.keras")
    assert all(np.all(w == 13) for w in best.get_weights())
    last = keras.saving.load_model(tmp_path / "last.keras")
    assert all(np.all(w == 15) for w in last.get_weights())


def test_a_later_fit_writes_its_first_epoch_at_once(tmp_path):
    """The user raised the number of epochs: Keras removed the backup as the first fit ended,
    so the second fit's first epoch makes a new one without waiting for the budget."""
    clock = _Clock()
    model, saves = _saves(tmp_path, clock, cost=0.1)
    saves.set_params({"epochs": 3, "steps": 1, "verbose": 0})
    saves.on_train_begin()
    _short_epochs(model, saves, clock, [1.0] * 3)
    saves.on_train_end()
    assert saves.written == [2], "a short first fit: only its last epoch"
    saves.set_params({"epochs": 10, "steps": 1, "verbose": 0})
    saves.on_train_begin()
    _short_epochs(model, saves, clock, [1.0], first=3)
    assert saves.written == [2, 3]


def test_the_last_and_best_checkpoints_of_one_model_are_saved_once(tmp_path, saved_models):
    """The run's last epoch is its best: the best checkpoint copies the last one's file."""
    clock = _Clock()
    model, saves = _saves(tmp_path, clock, cost=0.1)
    saves.set_params({"epochs": 3, "steps": 1, "verbose": 0})
    saves.on_train_begin()
    _short_epochs(model, saves, clock, [1.0, 0.9, 0.8])
    assert saves.written == [2] and len(saved_models) == 1, saved_models
    assert (tmp_path / "best.keras").read_bytes() == (tmp_path / "last.keras").read_bytes()
    best = keras.saving.load_model(tmp_path / "best.keras")
    assert all(np.all(w == 2) for w in best.get_weights())
    assert not list(tmp_path.glob(".*.tmp*")), "a temporary file was left behind"


def test_a_kept_best_epoch_is_saved_from_its_own_weights(tmp_path):
    """The best checkpoint copies nothing when it holds another epoch than the last one."""
    clock = _Clock()
    model, saves = _saves(tmp_path, clock, cost=0.1)
    saves.set_params({"epochs": 3, "steps": 1, "verbose": 0})
    saves.on_train_begin()
    _short_epochs(model, saves, clock, [1.0, 0.5, 0.8])
    best = keras.saving.load_model(tmp_path / "best.keras")
    assert all(np.all(w == 1) for w in best.get_weights())
    last = keras.saving.load_model(tmp_path / "last.keras")
    assert all(np.all(w == 2) for w in last.get_weights())


def test_a_kept_best_epoch_survives_later_training_under_a_distribution_strategy(tmp_path):
    """The kept weights are copies (in host memory), however the variables are held."""
    import tensorflow as tf

    clock = _Clock()
    with tf.distribute.MirroredStrategy(["/cpu:0"]).scope():
        model, saves = _saves(tmp_path, clock, cost=0.1)
    saves.set_params({"epochs": 4, "steps": 1, "verbose": 0})
    saves.on_train_begin()
    _short_epochs(model, saves, clock, [1.0, 0.5, 0.8, 0.9])
    assert saves.written == [3]
    best = keras.saving.load_model(tmp_path / "best.keras")
    assert all(np.all(w == 1) for w in best.get_weights())
