"""Writes a run's bookkeeping files on a thread of its own, so that the training loop only
hands the writes over.

Why: rewriting ``history.csv`` atomically after every epoch (a temporary file, fsync, rename),
and ``run.json`` once a second, took about 1.4 ms of each 130 ms epoch of the digits CNN on
two cores, on the training thread. Here a write is queued per file; a newer write for a file
replaces one still waiting, since only the newest text matters. A file is written at most once
every ``min_interval_s``: the thread's work on the two cores slowed the training too (0.5 ms an
epoch when every epoch's history was written). ``flush`` writes what waits at once and waits
until it is done: before a run's safety files are written (resuming needs an epoch's history
row on disk no later than its backup) and before a run's final record. A write that failed
raises its error in the caller's thread, at its next ``write``, ``flush`` or ``close``.

``background=False`` writes at once, in the caller's thread (a multi-worker run writes its
backup after every epoch, where Keras gives no place to flush first).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from pathlib import Path


class DeferredWrites:
    """Queued file writes, the newest per path, done in the order they were last queued
    among the paths that are due."""

    def __init__(self, *, background: bool = True, name: str = "studio-run-files",
                 min_interval_s: float = 0.0) -> None:
        self._background = background
        self._name = name
        self._min_interval = min_interval_s
        self._pending: dict[Path, Callable[[], None]] = {}
        self._written_at: dict[Path, float] = {}
        self._flushing = 0  # callers waiting in flush: everything is due now
        self._writing = False
        self._error: BaseException | None = None
        self._closed = False
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def write(self, path: Path, write: Callable[[], None]) -> None:
        """Queue ``write`` (which writes ``path``) in place of any write of ``path`` still
        waiting."""
        if not self._background:
            write()
            return
        with self._changed:
            self._raise_error()
            if self._closed:
                raise RuntimeError("DeferredWrites is closed")
            self._pending.pop(path, None)  # the newest goes last, like a fresh write
            self._pending[path] = write
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name,
                                                daemon=True)
                self._thread.start()
            self._changed.notify_all()

    def flush(self) -> None:
        """Write what is queued now, and wait until it is done."""
        with self._changed:
            self._flushing += 1
            self._changed.notify_all()
            try:
                self._changed.wait_for(lambda: not self._pending and not self._writing)
            finally:
                self._flushing -= 1
            self._raise_error()

    def close(self) -> None:
        """Flush, then end the thread."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        with self._changed:
            self._raise_error()

    def _run(self) -> None:
        while True:
            with self._changed:
                while True:
                    if self._closed and not self._pending:
                        return  # everything is written
                    path, wait = self._next_due()
                    if path is not None and wait <= 0:
                        break
                    self._changed.wait(None if math.isinf(wait) else wait)
                write = self._pending.pop(path)
                self._written_at[path] = time.monotonic()
                self._writing = True
            try:
                write()
            except BaseException as error:  # handed to the caller's thread
                with self._changed:
                    self._error = self._error or error
            finally:
                with self._changed:
                    self._writing = False
                    self._changed.notify_all()

    def _next_due(self) -> tuple[Path | None, float]:
        """The first queued path that is due, or the seconds until one is (called holding
        the lock)."""
        if not self._pending:
            return None, math.inf
        if self._closed or self._flushing:
            return next(iter(self._pending)), 0.0
        now, soonest = time.monotonic(), math.inf
        for path in self._pending:
            wait = self._written_at.get(path, -math.inf) + self._min_interval - now
            if wait <= 0:
                return path, 0.0
            soonest = min(soonest, wait)
        return None, soonest

    def _raise_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error
