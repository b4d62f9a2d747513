"""Runs ``studio.ml.session.train_project`` on its own QThread and reports through signals.

Training events cross to the UI as queued signals (already throttled at the source). The
public ``finished`` and ``failed`` signals are emitted only after the thread has ended, so a
listener may start the next run or quit at once.
"""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from studio.core.control import TrainingControl
from studio.core.devices import MemoryPolicy
from studio.core.errors import OutOfMemory, StudioError
from studio.core.events import TrainingEvent
from studio.core.project import Project
from studio.workers.worker_thread import WorkerThread


class _TrainingWorker(QObject):
    """Lives on the training thread; ends the thread's event loop when training is over."""

    training_event = Signal(object)
    memory_policy_applied = Signal(object)  # list[MemoryPolicyResult]

    def __init__(self, project: Project, control: TrainingControl,
                 memory_policy: MemoryPolicy, run_dir: Path | None) -> None:
        super().__init__()
        self._project = project
        self._run_dir = run_dir
        self._control = control
        self._memory_policy = memory_policy
        #: ("finished", TrainingResult), ("failed", (message, details)) or ("out_of_memory",
        #: (message, batch size)); read after the thread has ended, so no lock is needed.
        self.outcome: tuple[str, Any] | None = None

    def _emit_event(self, event: TrainingEvent) -> None:
        self.training_event.emit(event)

    @Slot()
    def run(self) -> None:
        try:
            self.outcome = ("finished", self._train())
        except OutOfMemory as error:
            self.outcome = ("out_of_memory", (str(error), error.batch_size))
        except StudioError as error:
            self.outcome = ("failed", (str(error), ""))
        except Exception as error:
            self.outcome = ("failed", (f"Training failed: {type(error).__name__}: {error}",
                                       traceback.format_exc()))
        finally:
            self.thread().quit()

    def _train(self) -> Any:
        from studio.ml.devices import apply_memory_policy
        from studio.ml.session import train_project

        # Applied right before the first training, while TensorFlow has not yet
        # initialised the GPUs; afterwards TensorFlow refuses the change.
        self.memory_policy_applied.emit(apply_memory_policy(self._memory_policy))
        return train_project(self._project, self._emit_event, self._control, self._run_dir)


class TrainingRunner(QObject):
    """Start, pause, resume and stop one training at a time."""

    training_event = Signal(object)  # TrainingEvent
    memory_policy_applied = Signal(object)  # list[MemoryPolicyResult]
    finished = Signal(object)  # TrainingResult, after the thread ended
    failed = Signal(str, str)  # message, traceback ("" for user errors), after the thread ended
    out_of_memory = Signal(str, int)  # message, the batch size that did not fit; after the end

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._job = WorkerThread(self)
        self._job.ended.connect(self._deliver)
        self._control = TrainingControl()

    @property
    def running(self) -> bool:
        return self._job.running

    @property
    def paused(self) -> bool:
        return self.running and self._control.paused

    def start(self, project: Project, memory_policy: MemoryPolicy | None = None,
              run_dir: Path | None = None) -> None:
        """Train ``project`` (recorded in ``run_dir``, resuming it if it was interrupted)."""
        if self.running:
            raise RuntimeError("A training is already running.")
        self._control = TrainingControl()
        worker = _TrainingWorker(project, self._control, memory_policy or MemoryPolicy(),
                                 run_dir)
        worker.training_event.connect(self.training_event)
        worker.memory_policy_applied.connect(self.memory_policy_applied)
        self._job.start(worker, "studio-training")

    def pause(self) -> None:
        self._control.pause()

    def resume(self) -> None:
        self._control.resume()

    def request_changes(self, *, learning_rate: float | None = None,
                        epochs: int | None = None) -> None:
        """Apply a new learning rate or number of epochs when training continues."""
        self._control.request_changes(learning_rate=learning_rate, epochs=epochs)

    def stop(self) -> None:
        """Ask the training to stop after the current batch; ``finished`` follows."""
        self._control.request_stop()

    def stop_and_wait(self) -> None:
        """Stop and block until the thread has ended (used when the window closes)."""
        if not self.running:
            return
        self._control.request_stop()
        self._job.wait()  # the worker quits its thread once training returns

    def _deliver(self, outcome: tuple[str, Any] | None) -> None:
        if outcome is None:
            return
        kind, payload = outcome
        if kind == "finished":
            self.finished.emit(payload)
        elif kind == "out_of_memory":
            self.out_of_memory.emit(*payload)
        else:
            self.failed.emit(*payload)
