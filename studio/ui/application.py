"""Create the QApplication and the main window, then load TensorFlow after the first paint."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication

from studio import __version__
from studio.core.defaults import default_project, default_project_path
from studio.core.errors import StudioError
from studio.core.project import load_project
from studio.ui.crash_dialog import install_crash_handling
from studio.ui.icons import app_icon
from studio.ui.main_window import MainWindow

#: Set by the start-up benchmark: print the wall-clock time of the first paint, then quit.
BENCH_FIRST_PAINT = "STUDIO_BENCH_FIRST_PAINT"

#: Qt's raster engine hands the rows of a large fill to a pool of threads (two on this
#: two-core machine) and waits for them. While a training keeps every core busy, that only
#: adds threads competing with it: on two cores the pool took 0.6 % of a core during a run
#: and the window's thread another 0.5 % waiting for it. The window's paints are small; one
#: thread does them.
QT_ENVIRONMENT = {"QT_NO_GUI_THREADPOOL": "1"}


def prepare_qt_environment() -> None:
    """Set ``QT_ENVIRONMENT`` (unless the user set it) before Qt reads it: call it before
    the QApplication exists."""
    for name, value in QT_ENVIRONMENT.items():
        os.environ.setdefault(name, value)


class _FirstPaint(QObject):
    """Run ``callback`` once, right after the window's first paint."""

    def __init__(self, window: MainWindow, callback: object) -> None:
        super().__init__(window)
        self._callback = callback
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            watched.removeEventFilter(self)
            QTimer.singleShot(0, self._callback)  # type: ignore[call-overload]
        return False


def create_window(project_path: str | None) -> tuple[MainWindow, str | None]:
    """The window with the given project (or the default one) and any error opening it."""
    error = None
    project, path = default_project(), None
    if project_path:
        try:
            project, path = load_project(project_path), Path(project_path)
        except StudioError as exc:
            error = str(exc)
    window = MainWindow(project, path)
    if path is None:
        window.statusBar().showMessage(f"Opened the example project {default_project_path().name}")
    return window, error


def run_app(project_path: str | None = None) -> int:
    prepare_qt_environment()
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("Training Studio")
    app.setOrganizationName("Training Studio")
    app.setApplicationVersion(__version__)
    QApplication.setWindowIcon(app_icon())  # every window's icon; the desktop entry names the same
    QApplication.setDesktopFileName("training-studio")
    # Logged to a file, shown in a dialog, and the window keeps running.
    windows: list[MainWindow] = []
    crashes = install_crash_handling(app, lambda: windows[0] if windows else None)
    window, error = create_window(project_path)
    windows.append(window)
    if crashes.log.note:  # the log folder was not writable
        window.session.notice(crashes.log.note)
    # Whatever ends the event loop, no QThread may outlive it.
    app.aboutToQuit.connect(window.shutdown_workers)
    window.show()
    if error:
        window.show_error("Open project", error)
    if os.environ.get(BENCH_FIRST_PAINT):
        def report() -> None:
            print(f"first-paint {time.time():.6f}", flush=True)
            window.close()
        _FirstPaint(window, report)
    else:
        _FirstPaint(window, window.start_background_loading)
    return app.exec()
