from __future__ import annotations

from dataclasses import replace

import pytest

from studio.core.defaults import default_project
from studio.ui.main_window import MainWindow


def quick_project(epochs=2):
    project = default_project()
    return replace(project, training=replace(project.training, epochs=epochs, batch_size=64))


@pytest.fixture
def window(qtbot):
    """The real main window, shown offscreen, with TensorFlow loaded in the background."""
    win = MainWindow(quick_project())
    win.ask_unsaved = lambda action, subject: "discard"  # tests end with unsaved work
    qtbot.addWidget(win)
    win.show()
    win.start_background_loading()
    qtbot.waitUntil(lambda: win.can_train()[0], timeout=60000)
    yield win
    win.close()


@pytest.fixture
def active_window(qtbot):
    """The real window, shown and active (keys reach it), without TensorFlow."""
    from PySide6.QtWidgets import QApplication

    win = MainWindow(quick_project())
    win.ask_unsaved = lambda action, subject: "discard"
    qtbot.addWidget(win)
    win.show()
    win.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is win, timeout=5000)
    return win
