"""The live view of a run another process writes: it follows events.jsonl as it grows."""

from __future__ import annotations

from studio.core.events import BatchEnded, EpochEnded, TrainingEnded, TrainingStarted
from studio.core.run_events import EVENTS_FILE, event_to_line
from studio.ui.run_monitor import RunMonitor


def _append(path, text):
    with open(path, "a", encoding="utf-8") as file:
        file.write(text)


def test_curves_and_progress_follow_the_file_and_survive_a_torn_line(qtbot, tmp_path):
    events = tmp_path / EVENTS_FILE
    monitor = RunMonitor(tmp_path, poll_ms=60_000)  # polled by hand below
    qtbot.addWidget(monitor)
    assert "Remote run" in monitor.banner.text()
    assert "waiting" in monitor.status.text().lower()

    _append(events, event_to_line(TrainingStarted(4, 10, 640, 160, device="On the CPU.")))
    batch = event_to_line(BatchEnded(0, 5, 10, 900.0, {"loss": 2.0, "accuracy": 0.3}))
    _append(events, batch[:20])  # the writer is in the middle of this line
    assert monitor.poll() == 1
    assert monitor.loss_plot.point_count("batch") == 0
    assert "Epoch 1/4" in monitor.status.text()

    _append(events, batch[20:])
    _append(events, event_to_line(EpochEnded(0, 4, 1.5, {"loss": 1.5, "accuracy": 0.5,
                                                          "val_loss": 1.2,
                                                          "val_accuracy": 0.6})))
    assert monitor.poll() == 2
    assert monitor.loss_plot.point_count("batch") == 1
    assert monitor.loss_plot.point_count("val") == 1
    assert monitor.metric_plot.series_data("val")[1][-1] == 0.6
    assert monitor.progress.value() == 250
    assert "Epoch 1/4 · batch 10/10" in monitor.status.text()
    assert "Epoch 1/4: loss 1.5000" in monitor.log.toPlainText()
    assert "validation 1.2" in monitor.curves_label.text()

    _append(events, event_to_line(EpochEnded(1, 4, 1.5, {"loss": 1.0, "val_loss": 0.9})))
    _append(events, event_to_line(TrainingEnded(2, True, "stopped by the user")))
    monitor.poll()
    assert monitor.loss_plot.point_count("val") == 2
    assert "ended early: stopped by the user" in monitor.status.text()


def test_a_resumed_run_drops_the_epochs_it_repeats(qtbot, tmp_path):
    events = tmp_path / EVENTS_FILE
    lines = [TrainingStarted(3, 10, 640, 160),
             EpochEnded(0, 3, 1.0, {"loss": 1.0, "val_loss": 1.1}),
             EpochEnded(1, 3, 1.0, {"loss": 0.8, "val_loss": 0.9}),  # not in the backup
             TrainingStarted(3, 10, 640, 160, initial_epoch=1),
             EpochEnded(1, 3, 1.0, {"loss": 0.7, "val_loss": 0.75}),
             EpochEnded(2, 3, 1.0, {"loss": 0.6, "val_loss": 0.65})]
    events.write_text("".join(event_to_line(e) for e in lines))
    monitor = RunMonitor(tmp_path, poll_ms=60_000)
    qtbot.addWidget(monitor)
    x, y = monitor.loss_plot.series_data("val")
    assert list(x) == [1, 2, 3] and list(y) == [1.1, 0.75, 0.65]
    assert "resuming after epoch 1" in monitor.log.toPlainText()


def test_open_run_in_the_window_watches_a_headless_run(window, qtbot, tmp_path):
    assert window.watch_run(tmp_path / "nothing") is None
    assert "not a run folder" in window.last_error
    (tmp_path / EVENTS_FILE).write_text(event_to_line(TrainingStarted(2, 5, 100, 20)))
    monitor = window.watch_run(tmp_path)
    assert monitor is not None and monitor.isVisible() and monitor in window.run_monitors
    with open(tmp_path / EVENTS_FILE, "a") as file:
        file.write(event_to_line(EpochEnded(0, 2, 1.0, {"loss": 0.5, "val_loss": 0.6})))
    qtbot.waitUntil(lambda: monitor.loss_plot.point_count("val") == 1, timeout=5000)
    monitor.close()
