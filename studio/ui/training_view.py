"""The training tab: settings, Train/Pause/Stop, progress with time left, live curves, log."""

from __future__ import annotations

import math
import time
from itertools import pairwise
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from studio.core.events import (
    BatchEnded,
    EpochEnded,
    SettingsChanged,
    TrainingEnded,
    TrainingStarted,
)
from studio.core.history import metric_columns
from studio.core.redraw_pacing import FASTEST_MS, RedrawPacer
from studio.core.training_advice import not_finite, plateau, widening_gap
from studio.ui.document import ProjectDocument
from studio.ui.plot_controls import PlotControls
from studio.ui.steady_label import SteadyLabel
from studio.ui.training_settings import TrainingSettingsForm
from studio.workers.utilisation_monitor import UtilisationMonitor

if TYPE_CHECKING:
    from studio.core.utilisation import UtilisationSample
    from studio.ui.live_plot import LivePlot
    from studio.ui.utilisation_plot import UtilisationPlot



#: Between trainings (a finished run's curves, a watched run) nothing competes for the CPU.
IDLE_INTERVAL_MS = 100


def format_duration(seconds: float) -> str:
    total = max(0, round(seconds))
    minutes, secs = divmod(total, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class TrainingView(QWidget):
    train_requested = Signal()
    stop_requested = Signal()
    pause_requested = Signal(bool)  # True: pause, False: resume
    save_model_requested = Signal()

    def __init__(self, document: ProjectDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._document = document
        self._started_at = 0.0
        self._paused_since: float | None = None
        self._paused_total = 0.0
        self._epochs = 1
        self._steps = 1
        self._running = False
        self._can_train = False
        self._metric = "accuracy"  # plotted beside the loss; "mae" for a regression

        self.settings = TrainingSettingsForm(document)
        settings = QScrollArea()
        settings.setWidget(self.settings)
        settings.setWidgetResizable(True)
        settings.setMinimumWidth(min(self.settings.sizeHint().width() + 24, 340))
        settings.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        settings.setAccessibleName("Training settings")
        settings.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab goes straight to the settings

        self.train_button = QPushButton("Train")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setCheckable(True)
        self.stop_button = QPushButton("Stop")
        self.save_button = QPushButton("Save model…")
        for button, tip in (
            (self.train_button, "Train the model on the chosen dataset (F5)"),
            (self.pause_button, "Pause after the current batch; press again to resume"),
            (self.stop_button, "Stop after the current batch and keep the model (Shift+F5)"),
            (self.save_button, "Save the trained model as a .keras file"),
        ):
            button.setToolTip(tip)
            button.setAccessibleName(button.text().rstrip("…"))
        self.train_button.clicked.connect(self.train_requested)
        self.stop_button.clicked.connect(self.stop_requested)
        self.pause_button.toggled.connect(self._pause_toggled)
        #: Pause and resume from the keyboard (the Training menu holds it); it mirrors the
        #: button, which stays the one place the pause state lives.
        self.pause_action = QAction("&Pause", self)
        self.pause_action.setCheckable(True)
        self.pause_action.setShortcut(QKeySequence("F6"))
        self.pause_action.setStatusTip("Pause after the current batch; again to resume")
        self.pause_action.triggered.connect(self._pause_action_triggered)
        self.save_button.clicked.connect(self.save_model_requested)
        buttons = QHBoxLayout()
        for button in (self.train_button, self.pause_button, self.stop_button, self.save_button):
            buttons.addWidget(button)
        buttons.addStretch(1)

        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.progress.setFormat("Ready")
        self.progress.setAccessibleName("Training progress")
        self.progress_label = QLabel("Press Train to start.")
        self.progress_label.setAccessibleName("Training status")
        #: The curves in words (latest values, best epoch): what the plots show, for screen
        #: readers and for reading exact numbers.
        self.curves_label = QLabel("No training yet.")
        self.curves_label.setWordWrap(True)
        self.curves_label.setAccessibleName("Training curves in words")
        self.curves_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.train_block_label = QLabel()
        self.train_block_label.setWordWrap(True)

        # The plots (and pyqtgraph, a third of the start-up imports) are made after the
        # window's first paint: see ``create_plots``.
        self.loss_plot: LivePlot | None = None
        self.accuracy_plot: LivePlot | None = None
        self.rate_plot: LivePlot | None = None
        self.utilisation_plot: UtilisationPlot | None = None
        # CPU, RAM and GPU once a second while a run trains (started and stopped with it).
        self.utilisation_monitor = UtilisationMonitor(parent=self)
        self.utilisation_monitor.sampled.connect(self._utilisation_sampled)
        self._plots = QSplitter()
        self.plot_controls = PlotControls(self.plots)
        self._history: list[dict[str, float]] = []
        self._warned: set[str] = set()
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setAccessibleName("Training log")
        self.log.setMaximumBlockCount(5000)

        status = QVBoxLayout()
        status.addLayout(buttons)
        status.addWidget(self.progress)
        # Both change many times a run: held so that they do not lay the window out again.
        status.addWidget(SteadyLabel(self.progress_label))
        status.addWidget(self.train_block_label)
        body = QSplitter()
        body.setOrientation(Qt.Orientation.Vertical)
        plots_area = QWidget()
        plots_layout = QVBoxLayout(plots_area)
        plots_layout.setContentsMargins(0, 0, 0, 0)
        plots_layout.addWidget(self.plot_controls)
        plots_layout.addWidget(self._plots, 1)
        plots_layout.addWidget(SteadyLabel(self.curves_label))
        body.addWidget(plots_area)
        body.addWidget(self.log)
        body.setSizes([420, 120])
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addLayout(status)
        right_layout.addWidget(body, 1)
        columns = QSplitter()
        columns.addWidget(settings)
        columns.addWidget(right)
        columns.setSizes([330, 900])
        layout = QVBoxLayout(self)
        layout.addWidget(columns, 1)

        # Redraws come from a timer, never per event, one plot per tick, paced to a share of
        # a core (``redraw_pacing``); progress, the curves in words and log lines are shown on
        # the same ticks (each change of a text repaints part of the window).
        self._pacer = RedrawPacer()
        #: The last tick's redraw: the plot, the CPU time of its data update, and its paint
        #: time before it (its paint comes on a later pass of the event loop).
        self._redrawn: tuple[LivePlot | UtilisationPlot, float, float] | None = None
        self._next_plot = 0
        self._batch_progress: tuple[int, int, float | None] | None = None
        self._log_lines: list[str] = []  # not shown yet: see append_log
        self._curves_text: str | None = None  # not shown yet: shown on the next tick
        self._timer = QTimer(self)
        self._timer.setInterval(FASTEST_MS)
        self._timer.timeout.connect(self._tick)
        self._timer.start()
        self.set_running(False)

    def create_plots(self) -> tuple[LivePlot, LivePlot]:
        """Create the live plots once (imports pyqtgraph); returns (loss, accuracy)."""
        if self.loss_plot is None or self.accuracy_plot is None:
            from studio.ui.live_plot import LivePlot
            from studio.ui.utilisation_plot import UtilisationPlot

            self.loss_plot = LivePlot("Loss", "loss")
            self.accuracy_plot = LivePlot("Accuracy", "accuracy", legend_at_bottom=True)
            self.rate_plot = LivePlot("Learning rate", "learning rate", higher_is_better=False)
            self.rate_plot.set_log_y(True)
            self.rate_plot.show_only("train")
            if self.rate_plot.plotItem.legend is not None:
                self.rate_plot.plotItem.legend.hide()  # one curve: its title says it
            self.utilisation_plot = UtilisationPlot()
            for plot in (self.loss_plot, self.accuracy_plot, self.rate_plot,
                         self.utilisation_plot):
                self._plots.addWidget(plot)
            self._plots.setSizes([450, 450, 220, 300])
            # Made after the log: Tab must still reach them in the order they are shown.
            chain: list[QWidget] = [self.plot_controls.export_button, self.loss_plot,
                                    self.accuracy_plot, self.rate_plot,
                                    self.utilisation_plot.plot, self.log]
            for first, second in pairwise(chain):
                QWidget.setTabOrder(first, second)
        return self.loss_plot, self.accuracy_plot

    def plots(self) -> list[LivePlot]:
        """Every live plot that exists (none before ``create_plots``)."""
        return [p for p in (self.loss_plot, self.accuracy_plot, self.rate_plot) if p is not None]

    # ----- state ---------------------------------------------------------------------------
    def set_can_train(self, allowed: bool, reason: str = "") -> None:
        self._can_train = allowed
        self.train_block_label.setText(reason)
        self.train_button.setEnabled(allowed and not self._running)
        self.train_button.setToolTip(reason or "Train the model on the chosen dataset (F5)")

    def set_running(self, running: bool) -> None:
        self._running = running
        self.train_button.setEnabled(not running and self._can_train)
        self.pause_button.setEnabled(running)
        self.pause_action.setEnabled(running)
        self.stop_button.setEnabled(running)
        self.settings.set_editable(not running)
        if not running:
            self._show_curves_text()
            self._show_log()
            self.utilisation_monitor.stop()
            self.pause_button.blockSignals(True)
            self.pause_button.setChecked(False)
            self.pause_button.setText("Pause")
            self.pause_button.blockSignals(False)
            self.pause_action.setChecked(False)
            self.pause_action.setText("&Pause")

    def set_has_model(self, has_model: bool) -> None:
        self.save_button.setEnabled(has_model)

    def append_log(self, text: str) -> None:
        """Shown at once, or while training on the next tick: one append and one repaint for
        all the lines since the last (an epoch's line each cost the window a repaint)."""
        self._log_lines.append(f"{time.strftime('%H:%M:%S')}  {text}")
        if not self._running:
            self._show_log()

    def _show_log(self) -> None:
        if self._log_lines:
            self.log.appendPlainText("\n".join(self._log_lines))
            self._log_lines.clear()

    def _pause_action_triggered(self, paused: bool) -> None:
        if self.pause_button.isEnabled():
            self.pause_button.setChecked(paused)
        else:  # a stopping run cannot pause
            self.pause_action.setChecked(self.pause_button.isChecked())

    def _pause_toggled(self, paused: bool) -> None:
        self.pause_button.setText("Resume" if paused else "Pause")
        self.pause_action.setChecked(paused)
        self.pause_action.setText("&Resume" if paused else "&Pause")
        now = time.perf_counter()
        if paused:
            self._paused_since = now
        elif self._paused_since is not None:
            self._paused_total += now - self._paused_since
            self._paused_since = None
        self.pause_requested.emit(paused)
        for name in ("learning_rate", "epochs"):  # may change while paused
            self.settings.editors[name].setEnabled(paused)
        self.append_log("Paused: you may change the learning rate and the number of epochs."
                        if paused else "Resumed.")

    # ----- events from the training thread --------------------------------------------------
    def on_event(self, event: object) -> None:
        if isinstance(event, TrainingStarted):
            self._started(event)
        elif isinstance(event, BatchEnded):
            loss_plot, accuracy_plot = self.create_plots()
            for step, logs in (*event.earlier, (event.step, event.logs)):
                x = event.epoch + step / event.steps_per_epoch
                if "loss" in logs:
                    loss_plot.append("batch", x, logs["loss"])
                if self._metric in logs:
                    accuracy_plot.append("batch", x, logs[self._metric])
            self._batch_progress = (event.epoch, event.step, event.samples_per_second)
        elif isinstance(event, EpochEnded):
            self._epoch_ended(event)
        elif isinstance(event, SettingsChanged):
            self._epochs = event.epochs
            self.append_log(f"{event.text} (at epoch {event.x:.2f}).")
            for plot in self.plots():
                plot.planned_epochs = event.epochs
                plot.mark(event.x, event.text)
        elif isinstance(event, TrainingEnded):
            if event.test_logs:
                values = ", ".join(f"{k} {v:.4f}" for k, v in event.test_logs.items())
                self.append_log(f"On the test split (kept out of training): {values}.")
            self.utilisation_monitor.stop()
            self._show_gathered()
            # The last points and the view fitted to the whole run, drawn by the ticks one
            # plot at a time at the fastest pace: all at once froze the window for 50-60 ms.
            for plot in self.plots():
                plot.settle(now=False)
            self._timer.setInterval(FASTEST_MS)

    def _started(self, event: TrainingStarted) -> None:
        self._batch_progress = None
        self._epochs, self._steps = event.epochs, event.steps_per_epoch
        now = self._started_at = time.perf_counter()
        self._paused_total = 0.0
        self._paused_since = now if self.pause_button.isChecked() else None
        self._metric = event.metric
        titles = {"accuracy": "Accuracy", "mae": "Mean absolute error"}
        self.create_plots()
        for plot in self.plots():
            plot.planned_epochs = event.epochs
            plot.clear_data()
            plot.settle(growing=True)
        if self.utilisation_plot is not None:
            self.utilisation_plot.clear()
        self.utilisation_monitor.start()
        self._history, self._warned = [], set()
        self.create_plots()[1].set_metric(titles.get(event.metric, event.metric), event.metric)
        self._curves_text = None
        self.curves_label.setText("Waiting for the first epoch…")
        self.progress.setValue(0)
        for note in event.device_notes:
            self.append_log(f"Note: {note}")
        if event.device:
            self.append_log(event.device)
        self.append_log(f"Training on {event.train_samples} samples, validating on "
                        f"{event.validation_samples}: {event.epochs} epochs of "
                        f"{event.steps_per_epoch} batches.")

    def _utilisation_sampled(self, sample: UtilisationSample) -> None:
        self.create_plots()
        if self.utilisation_plot is not None:
            self.utilisation_plot.add(sample)

    def _epoch_ended(self, event: EpochEnded) -> None:
        x = event.epoch + 1
        logs = event.logs
        loss_plot, accuracy_plot = self.create_plots()
        for plot, key in ((loss_plot, "loss"), (accuracy_plot, self._metric)):
            if key in logs:
                plot.append("train", x, logs[key])
            if f"val_{key}" in logs:
                plot.append("val", x, logs[f"val_{key}"])
        if self.rate_plot is not None and "learning_rate" in logs:
            self.rate_plot.append("train", x, logs["learning_rate"])
        self._batch_progress = (event.epoch, self._steps, None)  # shown on the next tick
        self._curves_text = (f"After epoch {x} of {event.epochs}: "
                             f"{loss_plot.summary_text()} {accuracy_plot.summary_text()}")
        text = ", ".join(f"{k} {logs[k]:.4f}" for k in metric_columns([logs])
                         if k != "learning_rate")
        timing = "restored" if event.replayed else f"{event.seconds:.1f} s"
        self.append_log(f"Epoch {event.epoch + 1}/{event.epochs}: {text} ({timing})")
        self._history.append(dict(logs))
        for name, advice in (("nan", not_finite(logs)), ("plateau", plateau(self._history)),
                             ("gap", widening_gap(self._history))):
            if advice and name not in self._warned:
                self._warned.add(name)  # each warning once per run
                self.append_log(f"Warning: {advice}")

    def _show_progress(self, epoch: int, step: int, samples_per_second: float | None) -> None:
        done = (epoch * self._steps + step) / max(1, self._epochs * self._steps)
        self.progress.setValue(int(done * 1000))
        self.progress.setFormat(f"{done:.0%}")
        elapsed = time.perf_counter() - self._started_at - self._paused_total
        remaining = elapsed * (1 - done) / done if done > 0 else math.nan
        parts = [f"Epoch {epoch + 1}/{self._epochs}", f"batch {step}/{self._steps}"]
        if samples_per_second:
            parts.append(f"{samples_per_second:,.0f} samples/s")
        parts.append(f"{format_duration(elapsed)} elapsed")
        if math.isfinite(remaining):
            parts.append(f"about {format_duration(remaining)} left")
        self.progress_label.setText(" · ".join(parts))

    def show_finished(self, text: str) -> None:
        self.progress.setFormat(text)
        self.progress_label.setText(text)
        self.append_log(text)
        self.redraw()

    def redraw(self) -> None:
        """Show everything received so far, now."""
        self._show_gathered()
        if not self.isVisible():
            return  # another tab is shown: draw when this one comes back
        for plot in self._paced_plots():
            plot.redraw()

    def _paced_plots(self) -> list[LivePlot | UtilisationPlot]:
        """What the ticks redraw in turn: the live plots and the utilisation plot."""
        util = [] if self.utilisation_plot is None else [self.utilisation_plot]
        return [*self.plots(), *util]

    def _tick(self) -> None:
        self._show_gathered()
        # The last tick's redraw cost its data update and that plot's paints since.
        cost = None
        if self._redrawn is not None:
            plot, update, painted = self._redrawn
            cost = update + plot.painted_seconds - painted
        self._redrawn = None
        plots = self._paced_plots()
        if self.isVisible() and plots:
            for offset in range(len(plots)):
                index = (self._next_plot + offset) % len(plots)
                plot = plots[index]
                if plot.dirty:
                    painted, start = plot.painted_seconds, time.thread_time()
                    plot.redraw()
                    self._redrawn = (plot, time.thread_time() - start, painted)
                    self._next_plot = index + 1
                    break
        pace = self._pacer.next_interval_ms(cost)
        if not self._running:  # what a finished run left is drawn at the fastest pace
            waiting = self.isVisible() and any(plot.dirty for plot in plots)
            pace = FASTEST_MS if waiting else IDLE_INTERVAL_MS
        self._timer.setInterval(pace)

    def _show_gathered(self) -> None:
        """Show the progress, the curves in words and the log lines received since the
        last tick."""
        self._show_batch_progress()
        self._show_curves_text()
        self._show_log()

    def _show_curves_text(self) -> None:
        if self._curves_text is not None:
            self.curves_label.setText(self._curves_text)
            self._curves_text = None

    def _show_batch_progress(self) -> None:
        if self._batch_progress is not None:
            self._show_progress(*self._batch_progress)
            self._batch_progress = None
