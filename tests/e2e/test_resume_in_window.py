"""After a crash the next launch offers to resume the run, and its curves come back whole."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from PySide6.QtCore import QSettings

from studio.core.defaults import default_project_path
from studio.core.run_record import read_run, resumable_epochs
from studio.ui.main_window import MainWindow
from tests.ui.conftest import quick_project

EPOCHS = 80


def _killed_run(folder, epochs):
    command = [sys.executable, "-m", "studio", "train", str(default_project_path()),
               "--epochs", str(epochs), "--output", str(folder)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while (resumable_epochs(folder) or 0) < 1 and time.monotonic() < deadline:
        assert process.poll() is None
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(30)
    return resumable_epochs(folder)


def test_the_next_launch_offers_and_resumes_an_interrupted_run(qtbot, tmp_path):
    runs = tmp_path / "runs"
    # Long enough for its first safety write, which is due after 5 s of training.
    done_before = _killed_run(runs / "2026-11-23_10-00-00_digits-cnn", epochs=EPOCHS)
    assert done_before is not None and done_before < EPOCHS
    settings = QSettings(str(tmp_path / "prefs.ini"), QSettings.Format.IniFormat)
    settings.setValue("runs/root", str(runs))
    window = MainWindow(quick_project(), settings=settings)
    asked = []
    window.ask_resume = lambda text: asked.append(text) or True
    window.ask_unsaved = lambda action, subject: "discard"
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.training_finished, timeout=120000) as finished:
        window.start_background_loading()
    assert asked and f"interrupted after epoch {done_before} of {EPOCHS}" in asked[0]
    result = finished.args[0]
    assert result.epochs_completed == EPOCHS
    assert window.training.loss_plot.point_count("train") == EPOCHS, "restored epochs drawn"
    assert window.document.project.name == "Digits CNN"
    record = read_run(runs / "2026-11-23_10-00-00_digits-cnn")
    assert record.status == "finished" and record.epochs_completed == EPOCHS
    assert not window.interrupted_runs()
    window.close()
