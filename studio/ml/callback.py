"""The Keras callback that connects ``model.fit`` to the studio.

It forwards progress to a sink (throttled at the source, since batch hooks run on the training
thread for every batch and must stay cheap), holds the thread while paused, and ends training
right after the batch in which Stop was pressed.
"""

from __future__ import annotations

import math
import threading
import time

import keras

from studio.core.control import TrainingControl
from studio.core.events import BatchEnded, EpochEnded, EventSink, SettingsChanged


class TrainingStopped(Exception):
    """Raised from a batch hook to end ``fit`` at once when the user presses Stop.

    Setting ``model.stop_training`` would still run the interrupted epoch's validation pass
    and report the cut-off epoch as if it were complete.
    """


class StudioCallback(keras.callbacks.Callback):
    """Forward batch and epoch logs to ``sink``; obey ``control``'s stop and pause."""

    #: Keras may call the batch-end hook on its callback threads (see on_train_batch_end).
    async_safe = True

    def __init__(self, sink: EventSink, control: TrainingControl, *, epochs: int,
                 steps_per_epoch: int, batch_size: int, max_batch_events_per_second: float = 25):
        super().__init__()
        self._sink = sink
        self._control = control
        self._epochs = epochs
        self._steps = steps_per_epoch
        self._batch_size = batch_size
        self._min_interval = 1.0 / max_batch_events_per_second
        self._last_sent = -math.inf
        self._last_batch = (-1, -1)  # (epoch, batch) of the last BatchEnded sent
        self._send_lock = threading.Lock()
        self._epoch = 0
        self._epoch_start = 0.0
        self.history: list[dict[str, float]] = []
        #: Restarted from a new rate when the user changes it while paused.
        self.schedule: keras.callbacks.Callback | None = None

    @property
    def epochs(self) -> int:
        """The number of epochs to train, which the user may change while paused."""
        return self._epochs

    def on_epoch_begin(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        self._epoch = epoch
        self._epoch_start = time.perf_counter()

    def on_train_batch_begin(self, batch: int, logs: dict[str, float] | None = None) -> None:
        # Pause and stop are obeyed here, on the training loop's own thread: the batch-end
        # hook below runs on Keras' callback threads (``async_safe``).
        control = self._control
        if control.paused:
            paused_at = time.perf_counter()
            control.wait_while_paused()
            self._epoch_start += time.perf_counter() - paused_at
        if control.changes_waiting:
            # Asked for while paused, even by a pause that began and ended within one batch
            # (a slow batch, or a busy machine): it was never seen here, its changes must be.
            self._apply_changes(batch - 1)
        if control.stop_requested:
            raise TrainingStopped

    def on_train_batch_end(self, batch: int, logs: dict[str, float] | None = None) -> None:
        """Runs on a Keras callback thread, so the training loop never waits for the logs to
        be read back from the device (a plain ``fit`` does not either); throttled."""
        now = time.perf_counter()
        with self._send_lock:
            if now - self._last_sent < self._min_interval and batch + 1 < self._steps:
                return
            if (self._epoch, batch) <= self._last_batch:
                return  # a later batch was already sent from another callback thread
            self._last_sent = now
            self._last_batch = (self._epoch, batch)
        values = _floats(logs)
        elapsed = max(now - self._epoch_start, 1e-9)
        self._sink(BatchEnded(self._epoch, batch + 1, self._steps,
                              (batch + 1) * self._batch_size / elapsed, values))

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        values = _floats(logs)
        values["learning_rate"] = float(keras.ops.convert_to_numpy(
            self.model.optimizer.learning_rate))
        self.history.append(values)
        self._sink(EpochEnded(epoch, self._epochs, time.perf_counter() - self._epoch_start,
                              values))
        if epoch + 1 >= self._epochs:
            self.model.stop_training = True  # the user lowered the number of epochs

    def _apply_changes(self, batch: int) -> None:
        """Apply what the user changed while paused, and say so on the curves."""
        changes = self._control.take_changes()
        parts = []
        if "learning_rate" in changes:
            rate = float(changes["learning_rate"])
            self.model.optimizer.learning_rate.assign(rate)
            rebase = getattr(self.schedule, "rebase", None)
            if rebase is not None:
                rebase(rate, self._epoch, self._epochs)
            parts.append(f"learning rate {rate:g}")
        if "epochs" in changes:
            self._epochs = max(int(changes["epochs"]), self._epoch + 1)
            parts.append(f"{self._epochs} epochs")
        if parts:
            x = self._epoch + (batch + 1) / self._steps
            self._sink(SettingsChanged(x, "Changed to " + ", ".join(parts), self._epochs))


def _floats(logs: dict[str, float] | None) -> dict[str, float]:
    return {key: float(value) for key, value in (logs or {}).items()}
