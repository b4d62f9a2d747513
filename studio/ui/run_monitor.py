"""Watch a run that another process writes: a headless ``studio train``, a GPU box or a
cluster's chief on a shared folder. Its ``events.jsonl`` is polled and the curves, progress and
log grow as it is written; the window says plainly that the run is not this window's own.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from studio.core.events import (
    BatchEnded,
    EpochEnded,
    SettingsChanged,
    TrainingEnded,
    TrainingEvent,
    TrainingStarted,
)
from studio.core.history import metric_columns
from studio.core.run_events import EVENTS_FILE, EventFileReader
from studio.ui.live_plot import LivePlot
from studio.ui.steady_label import SteadyLabel
from studio.ui.training_view import format_duration

POLL_MS = 500
#: A run silent for this long is said to be possibly stalled (its writer may have died).
QUIET_SECONDS = 120.0
MAX_BATCH_POINTS = 200_000


class RunMonitor(QWidget):
    """A top-level window following one run folder."""

    def __init__(self, folder: Path, parent: QWidget | None = None,
                 poll_ms: int = POLL_MS) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.folder = folder
        self.reader = EventFileReader(folder / EVENTS_FILE)
        self.setWindowTitle(f"{folder.name} (watching) — Training Studio")
        self.setAccessibleName(f"Watching the run in {folder}")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._epochs = self._steps = 1
        self._metric = "accuracy"
        self._started_at: float | None = None  # the writer's clock
        self._last_at: float | None = None  # the writer's clock
        #: This machine's clock when events last arrived (the writer's may differ).
        self._last_seen = time.monotonic()
        self._first_epoch = 0  # a resumed run's progress starts there
        self._latest: tuple[int, int] = (0, 0)  # (epoch, batch) of the newest progress
        self._rate = 0.0
        self._ended: TrainingEnded | None = None
        #: The batch points (x, loss, metric) so far, at most the newest MAX_BATCH_POINTS, to
        #: redraw the curves when a resumed run starts again after its last saved epoch.
        self._batches: deque[tuple[float, float, float]] = deque(maxlen=MAX_BATCH_POINTS)
        self._epoch_logs: dict[int, dict[str, float]] = {}

        self.banner = QLabel(f"<b>Remote run</b> · {folder} · written by another process; "
                             "this window only watches it.")
        self.banner.setWordWrap(True)
        self.banner.setAccessibleName("Remote run")
        self.status = QLabel("Waiting for the run's first event…")
        self.status.setAccessibleName("Run status")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setAccessibleName("Run progress")
        self.loss_plot = LivePlot("Loss", "loss")
        self.metric_plot = LivePlot("Accuracy", "accuracy", legend_at_bottom=True)
        for plot, name in ((self.loss_plot, "Loss curves"), (self.metric_plot, "Metric curves")):
            plot.setAccessibleName(name)
        self.curves_label = QLabel("")
        self.curves_label.setWordWrap(True)
        self.curves_label.setAccessibleName("Curves in words")
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(5000)
        self.log.setAccessibleName("Run log")
        plots = QHBoxLayout()
        plots.addWidget(self.loss_plot)
        plots.addWidget(self.metric_plot)
        layout = QVBoxLayout(self)
        # The status and the curves in words change with every event: held steady.
        for widget in (self.banner, SteadyLabel(self.status), self.progress):
            layout.addWidget(widget)
        layout.addLayout(plots, 3)
        layout.addWidget(SteadyLabel(self.curves_label))
        layout.addWidget(self.log, 1)
        self.resize(1000, 680)

        self._timer = QTimer(self)
        self._timer.setInterval(poll_ms)
        self._timer.timeout.connect(self.poll)
        self._timer.start()
        self.poll()

    # ----- reading --------------------------------------------------------------------------
    def poll(self) -> int:
        """Read what was appended since the last poll; returns how many events."""
        events = self.reader.read_new()
        if self.reader.restarted:
            self._forget()
        for event, written in zip(events, self.reader.times, strict=True):
            self.on_event(event, written)
        if events:
            self._last_seen = time.monotonic()
            self.loss_plot.redraw()
            self.metric_plot.redraw()
        self._show_status()
        return len(events)

    def on_event(self, event: TrainingEvent, written: float | None = None) -> None:
        when = written if written is not None else time.time()
        self._last_at = when
        if isinstance(event, TrainingStarted):
            self._started(event, when)
        elif isinstance(event, BatchEnded):
            for step, logs in (*event.earlier, (event.step, event.logs)):
                x = event.epoch + step / event.steps_per_epoch
                point = (x, logs.get("loss", math.nan), logs.get(self._metric, math.nan))
                self._batches.append(point)
                self._plot_batch(*point)
            self._latest, self._rate = (event.epoch, event.step), event.samples_per_second
        elif isinstance(event, EpochEnded):
            self._epoch_logs[event.epoch] = dict(event.logs)
            self._plot_epoch(event.epoch, event.logs)
            self._latest = (event.epoch, self._steps)
            text = ", ".join(f"{k} {event.logs[k]:.4f}" for k in metric_columns([event.logs])
                             if k != "learning_rate")
            self._append_log(when, f"Epoch {event.epoch + 1}/{event.epochs}: {text} "
                             f"({event.seconds:.1f} s)")
        elif isinstance(event, SettingsChanged):
            self._epochs = event.epochs
            for plot in (self.loss_plot, self.metric_plot):
                plot.mark(event.x, event.text)
            self._append_log(when, event.text)
        elif isinstance(event, TrainingEnded):
            self._ended = event
            self._append_log(when, "Ended: " + (event.reason or "finished") + ".")

    def _started(self, event: TrainingStarted, when: float) -> None:
        self._epochs, self._steps = event.epochs, event.steps_per_epoch
        self._started_at, self._ended = when, None
        self._metric = event.metric
        titles = {"accuracy": "Accuracy", "mae": "Mean absolute error"}
        self.metric_plot.set_metric(titles.get(event.metric, event.metric), event.metric)
        # A resumed run starts again after its last saved epoch: drop what came later.
        first = self._first_epoch = event.initial_epoch
        self._batches = deque((p for p in self._batches if p[0] <= first),
                              maxlen=MAX_BATCH_POINTS)
        self._epoch_logs = {e: logs for e, logs in self._epoch_logs.items() if e < first}
        self._replot()
        self._latest = (first, 0)
        if event.device:
            self._append_log(when, event.device)
        resumed = f", resuming after epoch {first}" if first else ""
        self._append_log(when, f"Training on {event.train_samples} samples, validating on "
                         f"{event.validation_samples}: {event.epochs} epochs of "
                         f"{event.steps_per_epoch} batches{resumed}.")

    def _forget(self) -> None:
        """The file was replaced: start over."""
        self._batches.clear()
        self._epoch_logs, self._ended = {}, None
        self._replot()
        self.log.clear()

    # ----- drawing --------------------------------------------------------------------------
    def _replot(self) -> None:
        for plot in (self.loss_plot, self.metric_plot):
            plot.clear_data()
        if self._batches:
            x, loss, metric = (np.array(column) for column in zip(*self._batches, strict=True))
            for plot, values in ((self.loss_plot, loss), (self.metric_plot, metric)):
                keep = np.isfinite(values)
                plot.extend("batch", x[keep], values[keep])
        for epoch in sorted(self._epoch_logs):
            self._plot_epoch(epoch, self._epoch_logs[epoch])

    def _plot_batch(self, x: float, loss: float, metric: float) -> None:
        for plot, value in ((self.loss_plot, loss), (self.metric_plot, metric)):
            if math.isfinite(value):
                plot.append("batch", x, float(value))

    def _plot_epoch(self, epoch: int, logs: Mapping[str, float]) -> None:
        for plot, key in ((self.loss_plot, "loss"), (self.metric_plot, self._metric)):
            for series, name in (("train", key), ("val", f"val_{key}")):
                value = logs.get(name)
                if value is not None:
                    plot.append(series, epoch + 1, float(value))
        self.curves_label.setText(f"{self.loss_plot.summary_text()} "
                                  f"{self.metric_plot.summary_text()}")

    def _show_status(self) -> None:
        if self._started_at is None:
            if not (self.folder / EVENTS_FILE).exists():
                self.status.setText(f"No {EVENTS_FILE} in {self.folder} yet: waiting for the "
                                    "run to start.")
            return
        epoch, step = self._latest
        total = max(1, self._epochs * self._steps)
        done = min(1.0, (epoch * self._steps + step) / total)
        # The time so far covers what this (possibly resumed) run did, not earlier epochs.
        first = self._first_epoch * self._steps
        done_here = max(0.0, (epoch * self._steps + step - first) / max(1, total - first))
        self.progress.setValue(int(done * 1000))
        self.progress.setFormat(f"{done:.0%}")
        last = self._last_at or self._started_at
        parts = [f"Epoch {min(epoch + 1, self._epochs)}/{self._epochs}",
                 f"batch {step}/{self._steps}"]
        if self._rate:
            parts.append(f"{self._rate:,.0f} samples/s")
        elapsed = max(0.0, last - self._started_at)
        parts.append(f"{format_duration(elapsed)} elapsed")
        if self._ended is not None:
            state = ("finished" if not self._ended.stopped_early else
                     f"ended early: {self._ended.reason or 'stopped'}")
            parts.append(state)
        else:
            remaining = elapsed * (1 - done_here) / done_here if done_here > 0 else math.nan
            if math.isfinite(remaining):
                parts.append(f"about {format_duration(remaining)} left")
            quiet = time.monotonic() - self._last_seen
            parts.append(f"last update {format_duration(quiet)} ago" if quiet < QUIET_SECONDS
                         else f"no update for {format_duration(quiet)}: the run may have "
                         "stopped")
        self.status.setText(" · ".join(parts))

    def _append_log(self, when: float, text: str) -> None:
        self.log.appendPlainText(f"{time.strftime('%H:%M:%S', time.localtime(when))}  {text}")

    def closeEvent(self, event: QCloseEvent) -> None:
        self._timer.stop()
        super().closeEvent(event)
