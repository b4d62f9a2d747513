"""Uncaught exceptions: logged, shown in a dialog with the details, and the studio goes on."""

from __future__ import annotations

import sys
import threading
from dataclasses import replace

import pytest
from PySide6.QtWidgets import QApplication

from studio.core import app_dirs
from studio.core.crash_log import LOG_NAME, LogFile, close_log, open_log
from studio.ui import crash_dialog
from studio.ui.crash_dialog import MAX_OPEN, CrashHandler, install_crash_handling
from studio.ui.main_window import MainWindow
from tests.ui.conftest import quick_project

# pytest-qt would otherwise take the exceptions raised in slots for itself (and fail the test).
pytestmark = pytest.mark.qt_no_exception_capture


@pytest.fixture
def window(qtbot):
    window = MainWindow(quick_project())
    window.ask_unsaved = lambda action, subject: "discard"
    qtbot.addWidget(window)
    window.show()
    return window


@pytest.fixture
def handler(window, tmp_path):
    """The crash handler as the application installs it, logging under tmp_path."""
    crashes = CrashHandler(open_log(tmp_path / "log"), parent_window=lambda: window)
    crashes.install()
    yield crashes
    crashes.uninstall()
    for dialog in list(crashes.dialogs.values()):
        dialog.close()
    close_log()


def _boom(*_args):
    raise ValueError("boom: the slot failed")


def _raise(kind, text):
    try:
        raise kind(text)
    except Exception:
        return sys.exc_info()


def test_an_exception_in_a_slot_shows_a_dialog_and_the_window_goes_on(window, handler,
                                                                      tmp_path):
    window.tabs.currentChanged.connect(_boom)
    window.tabs.setCurrentWidget(window.training)  # the slot raises inside Qt's signal
    assert len(handler.dialogs) == 1
    dialog = next(iter(handler.dialogs.values()))
    assert dialog.isVisible()
    assert "ValueError: boom: the slot failed" in dialog.message.text()
    assert "Traceback (most recent call last)" in dialog.details.toPlainText()
    assert "_boom" in dialog.details.toPlainText()
    assert dialog.details.isReadOnly()
    assert str(tmp_path / "log" / LOG_NAME) in dialog.log_label.text()
    dialog.copy_details()
    assert "boom: the slot failed" in QApplication.clipboard().text()

    # The studio keeps working: the tab changed, edits and undo still go through.
    assert window.tabs.currentWidget() is window.training
    project = window.document.project
    window.document.edit(replace(project, name="Still alive"), "Rename")
    assert window.windowTitle().startswith("Still alive*")
    window.document.undo_stack.undo()
    assert window.document.project.name == project.name


def test_the_same_crash_again_counts_instead_of_stacking_dialogs(window, handler):
    window.tabs.currentChanged.connect(_boom)
    for index in [2, 3, 4, 5, 0, 2, 3]:  # the builder (1) is current
        window.tabs.setCurrentIndex(index)
    assert len(handler.dialogs) == 1
    dialog = next(iter(handler.dialogs.values()))
    assert dialog.count == 7
    assert "7 times" in dialog.repeats.text()
    assert len(handler.reports) == 7, "each one is still logged"


def test_at_most_a_few_dialogs_are_open_at_once(window, handler):
    for n in range(MAX_OPEN + 4):
        handler.handle(*_raise(RuntimeError, f"different problem {n}"))
    assert len(handler.dialogs) == MAX_OPEN
    first = next(iter(handler.dialogs.values()))
    first.close()  # closing one makes room for the next
    handler.handle(*_raise(RuntimeError, "yet another"))
    assert len(handler.dialogs) == MAX_OPEN


def test_dont_show_again_ignores_that_error_until_restart(window, handler):
    window.tabs.currentChanged.connect(_boom)
    window.tabs.setCurrentIndex(2)
    dialog = next(iter(handler.dialogs.values()))
    dialog.ignore.setChecked(True)
    dialog.close()
    window.tabs.setCurrentIndex(3)
    assert not handler.dialogs
    assert len(handler.reports) == 2


def test_the_log_file_records_the_traceback(window, handler, tmp_path):
    window.tabs.currentChanged.connect(_boom)
    window.tabs.setCurrentIndex(3)
    text = (tmp_path / "log" / LOG_NAME).read_text(encoding="utf-8")
    assert "Uncaught exception: ValueError: boom: the slot failed" in text
    assert "Traceback (most recent call last)" in text and "in _boom" in text


def test_an_exception_in_a_thread_is_shown_on_the_gui_thread(window, handler, qtbot):
    thread = threading.Thread(target=_boom, name="helper-thread")
    thread.start()
    thread.join()
    qtbot.waitUntil(lambda: bool(handler.dialogs), timeout=5000)
    dialog = next(iter(handler.dialogs.values()))
    assert "in thread helper-thread" in dialog.message.text()
    assert dialog.thread() is QApplication.instance().thread()


def test_a_failing_dialog_is_not_shown_by_another_dialog(window, handler, monkeypatch, capfd,
                                                         tmp_path):
    def broken(*_args, **_kwargs):
        raise RuntimeError("the dialog itself is broken")

    monkeypatch.setattr(crash_dialog, "CrashDialog", broken)
    handler.handle(*_raise(ValueError, "first"))
    handler.handle(*_raise(ValueError, "second"))
    assert handler.show_failures == 2, "tried once per crash, never recursively"
    assert not handler.dialogs
    assert "failed while showing the error dialog" in capfd.readouterr().err
    log = (tmp_path / "log" / LOG_NAME).read_text(encoding="utf-8")
    assert "ValueError: first" in log and "the dialog itself is broken" in log
    monkeypatch.undo()
    handler.handle(*_raise(ValueError, "third"))  # and it recovers once showing works
    assert len(handler.dialogs) == 1


def test_uninstall_gives_the_hooks_back(window, tmp_path):
    before = (sys.excepthook, threading.excepthook)
    crashes = CrashHandler(LogFile(None, "no file"))
    crashes.install()
    assert sys.excepthook == crashes.excepthook
    crashes.uninstall()
    assert (sys.excepthook, threading.excepthook) == before


# ----- the log folder --------------------------------------------------------------------
def test_the_application_logs_to_the_user_log_folder(monkeypatch, tmp_path, qapp):
    monkeypatch.setattr(app_dirs, "log_dir", lambda: tmp_path / "user-log")
    crashes = install_crash_handling(qapp)
    try:
        assert crashes.log == LogFile(tmp_path / "user-log" / LOG_NAME, "")
        assert "Training Studio" in crashes.log.path.read_text(encoding="utf-8")
        crashes.handle(*_raise(KeyError, "missing"))
        assert "KeyError: 'missing'" in crashes.log.path.read_text(encoding="utf-8")
    finally:
        crashes.uninstall()
        for dialog in list(crashes.dialogs.values()):
            dialog.close()
        close_log()


def test_a_read_only_log_folder_does_not_stop_the_window(monkeypatch, tmp_path, qapp, qtbot):
    blocked = tmp_path / "user-log"
    blocked.write_text("not a folder")
    monkeypatch.setattr(app_dirs, "log_dir", lambda: blocked)
    crashes = install_crash_handling(qapp)
    try:
        assert crashes.log.path is not None and crashes.log.path.parent != blocked
        assert str(blocked) in crashes.log.note
        window = MainWindow(quick_project())
        qtbot.addWidget(window)
        window.session.notice(crashes.log.note)  # what run_app does with the note
        assert str(blocked) in window.training.log.toPlainText()
    finally:
        crashes.uninstall()
        close_log()


def test_a_dialog_deleted_with_its_parent_frees_its_place(qtbot, tmp_path):
    """A crash dialog parented to a short-lived window dies with it (without emitting
    finished): the next crash must still get a dialog."""
    from PySide6.QtWidgets import QDialog

    short_lived = QDialog()
    crashes = CrashHandler(open_log(tmp_path / "log"), parent_window=lambda: short_lived)
    try:
        crashes.handle(*_raise(ValueError, "while the dialog was open"))
        assert len(crashes.dialogs) == 1
        short_lived.deleteLater()
        qtbot.waitUntil(lambda: not crashes.dialogs, timeout=3000)
        short_lived = None  # the application's main window, in real use
        crashes.handle(*_raise(ValueError, "while the dialog was open"))
        assert len(crashes.dialogs) == 1
        assert next(iter(crashes.dialogs.values())).isVisible()
    finally:
        for dialog in list(crashes.dialogs.values()):
            dialog.close()
        close_log()
