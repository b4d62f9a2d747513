"""A run's safety files, written at epoch ends within a small share of the training time.

A run keeps three files: Keras' resumable backup, the last checkpoint and the best one.
Writing them takes about 0.1 s on the digits CNN. On two CPU cores its epochs take 0.2 s, so
writing after every epoch would cost a third of the training. So an epoch's files are written
only when the time since the last write is at least that write's duration / ``SHARE``. With
epochs longer than that, which is any sizeable job, that is every epoch.

An epoch that is skipped is written at the next due epoch; the last epoch of every fit is
always written, and a stopped run's last epoch by ``flush``. A run's first write is due once
it has trained ``FIRST_WRITE_GUESS_S`` / ``SHARE`` (5 s; at once for longer epochs): writing
the first epoch of every run took 7 % of a short run. The guess is what the three files of the
digits CNN take on two cores, about 0.1-0.15 s (an earlier guess of 0.05 s put a write in the
middle of an 8-epoch run that then took 6 % of it). A later fit (the user raised the number
of epochs) writes its first epoch at once, because Keras removed the backup as the previous fit
ended. A better epoch that is skipped keeps its weights in memory, so ``best.keras`` still gets
the best epoch. A crash loses at most the epochs since the last write (duration / ``SHARE``,
at most ``LONGEST_GAP_S``: 5 s for the digits CNN), and the run resumes from there with no gap
in its history.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np

from studio.core.atomic import atomic_copy, atomic_path
from studio.core.training_config import higher_is_better

#: The share of training time that the safety files may take.
SHARE = 0.02
#: Never more than this between writes, however long they take.
LONGEST_GAP_S = 60.0
#: What a write is taken to cost until one has been timed.
FIRST_WRITE_GUESS_S = 0.1


class BudgetedSaves(keras.callbacks.Callback):
    """Drives a BackupAndRestore and the last and best ModelCheckpoints (saving per epoch)
    in place of Keras, writing them when due."""

    #: Epoch hooks only: the training loop need not wait for it after each batch.
    async_safe = True

    def __init__(self, backup: keras.callbacks.BackupAndRestore,
                 last: keras.callbacks.ModelCheckpoint, best: keras.callbacks.ModelCheckpoint,
                 *, share: float = SHARE, clock: Callable[[], float] = time.monotonic,
                 before_write: Callable[[], None] = lambda: None) -> None:
        """``before_write`` runs before each write of the files (the run's history must be on
        disk before the backup of its epoch)."""
        super().__init__()
        self._parts = (backup, last, best)
        self._backup, self._best = backup, best
        self._higher = higher_is_better(best.monitor)
        self._share = share
        self._clock = clock
        self._before_write = before_write
        self._cost = FIRST_WRITE_GUESS_S  # seconds the latest write took
        self._written_at = clock()
        self._fits = 0
        self._pending: tuple[int, dict[str, Any]] | None = None  # latest epoch not written
        #: A better epoch not written yet, with a copy of its weights in host memory.
        self._best_kept: tuple[int, dict[str, Any], list[np.ndarray]] | None = None
        #: The epochs (0-based) whose files were written, for tests and benchmarks.
        self.written: list[int] = []

    def set_model(self, model: keras.Model) -> None:
        super().set_model(model)
        for part in self._parts:
            part.set_model(model)

    def set_params(self, params: dict[str, Any]) -> None:
        super().set_params(params)
        for part in self._parts:
            part.set_params(params)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        for part in self._parts:
            part.on_train_begin(logs)  # the backup restores an interrupted run here
        self._fits += 1
        # A later fit: Keras removed the backup as the previous one ended (the user raised
        # the number of epochs), so this fit's first epoch makes a new one at once.
        self._written_at = self._clock() if self._fits == 1 else -math.inf

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        for part in self._parts:
            part.on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = dict(logs or {})
        # The fit's last epoch (planned, or stopped by an earlier callback: early stopping,
        # NaN) is written now, before early stopping may restore the best weights as the fit
        # ends; Keras removes the backup then, so it is not written.
        if self.model.stop_training or epoch + 1 >= self.params.get("epochs", math.inf):
            self._write(epoch, logs, final=True)
        elif self._clock() - self._written_at < min(LONGEST_GAP_S, self._cost / self._share):
            self._keep_if_best(epoch, logs)
            self._pending = epoch, logs
        else:
            self._write(epoch, logs)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self.flush()
        for part in self._parts:
            part.on_train_end(logs)

    def flush(self) -> None:
        """Write the last and the best checkpoint of an epoch still waiting (a stopped run
        keeps what it learned). The backup stays as it was: its epoch is complete."""
        if self._pending is not None:
            self._write(*self._pending, final=True)

    def _write(self, epoch: int, logs: dict[str, Any], *, final: bool = False) -> None:
        self._before_write()
        start = self._clock()
        kept, self._best_kept = self._best_kept, None
        if kept is not None and not self._improves(logs, kept[1]):
            self._write_best(*kept)
        for part in self._parts:
            if not (final and part is self._backup):
                part.on_epoch_end(epoch, logs)
        self._written_at = self._clock()
        self._cost = self._written_at - start
        self._pending = None
        self.written.append(epoch)

    def _write_best(self, epoch: int, logs: dict[str, Any], weights: list[np.ndarray]) -> None:
        """Save a kept epoch as the best: its weights in the model for the moment."""
        current = self.model.get_weights()
        self.model.set_weights(weights)
        try:
            self._best.on_epoch_end(epoch, logs)
        finally:
            self.model.set_weights(current)

    def _keep_if_best(self, epoch: int, logs: dict[str, Any]) -> None:
        reference = self._best_kept[1] if self._best_kept is not None else (
            {self._best.monitor: self._best.best} if self._best.best is not None else {})
        if self._improves(logs, reference):
            # Host copies: 0.35 ms for the digits CNN, under any strategy, and no accelerator
            # memory. A copy kept in variables of its own by one traced TensorFlow call took
            # 0.22 ms, but its variables and its trace cost 30-45 ms at the first better
            # epoch, which made every run's second epoch the slowest.
            self._best_kept = epoch, logs, self.model.get_weights()

    def _improves(self, logs: dict[str, Any], reference: dict[str, Any]) -> bool:
        value = logs.get(self._best.monitor)
        if value is None or not math.isfinite(float(value)):
            return False
        before = reference.get(self._best.monitor)
        if before is None:
            return True
        return float(value) > float(before) if self._higher else float(value) < float(before)


class FiniteCheckpoint(keras.callbacks.ModelCheckpoint):
    """A checkpoint that never overwrites good weights with those of a NaN epoch, never leaves
    a torn file (it writes atomically), and copies the file of its ``twin`` checkpoint when
    that has just saved the same model: at a run's last epoch the last and the best checkpoint
    (and the run's final model) are often one model, and a save costs tens of milliseconds
    where a copy costs one.
    """

    #: It saves per epoch, so its batch hook does nothing and need not hold up the loop.
    async_safe = True

    def __init__(self, filepath: str, *, twin: FiniteCheckpoint | None = None,
                 **kwargs: Any) -> None:
        super().__init__(filepath, **kwargs)
        self.twin = twin
        #: (epoch, optimizer step) of the model in the file, None before the first save.
        self._saved: tuple[int, int] | None = None
        self.saved_path: Path | None = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if logs and not math.isfinite(float(logs.get("loss", 0.0))):
            return
        # The logged loss comes before the epoch's last update, which may still have
        # overflowed the weights: check them (cheaper than the save itself).
        if not all(np.all(np.isfinite(w)) for w in self.model.get_weights()):
            return
        super().on_epoch_end(epoch, logs)

    def holds(self, epoch: int) -> bool:
        """Whether the file holds the model as it is now, saved at the end of ``epoch`` with
        no batch trained since. (Weights set from outside, like early stopping's restored
        ones, keep the step: the caller rules those out.)"""
        return self._saved == (epoch, self._step())

    def _save_model(self, epoch: int, batch: int | None, logs: dict[str, Any]) -> None:
        if self.save_weights_only:  # not a .keras file: Keras' own save
            super()._save_model(epoch, batch, logs)
            return
        path = self._get_file_path(epoch, batch, logs)
        if not self._should_save_model(epoch, batch, logs, path):
            return
        twin = self.twin
        if twin is not None and twin.saved_path is not None and twin.holds(epoch):
            atomic_copy(twin.saved_path, path)
        else:
            with atomic_path(path) as tmp:
                self.model.save(tmp, overwrite=True)
        self._saved, self.saved_path = (epoch, self._step()), Path(path)

    def _step(self) -> int:
        return int(self.model.optimizer.iterations.numpy())
