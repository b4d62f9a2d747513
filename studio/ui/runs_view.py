"""The Runs tab: every recorded run, their curves overlaid, and how their settings differ.

Runs are folders under the runs root (see ``studio.core.run_record``); this view only reads
them. Selecting several runs overlays the chosen curve and lists the settings that differ.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.core.run_compare import differences
from studio.core.run_record import MODEL_FILE, RunCatalog, RunRecord, read_history

if TYPE_CHECKING:
    import pyqtgraph as pg

COLUMNS = ("Run", "Started", "Status", "Epochs", "Validation loss", "Validation metric",
           "Test")
_COLOURS = ((31, 90, 180), (220, 110, 20), (40, 150, 60), (200, 40, 40), (130, 80, 180),
            (140, 90, 60), (220, 90, 170), (110, 110, 110))


class RunsView(QWidget):
    open_model_requested = Signal(str)  # the model.keras of a run

    def __init__(self, root: object, parent: QWidget | None = None) -> None:
        """``root`` is a callable returning the runs folder (a preference that may change)."""
        super().__init__(parent)
        self._root = root
        self.runs: list[tuple[Path, RunRecord]] = []
        self._catalog = RunCatalog()
        self._plot: pg.PlotWidget | None = None
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setAccessibleName("Recorded runs")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTabKeyNavigation(False)
        self.table.setAccessibleDescription("One row per recorded run. Select several runs "
                                            "(Shift with the arrow keys) to compare their "
                                            "curves and settings.")
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.
                                                           ResizeToContents)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        self.open_button = QPushButton("Open model")
        self.open_button.setToolTip("Use the selected run's trained model (to save or export)")
        self.open_button.clicked.connect(self._open_model)
        self.metric_combo = QComboBox()
        self.metric_combo.setAccessibleName("Curve to compare")
        self.metric_combo.addItems(["val_loss", "loss", "val_accuracy", "accuracy", "val_mae",
                                    "mae", "learning_rate"])
        self.metric_combo.currentTextChanged.connect(lambda _: self._selection_changed())
        for widget in (self.refresh_button, self.open_button):
            widget.setAccessibleName(widget.text())
        self.root_label = QLabel()
        self.root_label.setWordWrap(True)
        self.diff_table = QTableWidget(0, 1)
        self.diff_table.setAccessibleName("Settings that differ")
        self.diff_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.diff_table.setTabKeyNavigation(False)
        self.diff_table.setAccessibleDescription("One row per setting whose value differs, "
                                                 "one column per selected run.")
        self.compare_box = QGroupBox("Curves of the selected runs")
        self._compare_layout = QVBoxLayout(self.compare_box)
        self._compare_layout.addWidget(self.metric_combo)
        diff_box = QGroupBox("Settings that differ between the selected runs")
        QVBoxLayout(diff_box).addWidget(self.diff_table)

        buttons = QHBoxLayout()
        buttons.addWidget(self.root_label, 1)
        buttons.addWidget(self.refresh_button)
        buttons.addWidget(self.open_button)
        lower = QSplitter()
        lower.addWidget(self.compare_box)
        lower.addWidget(diff_box)
        main = QSplitter(Qt.Orientation.Vertical)
        main.addWidget(self.table)
        main.addWidget(lower)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(main, 1)
        self._selection_changed()

    def refresh(self) -> None:
        root = self._root()  # type: ignore[operator]
        self.root_label.setText(f"Runs are kept in {root}")
        self.runs = self._catalog.runs(root)
        self.table.setRowCount(len(self.runs))
        for row, (_folder, record) in enumerate(self.runs):
            last = record.last_metrics
            metric = next((k for k in ("val_accuracy", "val_mae") if k in last), "")
            test = ", ".join(f"{k} {v:.4g}" for k, v in record.test_metrics.items())
            cells = (record.name, time.strftime("%Y-%m-%d %H:%M:%S",
                                                time.localtime(record.started)),
                     "interrupted" if record.interrupted else record.status,
                     f"{record.epochs_completed}/{record.epochs}",
                     f"{last['val_loss']:.4g}" if "val_loss" in last else "",
                     f"{metric[4:]} {last[metric]:.4g}" if metric else "", test)
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == 0:
                    item.setToolTip(record.reason or str(_folder))
                self.table.setItem(row, column, item)
        self._selection_changed()

    def selected(self) -> list[tuple[Path, RunRecord]]:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [self.runs[row] for row in rows if row < len(self.runs)]

    def select_rows(self, rows: list[int]) -> None:
        self.table.clearSelection()
        mode = self.table.selectionMode()
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        for row in rows:
            self.table.selectRow(row)
        self.table.setSelectionMode(mode)

    def _selection_changed(self) -> None:
        chosen = self.selected()
        self.open_button.setEnabled(len(chosen) == 1 and (chosen[0][0] / MODEL_FILE).is_file())
        self._show_differences(chosen)
        if chosen:
            self._show_curves(chosen)

    def _show_differences(self, chosen: list[tuple[Path, RunRecord]]) -> None:
        rows = differences([dict(record.project) for _, record in chosen]) if len(chosen) > 1 \
            else []
        self.diff_table.setColumnCount(len(chosen) + 1)
        self.diff_table.setHorizontalHeaderLabels(
            ["setting", *(f"{i + 1}. {r.name}" for i, (_, r) in enumerate(chosen))])
        self.diff_table.setRowCount(len(rows))
        for row, (key, values) in enumerate(rows):
            self.diff_table.setItem(row, 0, QTableWidgetItem(key))
            for column, value in enumerate(values):
                text = "—" if value is None else str(value)
                self.diff_table.setItem(row, column + 1, QTableWidgetItem(text))

    def _show_curves(self, chosen: list[tuple[Path, RunRecord]]) -> None:
        import pyqtgraph as pg

        if self._plot is None:
            self._plot = pg.PlotWidget()
            self._plot.setBackground("w")
            self._plot.setLabel("bottom", "epoch")
            self._plot.addLegend()
            self._plot.showGrid(x=True, y=True, alpha=0.25)
            self._plot.setAccessibleName("Compared curves")
            self._compare_layout.addWidget(self._plot, 1)
            QWidget.setTabOrder(self.metric_combo, self._plot)  # made late: keep Tab in order
            QWidget.setTabOrder(self._plot, self.diff_table)
        plot = self._plot
        plot.clear()
        key = self.metric_combo.currentText()
        plot.setLabel("left", key)
        words = []  # the plot in words, for screen readers
        for index, (folder, record) in enumerate(chosen):
            values = [row.get(key) for row in read_history(folder)]
            points = [(epoch + 1, v) for epoch, v in enumerate(values) if v is not None]
            words.append(f"{index + 1}. {record.name}: " + (
                f"{points[-1][1]:.4g} at epoch {points[-1][0]}" if points else "no values"))
            if points:
                xs, ys = zip(*points, strict=True)
                colour = _COLOURS[index % len(_COLOURS)]
                plot.plot(list(xs), list(ys), pen=pg.mkPen(colour, width=2), symbol="o",
                          symbolSize=5, symbolBrush=colour, name=f"{index + 1}. {record.name}")
        plot.setAccessibleDescription(f"{key} of the selected runs, last epoch: "
                                      + "; ".join(words) + ".")

    def curve_count(self) -> int:
        return 0 if self._plot is None else len(self._plot.listDataItems())

    def _open_model(self) -> None:
        chosen = self.selected()
        if len(chosen) == 1:
            self.open_model_requested.emit(str(chosen[0][0] / MODEL_FILE))
