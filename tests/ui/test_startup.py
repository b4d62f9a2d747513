"""The window is up before TensorFlow, and made before pyqtgraph is imported (the plots come
right after the first paint): checked in a fresh process, where nothing preloaded them."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_window_is_shown_before_tensorflow_is_imported():
    code = textwrap.dedent("""
        import sys
        from PySide6.QtWidgets import QApplication
        from studio.ui.application import create_window
        app = QApplication([])
        window, error = create_window(None)
        print("pyqtgraph" in sys.modules)
        window.show()
        app.processEvents()
        assert error is None
        assert window.isVisible()
        print("tensorflow" in sys.modules, "keras" in sys.modules)
        allowed, reason = window.can_train()
        print(allowed, reason)
        window.close()
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "False", "pyqtgraph was imported before the first paint"
    assert lines[1] == "False False"
    assert lines[2] == "False Train is available once TensorFlow has loaded."


def test_opening_a_bad_project_from_the_command_line_falls_back_with_a_message(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    code = textwrap.dedent(f"""
        from PySide6.QtWidgets import QApplication
        from studio.ui.application import create_window
        app = QApplication([])
        window, error = create_window({str(bad)!r})
        print(error)
        print(window.document.project.name)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    error, name = done.stdout.splitlines()
    assert error.startswith(f"{bad}: The file is not a Training Studio project")
    assert name == "Digits CNN"
