"""Help > About: the versions a bug report needs, TensorFlow's once it has loaded."""

from __future__ import annotations

import platform
import tomllib
from pathlib import Path

import PySide6
from PySide6.QtCore import qVersion
from PySide6.QtWidgets import QApplication, QLabel

from studio import __version__
from studio.core.devices import DeviceReport
from studio.ui.about_dialog import LICENCE, LOADING, AboutDialog
from studio.ui.main_window import MainWindow
from tests.ui.conftest import quick_project

ROOT = Path(__file__).resolve().parents[2]


def _lines(dialog):
    return dict(line.split(": ", 1) for line in dialog.text().splitlines())


def test_about_while_tensorflow_loads_then_filled_in(qtbot):
    window = MainWindow(quick_project())
    window.ask_unsaved = lambda action, subject: "discard"
    qtbot.addWidget(window)
    window.show()
    assert window.about_action in window.help_menu.actions()
    window.about_action.trigger()
    dialog = window.about_dialog
    assert dialog is not None and dialog.isVisible()
    lines = _lines(dialog)
    assert lines["Training Studio"] == __version__
    assert lines["TensorFlow"] == LOADING and lines["Keras"] == LOADING
    assert lines["GPU driver"] == LOADING
    assert lines["Qt"] == qVersion()
    assert lines["PySide6"] == PySide6.__version__
    assert lines["Python"].startswith(platform.python_version())

    with qtbot.waitSignal(window.ml.loaded, timeout=60000):
        window.start_background_loading()
    report = window.device_report
    lines = _lines(dialog)  # the open dialog was updated
    assert lines["TensorFlow"] == report.tensorflow_version
    assert lines["Keras"] == report.keras_version
    assert lines["GPU driver"] != LOADING
    if not report.driver_version:
        assert lines["GPU driver"].startswith("none found")
    dialog.copy_versions()
    assert QApplication.clipboard().text() == dialog.text()
    assert dialog.versions.isReadOnly()
    window.close()


def test_the_driver_and_build_are_shown_when_there_is_a_gpu(qtbot):
    report = DeviceReport("2.21.0", "3.15.0", True, "12.5", "9", 8, driver_version="560.35",
                          cuda_driver_version="12.6")
    dialog = AboutDialog(report)
    qtbot.addWidget(dialog)
    lines = _lines(dialog)
    assert lines["GPU driver"] == "NVIDIA 560.35 (supports CUDA 12.6)"
    assert lines["TensorFlow build"] == "CUDA 12.5, cuDNN 9"


def test_tensorflow_that_failed_to_load_says_so(qtbot):
    dialog = AboutDialog(None, "No module named 'tensorflow'")
    qtbot.addWidget(dialog)
    assert _lines(dialog)["TensorFlow"] == "unavailable: No module named 'tensorflow'"


def test_the_licence_line_matches_the_package(qtbot):
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"]
    assert declared["text"] == LICENCE
    dialog = AboutDialog()
    qtbot.addWidget(dialog)
    texts = " ".join(label.text() for label in dialog.findChildren(QLabel))
    assert f"Released under the {LICENCE} licence" in texts
