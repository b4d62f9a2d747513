"""What the user sees when the studio hits a bug: a dialog, not a vanished window.

``CrashHandler`` takes over ``sys.excepthook`` (which PySide6 also calls for an exception
in a slot) and ``threading.excepthook``. Each exception is logged; a dialog shows a short
message, the traceback to copy and the log file's path, and the studio keeps running.
The same crash again adds to the count of its open dialog instead of stacking another; at
most ``MAX_OPEN`` dialogs are open at once; if showing a dialog itself fails, that is
logged and written to stderr, never handled by showing another dialog.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any

from PySide6.QtCore import QObject, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from studio import __version__
from studio.core import app_dirs
from studio.core.crash_log import LogFile, open_log
from studio.core.crash_report import CrashReport, describe

_log = logging.getLogger("studio.crash")
MAX_OPEN = 3


class CrashDialog(QDialog):
    def __init__(self, report: CrashReport, log: LogFile, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.report = report
        self.count = 1
        self.setWindowTitle("Training Studio: unexpected error")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        icon = QLabel()
        icon.setPixmap(self.style().standardIcon(
            QStyle.StandardPixmap.SP_MessageBoxCritical).pixmap(32, 32))
        self.message = QLabel(report.message)
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.repeats = QLabel()
        self.repeats.hide()
        self.details = QPlainTextEdit(report.details)
        self.details.setReadOnly(True)
        self.details.setAccessibleName("Error details")
        self.details.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.details.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.details.setMinimumSize(640, 220)
        if log.path is not None:
            where = f"Details are also in the log file: {log.path}"
        else:
            where = "No log file is written this session."
        self.log_label = QLabel(where + (f"\n{log.note}" if log.note else ""))
        self.log_label.setWordWrap(True)
        self.log_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.ignore = QCheckBox("&Don't show this error again until the studio restarts")
        copy = QPushButton("&Copy details")
        copy.clicked.connect(self.copy_details)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(copy, QDialogButtonBox.ButtonRole.ActionRole)
        if log.path is not None:
            folder = log.path.parent
            open_folder = QPushButton("Open log &folder")
            open_folder.clicked.connect(
                lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))))
            buttons.addButton(open_folder, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(icon)
        layout.addWidget(self.message)
        layout.addWidget(self.repeats)
        layout.addWidget(self.details, 1)
        layout.addWidget(self.log_label)
        layout.addWidget(self.ignore)
        layout.addWidget(buttons)

    def add_occurrence(self) -> None:
        self.count += 1
        self.repeats.setText(f"This error has happened {self.count} times.")
        self.repeats.show()

    def copy_details(self) -> None:
        QGuiApplication.clipboard().setText(f"{self.report.message}\n\n{self.report.details}")


class CrashHandler(QObject):
    """Installs the hooks; dialogs are shown on the thread this object lives on (the GUI's)."""

    _crashed = Signal(object)  # CrashReport, queued from other threads

    def __init__(self, log: LogFile, parent_window: Callable[[], QWidget | None] | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.log = log
        self.parent_window = parent_window or QApplication.activeWindow
        self.dialogs: dict[tuple[str, str, str], CrashDialog] = {}
        self.ignored: set[tuple[str, str, str]] = set()
        self.reports: list[CrashReport] = []  # every crash handled, newest last
        self.show_failures = 0
        self._showing = False
        self._previous: tuple[Any, Any] | None = None
        self._crashed.connect(self._show)

    # ----- hooks ---------------------------------------------------------------------------
    def install(self) -> None:
        if self._previous is None:
            self._previous = (sys.excepthook, threading.excepthook)
        sys.excepthook = self.excepthook
        threading.excepthook = self.thread_excepthook

    def uninstall(self) -> None:
        if self._previous is not None:
            sys.excepthook, threading.excepthook = self._previous
            self._previous = None

    def excepthook(self, exc_type: type[BaseException], value: BaseException,
                   tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, value, tb)
            return
        self.handle(exc_type, value, tb)

    def thread_excepthook(self, args: threading.ExceptHookArgs) -> None:
        if issubclass(args.exc_type, SystemExit):
            return  # what threading's own hook does too
        name = args.thread.name if args.thread is not None else "?"
        self.handle(args.exc_type, args.exc_value, args.exc_traceback, f"in thread {name}")

    def handle(self, exc_type: type[BaseException], value: BaseException | None,
               tb: TracebackType | None, where: str = "") -> None:
        """Log the exception and (on the GUI thread) show it; never raises."""
        try:
            report = describe(exc_type, value, tb, where)
            self.reports.append(report)
            _log.error("Uncaught exception%s: %s\n%s", f" {where}" if where else "",
                       report.summary, report.details.rstrip())
            self._crashed.emit(report)  # direct on the GUI thread, queued from others
        except BaseException as error:  # the handler itself failed: no recursion, stderr
            self._fallback("handling an uncaught exception", error)

    # ----- dialogs -------------------------------------------------------------------------
    def _show(self, report: CrashReport) -> None:
        if report.key in self.ignored:
            return
        open_dialog = self.dialogs.get(report.key)
        if open_dialog is not None:
            open_dialog.add_occurrence()
            return
        if self._showing or len(self.dialogs) >= MAX_OPEN:
            return  # logged already; more dialogs would only bury the window
        self._showing = True
        try:
            dialog = CrashDialog(report, self.log, self.parent_window())
            dialog.finished.connect(lambda _result, d=dialog: self._closed(d))
            # Deleted with a parent that closed first: it never emits finished.
            dialog.destroyed.connect(lambda _obj=None, key=report.key: self._forget(key))
            self.dialogs[report.key] = dialog
            dialog.show()
            dialog.raise_()
        except BaseException as error:
            self.show_failures += 1
            self.dialogs.pop(report.key, None)
            self._fallback("showing the error dialog", error)
        finally:
            self._showing = False

    def _forget(self, key: tuple[str, str, str]) -> None:
        self.dialogs.pop(key, None)

    def _closed(self, dialog: CrashDialog) -> None:
        if dialog.ignore.isChecked():
            self.ignored.add(dialog.report.key)
        if self.dialogs.get(dialog.report.key) is dialog:
            del self.dialogs[dialog.report.key]

    def _fallback(self, doing: str, error: BaseException) -> None:
        try:
            _log.critical("Failed while %s: %r", doing, error, exc_info=error)
            print(f"Training Studio: failed while {doing}: {error!r}", file=sys.__stderr__)
        except BaseException:
            pass  # nothing left to tell


def install_crash_handling(app: QObject,
                           parent_window: Callable[[], QWidget | None] | None = None
                           ) -> CrashHandler:
    """Open the log file (in the user's log folder, else a fallback) and take over the
    exception hooks for the application's lifetime. ``parent_window``: the long-lived window
    the dialogs belong to (a short-lived dialog's closing would delete them)."""
    handler = CrashHandler(open_log(app_dirs.log_dir()), parent_window, parent=app)
    _log.info("Training Studio %s starting", __version__)
    handler.install()
    return handler
