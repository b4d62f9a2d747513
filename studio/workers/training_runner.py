"""Runs ``studio.ml.session.train_project`` off the UI thread and reports through signals.

Each training runs in a child process (``studio.ml.training_process``) watched from a QThread,
so that the window keeps its interpreter to itself and every run's memory returns when it
ends. Where a platform cannot fork from a server (Windows), or a test must reach into the
engine, ``SEPARATE_PROCESS`` is False and the training runs on the QThread itself. Where a
training process cannot be started (a fork server that fails to start, or a child that dies
before it reports anything), that run and every later one train on the QThread instead, and
the log says why: slower and less smooth, but the user can still train.

Training events cross to the UI thread as one queued signal per message of the training
process (already throttled at the source), and ``training_event`` gives them one by one there:
a signal per event woke the UI thread 14 times a second during a run, one per message 4. The
public ``finished`` and ``failed`` signals are emitted only after the thread has ended, so a
listener may start the next run or quit at once.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import tempfile
import threading
import traceback
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from studio.core.control import TrainingControl
from studio.core.devices import MemoryPolicy
from studio.core.errors import OutOfMemory, StudioError
from studio.core.events import TrainingEvent, TrainingStarted
from studio.core.project import Project
from studio.core.run_record import MODEL_FILE
from studio.ml import training_process
from studio.workers.worker_thread import WorkerThread

#: Train in a child process (see the module's docstring).
SEPARATE_PROCESS = training_process.available()
#: How long closing the window waits for a stopped child to save and exit before killing it.
STOP_GRACE_S = 60.0


class _NoTrainingProcess(Exception):
    """A training process could not be started, or ended before it reported anything."""


#: Why training processes could not be used in this session (None: they work, as far as is
#: known). Once set, every training runs on its QThread.
_process_failure: str | None = None


class _TrainingWorker(QObject):
    """Lives on the training thread; ends the thread's event loop when training is over.

    ``outcome`` is ("finished", TrainingResult), ("failed", (message, details)) or
    ("out_of_memory", (message, batch size)); it is read after the thread has ended, so no
    lock is needed.
    """

    #: The events that arrived together, in order: one queued signal (one wake of the UI
    #: thread) for each message of a training process, not for each event.
    training_events = Signal(object)
    memory_policy_applied = Signal(object, bool)  # see TrainingRunner
    process_started = Signal(int)  # the training's own process id

    def __init__(self, project: Project, control: TrainingControl,
                 memory_policy: MemoryPolicy, run_dir: Path | None) -> None:
        super().__init__()
        self._project = project
        self._run_dir = run_dir
        self._control = control
        self._memory_policy = memory_policy
        self.outcome: tuple[str, Any] | None = None
        self.shutting_down = False  # the window closes: no process in reserve is wanted

    def command(self, *message: Any) -> None:
        """A command for the training: on this thread the shared control object carries
        every command already, so there is nothing to send."""

    def stop_now(self) -> None:
        """The training did not stop in time: end it the hard way if that is possible."""

    @Slot()
    def run(self) -> None:
        try:
            self.outcome = self._train()
        except OutOfMemory as error:
            self.outcome = ("out_of_memory", (str(error), error.batch_size))
        except StudioError as error:
            self.outcome = ("failed", (str(error), ""))
        except Exception as error:
            self.outcome = ("failed", (f"Training failed: {type(error).__name__}: {error}",
                                       traceback.format_exc()))
        finally:
            self.thread().quit()

    def _train(self) -> tuple[str, Any]:
        from studio.ml.devices import apply_memory_policy
        from studio.ml.session import train_project

        # Applied right before the first training, while TensorFlow has not yet
        # initialised the GPUs; afterwards TensorFlow refuses the change.
        self.memory_policy_applied.emit(apply_memory_policy(self._memory_policy), False)
        return "finished", train_project(self._project, self._sink(), self._control,
                                         self._run_dir)

    def _sink(self) -> Any:
        """Where this thread's training sends its events: the signal. Where training
        processes could not be started, each run's start also carries a note saying so."""
        failure = _process_failure
        note = None if failure is None else (
            "This training runs inside the window's own process, which makes it slower and "
            f"the window less smooth: a training process could not be started ({failure}). "
            "Restart the studio to try again.")

        def sink(event: TrainingEvent) -> None:
            if note is not None and isinstance(event, TrainingStarted):
                event = dataclasses.replace(event, device_notes=(*event.device_notes, note))
            self.training_events.emit((event,))

        return sink


class _ProcessWorker(_TrainingWorker):
    """Watches a training child process from the training thread: its messages become
    signals, and the runner's commands go to it."""

    def __init__(self, project: Project, control: TrainingControl,
                 memory_policy: MemoryPolicy, run_dir: Path | None) -> None:
        super().__init__(project, control, memory_policy, run_dir)
        self._lock = threading.Lock()
        self._process: training_process.TrainingProcess | None = None
        self._pending: list[tuple[Any, ...]] = []  # commands given before the child started
        self._killed = False  # the child is to end, or has ended: commands are dropped
        self._stopped_now = False  # ended the hard way (``stop_now``)

    def command(self, *message: Any) -> None:
        with self._lock:
            if self._process is not None:
                self._process.command(*message)
            elif not self._killed:
                self._pending.append(message)

    def stop_now(self) -> None:
        with self._lock:
            self._killed = self._stopped_now = True
            if self._process is not None:
                self._process.kill()

    def _train(self) -> tuple[str, Any]:
        scratch = None if self._run_dir is not None else Path(tempfile.mkdtemp(
            prefix="studio-run-"))
        run_dir = self._run_dir or scratch
        assert run_dir is not None
        try:
            return self._watch(run_dir)
        except _NoTrainingProcess as error:
            global _process_failure
            _process_failure = str(error)
            return super()._train()  # the run folder is as the child found it: untouched
        finally:
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)

    def _watch(self, run_dir: Path) -> tuple[str, Any]:
        threads = _threads_for(self._project)
        try:
            process = training_process.take(self._memory_policy, threads)
        except Exception as error:  # the fork server did not start, or would not fork
            raise _NoTrainingProcess(f"{type(error).__name__}: {error}") from error
        heard = False  # whether the child has reported anything
        try:
            process.train(self._project, run_dir)
            with self._lock:
                self._process = process
                for message in self._pending:
                    process.command(*message)
                if self._killed:
                    process.kill()
            self.process_started.emit(process.pid)
            outcome: tuple[str, Any] | None = None
            for kind, payload in process.messages():
                heard = True
                if kind == "events":
                    self.training_events.emit(payload)
                elif kind == "memory_policy":
                    self.memory_policy_applied.emit(payload, True)
                else:
                    outcome = (kind, payload)
        except BaseException:
            process.kill()  # not left training with nobody reading its messages
            raise
        finally:
            with self._lock:  # no command may reach pipes that are closing
                self._process, self._killed = None, True
            code = process.wait()
        if not heard and not self._stopped_now and not self.shutting_down:
            raise _NoTrainingProcess(f"it ended at once, with {_exit_in_words(code)}")
        try:
            return self._outcome(outcome, code, run_dir)
        finally:
            if not self.shutting_down:
                # The next training's process warms up (a second of CPU) while this one's
                # results are looked at: after the model is loaded, not beside it.
                with contextlib.suppress(Exception):  # the next training makes its own then
                    training_process.prepare_spare(self._memory_policy, threads)

    @staticmethod
    def _outcome(outcome: tuple[str, Any] | None, code: int | None, run_dir: Path
                 ) -> tuple[str, Any]:
        if outcome is None:
            return "failed", (
                f"The training process ended unexpectedly ({_exit_in_words(code)}). What it "
                f"finished is kept in {run_dir}: train again to resume from its last saved "
                "epoch.", "")
        kind, payload = outcome
        if kind != "finished":
            return outcome
        from studio.ml.model_io import load_keras
        from studio.ml.training import TrainingResult

        return "finished", TrainingResult(load_keras(run_dir / MODEL_FILE), **payload)


def _threads_for(project: Project) -> int | None:
    """The threads per operation for training ``project`` (``studio.core.cpu_threads``)."""
    from studio.ml.cpu_threads import plan_threads

    return plan_threads(project)


def _exit_in_words(code: int | None) -> str:
    """A child's exit status as the messages say it: "signal 9", "exit code 1"."""
    return f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"


class TrainingRunner(QObject):
    """Start, pause, resume and stop one training at a time."""

    training_event = Signal(object)  # TrainingEvent
    #: list[MemoryPolicyResult], and whether the training has a process of its own (which
    #: applies the policy afresh every time)
    memory_policy_applied = Signal(object, bool)
    process_started = Signal(int)  # the pid of a training in a process of its own
    finished = Signal(object)  # TrainingResult, after the thread ended
    failed = Signal(str, str)  # message, traceback ("" for user errors), after the thread ended
    out_of_memory = Signal(str, int)  # message, the batch size that did not fit; after the end

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._job = WorkerThread(self)
        self._job.ended.connect(self._deliver)
        self._control = TrainingControl()
        self._worker: _TrainingWorker | None = None  # the latest run's

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
        own_process = SEPARATE_PROCESS and _process_failure is None
        kind = _ProcessWorker if own_process else _TrainingWorker
        worker = kind(project, self._control, memory_policy or MemoryPolicy(), run_dir)
        worker.training_events.connect(self._relay)
        worker.memory_policy_applied.connect(self.memory_policy_applied)
        worker.process_started.connect(self.process_started)
        self._worker = worker
        self._job.start(worker, "studio-training")

    @Slot(object)
    def _relay(self, events: tuple[TrainingEvent, ...]) -> None:
        for event in events:
            self.training_event.emit(event)

    def prepare(self, memory_policy: MemoryPolicy, project: Project | None = None) -> None:
        """Start warming up a process for the next training (of ``project``, whose model
        decides its threads per operation), in the background (it waits for the fork
        server's imports the first time)."""
        if SEPARATE_PROCESS and _process_failure is None and not self.running:
            def prepare() -> None:
                threads = None if project is None else _threads_for(project)
                training_process.prepare_spare(memory_policy, threads)

            threading.Thread(target=prepare, name="studio-prepare-training",
                             daemon=True).start()

    def pause(self) -> None:
        self._control.pause()
        self._command("pause")

    def resume(self) -> None:
        self._control.resume()
        self._command("resume")

    def request_changes(self, *, learning_rate: float | None = None,
                        epochs: int | None = None) -> None:
        """Apply a new learning rate or number of epochs when training continues."""
        self._control.request_changes(learning_rate=learning_rate, epochs=epochs)
        changes = {"learning_rate": learning_rate, "epochs": epochs}
        self._command("changes", {k: v for k, v in changes.items() if v is not None})

    def stop(self) -> None:
        """Ask the training to stop after the current batch; ``finished`` follows."""
        self._control.request_stop()
        self._command("stop")

    def stop_and_wait(self) -> None:
        """Stop and wait until the thread has ended (used when the window closes). Qt's event
        loop runs meanwhile, holding user input back, so the window keeps painting while a
        stopped child saves what it learned (seconds, for a large model). A child that has
        not saved and exited within ``STOP_GRACE_S`` is killed."""
        if not self.running:
            return
        if self._worker is not None:
            self._worker.shutting_down = True
        self.stop()
        if not self._job.wait_with_events(int(STOP_GRACE_S * 1000)) and self._worker is not None:
            self._worker.stop_now()
        self._job.wait()  # at once, unless the child had to be killed

    def _command(self, *message: Any) -> None:
        if self.running and self._worker is not None:
            self._worker.command(*message)

    def _deliver(self, outcome: tuple[str, Any] | None) -> None:
        self._worker = None
        if outcome is None:
            return
        kind, payload = outcome
        if kind == "finished":
            self.finished.emit(payload)
        elif kind == "out_of_memory":
            self.out_of_memory.emit(*payload)
        else:
            self.failed.emit(*payload)
