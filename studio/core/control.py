"""Stop and pause requests that another thread makes of a running training.

The training thread polls ``stop_requested`` after every batch (cheap: one attribute read) and
calls ``wait_while_paused``, which blocks on an Event instead of busy-waiting.
"""

from __future__ import annotations

import threading


class TrainingControl:
    """Thread-safe requests from the user to the training loop."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._lock = threading.Lock()
        self._changes: dict[str, float | int] = {}

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def request_stop(self) -> None:
        """Stop after the current batch; a paused training is released so it can stop."""
        self._stop.set()
        self._running.set()

    def pause(self) -> None:
        if not self._stop.is_set():
            self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def wait_while_paused(self) -> None:
        """Block the calling (training) thread while paused; returns at once otherwise."""
        self._running.wait()

    def request_changes(self, *, learning_rate: float | None = None,
                        epochs: int | None = None) -> None:
        """Settings to apply when training continues (asked for while paused)."""
        with self._lock:
            if learning_rate is not None:
                self._changes["learning_rate"] = float(learning_rate)
            if epochs is not None:
                self._changes["epochs"] = int(epochs)

    @property
    def changes_waiting(self) -> bool:
        """Cheap enough for every batch (no lock: a change seen a batch late is no harm)."""
        return bool(self._changes)

    def take_changes(self) -> dict[str, float | int]:
        """The requested changes, once (the training thread applies them)."""
        with self._lock:
            changes, self._changes = self._changes, {}
        return changes
