"""Runs ``studio.ml.evaluation`` on its own QThread, so a big test split never freezes the window.

Given a project (or its DatasetSpec) the data is read as training read it and the gallery
shows the samples as read; given already loaded data the gallery shows them normalised.
``finished`` or ``failed`` come after the thread has ended, so a listener may start another
evaluation or close at once.
"""

from __future__ import annotations

import threading
import traceback
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from studio.core.dataset_spec import DatasetSpec
from studio.core.errors import StudioError
from studio.core.project import Project
from studio.workers.worker_thread import WorkerThread

DEFAULT_BATCH_SIZE = 256


class _EvaluationWorker(QObject):
    progress = Signal(str)

    def __init__(self, model: Any, source: Any, split: str, batch_size: int,
                 cancel: threading.Event) -> None:
        super().__init__()
        self._model = model
        self._source = source
        self._split = split
        self._batch_size = batch_size
        self._cancel = cancel
        #: ("finished", EvaluationReport) or ("failed", (message, details)); read after the
        #: thread has ended, so no lock is needed.
        self.outcome: tuple[str, Any] | None = None

    @Slot()
    def run(self) -> None:
        try:
            self.outcome = ("finished", self._evaluate())
        except StudioError as error:  # EvaluationCancelled included
            self.outcome = ("failed", (str(error), ""))
        except Exception as error:
            self.outcome = ("failed", (f"The evaluation failed: {type(error).__name__}: "
                                       f"{error}", traceback.format_exc()))
        finally:
            self._model = self._source = None  # the thread may outlive this object's use
            self.thread().quit()

    def _evaluate(self) -> Any:
        from studio.core.evaluation import EvaluationReport
        from studio.ml.evaluation import evaluate, evaluate_dataset, loaded_gallery

        source = self._source
        if isinstance(source, Project):
            source = source.dataset
        if isinstance(source, DatasetSpec):
            return evaluate_dataset(self._model, source, self._split, self._batch_size,
                                    self._report, self._cancel.is_set)
        self.progress.emit("Evaluating")
        evaluation = evaluate(self._model, source, self._split, self._batch_size,
                              self._cancel.is_set)
        return EvaluationReport(evaluation, loaded_gallery(source, evaluation.split))

    def _report(self, stage: str, done: int, total: int | None) -> None:
        self.progress.emit(stage)


class EvaluationRunner(QObject):
    """One evaluation at a time."""

    progress = Signal(str)  # what is being done, in words
    finished = Signal(object)  # EvaluationReport, after the thread ended
    failed = Signal(str, str)  # message, traceback ("" for user errors and cancelling)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._job = WorkerThread(self)
        self._job.ended.connect(self._deliver)
        self._cancel = threading.Event()

    @property
    def running(self) -> bool:
        return self._job.running

    def start(self, model: Any, source: Project | DatasetSpec | Any, split: str = "test",
              batch_size: int = DEFAULT_BATCH_SIZE) -> bool:
        """Evaluate ``model`` (a keras.Model) on ``source``: a Project, a DatasetSpec or a
        LoadedData. False (and nothing started) while an evaluation is running."""
        if self.running:
            return False
        self._cancel = threading.Event()
        worker = _EvaluationWorker(model, source, split, batch_size, self._cancel)
        worker.progress.connect(self.progress)
        self._job.start(worker, "studio-evaluation")
        return True

    def cancel(self) -> None:
        """Stop after the current batch; ``failed`` follows with "cancelled"."""
        self._cancel.set()

    def cancel_and_wait(self) -> None:
        """For closing: cancel and block until the thread has ended."""
        self._cancel.set()
        self._job.wait()

    def _deliver(self, outcome: tuple[str, Any] | None) -> None:
        if outcome is None:
            return
        kind, payload = outcome
        if kind == "finished":
            self.finished.emit(payload)
        else:
            self.failed.emit(*payload)
