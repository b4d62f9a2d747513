"""Each training of the window runs in a process of its own, forked from a server that has
TensorFlow loaded, and warmed up before it is needed.

Why: in the window's process, the training loop and the window's repaints take turns on one
interpreter lock. That halved the training's throughput and froze the window for up to
0.3 s. And every model TensorFlow builds leaves memory behind in its process: 7 MB a run.
A child process has its own interpreter and returns everything when it exits. Forking it from
multiprocessing's "forkserver", with the training modules preloaded there, makes a child in
milliseconds instead of the 4-5 s that importing TensorFlow takes. A fresh process still
spends about a second on its first fit setting TensorFlow's runtime up, so where there is no
GPU one process is kept in reserve (``prepare_spare``). It applies the memory policy and the
threads per operation (``studio.ml.cpu_threads``: both are fixed as the runtime starts) and
runs a tiny fit, then waits for its training (``take``). It runs at the window's priority (see
``child_main``).

A child sends ``("memory_policy", results)``, then ``("events", (TrainingEvent, ...))``
messages, a few a second (each message wakes the window's process, and every wake costs the
training on two cores), and finally one outcome:
- ``("finished", fields)``: a ``TrainingResult`` without its model; the model is in the run
  folder;
- ``("failed", (message, details))``;
- ``("out_of_memory", (message, batch size))``.

It obeys ``("train", project, run folder)`` once, then ``("pause",)``, ``("resume",)``,
``("stop",)`` and ``("changes", {...})``. When the window's process goes away (a crash, a
kill), the child ends at once, as a training in that process would have: its run stays marked
running, so the next launch offers to resume it from its last saved epoch. Only our own
processes are at either end of these pipes; nothing a user opens is unpickled.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from studio.core.control import TrainingControl
from studio.core.devices import MemoryPolicy
from studio.core.errors import OutOfMemory, StudioError
from studio.core.events import TrainingEvent
from studio.core.project import Project

#: Imported once by the fork server, so that every child starts with them loaded.
PRELOAD = ["studio.ml.session", "studio.ml.devices", "studio.ml.model_io",
           "studio.ml.pipeline"]

#: The exit status of a child whose window went away.
ORPHANED_EXIT = 3


def available() -> bool:
    """Whether this platform can fork children from a server (not on Windows)."""
    return "forkserver" in multiprocessing.get_all_start_methods()


def _context() -> Any:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


class TrainingProcess:
    """The window's end of one training child: commands in, messages out. The child starts
    at once and warms up; ``train`` gives it its training."""

    def __init__(self, memory_policy: MemoryPolicy, threads: int | None = None, *,
                 target: Callable[..., None] | None = None) -> None:
        """``threads``: CPU threads per operation (``studio.ml.cpu_threads``; None: all
        cores). ``target``: the child's main function (a test's wrapper of ``child_main``)."""
        context = _context()
        self.memory_policy = memory_policy
        self.threads = threads
        messages_in, messages_out = context.Pipe(duplex=False)
        commands_in, commands_out = context.Pipe(duplex=False)
        # A pipe, not a multiprocessing Event: a named semaphore that the window drops before
        # the child has opened it (a spare at exit) made the child fail loudly.
        warm_in, warm_out = context.Pipe(duplex=False)
        self._process = context.Process(
            target=target or child_main, name="studio-training", daemon=True,
            args=(memory_policy, messages_out, commands_in, warm_out, threads))
        self._process.start()  # waits for the fork server to finish its imports
        # Only the child keeps these ends open, so each side sees the other's exit as EOF.
        for child_end in (messages_out, commands_in, warm_out):
            child_end.close()
        self._messages: Connection = messages_in
        self._commands: Connection = commands_out
        self._warm_signal: Connection = warm_in
        self._warmed = False

    @property
    def warm(self) -> bool:
        """Whether it has warmed up (it trains at full speed from its first batch)."""
        if not self._warmed:
            with contextlib.suppress(EOFError, OSError, ValueError):  # ended, or closed
                self._warmed = self._warm_signal.poll() and self._warm_signal.recv() is True
        return self._warmed

    @property
    def alive(self) -> bool:
        return bool(self._process.is_alive())

    def suits(self, memory_policy: MemoryPolicy, threads: int | None) -> bool:
        """Whether it can train with these settings (both are fixed once its runtime has
        started)."""
        return (self.memory_policy == memory_policy and self.threads == threads
                and self.alive)

    def train(self, project: Project, run_dir: Path) -> None:
        self.command("train", project, run_dir)

    @property
    def pid(self) -> int:
        pid: int = self._process.pid
        return pid

    def command(self, *message: Any) -> None:
        """Send a command; one for a child that has already ended is dropped."""
        with contextlib.suppress(OSError, ValueError):
            self._commands.send(message)

    def messages(self) -> Any:
        """The child's messages, as they come, until it exits (blocks between them). An
        ``"events"`` message carries the events gathered since the last one, in order."""
        while True:
            try:
                yield self._messages.recv()
            except (EOFError, OSError):
                return

    def wait(self) -> int | None:
        """Wait for the exit; the exit code (negative: killed by that signal)."""
        self._process.join()
        for connection in (self._messages, self._commands, self._warm_signal):
            connection.close()
        code: int | None = self._process.exitcode
        return code

    def kill(self) -> None:
        if self._process.is_alive():
            self._process.kill()


def child_main(memory_policy: MemoryPolicy, messages: Connection, commands: Connection,
               warm: Connection, threads: int | None = None) -> None:
    # At the window's own priority: a child niced by 5 trained 5-7 % slower than a plain
    # script even with the window idle (two cores, interleaved runs), and the window's short
    # bursts of drawing stayed as smooth without it (the scheduler favours a thread that
    # has slept).
    try:
        prepared: list[Any] | BaseException = _prepare(memory_policy, threads)
    except Exception as error:  # reported when there is a training to report it to
        prepared = error
    with contextlib.suppress(OSError):  # the window may have dropped a spare already
        warm.send(True)
    warm.close()
    try:
        name, *job = commands.recv()
    except (EOFError, OSError):
        return  # a spare that was not needed
    if name != "train":
        return  # stopped before it was given a training
    project, run_dir = job
    control = TrainingControl()
    threading.Thread(target=_obey, args=(commands, control), name="studio-commands",
                     daemon=True).start()
    try:
        if isinstance(prepared, BaseException):
            raise prepared
        messages.send(("memory_policy", prepared))
        messages.send(("finished", _train(project, run_dir, messages, control)))
    except OutOfMemory as error:
        messages.send(("out_of_memory", (str(error), error.batch_size)))
    except StudioError as error:
        messages.send(("failed", (str(error), "")))
    except BaseException as error:  # a Ctrl+C too: the window must hear of it
        messages.send(("failed", (f"Training failed: {type(error).__name__}: {error}",
                                  traceback.format_exc())))
    finally:
        messages.close()


def _prepare(memory_policy: MemoryPolicy, threads: int | None = None) -> list[Any]:
    """Apply the memory policy and the threads per operation (TensorFlow's runtime has not
    started in a fresh process), then set the runtime up with a tiny fit: the training's
    first epoch then starts as fast as in a process that has trained before."""
    import keras
    import numpy as np

    from studio.ml.cpu_threads import apply_threads
    from studio.ml.devices import apply_memory_policy
    from studio.ml.pipeline import make_pipeline

    apply_threads(threads)
    results = apply_memory_policy(memory_policy)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    data = make_pipeline(np.zeros((8, 4), "float32"), np.zeros((8, 2), "float32"), 4,
                         shuffle=True, seed=0)
    model.fit(data, validation_data=data, epochs=1, verbose=0)
    keras.backend.clear_session()  # Keras' names and counters as in a fresh process
    return results


def _train(project: Project, run_dir: Path, messages: Connection,
           control: TrainingControl) -> dict[str, Any]:
    from studio.ml.session import train_project

    outbox = _Outbox(messages)
    try:
        result = train_project(project, outbox, control, run_dir)
    finally:
        outbox.close()
    return {"history": result.history, "stopped_early": result.stopped_early,
            "diverged": result.diverged, "reason": result.reason,
            "test_logs": result.test_logs}


class _Outbox:
    """The child's event sink: the training thread only appends each event to a list; a
    thread of its own sends what has gathered as one message every ``INTERVAL_S``.

    Each message wakes the window's process, and on two cores every wake costs the training:
    at one message per event (an epoch of 0.12 s sends its end, and batches go a few times a
    second) the training ran a few per cent slower. The window draws on ticks about as far
    apart, so an event that waits up to ``INTERVAL_S`` is not seen later. Pickling and writing
    to the pipe happen on the sending thread too.
    """

    INTERVAL_S = 0.25

    def __init__(self, messages: Connection, interval_s: float = INTERVAL_S) -> None:
        self._messages = messages
        self._interval = interval_s
        self._gathered: list[TrainingEvent] = []
        self._changed = threading.Condition()
        self._closing = False
        self._sender = threading.Thread(target=self._send_gathered, name="studio-outbox",
                                        daemon=True)
        self._sender.start()

    def __call__(self, event: TrainingEvent) -> None:
        with self._changed:
            self._gathered.append(event)

    def close(self) -> None:
        """Send what is still gathered, and end the sending thread."""
        with self._changed:
            self._closing = True
            self._changed.notify()
        self._sender.join()

    def _send_gathered(self) -> None:
        closing = False
        while not closing:
            with self._changed:
                self._changed.wait_for(lambda: self._closing, timeout=self._interval)
                events, self._gathered = self._gathered, []
                closing = self._closing
            if events:
                try:
                    self._messages.send(("events", tuple(events)))
                except (OSError, ValueError):
                    return  # the window's process is gone: the command thread ends this one


def _obey(commands: Connection, control: TrainingControl) -> None:
    """The child's command thread."""
    try:
        while True:
            name, *arguments = commands.recv()
            if name == "pause":
                control.pause()
            elif name == "resume":
                control.resume()
            elif name == "stop":
                control.request_stop()
            elif name == "changes":
                control.request_changes(**arguments[0])
    except (EOFError, OSError):  # the window's process is gone
        os._exit(ORPHANED_EXIT)


# ----- the process in reserve ----------------------------------------------------------------
_spare: TrainingProcess | None = None
_preparing = False  # a spare is being made (its fork may wait for the server's imports)
_spare_changed = threading.Condition()


def take(memory_policy: MemoryPolicy, threads: int | None = None) -> TrainingProcess:
    """A process for a training with this memory policy and threads per operation: the one
    in reserve if it has the same (warm, or warming up), else a new one."""
    global _spare
    with _spare_changed:
        _spare_changed.wait_for(lambda: not _preparing)
        spare, _spare = _spare, None
    if spare is not None and spare.suits(memory_policy, threads):
        return spare
    _discard(spare)
    return TrainingProcess(memory_policy, threads)


def prepare_spare(memory_policy: MemoryPolicy, threads: int | None = None) -> None:
    """Keep a process warming up for the next training. It costs about a second of CPU, so
    call it when nothing trains, and off the UI thread: the first one waits for the fork
    server's imports. Not where TensorFlow sees a GPU: a process warmed up there would hold
    the GPU's memory while it waits."""
    global _spare, _preparing
    if _gpus_present():
        return
    with _spare_changed:
        _spare_changed.wait_for(lambda: not _preparing)
        current = _spare
        if current is not None and current.suits(memory_policy, threads):
            return
        _spare, _preparing = None, True
    spare = None
    try:
        _discard(current)
        spare = TrainingProcess(memory_policy, threads)
    finally:
        with _spare_changed:
            _spare, _preparing = spare, False
            _spare_changed.notify_all()


def spare_ready() -> bool:
    """Whether the process in reserve has warmed up (benchmarks wait for it, so that its
    warming up does not land in another measurement)."""
    with _spare_changed:
        return _spare is not None and _spare.warm


def _gpus_present() -> bool:
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))  # lists without initialising


def _discard(process: TrainingProcess | None) -> None:
    if process is not None:
        process.kill()
        process.wait()
