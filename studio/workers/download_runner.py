"""Downloads a Keras dataset into the Keras cache on its own QThread, with progress and Cancel.

A download can take minutes, so it must hold neither the window nor the ML thread (which keeps
answering the builder meanwhile). ``finished`` or ``failed`` come after the thread has ended.
"""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QObject, QThread, Signal, Slot

from studio.core.errors import StudioError

PROGRESS_INTERVAL_S = 0.1  # at most ten progress signals a second


class _DownloadWorker(QObject):
    progress = Signal(int, int)  # bytes done, bytes in total (-1: unknown)

    def __init__(self, name: str, cancel: threading.Event) -> None:
        super().__init__()
        self._name = name
        self._cancel = cancel
        self._last = 0.0
        self.error = ""  # read after the thread has ended
        self.cancelled = False

    @Slot()
    def run(self) -> None:
        try:
            from studio.ml.keras_datasets import DownloadCancelled, download_keras_dataset

            try:
                download_keras_dataset(self._name, self._report, self._cancel.is_set)
            except DownloadCancelled:
                self.cancelled = True
        except StudioError as error:
            self.error = str(error)
        except Exception as error:
            self.error = f"The download failed: {type(error).__name__}: {error}"
        finally:
            self.thread().quit()

    def _report(self, done: int, total: int | None) -> None:
        now = time.perf_counter()
        if now - self._last >= PROGRESS_INTERVAL_S or done == total:
            self._last = now
            self.progress.emit(done, -1 if total is None else total)


class DownloadRunner(QObject):
    progress = Signal(int, int)
    finished = Signal(str)  # dataset name, now in the cache
    cancelled = Signal(str)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: QThread | None = None
        self._worker: _DownloadWorker | None = None
        self._cancel = threading.Event()
        self._name = ""

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self, name: str) -> bool:
        if self.running:
            return False
        self._name = name
        self._cancel = threading.Event()
        self._thread = QThread()
        self._thread.setObjectName("studio-download")
        self._worker = _DownloadWorker(name, self._cancel)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        # Deleted on its own thread as it ends (a deleteLater after that would never run).
        self._thread.finished.connect(self._worker.deleteLater)
        self._worker.progress.connect(self.progress)
        self._thread.finished.connect(self._ended)
        self._thread.start()
        return True

    def cancel(self) -> None:
        self._cancel.set()

    def cancel_and_wait(self) -> None:
        """For shutdown: stop within one chunk and wait for the thread."""
        if self._thread is not None:
            self._cancel.set()
            self._thread.wait()
            self._ended()

    def _ended(self) -> None:
        worker, thread = self._worker, self._thread
        if worker is None or thread is None:
            return
        self._worker = self._thread = None
        # ``finished`` is emitted (and this slot queued) while the thread is still ending: it
        # then deletes its worker. Deleting the QThread before that is done crashed the
        # studio (a segmentation fault in CI, right after a download), so wait for it.
        thread.wait()
        thread.deleteLater()
        if worker.error:
            self.failed.emit(worker.error)
        elif worker.cancelled:
            self.cancelled.emit(self._name)
        else:
            self.finished.emit(self._name)
