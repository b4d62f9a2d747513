"""``studio --self-test``: prove an installation works end to end, then exit.

It opens the real main window (offscreen unless a platform is set), waits for TensorFlow,
trains the default project for one epoch on the window's own training thread and checks the
trained model was saved; exit status 0 means all of that worked. Anything else, or no result
within the time limit, ends with status 1 and one line on stderr. Settings and the run are
kept in a temporary folder, so the user's preferences and run history are left alone.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import traceback
from dataclasses import replace
from pathlib import Path
from typing import Any

#: Seconds before the self-test gives up; the environment variable overrides it.
TIMEOUT_S = 300.0
TIMEOUT_ENV = "STUDIO_SELF_TEST_TIMEOUT"


def timeout_from_env() -> float:
    """The time limit: STUDIO_SELF_TEST_TIMEOUT (seconds) if set, else 300 s."""
    text = os.environ.get(TIMEOUT_ENV, "")
    if not text:
        return TIMEOUT_S
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise ValueError(f"{TIMEOUT_ENV}={text!r}: give the time limit in seconds, "
                         "a number above 0")
    return value


def run_self_test(timeout_s: float | None = None) -> int:
    """Run the self-test in a QApplication of its own; returns the exit status."""
    try:
        limit = timeout_from_env() if timeout_s is None else timeout_s
    except ValueError as error:
        print(f"self-test: {error}", file=sys.stderr)
        return 2
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([sys.argv[0], *sys.argv[1:]])
    with tempfile.TemporaryDirectory(prefix="studio-self-test-") as folder:
        check = _SelfTest(Path(folder), limit)
        status = check.start()
        if status is None:
            status = app.exec()
        check.close()
    if status == 0:
        print(f"self-test passed in {time.monotonic() - check.started:.1f} s", flush=True)
    else:
        if check.details:
            print(check.details, file=sys.stderr)
        print(f"self-test failed: {check.failure}", file=sys.stderr, flush=True)
    return status


class _SelfTest:
    """Drives one MainWindow through load -> train one epoch -> check the saved model."""

    def __init__(self, folder: Path, timeout_s: float) -> None:
        self.folder = folder
        self.timeout_s = timeout_s
        self.started = time.monotonic()
        self.failure = ""
        self.details = ""  # a traceback, where one helps a bug report
        self.window: Any = None
        self._done = False

    def start(self) -> int | None:
        """Open the window and schedule the checks; an exit status if it cannot even start."""
        try:
            self._open_window()
        except Exception as error:  # a broken install: say what, and where for a bug report
            self.failure = f"could not open the main window: {type(error).__name__}: {error}"
            self.details = traceback.format_exc()
            return 1
        return None

    def _open_window(self) -> None:
        from PySide6.QtCore import QSettings, QTimer
        from PySide6.QtWidgets import QApplication

        from studio.core.defaults import default_project
        from studio.ui.icons import ICONS, app_icon, icon
        from studio.ui.main_window import MainWindow

        app = QApplication.instance()
        assert isinstance(app, QApplication)
        # The bundled resources are there: every icon renders, the app icon too.
        app.setWindowIcon(app_icon())
        missing = [name for name in ICONS if icon(name).isNull()]
        if app.windowIcon().isNull() or missing:
            raise RuntimeError(f"icons did not load: {', '.join(missing) or 'app icon'}")
        settings = QSettings(str(self.folder / "settings.ini"), QSettings.Format.IniFormat)
        settings.setValue("runs/root", str(self.folder / "runs"))
        project = default_project()
        project = replace(project, training=replace(project.training, epochs=1))
        # The user's own log and recovery files are never read or touched by a self-test
        # (platformdirs reads these at each call).
        for variable in ("XDG_DATA_HOME", "XDG_STATE_HOME"):
            os.environ[variable] = str(self.folder / variable.lower())
        QTimer.singleShot(int(self.timeout_s * 1000), self._timed_out)
        window = self.window = MainWindow(project, None, settings)
        window.ask_unsaved = lambda _action, _subject: "discard"
        window.ask_resume = lambda _text: False
        window.ask_recover = lambda _text: False
        window.ml.load_failed.connect(lambda message: self._fail(
            f"TensorFlow did not load: {message}"))
        window.training_finished.connect(self._trained)
        window.training_failed.connect(lambda message: self._fail(f"training failed: {message}"))
        window.show()
        window.start_background_loading()
        self._say(f"window open on the {app.platformName()} platform; loading TensorFlow")
        self._poll = QTimer(window)
        self._poll.timeout.connect(self._train_when_ready)
        self._poll.start(100)

    def _train_when_ready(self) -> None:
        if self._done or not self.window.can_train()[0]:
            return
        self._poll.stop()
        self._say(f"TensorFlow ready; training {self.window.document.project.name!r} for "
                  "one epoch")
        if not self.window.train():
            self._fail(f"Train did not start: {self.window.can_train()[1]}")

    def _trained(self, result: Any) -> None:
        try:
            problem = self._check_model(result)
        except Exception as error:
            problem = f"checking the trained model raised {type(error).__name__}: {error}"
            self.details = traceback.format_exc()
        if problem:
            self._fail(problem)
            return
        last = result.history[-1] if result.history else {}
        accuracy = last.get("val_accuracy")
        shown = f", validation accuracy {accuracy:.1%}" if accuracy is not None else ""
        self._say(f"trained {result.epochs_completed} epoch(s){shown}; model saved in "
                  f"{self.window.current_run}")
        self._finish(0)

    def _check_model(self, result: Any) -> str:
        if result.epochs_completed < 1:
            return f"training ended after 0 epochs ({result.reason or 'no reason given'})"
        if self.window.trained_model is None:
            return "training finished but the window has no trained model"
        run = self.window.current_run
        model_file = run / "model.keras" if run else None
        if model_file is None or not model_file.is_file() or model_file.stat().st_size == 0:
            return f"no trained model file at {model_file}"
        return ""

    def _timed_out(self) -> None:
        if not self._done:
            waiting = "" if self.window is None else self.window.can_train()[1]
            self._fail(f"no result after {self.timeout_s:g} s"
                       + (f" (last state: {waiting})" if waiting else ""))

    def _fail(self, message: str) -> None:
        if not self._done:
            self.failure = message
            self._finish(1)

    def _finish(self, status: int) -> None:
        from PySide6.QtWidgets import QApplication

        self._done = True
        self.close()
        QApplication.exit(status)

    def close(self) -> None:
        """Stop every worker thread and close the window (safe to call twice)."""
        if self.window is not None:
            window, self.window = self.window, None
            window.shutdown_workers()
            window.close()
            window.deleteLater()

    def _say(self, text: str) -> None:
        print(f"self-test [{time.monotonic() - self.started:5.1f} s]: {text}", flush=True)
