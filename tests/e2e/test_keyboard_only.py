"""The whole job with the keyboard alone: build a model, train it, export it.

Every action is a key press sent to the widget that has the focus, as a keyboard user's
would be; the test only reads state to check what happened. A step that cannot be done this
way is a bug in the window, not something to work around here.
"""

from __future__ import annotations

import keras
import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication, QWidget

Key = Qt.Key
ALT = Qt.KeyboardModifier.AltModifier
CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


def focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None, "nothing has the keyboard focus"
    return widget


def press(qtbot, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(focused(), key, modifier)


def shortcut(qtbot, keys: str) -> None:
    qtbot.keySequence(focused(), QKeySequence(keys))


def type_text(qtbot, text: str) -> None:
    qtbot.keyClicks(focused(), text)


def tab_to(qtbot, target: QWidget, backwards: bool = False, limit: int = 40) -> None:
    """Press Tab (or Shift+Tab) until ``target`` has the focus."""
    seen = []
    for _ in range(limit):
        if focused() is target:
            return
        seen.append(focused().accessibleName() or type(focused()).__name__)
        press(qtbot, Key.Key_Backtab if backwards else Key.Key_Tab,
              SHIFT if backwards else Qt.KeyboardModifier.NoModifier)
    raise AssertionError(f"Tab never reached {target.accessibleName()!r}; it went {seen}")


def active(qtbot, window) -> None:
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5000)


def test_build_train_and_export_with_the_keyboard_only(window, qtbot, tmp_path):
    active(qtbot, window)
    builder = window.builder

    # Ctrl+2: the Model builder, with the focus inside it.
    shortcut(qtbot, "Ctrl+2")
    assert window.tabs.currentWidget() is builder
    assert builder.isAncestorOf(focused())

    # Choose the Dense(64) layer in the stack, then add a BatchNormalization below it from
    # the palette (typing its name finds it; Enter adds it).
    tab_to(qtbot, builder.table)
    press(qtbot, Key.Key_Home, CTRL)
    for _ in range(4):
        press(qtbot, Key.Key_Down)
    assert builder.selected_index() == 4 and builder.spec.layers[4].type == "Dense"
    tab_to(qtbot, builder.layer_palette, backwards=True)
    type_text(qtbot, "BatchNormalization")
    assert builder.layer_palette.selected_type() == "BatchNormalization"
    press(qtbot, Key.Key_Return)
    assert [layer.type for layer in builder.spec.layers][4:] == [
        "Dense", "BatchNormalization", "Dropout", "Dense"]

    # Back in the stack: move it below the Dropout, then remove the Dropout.
    tab_to(qtbot, builder.table)
    assert builder.selected_index() == 5
    press(qtbot, Key.Key_Down, ALT)
    assert [layer.type for layer in builder.spec.layers][4:] == [
        "Dense", "Dropout", "BatchNormalization", "Dense"]
    press(qtbot, Key.Key_Up)
    assert builder.selected_index() == 5
    press(qtbot, Key.Key_Delete)
    assert [layer.type for layer in builder.spec.layers] == [
        "Conv2D", "MaxPooling2D", "Conv2D", "Flatten", "Dense", "BatchNormalization", "Dense"]

    # F5 trains (once Keras has checked the new stack); wait for the end.
    qtbot.waitUntil(lambda: window.can_train()[0], timeout=30000)
    with qtbot.waitSignal(window.training_finished, timeout=180000) as finished:
        shortcut(qtbot, "F5")
    assert window.tabs.currentWidget() is window.training
    assert finished.args[0].epochs_completed == window.document.project.training.epochs

    # Ctrl+Shift+E: the export dialog; type the format and the path, Enter exports.
    shortcut(qtbot, "Ctrl+Shift+E")
    qtbot.waitUntil(lambda: window.export_dialog is not None
                    and window.export_dialog.isVisible(), timeout=5000)
    dialog = window.export_dialog
    qtbot.waitUntil(lambda: dialog.isAncestorOf(focused()), timeout=5000)
    tab_to(qtbot, dialog.format)
    press(qtbot, Key.Key_Home)  # then down the list, reading it, to the Keras format
    for _ in range(dialog.format.count()):
        if dialog.format.currentData() == "keras":
            break
        press(qtbot, Key.Key_Down)
    assert dialog.format.currentData() == "keras"
    tab_to(qtbot, dialog.path)
    target = tmp_path / "keyboard model.keras"
    press(qtbot, Key.Key_A, CTRL)
    type_text(qtbot, str(target))
    press(qtbot, Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.result_found is not None, timeout=120000)
    assert dialog.result_found.path == target and target.is_file()
    assert dialog.result_found.verification.passed

    loaded = keras.saving.load_model(target)
    assert [layer.__class__.__name__ for layer in loaded.layers][-2:] == [
        "BatchNormalization", "Dense"]
    probabilities = loaded.predict(np.zeros((1, 8, 8, 1), "float32"), verbose=0)
    assert probabilities.shape == (1, 10)

    press(qtbot, Key.Key_Escape)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)


def test_pause_resume_and_stop_with_the_keyboard(window, qtbot):
    active(qtbot, window)
    # Enough epochs that the run is still going while the keys are pressed: typed into the
    # Epochs field of the Training tab (Ctrl+3), with the keyboard too.
    shortcut(qtbot, "Ctrl+3")
    epochs = window.training.settings.editors["epochs"]
    tab_to(qtbot, epochs)
    press(qtbot, Key.Key_A, CTRL)
    type_text(qtbot, "500")
    press(qtbot, Key.Key_Tab)
    assert window.document.project.training.epochs == 500
    qtbot.waitUntil(lambda: window.can_train()[0], timeout=30000)

    shortcut(qtbot, "F5")
    qtbot.waitUntil(lambda: window.training.progress.value() > 0, timeout=60000)
    runner = window.runner
    shortcut(qtbot, "F6")
    assert window.training.pause_button.isChecked() and runner.paused
    assert window.training.pause_action.text() == "&Resume"
    shortcut(qtbot, "F6")
    assert not window.training.pause_button.isChecked() and not runner.paused
    with qtbot.waitSignal(window.training_finished, timeout=60000) as finished:
        shortcut(qtbot, "Shift+F5")
    assert finished.args[0].stopped_early
