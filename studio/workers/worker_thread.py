"""One QThread that runs one TensorFlow worker, shared by the training, batch-search and
evaluation runners.

The worker's ``run`` slot stores ``outcome`` (a ``(kind, payload)`` pair) and quits its
thread; ``ended`` then carries that outcome on the UI thread, after the thread has finished,
so a listener may start the next job at once. Automatic garbage collection is paused while
the thread runs (see ``collection_pause``).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEventLoop, QObject, QThread, QTimer, Signal

from studio.workers.collection_pause import pause_collection, resume_collection


class WorkerThread(QObject):
    ended = Signal(object)  # the worker's outcome, or None when it stored none

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: QThread | None = None
        self._worker: Any = None

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self, worker: QObject, name: str) -> None:
        """Run ``worker.run`` on a new thread named ``name``; one job at a time."""
        if self._thread is not None:
            raise RuntimeError(f"{name} is already running.")
        pause_collection()
        thread = QThread()
        thread.setObjectName(name)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)  # type: ignore[attr-defined]
        # Deleted on its own thread as that thread ends (a deleteLater from here, after the
        # thread has gone, would never run).
        thread.finished.connect(worker.deleteLater)
        thread.finished.connect(self._finished)
        self._thread, self._worker = thread, worker
        thread.start()

    def wait(self, timeout_ms: int | None = None) -> bool:
        """Block until the thread has ended (the caller has asked the worker to stop), or
        for at most ``timeout_ms``; whether it has ended."""
        if self._thread is not None:
            if timeout_ms is not None and not self._thread.wait(timeout_ms):
                return False
            self._thread.wait()
            self._finished()
        return True

    def wait_with_events(self, timeout_ms: int) -> bool:
        """Like ``wait``, but Qt's event loop runs meanwhile, holding user input back, so the
        window keeps painting; whether the thread has ended (and ``ended`` been emitted)."""
        loop = QEventLoop()
        timer = QTimer(singleShot=True, interval=timeout_ms)
        timer.timeout.connect(loop.quit)
        self.ended.connect(loop.quit)
        try:
            if self.running:
                timer.start()
                loop.exec(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)
        finally:
            self.ended.disconnect(loop.quit)
            timer.stop()
        return not self.running

    def _finished(self) -> None:
        thread, worker = self._thread, self._worker
        if thread is None or worker is None:
            return
        thread.wait()
        self._thread = self._worker = None
        thread.deleteLater()
        resume_collection()
        self.ended.emit(worker.outcome)
