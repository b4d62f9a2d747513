"""A dialog that imports the user's CSV file as a dataset: choose target, features and gaps.

The file is read on the dialog's own thread pool; each choice re-encodes the table (over
50,000 rows: a 5,000-row sample, the whole table being encoded in the background on Import).
Nothing on ``self`` refers back to it (no lambda slots): the garbage collector, which may
run on a worker thread, must never be the one to destroy the dialog.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial
from itertools import pairwise
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import QObject, QRunnable, QSignalBlocker, Qt, QThreadPool, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.core.csv_table import (
    CsvImportSettings,
    CsvTable,
    EncodedTable,
    encode_table,
    infer_task,
    read_csv_table,
)
from studio.core.dataset_catalog import DatasetInfo
from studio.core.dataset_spec import CsvSource
from studio.core.errors import DatasetError

PREVIEW_ROWS = 100
FULL_ENCODE_LIMIT = 50_000  # larger tables get a live summary from a sample
SAMPLE_ROWS = 5_000
DELIMITERS = ((",", "comma"), (";", "semicolon"), ("\t", "tab"), ("|", "'|'"))
MISSING = (("drop", "Drop rows with a missing value"),
           ("fill", "Fill with the column mean / most frequent value"))
TASKS = (("auto", "Automatic"), ("classification", "Classification"),
         ("regression", "Regression"))
_ERROR_STYLE = "color: #b00020;"
_FEATURE = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable
_CHECKED, _UNCHECKED = Qt.CheckState.Checked, Qt.CheckState.Unchecked


class _JobSignals(QObject):
    finished = Signal(int, object)  # request number, the result or the exception raised


class _Job(QRunnable):
    def __init__(self, request: int, signals: _JobSignals, work: Callable[[], object]) -> None:
        super().__init__()
        self._request, self._signals, self._work = request, signals, work

    def run(self) -> None:
        try:
            result = self._work()
        except Exception as error:  # shown in the dialog; nothing may escape a worker thread
            result = error
        self._signals.finished.emit(self._request, result)


def _read(path: Path, delimiter: str | None, header: bool | None) -> tuple[CsvTable, CsvTable]:
    """The table and the part the live summary encodes, column facts computed off the UI."""
    table = read_csv_table(path, delimiter=delimiter, header=header)
    live = table if len(table.rows) <= FULL_ENCODE_LIMIT else replace(
        table, rows=table.rows[:SAMPLE_ROWS])
    _ = table.columns_info, live.columns_info  # cached properties
    return table, live


def _combo(items: tuple[tuple[str, str], ...]) -> QComboBox:
    combo = QComboBox()
    for data, text in items:
        combo.addItem(text, data)
    return combo


_W = TypeVar("_W", bound=QWidget)


def _named(widget: _W, name: str, tip: str) -> _W:
    widget.setAccessibleName(name)
    widget.setToolTip(tip)
    return widget


class CsvImportDialog(QDialog):
    """Choose how ``path`` becomes training data; ``source()`` holds the result after accept."""

    def __init__(self, path: Path, current: CsvImportSettings | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._path, self._current = Path(path), current
        self._table: CsvTable | None = None
        self._live: CsvTable | None = None  # the table, or its sample when it is large
        self._encoded: EncodedTable | None = None
        self._problem: str | None = None
        self._source: CsvSource | None = None
        self._encoding: CsvImportSettings | None = None  # being encoded whole for Import
        self._delimiter = current.delimiter if current else None  # None: detect
        self._header = current.header if current else None
        self._request, self._busy = 0, False
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._signals = _JobSignals(self)
        self._signals.finished.connect(self._job_finished)
        name = self._path.name
        self.setWindowTitle(f"Import CSV — {name}")
        self.resize(780, 680)

        self.setAccessibleName(f"Import CSV {name}")
        self.file_label = _named(QLabel(f"File: <b>{name}</b>"), "File", str(self._path))
        self.delimiter_combo = _named(_combo(DELIMITERS), "Delimiter", "The character "
                                      "between values; changing it reads the file again")
        self.header_check = _named(
            QCheckBox("First row is a &header"), "First row is a header", "Checked: the first "
            "row names the columns. Unchecked: it is data, and the columns are called "
            "column_1, column_2, …")
        self.progress = _named(QProgressBar(), "Progress",
                               f"Working on {name} in the background")
        self.progress.setRange(0, 0)  # busy, no percentage
        self.preview = _named(QTableWidget(), "Preview", f"The first {PREVIEW_ROWS} rows of "
                              f"{name}; hover a column header for its details")
        self.preview.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.preview.setTabKeyNavigation(False)  # Tab leaves the table, arrows move inside
        self.target_combo = _named(QComboBox(), "Target",
                                   "The column the model learns to predict")
        self.features_list = _named(QListWidget(), "Features", "The columns the model learns "
                                    "from; text columns are one-hot encoded")
        self.features_list.setMaximumHeight(140)
        self.missing_combo = _named(_combo(MISSING), "Missing values", "What to do with "
                                    "empty, NA or ? cells in the features (rows without a "
                                    "target are always left out)")
        self.task_combo = _named(_combo(TASKS), "Task", "Classification predicts a class, "
                                 "regression a number; Automatic guesses from the target")
        self.summary_label = _named(QLabel(), "Summary",
                                    "What the model will get, or what must be fixed first")
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        self.import_button = _named(buttons.button(QDialogButtonBox.StandardButton.Ok),
                                    "Import", f"Use {name} as the dataset")
        self.import_button.setText("&Import")
        self.cancel_button = _named(buttons.button(QDialogButtonBox.StandardButton.Cancel),
                                    "Cancel", "Close without importing")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)

        top = QHBoxLayout()
        delimiter_label = QLabel("&Delimiter:")
        delimiter_label.setBuddy(self.delimiter_combo)
        delimiter_label.setToolTip(self.delimiter_combo.toolTip())
        for widget in (delimiter_label, self.delimiter_combo, self.header_check):
            top.addWidget(widget)
        top.addStretch(1)
        form = QFormLayout()
        for text, editor in (("&Target:", self.target_combo), ("&Features:", self.features_list),
                             ("&Missing values:", self.missing_combo), ("Tas&k:", self.task_combo)):
            label = QLabel(text)
            label.setBuddy(editor)
            label.setToolTip(editor.toolTip())
            form.addRow(label, editor)
        layout = QVBoxLayout(self)
        layout.addWidget(self.file_label)
        layout.addLayout(top)
        layout.addWidget(self.progress)
        layout.addWidget(self.preview, 1)
        layout.addLayout(form)
        layout.addWidget(self.summary_label)
        layout.addWidget(buttons)
        for first, second in pairwise([*self._option_widgets(), self.import_button,
                                       self.cancel_button]):
            QWidget.setTabOrder(first, second)

        if current is not None:
            self.missing_combo.setCurrentIndex(self.missing_combo.findData(current.missing))
            self.task_combo.setCurrentIndex(self.task_combo.findData(current.task))
        self.delimiter_combo.currentIndexChanged.connect(self._delimiter_chosen)
        self.header_check.toggled.connect(self._header_chosen)
        self.target_combo.currentIndexChanged.connect(self._target_changed)
        self.features_list.itemChanged.connect(self._update)
        self.missing_combo.currentIndexChanged.connect(self._update)
        self.task_combo.currentIndexChanged.connect(self._update)
        self._start(None)

    # ----------------------------------------------------------------- public API
    @property
    def busy(self) -> bool:
        """True while the file is read, or the whole table encoded, in the background."""
        return self._busy

    @property
    def problem(self) -> str | None:
        """Why the data cannot be imported as chosen (shown in red), or None."""
        return self._problem

    def settings(self) -> CsvImportSettings:
        """The choices made; after accept, the ones imported."""
        if self._source is not None:
            return self._source.settings
        settings = self._chosen_settings()
        if settings is None:
            raise DatasetError(self._problem or f"{self._path.name} has not been read yet.")
        return settings

    def source(self) -> CsvSource:
        """The CSV dataset with the shape and classes found; only after accept."""
        if self._source is None:
            raise RuntimeError("CsvImportDialog.source() is only available after accept.")
        return self._source

    def accept(self) -> None:
        settings = self._chosen_settings()
        if self._busy or self._problem or settings is None:
            return
        if self._live is self._table and self._encoded is not None:
            self._finish(settings, self._encoded)
        else:  # the live summary came from a sample: encode the whole table first
            self._start(settings)

    def done(self, result: int) -> None:
        self._request += 1  # results still on their way are ignored
        self._pool.clear()
        self._pool.waitForDone()
        super().done(result)

    # ----------------------------------------------------------------- background work
    def _start(self, settings: CsvImportSettings | None) -> None:
        """Read the file (``settings`` None) or encode the whole table with ``settings``."""
        self._request += 1
        self._encoding = settings
        work: Callable[[], object] = partial(_read, self._path, self._delimiter, self._header)
        text = f"Reading {self._path.name}…"
        if settings is not None and self._table is not None:
            work = partial(encode_table, self._table, settings)
            text = f"Encoding all {len(self._table.rows):,} rows of {self._path.name}…"
        self._set_busy(True, text)
        self._pool.start(_Job(self._request, self._signals, work))

    def _job_finished(self, request: int, result: object) -> None:
        if request != self._request:
            return
        settings, self._encoding = self._encoding, None
        self._set_busy(False)
        if isinstance(result, EncodedTable) and settings is not None:
            self._finish(settings, result)
        elif isinstance(result, tuple):
            self._table, self._live = result
            self._show_table()
        elif settings is None:  # the file cannot be read
            self._table = self._live = None
            self.preview.setRowCount(0)
            self.preview.setColumnCount(0)
            self.target_combo.clear()
            self.features_list.clear()
            self._set_busy(False)  # leaves only the delimiter and header to change
            self._show_problem(str(result) if isinstance(result, DatasetError)
                               else f"Cannot read {self._path.name}: {result}")
        else:
            self._show_problem(str(result))

    def _set_busy(self, busy: bool, text: str = "") -> None:
        self._busy = busy
        self.progress.setVisible(busy)
        if busy:
            self.progress.setFormat(text)
            self.summary_label.setStyleSheet("")
            self.summary_label.setText(text)
        for widget in self._option_widgets():
            widget.setEnabled(not busy and (self._table is not None or widget in (
                self.delimiter_combo, self.header_check)))
        self.import_button.setEnabled(not busy and self._table is not None and not self._problem)

    def _finish(self, settings: CsvImportSettings, encoded: EncodedTable) -> None:
        classes = encoded.class_names
        self._source = CsvSource(self._path, settings, DatasetInfo(
            name=self._path.stem, title=self._path.name, task=encoded.task,
            input_shape=(len(encoded.feature_names),), num_classes=len(classes),
            samples=len(encoded.x), description=f"From {self._path.name}: {encoded.summary}",
            class_names=classes, outputs=1))
        super().accept()

    # ----------------------------------------------------------------- showing the table
    def _delimiter_chosen(self, *_: object) -> None:
        self._delimiter = self.delimiter_combo.currentData()  # the user's choice sticks
        self._start(None)

    def _header_chosen(self, *_: object) -> None:
        self._header = self.header_check.isChecked()
        self._start(None)

    def _show_table(self) -> None:
        table = self._table
        assert table is not None
        target = self.target_combo.currentText() or (self._current.target if self._current
                                                     else "")
        items = [self.features_list.item(i) for i in range(self.features_list.count())]
        checked = {item.text(): item.checkState() == _CHECKED for item in items}
        if not items and self._current and self._current.features is not None:
            checked = {name: name in self._current.features for name in table.columns}
        blockers = [QSignalBlocker(widget) for widget in (
            self.delimiter_combo, self.header_check, self.target_combo, self.features_list)]
        if self.delimiter_combo.findData(table.delimiter) < 0:
            self.delimiter_combo.addItem(repr(table.delimiter), table.delimiter)
        self.delimiter_combo.setCurrentIndex(self.delimiter_combo.findData(table.delimiter))
        self.header_check.setChecked(table.has_header)
        rows = table.rows[:PREVIEW_ROWS]
        self.preview.clear()
        self.preview.setColumnCount(len(table.columns))
        self.preview.setRowCount(len(rows))
        self.target_combo.clear()
        self.target_combo.addItems(list(table.columns))
        self.target_combo.setCurrentText(target if target in table.columns
                                         else table.columns[-1])
        self.features_list.clear()
        for column, info in enumerate(table.columns_info):
            header = QTableWidgetItem(f"{info.name}\n{info.kind}")
            header.setToolTip(f"{info.name}: {info.kind}, {info.missing:,} missing, "
                              f"{info.distinct:,} distinct values (e.g. "
                              f"{', '.join(info.examples)})")
            self.preview.setHorizontalHeaderItem(column, header)
            item = QListWidgetItem(info.name)
            item.setFlags(_FEATURE)
            item.setCheckState(_CHECKED if checked.get(info.name, True) else _UNCHECKED)
            item.setToolTip(f"A {info.kind} column; check it to let the model learn from it")
            self.features_list.addItem(item)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                self.preview.setItem(r, c, QTableWidgetItem(value or ""))
        for blocker in blockers:
            blocker.unblock()
        self._set_busy(False)
        self._target_changed()

    def _target_changed(self, *_: object) -> None:
        target = self.target_combo.currentText()
        with QSignalBlocker(self.features_list):
            for item in map(self.features_list.item, range(self.features_list.count())):
                if item.text() == target:
                    item.setFlags(Qt.ItemFlag.NoItemFlags)
                    item.setCheckState(_UNCHECKED)
                    item.setToolTip("The target column; it cannot also be a feature")
                elif item.flags() == Qt.ItemFlag.NoItemFlags:  # the previous target
                    item.setFlags(_FEATURE)
                    item.setCheckState(_CHECKED)
                    item.setToolTip("Check it to let the model learn from this column")
        inferred = f" ({infer_task(self._live, target)})" if self._live and target else ""
        self.task_combo.setItemText(0, f"Automatic{inferred}")
        self._update()

    # ----------------------------------------------------------------- summary
    def _chosen_settings(self) -> CsvImportSettings | None:
        if self._table is None or not self.target_combo.currentText():
            return None
        features = tuple(item.text() for item in map(self.features_list.item,
                                                     range(self.features_list.count()))
                         if item.checkState() == _CHECKED)
        everything = len(features) == len(self._table.columns) - 1
        if not features and not everything:
            return None
        return CsvImportSettings(
            target=self.target_combo.currentText(), features=None if everything else features,
            missing=self.missing_combo.currentData(), task=self.task_combo.currentData(),
            delimiter=self._table.delimiter, header=self._table.has_header)

    def _update(self, *_: object) -> None:
        if self._live is None:
            return
        settings = self._chosen_settings()
        if settings is None:
            self._show_problem("Check at least one feature column for the model to learn from.")
            return
        try:
            encoded = encode_table(self._live, settings)
        except DatasetError as error:
            self._show_problem(str(error))
            return
        self._encoded, self._problem = encoded, None
        self.summary_label.setStyleSheet("")
        self.summary_label.setText(self._summary(encoded))
        self.import_button.setEnabled(not self._busy)

    def _summary(self, encoded: EncodedTable) -> str:
        live, table = self._live, self._table
        assert live is not None and table is not None
        text = f"{len(live.rows):,} rows → {len(encoded.x):,} used"
        if encoded.dropped_rows:
            text += f" ({encoded.dropped_rows:,} dropped for missing values)"
        values = len(encoded.feature_names)
        text += f" · {values:,} input value{'s' * (values != 1)}"
        if any(name not in live.columns for name in encoded.feature_names):
            text += " after one-hot encoding"
        if encoded.task == "classification":
            names = encoded.class_names
            shown = ", ".join(names[:10]) + (", …" if len(names) > 10 else "")
            text += f" · {len(names)} classes: {shown}"
        else:
            text += f" · predicting a number (regression) for {encoded.target!r}"
        if live is not table:
            text += (f"\nEstimated from the first {len(live.rows):,} of {len(table.rows):,} "
                     "rows; the whole table is encoded on Import.")
        return text

    def _show_problem(self, message: str) -> None:
        self._problem, self._encoded = message, None
        self.summary_label.setStyleSheet(_ERROR_STYLE)
        self.summary_label.setText(message)
        self.import_button.setEnabled(False)

    def _option_widgets(self) -> list[QWidget]:
        """The choices, in layout and tab order."""
        return [self.delimiter_combo, self.header_check, self.preview, self.target_combo,
                self.features_list, self.missing_combo, self.task_combo]
