"""The real main window: its areas, validation gating Train, errors shown, files kept."""

from __future__ import annotations

import json
import time

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QSplitter

from studio.core.model_spec import LayerSpec
from studio.core.project import FORMAT_VERSION, load_project
from studio.ui.builder_view import BuilderView
from studio.ui.dataset_view import DatasetView
from studio.ui.device_view import DeviceView
from studio.ui.main_window import MainWindow
from studio.ui.runs_view import RunsView
from studio.ui.training_view import TrainingView
from tests.ui.conftest import quick_project


def test_window_has_six_areas_and_opens_the_default_project(qtbot):
    window = MainWindow(quick_project())
    qtbot.addWidget(window)
    widgets = [window.tabs.widget(i) for i in range(window.tabs.count())]
    assert [type(w) for w in widgets] == [DatasetView, BuilderView, TrainingView, QSplitter,
                                          RunsView, DeviceView]
    assert widgets[3].widget(0) is window.evaluation and widgets[3].widget(1) is \
        window.try_model
    assert window.tabs.currentWidget() is window.builder
    assert "Training Studio" in window.windowTitle()
    allowed, reason = window.can_train()
    assert not allowed and "TensorFlow" in reason


def test_invalid_stack_disables_train_and_marks_the_layer(window, qtbot):
    builder = window.builder
    builder.add_layer("Conv2D", index=4)  # after the Flatten
    qtbot.waitUntil(lambda: builder.problem_label.text() != "", timeout=10000)
    assert "Layer 5 (Conv2D) needs a 3-D input" in builder.problem_label.text()
    assert not window.training.train_button.isEnabled()
    assert not window.train()
    cell = builder.table.item(4, 0)
    assert cell.background().color().red() == 255
    assert "Reshape" in cell.toolTip()
    window.document.undo_stack.undo()
    qtbot.waitUntil(lambda: window.training.train_button.isEnabled(), timeout=10000)
    assert builder.table.item(4, 2).text() == "(64,)"
    assert builder.table.item(4, 3).text() == "32,832"


def test_summary_follows_fast_edits(window, qtbot):
    builder = window.builder
    builder.select(4)
    for units in range(65, 75):
        builder.form.editor("units").setValue(units)
    qtbot.waitUntil(lambda: builder.table.item(4, 3).text() == f"{512 * 74 + 74:,}",
                    timeout=10000)


def test_corrupt_project_shows_a_message_and_keeps_the_current_one(window, tmp_path, qtbot):
    before = window.document.project
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert not window.open_project(bad)
    assert "bad.json: not valid JSON" in window.last_error
    assert window.document.project == before
    box = QApplication.activeModalWidget()
    assert box is not None and "not valid JSON" in box.text()
    box.close()


def test_save_and_open_project_round_trip(window, tmp_path, qtbot):
    path = tmp_path / "mine.json"
    window.builder.select(6)
    window.builder.add_layer("Dropout", index=6)
    assert window.document.modified and window.windowTitle().startswith("Digits CNN*")
    assert window.save_project(path)
    assert not window.document.modified
    assert window.windowTitle().startswith("mine.json")
    saved = load_project(path)
    assert saved.model.layers[6] == LayerSpec.create("Dropout")
    assert json.loads(path.read_text())["format_version"] == FORMAT_VERSION
    window.new_project()
    assert window.open_project(path)
    assert window.document.project == saved


def test_a_failed_save_keeps_the_old_file(window, tmp_path, monkeypatch):
    import os

    path = tmp_path / "keep.json"
    assert window.save_project(path)
    before = path.read_bytes()
    window.builder.add_layer("Dropout", index=6)
    monkeypatch.setattr(os, "replace", lambda src, dst: (_ for _ in ()).throw(
        OSError(28, "No space left on device")))
    assert not window.save_project(path)
    assert "No space left on device" in window.last_error
    assert path.read_bytes() == before
    assert window.document.modified, "the unsaved edit is still marked unsaved"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.json"]


def test_unsaved_changes_are_offered_to_save_before_they_are_lost(window, tmp_path):
    answers = []
    asked = []
    window.ask_unsaved = lambda action, subject: (asked.append(subject), answers.pop(0))[1]
    window.builder.add_layer("Dropout", index=6)
    answers.append("cancel")
    window.new_project()
    assert len(window.document.project.model.layers) == 8, "cancel keeps the edit"
    answers.append("cancel")
    window.close()
    assert window.isVisible(), "cancel keeps the window open"
    window.document.replace(window.document.project, tmp_path / "saved.json")
    window.builder.add_layer("Dropout", index=6)
    answers.append("save")
    window.new_project()
    assert len(load_project(tmp_path / "saved.json").model.layers) == 9
    assert len(window.document.project.model.layers) == 7
    assert asked == ["project"] * 3


def test_an_unsaved_trained_model_is_not_dropped_silently(window, qtbot, tmp_path):
    asked = []
    answers = ["cancel", "discard"]
    window.ask_unsaved = lambda action, subject: (asked.append(subject), answers.pop(0))[1]
    with qtbot.waitSignal(window.training_finished, timeout=60000):
        window.train()
    assert window.model_unsaved
    window.new_project()
    assert asked == ["trained model"] and window.trained_model is not None
    with qtbot.waitSignal(window.model_saved, timeout=30000):
        window.save_model(tmp_path / "m.keras")
    assert not window.model_unsaved
    window.new_project()  # nothing unsaved: no question
    assert asked == ["trained model"]


def test_window_stays_responsive_while_training(window, qtbot):
    gaps = []
    last = [time.perf_counter()]

    def tick():
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    from PySide6.QtCore import QTimer

    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(10)
    with qtbot.waitSignal(window.training_finished, timeout=60000):
        assert window.train()
        assert not window.training.train_button.isEnabled()
        assert window.training.stop_button.isEnabled()
    timer.stop()
    # Not a speed goal (the 50 ms goal is a benchmark's): a generous bound that only a real
    # freeze of the event loop (work done on the UI thread) would break.
    assert len(gaps) > 20
    assert max(gaps) < 2.0, f"the event loop froze for {max(gaps):.2f} s"


def test_close_during_training_stops_the_worker(qtbot):
    window = MainWindow(quick_project(epochs=500))
    qtbot.addWidget(window)
    window.show()
    window.start_background_loading()
    qtbot.waitUntil(lambda: window.can_train()[0], timeout=60000)
    window.train()
    qtbot.waitUntil(lambda: window.training.loss_plot.point_count("batch") > 0, timeout=60000)
    # While the stopped training saves what it learned, the window's event loop keeps
    # running (it paints, and says why it waits): a timer on it fires.
    ticks = []
    timer = QTimer(interval=5)
    timer.timeout.connect(lambda: ticks.append(window.statusBar().currentMessage()))
    timer.start()
    window.close()
    timer.stop()
    assert not window.runner.running
    assert ticks and ticks[-1].startswith("Stopping the training and saving"), ticks
    assert not window.can_train()[0]  # nothing new starts once the close was accepted


def test_one_click_fix_for_the_output_layer(window, qtbot):
    builder = window.builder
    builder.select(6)
    builder.form.editor("units").setValue(4)
    qtbot.waitUntil(lambda: builder.fix_button.isVisible(), timeout=10000)
    assert "10 classes" in builder.problem_label.text()
    assert builder.fix_button.text() == "Fix: Set the last Dense layer to 10 units with softmax"
    assert not window.training.train_button.isEnabled()
    qtbot.mouseClick(builder.fix_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.training.train_button.isEnabled(), timeout=10000)
    assert builder.spec.layers[6].params["units"] == 10
    assert not builder.fix_button.isVisible()
    window.document.undo_stack.undo()  # the fix is one undoable edit
    assert builder.spec.layers[6].params["units"] == 4
