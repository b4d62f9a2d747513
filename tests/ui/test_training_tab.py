"""The training tab in the real window: change the rate and epochs while paused, see it marked."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import Qt

from studio.core.events import BatchEnded, EpochEnded, TrainingEnded, TrainingStarted


def test_pause_change_rate_and_epochs_then_resume(window, qtbot):
    # Small batches: the first epoch lasts long enough for the pause, sent when its first
    # batch reaches the window, to get back to the training process on a busy machine.
    project = window.document.project
    window.document.edit(replace(project, training=replace(project.training, batch_size=8)),
                         "Set batch size to 8")
    qtbot.waitUntil(lambda: window.can_train()[0], timeout=60000)
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


def test_plot_controls_act_on_the_live_plots_and_export_them(window, qtbot, tmp_path):
    with qtbot.waitSignal(window.training_finished, timeout=90000):
        assert window.train()
    view = window.training
    controls = view.plot_controls
    controls.smoothing.setValue(90)
    assert view.loss_plot.smoothing == 0.9 and view.accuracy_plot.smoothing == 0.9
    controls.log_scale.setChecked(True)
    assert view.loss_plot.is_log_y() and not view.accuracy_plot.is_log_y()
    controls.series["batch"].setChecked(False)
    assert not view.loss_plot.is_series_visible("batch")
    assert view.rate_plot.point_count("train") == 2  # one learning rate per epoch
    written = controls.export("csv", tmp_path)
    assert [p.name for p in written] == ["loss.csv", "accuracy.csv", "learning-rate.csv"]
    assert written[0].read_text().startswith("series,x,y")
    png = controls.export("png", tmp_path)[0]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_each_run_is_recorded_in_its_own_folder(window, qtbot):
    from studio.core.run_record import read_run

    for _ in range(2):
        with qtbot.waitSignal(window.training_finished, timeout=90000):
            assert window.train()
    runs = sorted(window.runs_root.iterdir())
    assert len(runs) == 2 and window.current_run == runs[-1]
    record = read_run(runs[-1])
    assert record.status == "finished" and record.epochs_completed == 2
    assert (runs[-1] / "model.keras").is_file() and (runs[-1] / "history.csv").is_file()


def test_runs_are_listed_compared_and_their_models_reopened(window, qtbot):
    from dataclasses import replace

    with qtbot.waitSignal(window.training_finished, timeout=90000):
        assert window.train()
    project = window.document.project
    window.document.edit(replace(project, training=replace(project.training,
                                                           learning_rate=0.01)), "faster")
    qtbot.waitUntil(lambda: window.can_train()[0], timeout=30000)
    with qtbot.waitSignal(window.training_finished, timeout=90000):
        assert window.train()
    runs = window.runs
    window.tabs.setCurrentWidget(runs)
    assert runs.table.rowCount() == 2
    assert runs.table.item(0, 2).text() == "finished" and runs.table.item(0, 3).text() == "2/2"
    runs.select_rows([0, 1])
    assert runs.curve_count() == 2
    assert runs.diff_table.rowCount() == 1
    assert runs.diff_table.item(0, 0).text() == "training.learning_rate"
    assert {runs.diff_table.item(0, 1).text(), runs.diff_table.item(0, 2).text()} \
        == {"0.01", "0.001"}
    runs.select_rows([1])
    window.model_unsaved = False
    window.trained_model = None
    with qtbot.waitSignal(window.ml.model_loaded, timeout=30000):
        qtbot.mouseClick(runs.open_button, Qt.MouseButton.LeftButton)
    assert window.trained_model is not None and window.save_model_action.isEnabled()


def test_batches_are_drawn_by_paced_ticks_one_plot_at_a_time(active_window, qtbot):
    """One tick paints one plot, so no pass of the event loop paints them all at once; the
    batch progress waits for a tick too, instead of being redrawn for every event."""
    view = active_window.training
    active_window.tabs.setCurrentWidget(view)
    view.create_plots()
    view.on_event(TrainingStarted(epochs=2, steps_per_epoch=10, train_samples=320,
                                  validation_samples=64))
    for step in range(1, 6):
        view.on_event(BatchEnded(0, step, 10, 900.0, {"loss": 1.0 / step, "accuracy": 0.1}))
    plots = view.plots()
    assert sum(plot.dirty for plot in plots) == 2  # loss and accuracy; no rate yet
    assert "batch 5/10" not in view.progress_label.text()
    view._tick()
    assert sum(plot.dirty for plot in plots) == 1
    assert "Epoch 1/2 · batch 5/10" in view.progress_label.text()
    qtbot.waitUntil(lambda: not any(plot.dirty for plot in plots), timeout=5000)


def test_a_batch_event_draws_every_batch_it_carries(active_window):
    view = active_window.training
    view.create_plots()
    view.on_event(TrainingStarted(epochs=2, steps_per_epoch=10, train_samples=320,
                                  validation_samples=64))
    earlier = tuple((step, {"loss": 1.0 / step, "accuracy": 0.1 * step}) for step in (1, 2, 3))
    view.on_event(BatchEnded(0, 4, 10, 900.0, {"loss": 0.25, "accuracy": 0.4},
                             earlier=earlier))
    x, y = view.loss_plot.series_data("batch")
    np.testing.assert_allclose(x, [0.1, 0.2, 0.3, 0.4])
    np.testing.assert_allclose(y, [1.0, 0.5, 1 / 3, 0.25])
    assert view.accuracy_plot.point_count("batch") == 4


def test_the_ticks_are_paced_by_what_a_redraw_and_its_paint_cost(active_window, qtbot):
    """The next tick waits for the last redraw's cost (its data and that plot's paint) / the
    share; other plots' paints do not count, and a tick with nothing to draw leaves the pace
    alone."""
    view = active_window.training
    active_window.tabs.setCurrentWidget(view)
    loss_plot, accuracy_plot = view.create_plots()
    costs: list[float | None] = []
    view._pacer.next_interval_ms = lambda cost: (costs.append(cost), 100)[1]
    view._tick()  # nothing drawn before it
    loss_plot.append("batch", 0.1, 1.0)
    view._tick()  # redraws the loss plot
    painted = loss_plot.painted_seconds
    qtbot.waitUntil(lambda: loss_plot.painted_seconds > painted, timeout=5000)
    accuracy_plot.repaint()  # painted for another reason: not the redraw's cost
    assert accuracy_plot.painted_seconds > 0
    paint = loss_plot.painted_seconds - painted
    update = view._redrawn[1]
    view._tick()
    view._tick()
    assert costs[:2] == [None, None]
    assert costs[2] == pytest.approx(update + paint, abs=1e-9)
    assert costs[3] is None


def test_a_runs_end_is_drawn_by_the_ticks_one_plot_at_a_time(active_window):
    """Drawing every plot as the run ends froze the window for 50-60 ms: the last points and
    the view fitted to the whole run come on the next ticks, one plot each, at once."""
    from studio.core.redraw_pacing import FASTEST_MS

    view = active_window.training
    active_window.tabs.setCurrentWidget(view)
    view.set_running(True)
    view.on_event(TrainingStarted(epochs=1, steps_per_epoch=10, train_samples=320,
                                  validation_samples=64))
    view.on_event(BatchEnded(0, 10, 10, 900.0, {"loss": 0.5, "accuracy": 0.8}))
    view.on_event(EpochEnded(0, 1, 0.4, {"loss": 0.5, "accuracy": 0.8, "val_loss": 0.6,
                                         "val_accuracy": 0.7, "learning_rate": 0.001}))
    view.on_event(TrainingEnded(1, False, ""))
    plots = view.plots()
    assert all(plot.dirty for plot in plots), "none drawn while handling the end"
    assert view._timer.interval() == FASTEST_MS
    view.set_running(False)
    active_window.tabs.setCurrentIndex(0)  # another tab: drawn when this one comes back
    view._tick()
    assert all(plot.dirty for plot in plots) and view._timer.interval() > FASTEST_MS
    active_window.tabs.setCurrentWidget(view)
    for drawn in range(1, len(plots) + 1):
        view._tick()
        assert sum(not plot.dirty for plot in plots) == drawn
        if drawn < len(plots):
            assert view._timer.interval() == FASTEST_MS
    assert list(view.loss_plot.curves["val"].getData()[1]) == [0.6]
    view._tick()
    assert view._timer.interval() > FASTEST_MS, "idle again once all is drawn"


def test_an_epochs_log_line_and_progress_wait_for_a_tick_while_training(active_window):
    """Each change repaints the window; while training they are shown together on the paced
    ticks, the curves in words too."""
    view = active_window.training
    view.set_running(True)
    view.on_event(TrainingStarted(epochs=2, steps_per_epoch=10, train_samples=320,
                                  validation_samples=64))
    view._tick()
    view.on_event(EpochEnded(0, 2, 0.4, {"loss": 0.9, "accuracy": 0.5, "val_loss": 1.0,
                                         "val_accuracy": 0.4}))
    assert view.curves_label.text() == "Waiting for the first epoch…"
    assert "Epoch 1/2: " not in view.log.toPlainText()
    assert view.progress.value() == 0
    view._tick()
    assert view.curves_label.text().startswith("After epoch 1 of 2")
    assert "Epoch 1/2: " in view.log.toPlainText()
    assert view.progress.value() == 500
    view.append_log("Last words.")
    view.set_running(False)
    assert view.log.toPlainText().endswith("Last words."), "shown when training ends"


def test_the_utilisation_plot_is_redrawn_by_the_ticks_in_turn(active_window):
    from studio.core.utilisation import UtilisationSample

    view = active_window.training
    active_window.tabs.setCurrentWidget(view)
    view.create_plots()
    view.utilisation_plot.add(UtilisationSample(1.0, 50.0, 900.0, 16_000.0))
    assert view.utilisation_plot.dirty
    for _ in range(len(view.plots()) + 1):
        view._tick()
    assert not view.utilisation_plot.dirty
    assert list(view.utilisation_plot.curves["cpu"].getData()[1]) == [50.0]
