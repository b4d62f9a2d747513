"""The training tab in the real window: change the rate and epochs while paused, see it marked."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from studio.core.events import BatchEnded


def test_pause_change_rate_and_epochs_then_resume(window, qtbot):
    paused = []

    def on_event(event):
        if isinstance(event, BatchEnded) and not paused:
            paused.append(event)
            window.training.pause_button.setChecked(True)  # as if clicked

    window.runner.training_event.connect(on_event)
    with qtbot.waitSignal(window.training_finished, timeout=90000) as finished:
        assert window.train()
        qtbot.waitUntil(lambda: window.runner.paused, timeout=30000)
        rate = window.training.settings.editors["learning_rate"]
        epochs = window.training.settings.editors["epochs"]
        assert rate.isEnabled() and epochs.isEnabled()
        assert not window.training.settings.editors["optimizer"].isEnabled()
        rate.setValue(0.0005)
        epochs.setValue(3)
        qtbot.mouseClick(window.training.pause_button, Qt.MouseButton.LeftButton)  # resume
    result = finished.args[0]
    assert result.epochs_completed == 3
    assert [row["learning_rate"] for row in result.history] == pytest.approx([0.0005] * 3)
    log = window.training.log.toPlainText()
    assert "Changed to learning rate 0.0005, 3 epochs" in log
    assert len(window.training.loss_plot.marks) == 1
    assert window.document.project.training.epochs == 3  # the project keeps the new values
