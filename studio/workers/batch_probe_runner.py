"""Runs ``studio.ml.batch_probe.probe_batch_sizes`` on its own QThread, with progress and Cancel.

The probe trains real steps for seconds to minutes, so it must hold neither the window nor
the ML thread. ``finished`` (also for a cancelled probe) or ``failed`` come after the thread
has ended, so a listener may close or start again at once.
"""

from __future__ import annotations

import gc
import threading
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from studio.core.devices import MemoryPolicy
from studio.core.errors import StudioError
from studio.core.project import Project
from studio.workers.worker_thread import WorkerThread

#: ``train_step(model, x, y)``; the model is a keras.Model, which this layer does not import.
TrainStep = Callable[[Any, Any, Any], object]


class _ProbeWorker(QObject):
    progress = Signal(int, int, str)
    memory_policy_applied = Signal(object)  # list[MemoryPolicyResult]
    collect_requested = Signal(object)  # threading.Event, set once collected

    def __init__(self, project: Project, cancel: threading.Event, steps: int, max_batch: int,
                 train_step: TrainStep | None, memory_policy: MemoryPolicy) -> None:
        super().__init__()
        self._project = project
        self._cancel = cancel
        self._steps = steps
        self._max_batch = max_batch
        self._train_step = train_step
        self._memory_policy = memory_policy
        #: ("finished", BatchProbeResult) or ("failed", (message, details)); read after the
        #: thread has ended, so no lock is needed.
        self.outcome: tuple[str, Any] | None = None

    @Slot()
    def run(self) -> None:
        try:
            self.outcome = ("finished", self._probe())
        except StudioError as error:
            self.outcome = ("failed", (str(error), ""))
        except Exception as error:
            self.outcome = ("failed", (f"The batch size search failed: "
                                       f"{type(error).__name__}: {error}",
                                       traceback.format_exc()))
        finally:
            self.thread().quit()

    def _probe(self) -> Any:
        from studio.ml.batch_probe import probe_batch_sizes
        from studio.ml.devices import apply_memory_policy

        # As for training: the policy only applies before TensorFlow initialises the GPUs,
        # and this may be the first thing that does.
        self.memory_policy_applied.emit(apply_memory_policy(self._memory_policy))
        return probe_batch_sizes(self._project, steps=self._steps, max_batch=self._max_batch,
                                 progress=self._report, cancelled=self._cancel.is_set,
                                 train_step=self._train_step, release=self._release)

    def _release(self) -> None:
        """Free the last size's model by a collection on the UI thread, waiting here (holding
        no TensorFlow lock) until it is done. A collection on this thread could destroy Qt
        widgets off the UI thread, which deadlocked in a test; a cancel stops the wait, so a
        UI thread blocked in ``cancel_and_wait`` never waits for this one."""
        done = threading.Event()
        self.collect_requested.emit(done)
        while not done.wait(0.05):
            if self._cancel.is_set():
                return

    def _report(self, done: int, total: int, text: str) -> None:
        self.progress.emit(done, total, text)


class BatchProbeRunner(QObject):
    """One search at a time; ``train_step`` replaces Keras' step (tests inject OOM with it)."""

    progress = Signal(int, int, str)  # trials done, trials planned, what now
    memory_policy_applied = Signal(object)  # list[MemoryPolicyResult]
    finished = Signal(object)  # BatchProbeResult, after the thread ended
    failed = Signal(str, str)  # message, traceback ("" for user errors), after the thread ended

    def __init__(self, parent: QObject | None = None, *, steps: int = 3, max_batch: int = 8192,
                 train_step: TrainStep | None = None) -> None:
        super().__init__(parent)
        self.steps = steps
        self.max_batch = max_batch
        self._train_step = train_step
        self._job = WorkerThread(self)
        self._job.ended.connect(self._deliver)
        self._cancel = threading.Event()

    @property
    def running(self) -> bool:
        return self._job.running

    def start(self, project: Project, memory_policy: MemoryPolicy | None = None) -> bool:
        """False (and nothing started) while a search is running."""
        if self.running:
            return False
        self._cancel = threading.Event()
        worker = _ProbeWorker(project, self._cancel, self.steps, self.max_batch,
                              self._train_step, memory_policy or MemoryPolicy())
        worker.progress.connect(self.progress)
        worker.memory_policy_applied.connect(self.memory_policy_applied)
        worker.collect_requested.connect(self._collect)
        self._job.start(worker, "studio-batch-probe")
        return True

    def cancel(self) -> None:
        """Stop before the next size (or step); ``finished`` follows with what was found."""
        self._cancel.set()

    def cancel_and_wait(self) -> None:
        """For closing: cancel and block until the thread has ended."""
        self._cancel.set()
        self._job.wait()

    @Slot(object)
    def _collect(self, done: threading.Event) -> None:
        gc.collect()
        done.set()

    def _deliver(self, outcome: tuple[str, Any] | None) -> None:
        if outcome is None:
            return
        kind, payload = outcome
        if kind == "finished":
            self.finished.emit(payload)
        else:
            self.failed.emit(*payload)
