"""The Keras callback that connects ``model.fit`` to the studio.

It forwards progress to a sink (every batch's logs, sent together a few times a second: batch
hooks run on the training thread for every batch and must stay cheap, and each message wakes
the window), holds the thread while paused, and ends training right after the batch in which
Stop was pressed.
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

    #: Keras may call the batch-end hook on its callback threads where the backend is
    #: thread-safe; TensorFlow's is not (``IS_THREAD_SAFE``), so there it runs on the
    #: training thread, as a plain ``fit``'s hooks do.
    async_safe = True

    def __init__(self, sink: EventSink, control: TrainingControl, *, epochs: int,
                 steps_per_epoch: int, batch_size: int, max_batch_events_per_second: float = 5):
        super().__init__()
        self._sink = sink
        self._control = control
        self._epochs = epochs
        self._steps = steps_per_epoch
        self._batch_size = batch_size
        self._min_interval = 1.0 / max_batch_events_per_second
        self._last_sent = -math.inf
        self._last_batch = (-1, -1)  # (epoch, step) of the last BatchEnded sent
        self._unsent: list[tuple[int, dict[str, float]]] = []  # (step, logs) not sent yet
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
        with self._send_lock:
            self._unsent = []  # a stopped fit's last batches were sent as it stopped
        self._epoch = epoch
        self._epoch_start = time.perf_counter()

    def on_train_batch_begin(self, batch: int, logs: dict[str, float] | None = None) -> None:
        # Pause and stop are obeyed here, on the training loop's own thread: the batch-end
        # hook below may run on Keras' callback threads (``async_safe``).
        control = self._control
        if control.paused or control.stop_requested:
            self._send_unsent()  # the curve holds every batch up to the pause or the stop
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
        """May run on a Keras callback thread (where the backend allows it; not with
        TensorFlow), so the training loop need not wait for the logs; keeps every batch's
        logs and sends them together at most ``max_batch_events_per_second`` times a second,
        and at each epoch's end."""
        now = time.perf_counter()
        with self._send_lock:
            self._unsent.append((batch + 1, _floats(logs)))
            if now - self._last_sent < self._min_interval and batch + 1 < self._steps:
                return
            event = self._take_unsent(now)
        if event is not None:
            self._sink(event)

    def _send_unsent(self) -> None:
        with self._send_lock:
            event = self._take_unsent(time.perf_counter())
        if event is not None:
            self._sink(event)

    def _take_unsent(self, now: float) -> BatchEnded | None:
        """The batches kept since the last event, as one event (called holding the lock).
        Callback threads may finish batches out of order: a batch older than the last one
        sent is dropped."""
        points = sorted((p for p in self._unsent if (self._epoch, p[0]) > self._last_batch),
                        key=lambda point: point[0])
        self._unsent = []
        if not points:
            return None
        step, values = points[-1]
        self._last_sent = now
        self._last_batch = (self._epoch, step)
        elapsed = max(now - self._epoch_start, 1e-9)
        return BatchEnded(self._epoch, step, self._steps, step * self._batch_size / elapsed,
                          values, earlier=tuple(points[:-1]))

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
