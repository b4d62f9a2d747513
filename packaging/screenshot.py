"""Render the README screenshots from the real window, one per main tab.

Run under a real display (``xvfb-run -a python packaging/screenshot.py``) or offscreen.
It trains the default project for real, so the curves are what a user sees.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

from studio.core.defaults import default_project
from studio.ui.main_window import MainWindow

OUT = Path(__file__).resolve().parents[1] / "resources" / "screenshots"


def main() -> int:
    app = QApplication(sys.argv)
    with tempfile.TemporaryDirectory() as runs:
        return _shoot_all(app, runs)


def _shoot_all(app: QApplication, runs: str) -> int:
    settings = QSettings(str(Path(runs) / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue("runs/root", runs)  # the screenshots' runs never mix with the user's
    window = MainWindow(default_project(), settings=settings)
    # The trained model is not worth keeping: closing must not wait on a save prompt (it
    # did, under xvfb, with nobody there to answer it).
    window.ask_unsaved = lambda _action, _subject: "discard"
    window.resize(1280, 800)
    window.show()
    window.start_background_loading()

    def shoot(name: str) -> None:
        app.processEvents()
        window.grab().save(str(OUT / name))
        print("wrote", OUT / name)

    def shoot_then(name: str, next_step: Callable[[], object]) -> Callable[[], None]:
        """A timer's step: the screenshot, then what comes next."""
        def step() -> None:
            shoot(name)
            next_step()
        return step

    def when_ready() -> None:
        if not window.can_train()[0]:
            QTimer.singleShot(200, when_ready)
            return
        if window.data_preview_of != window.document.project.dataset:
            QTimer.singleShot(200, when_ready)
            return
        window.tabs.setCurrentWidget(window.data)
        shoot("data.png")
        window.tabs.setCurrentWidget(window.builder)
        window.builder.select(4)
        shoot("builder.png")
        window.train()

    def finished(_result: object) -> None:
        window.training.redraw()

        def runs() -> None:
            window.tabs.setCurrentWidget(window.runs)
            window.runs.select_rows(list(range(window.runs.table.rowCount())))
            QTimer.singleShot(300, shoot_then("runs.png", window.close))

        def evaluated(_report: object) -> None:
            results = window.evaluation.evaluation
            if results is not None and results.classification is not None:
                wrong = [(t, p) for t, p in zip(results.classification.labels,
                                                results.classification.predicted, strict=True)
                         if t != p]
                if wrong:
                    window.evaluation.choose_cell(*wrong[0])
            QTimer.singleShot(500, shoot_then("evaluate.png", runs))

        def evaluate() -> None:
            window.tabs.setCurrentWidget(window.evaluate_tab)
            window.evaluator.finished.connect(evaluated)
            window.evaluate()

        def devices() -> None:
            window.tabs.setCurrentWidget(window.devices)
            QTimer.singleShot(300, shoot_then("devices.png", evaluate))

        QTimer.singleShot(300, shoot_then("training.png", devices))

    window.training_finished.connect(finished)
    QTimer.singleShot(0, when_ready)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
