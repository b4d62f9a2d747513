"""Auto-save of unsaved work to a recovery file, and finding what a crash left behind.

The window's document is written (atomically) every ``interval_ms`` while it has unsaved
changes that were not written yet. The file is removed when the document is saved or the
window closes cleanly. Files written by a process that is still running (another open
studio, or another window of this one) are never offered.
"""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path

import psutil
from PySide6.QtCore import QObject, QTimer, Signal

from studio.core import app_dirs
from studio.core.recovery import Recovery, discard, find_recoveries, write_recovery
from studio.ui.document import ProjectDocument

_log = logging.getLogger("studio.autosave")
#: Sessions of windows alive in this process: their files are not a crash's leftovers.
_live_sessions: set[str] = set()


def _started(pid: int) -> float:
    try:
        return float(psutil.Process(pid).create_time())
    except (psutil.Error, OSError):
        return 0.0


def is_live(recovery: Recovery) -> bool:
    """Whether the process (and, in this process, the window) that wrote it still runs."""
    if recovery.pid == os.getpid():
        return recovery.session in _live_sessions
    started = _started(recovery.pid)
    if not recovery.process_started:
        # Its writer could not tell its start time: a running process with its pid counts.
        return started > 0
    # A pid is reused after a reboot: only the same process, started at the same time, counts.
    return started > 0 and abs(started - recovery.process_started) < 2.0


class Autosave(QObject):
    saved = Signal(str)  # the recovery file
    failed = Signal(str)  # why it could not be written (reported once until it works again)

    def __init__(self, document: ProjectDocument, folder: Path | None = None,
                 interval_ms: int = 60_000, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.folder = folder if folder is not None else app_dirs.recovery_dir()
        self.session = uuid.uuid4().hex
        self.file: Path | None = None  # this session's file, once written
        self._dirty = document.modified  # changed since the last auto-save
        self._failing = False
        self._started = _started(os.getpid())
        _live_sessions.add(self.session)
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.timer.start()
        document.changed.connect(self._changed)
        document.path_changed.connect(self._path_changed)

    @property
    def interval_ms(self) -> int:
        return self.timer.interval()

    @interval_ms.setter
    def interval_ms(self, value: int) -> None:
        self.timer.setInterval(max(1, int(value)))

    def save_now(self) -> Path | None:
        """Write the recovery file now (if there are unsaved changes); returns it."""
        if not self.document.modified:
            return None
        try:
            self.file = write_recovery(self.folder, self.session, self.document.project,
                                       self.document.path, process_started=self._started)
        except (OSError, ValueError) as error:
            message = (f"Could not auto-save to {self.folder} "
                       f"({getattr(error, 'strerror', None) or error}); unsaved changes are "
                       "only in memory until you save.")
            if not self._failing:
                _log.warning(message)
                self.failed.emit(message)
            self._failing = True
            return None
        self._failing = False
        self._dirty = False
        self.saved.emit(str(self.file))
        return self.file

    def discard(self) -> None:
        """Nothing left to recover (saved, or closed cleanly): remove this session's file."""
        if self.file is not None:
            discard(self.file)
            self.file = None

    def close(self) -> None:
        """The window closes cleanly: stop, remove the file, and stop counting as alive."""
        self.timer.stop()
        self.discard()
        _live_sessions.discard(self.session)

    def pending(self) -> tuple[list[Recovery], list[str]]:
        """What crashed sessions left (newest first), and sentences about damaged files."""
        return find_recoveries(self.folder, is_live)

    def _tick(self) -> None:
        if self._dirty:
            self.save_now()

    def _changed(self) -> None:
        self._dirty = True

    def _path_changed(self) -> None:
        # Emitted on open, save and clean-state changes: saved work needs no recovery.
        if not self.document.modified:
            self.discard()
            self._dirty = False
        else:
            self._dirty = True
