"""The Qt binding must not lose references to None or True (PySide6 6.12.0 on Python 3.11
does, and the interpreter aborts after a few thousand signals: a long training would crash).

Run in a child process, since the failure is an abort, not an exception.
"""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
from PySide6.QtCore import QCoreApplication, QObject, Signal

class Emitter(QObject):
    fired = Signal()

app = QCoreApplication([])
emitter = Emitter()
true_before, none_before = sys.getrefcount(True), sys.getrefcount(None)
for _ in range(20000):
    emitter.fired.emit()
    emitter.setObjectName("x")
print(sys.getrefcount(True) - true_before, sys.getrefcount(None) - none_before)
"""


def test_signals_and_void_calls_keep_reference_counts():
    done = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True,
                          timeout=120, env={"QT_QPA_PLATFORM": "offscreen", "PATH": ""})
    assert done.returncode == 0, f"the interpreter aborted: {done.stderr[-500:]}"
    true_delta, none_delta = (int(part) for part in done.stdout.split())
    assert abs(true_delta) < 100 and abs(none_delta) < 100, (true_delta, none_delta)
