"""Shared test set-up: Qt offscreen, isolated settings, and no QThread left running or
garbage collection left off."""

from __future__ import annotations

import gc
import os
import sys
import weakref

# Set before Qt is imported anywhere (pytest-qt imports it when its plugin configures).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest

_started_threads: weakref.WeakSet = weakref.WeakSet()


def _track_qthreads() -> None:
    """Record every QThread started from Python, so a test that leaks one can be failed."""
    from PySide6.QtCore import QThread

    if getattr(QThread.start, "_studio_tracked", False):
        return
    original = QThread.start

    def start(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        _started_threads.add(self)
        return original(self, *args, **kwargs)

    start._studio_tracked = True  # type: ignore[attr-defined]
    QThread.start = start  # type: ignore[method-assign]


def _qt_loaded() -> bool:
    # Core tests must run without Qt: nothing here imports it unless a test module did.
    return "PySide6.QtCore" in sys.modules


@pytest.fixture(autouse=True)
def no_qthread_left_running():
    """Fail any test that leaves a QThread running (it would crash or leak at exit)."""
    if _qt_loaded():
        _track_qthreads()  # test modules are imported at collection, before any fixture
    yield
    running = []
    for thread in list(_started_threads):
        try:
            if thread.isRunning():
                running.append(thread.objectName() or repr(thread))
        except RuntimeError:  # the C++ object is already gone: not running
            continue
    if running:
        for thread in list(_started_threads):
            try:
                thread.quit()
                thread.wait(5000)
            except RuntimeError:
                pass
        pytest.fail(f"test left QThread(s) running: {', '.join(running)}")


@pytest.fixture(autouse=True)
def collection_handed_back():
    """Fail any test that leaves automatic garbage collection off: a window neither closed
    nor deleted (its collection timer still holds it), or a worker that never ended."""
    yield
    if not gc.isenabled():
        gc.enable()
        pytest.fail("test left automatic garbage collection off: close its windows "
                    "(MainWindow.close, or shutdown_workers) and let its workers end")


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path_factory, monkeypatch):
    """QSettings and recorded runs go to a temporary folder, never the developer's own."""
    folder = tmp_path_factory.mktemp("settings")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(folder))
    monkeypatch.setenv("XDG_DATA_HOME", str(folder / "data"))  # runs are recorded there
    monkeypatch.setenv("XDG_STATE_HOME", str(folder / "state"))  # the log file (platformdirs)
    if not _qt_loaded():
        yield
        return
    from PySide6.QtCore import QSettings

    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(folder))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    yield
