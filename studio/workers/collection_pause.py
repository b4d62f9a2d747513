"""Garbage is collected on the UI thread only, and never while a TensorFlow worker runs.

Python collects on whichever thread happens to allocate. A collection on a worker thread can
destroy Qt objects (widgets, event loops, timers) off the UI thread: a deadlock seen in a test.
So while a window is open, automatic collection is off and the window's ``CollectionTimer``
collects on the UI thread instead, as Python would have (by generation thresholds).
pyqtgraph's ``GarbageCollector`` does the same, for the same reason.

And a collection on the UI thread that frees TensorFlow objects can wait for a lock a worker
holds while it traces, while the worker waits for the interpreter lock: a deadlock seen in CI.
So runners pause collection when their thread starts and resume it when it ends, and garbage
is collected then, on the UI thread. Several runners may overlap (a training and an
evaluation): collection comes back only when the last one has ended.
Called on the UI thread only.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

COLLECTION_INTERVAL_MS = 500

_holders = 0  # workers running TensorFlow
_timers = 0  # windows collecting on their UI thread
_enabled_before = True  # gc.isenabled() before the first holder or timer took collection over
_frozen = False


def _take_over() -> None:
    global _enabled_before
    if _holders == 0 and _timers == 0:
        _enabled_before = gc.isenabled()
        gc.disable()


def _hand_back() -> None:
    if _holders == 0 and _timers == 0 and _enabled_before:
        gc.enable()


def pause_collection() -> None:
    global _holders
    _take_over()
    _holders += 1


def resume_collection() -> None:
    """Collect now (no worker is tracing) once the last paused worker has ended."""
    global _holders
    if _holders == 0:
        return
    _holders -= 1
    if _holders == 0 and _enabled_before:
        _hand_back()
        gc.collect()


def paused() -> bool:
    return _holders > 0


def collect_due() -> None:
    """Collect the oldest generation whose allocation count passed its threshold, unless a
    worker runs TensorFlow or collection was off before the studio took it over."""
    if _holders or not _enabled_before:
        return
    due = [generation for generation, (count, threshold)
           in enumerate(zip(gc.get_count(), gc.get_threshold(), strict=True))
           if threshold and count > threshold]
    if due:
        gc.collect(due[-1])


class _Claim:
    """One timer's hold on collection, released once: by ``stop`` or as the timer is
    destroyed (a window deleted without being closed)."""

    def __init__(self) -> None:
        global _timers
        _take_over()
        _timers += 1
        self.held = True

    def release(self) -> None:
        global _timers
        if self.held:
            self.held = False
            _timers -= 1
            _hand_back()


class CollectionTimer(QObject):
    """Turns automatic collection off while it lives and collects from a timer on the thread
    that made it (the UI thread). ``stop`` hands collection back; safe to call twice."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._claim = _Claim()
        self.destroyed.connect(self._claim.release)
        self._timer = QTimer(self)
        self._timer.setInterval(COLLECTION_INTERVAL_MS)
        self._timer.timeout.connect(collect_due)
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        self._claim.release()


def freeze_long_lived() -> None:
    """Put everything alive now (Qt, TensorFlow, Keras, the window) out of the collector's
    reach, so that later collections walk only what was made since: the collection at the
    end of a training then takes milliseconds instead of the 0.3 s that froze the window.
    Called once TensorFlow has loaded; once per process (later windows add little)."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.freeze()
