"""Each training of the window runs in a process of its own, forked from a server that has
TensorFlow loaded.

Why: in the window's process, the training loop and the window's repaints take turns on one
interpreter lock. That halved the training's throughput and froze the window for up to
0.3 s. And every model TensorFlow builds leaves memory behind in its process: 7 MB a run.
A child process has its own interpreter and returns everything when it exits. Forking it from
multiprocessing's "forkserver", with the training modules preloaded there, makes a child ready
in milliseconds instead of the 4-5 s that importing TensorFlow takes.

The child sends ``("memory_policy", results)``, then ``("event", TrainingEvent)`` messages, and
finally one outcome:
- ``("finished", fields)``: a ``TrainingResult`` without its model; the model is in the run
  folder;
- ``("failed", (message, details))``;
- ``("out_of_memory", (message, batch size))``.

It obeys ``("pause",)``, ``("resume",)``, ``("stop",)`` and ``("changes", {...})``. When the
window's process goes away (a crash, a kill), the child ends at once, as a training in that
process would have: its run stays marked running, so the next launch offers to resume it
from its last saved epoch. Only our own processes are at either end of these pipes; nothing a user
opens is unpickled.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
import traceback
from collections.abc import Callable
from multiprocessing import forkserver
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from studio.core.control import TrainingControl
from studio.core.devices import MemoryPolicy
from studio.core.errors import OutOfMemory, StudioError
from studio.core.project import Project

#: Imported once by the fork server, so that every child starts with them loaded.
PRELOAD = ["studio.ml.session", "studio.ml.devices", "studio.ml.model_io"]

#: How much lower the child's scheduling priority is than the window's (0-19).
CHILD_NICENESS = 5
#: The exit status of a child whose window went away.
ORPHANED_EXIT = 3


def available() -> bool:
    """Whether this platform can fork children from a server (not on Windows)."""
    return "forkserver" in multiprocessing.get_all_start_methods()


def _context() -> Any:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


def warm_up() -> None:
    """Start the fork server now (it imports TensorFlow in its own process), so that the
    first training does not wait for it."""
    _context()
    forkserver.ensure_running()


class TrainingProcess:
    """The window's end of one training child: commands in, messages out."""

    def __init__(self, project: Project, memory_policy: MemoryPolicy, run_dir: Path, *,
                 target: Callable[..., None] | None = None) -> None:
        """``target``: the child's main function (a test's wrapper of ``child_main``)."""
        context = _context()
        messages_in, messages_out = context.Pipe(duplex=False)
        commands_in, commands_out = context.Pipe(duplex=False)
        self._process = context.Process(
            target=target or child_main, name="studio-training", daemon=True,
            args=(project, memory_policy, run_dir, messages_out, commands_in))
        self._process.start()  # waits for the fork server to finish its imports
        # Only the child keeps these ends open, so each side sees the other's exit as EOF.
        messages_out.close()
        commands_in.close()
        self._messages: Connection = messages_in
        self._commands: Connection = commands_out

    @property
    def pid(self) -> int:
        pid: int = self._process.pid
        return pid

    def command(self, *message: Any) -> None:
        """Send a command; one for a child that has already ended is dropped."""
        with contextlib.suppress(OSError, ValueError):
            self._commands.send(message)

    def messages(self) -> Any:
        """The child's messages, as they come, until it exits (blocks between them)."""
        while True:
            try:
                yield self._messages.recv()
            except (EOFError, OSError):
                return

    def wait(self) -> int | None:
        """Wait for the exit; the exit code (negative: killed by that signal)."""
        self._process.join()
        self._messages.close()
        self._commands.close()
        code: int | None = self._process.exitcode
        return code

    def kill(self) -> None:
        if self._process.is_alive():
            self._process.kill()


def child_main(project: Project, memory_policy: MemoryPolicy, run_dir: Path,
                messages: Connection, commands: Connection) -> None:
    # A little below the window in the scheduler's eyes: the window's few milliseconds of
    # drawing come first, and training has every cycle the window leaves (all but ~2 %).
    os.nice(CHILD_NICENESS)
    control = TrainingControl()
    threading.Thread(target=_obey, args=(commands, control), name="studio-commands",
                     daemon=True).start()
    try:
        messages.send(("finished", _train(project, memory_policy, run_dir, messages, control)))
    except OutOfMemory as error:
        messages.send(("out_of_memory", (str(error), error.batch_size)))
    except StudioError as error:
        messages.send(("failed", (str(error), "")))
    except BaseException as error:  # a Ctrl+C too: the window must hear of it
        messages.send(("failed", (f"Training failed: {type(error).__name__}: {error}",
                                  traceback.format_exc())))
    finally:
        messages.close()


def _train(project: Project, memory_policy: MemoryPolicy, run_dir: Path,
           messages: Connection, control: TrainingControl) -> dict[str, Any]:
    from studio.ml.devices import apply_memory_policy
    from studio.ml.session import train_project

    # A fresh process: TensorFlow has not initialised the GPUs yet, so the policy applies.
    messages.send(("memory_policy", apply_memory_policy(memory_policy)))
    result = train_project(project, lambda event: messages.send(("event", event)), control,
                           run_dir)
    return {"history": result.history, "stopped_early": result.stopped_early,
            "diverged": result.diverged, "reason": result.reason,
            "test_logs": result.test_logs}


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
