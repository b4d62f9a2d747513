"""The application's Qt environment, checked in fresh processes (Qt reads it once)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

_PAINT_AND_LIST_THREADS = textwrap.dedent("""
    import os, sys
    from pathlib import Path
    if sys.argv[1] == "prepared":
        from studio.ui.application import prepare_qt_environment
        prepare_qt_environment()
    from PySide6.QtGui import QColor, QImage, QPainter
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    image = QImage(1200, 900, QImage.Format.Format_RGB32)
    image.fill(QColor(255, 255, 255))
    painter = QPainter(image)
    # A large translucent fill is blended row by row: rows that Qt hands to its threads.
    painter.fillRect(0, 0, 1200, 900, QColor(200, 0, 0, 128))
    painter.end()
    assert image.pixelColor(600, 450).green() < 200
    print(sorted((task / "comm").read_text().strip() for task in Path("/proc/self/task").iterdir()))
""")


def _threads_after_painting(mode: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "QT_NO_GUI_THREADPOOL"}
    env["QT_QPA_PLATFORM"] = "offscreen"
    done = subprocess.run([sys.executable, "-c", _PAINT_AND_LIST_THREADS, mode],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_window_paints_on_its_own_thread_without_qts_fill_threads():
    """Qt's fill threads would compete with a training for the cores (see application.py)."""
    assert "Thread (pooled)" in _threads_after_painting("default"), "the check checks nothing"
    assert "Thread (pooled)" not in _threads_after_painting("prepared")
