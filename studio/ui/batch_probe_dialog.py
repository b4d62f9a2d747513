"""A dialog that finds the largest batch that fits on this machine, and can use it.

The search runs on a BatchProbeRunner's thread; closing the dialog cancels it and waits, so
no thread outlives the dialog. The batch size is set through the document, as an undoable
edit like the training settings form's. Slots are bound methods (no lambdas on ``self``), so
no reference cycle leaves the dialog to a collector that may run on the probe's thread.
"""

from __future__ import annotations

import time
from dataclasses import replace

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.core.batch_probe import BatchProbeResult, format_rate
from studio.core.devices import MemoryPolicy
from studio.core.project import Project
from studio.ui.document import ProjectDocument
from studio.ui.training_view import format_duration
from studio.workers.batch_probe_runner import BatchProbeRunner

TITLE = "Find the largest batch that fits"
EXPLANATION = ("Trains a few steps at growing batch sizes (16, 32, 64, …) until one runs out "
               "of memory, and times each size.")


class BatchProbeDialog(QDialog):
    def __init__(self, document: ProjectDocument, runner: BatchProbeRunner | None = None, *,
                 memory_policy: MemoryPolicy | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._document = document
        self._runner = runner or BatchProbeRunner(self)
        self._memory_policy = memory_policy
        self._probed: Project | None = None  # the project the shown result belongs to
        self.result_found: BatchProbeResult | None = None
        self._started_at = 0.0
        self.setWindowTitle(TITLE)
        self.setAccessibleName(TITLE)

        self.explanation = QLabel(EXPLANATION)
        self.explanation.setWordWrap(True)
        self.explanation.setAccessibleName("What this does")
        self.start_button = QPushButton("&Start")
        self.start_button.setAccessibleName("Start the search")
        self.start_button.setDefault(True)
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Search progress")
        self.progress.setTextVisible(True)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("Not started")
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Batch size", "Fits", "Samples/s"])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setAccessibleName("Batch sizes tried")
        self.summary_label = QLabel("")
        self.summary_label.setWordWrap(True)
        self.summary_label.setAccessibleName("Result")

        buttons = QDialogButtonBox()
        self.use_button = QPushButton("Use batch size")
        self.use_button.setAccessibleName("Use the largest batch size that fits")
        self.use_button.setEnabled(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAccessibleName("Cancel the search")
        self.cancel_button.setEnabled(False)
        self.close_button = QPushButton("Close")
        self.close_button.setAccessibleName("Close")
        for button in (self.use_button, self.cancel_button, self.close_button):
            button.setAutoDefault(False)
        buttons.addButton(self.use_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.cancel_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.close_button, QDialogButtonBox.ButtonRole.RejectRole)

        top = QHBoxLayout()
        top.addWidget(self.explanation, 1)
        top.addWidget(self.start_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.progress)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.summary_label)
        layout.addWidget(buttons)
        self.resize(520, 420)

        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self._runner.cancel)
        self.use_button.clicked.connect(self.use_largest)
        self.close_button.clicked.connect(self.reject)
        self._runner.progress.connect(self._on_progress)
        self._runner.finished.connect(self._on_finished)
        self._runner.failed.connect(self._on_failed)
        document.changed.connect(self._document_changed)

    @property
    def running(self) -> bool:
        return self._runner.running

    @Slot()
    def start(self) -> None:
        project = self._document.project
        if not self._runner.start(project, self._memory_policy):
            return
        self._probed = project
        self.result_found = None
        self._started_at = time.perf_counter()
        self.table.setRowCount(0)
        self.summary_label.setText("Loading the data…")
        self.progress.setRange(0, 0)  # busy until the sizes are known
        self.progress.setFormat("Loading the data…")
        self._set_running(True)

    @Slot()
    def use_largest(self) -> None:
        """Set the project's batch size to the largest that fits (undoable), and close."""
        size = self.result_found.largest_fit if self.result_found else None
        if size is None or self._stale():
            return
        project = self._document.project
        self._document.edit(replace(project, training=replace(project.training,
                                                              batch_size=size)),
                            "Set Batch size")
        self.accept()

    def done(self, result: int) -> None:
        self._runner.cancel_and_wait()  # no thread outlives the dialog
        super().done(result)

    # ----- runner signals ------------------------------------------------------------------
    @Slot(int, int, str)
    def _on_progress(self, done: int, total: int, text: str) -> None:
        now = time.perf_counter()
        if done == 0:
            self._started_at = now  # the time left counts trials, not the data loading
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        parts = [text, f"{done} of {total} sizes"]
        elapsed = now - self._started_at
        if 0 < done < total:
            parts.append(f"about {format_duration(elapsed * (total - done) / done)} left")
        self.progress.setFormat(" · ".join(parts))

    @Slot(object)
    def _on_finished(self, result: BatchProbeResult) -> None:
        self._set_running(False)
        self.result_found = result
        self.table.setRowCount(len(result.trials))
        for row, trial in enumerate(result.trials):
            fits = "yes" if trial.fits else f"no: {trial.message or 'did not fit'}"
            rate = ("—" if trial.samples_per_second is None
                    else format_rate(trial.samples_per_second))
            for column, text in enumerate((str(trial.batch_size), fits, rate)):
                self.table.setItem(row, column, QTableWidgetItem(text))
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.progress.setFormat("Cancelled" if result.cancelled else "Done")
        self._show_verdict()

    @Slot(str, str)
    def _on_failed(self, message: str, details: str) -> None:
        self._set_running(False)
        self.result_found = None
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("Failed")
        self.summary_label.setText(message)
        self.summary_label.setToolTip(details)
        self.use_button.setEnabled(False)

    @Slot()
    def _document_changed(self) -> None:
        if self.result_found is not None:
            self._show_verdict()

    # ----- display -------------------------------------------------------------------------
    def _show_verdict(self) -> None:
        result = self.result_found
        assert result is not None
        text = result.summary()
        size = result.largest_fit
        stale = self._stale()
        if stale:
            text += " The project has changed since: start again for an up-to-date answer."
        self.summary_label.setText(text)
        self.summary_label.setToolTip("")
        self.use_button.setText(f"Use batch size {size}" if size else "Use batch size")
        self.use_button.setEnabled(size is not None and not stale and not self.running)

    def _stale(self) -> bool:
        """The model, data or settings (other than the batch size) changed since the search."""
        probed, now = self._probed, self._document.project
        if probed is None:
            return True
        return replace(now, training=replace(now.training,
                                             batch_size=probed.training.batch_size)) != probed

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        if running:
            self.use_button.setEnabled(False)
