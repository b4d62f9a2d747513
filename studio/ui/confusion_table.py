"""The confusion matrix as a heat-mapped table: counts or row shares, class names on both axes.

A table rather than an image plot, so every cell is a focusable item with its number as text:
keyboard navigation and screen readers work, and choosing a cell (click or arrow keys) says
which samples the error gallery should show.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableWidget,
    QTableWidgetItem,
)

from studio.core.evaluation import Evaluation

_RIGHT = (31, 90, 180)  # the diagonal: correct
_WRONG = (200, 70, 30)  # off the diagonal: mistakes


def _blend(colour: tuple[int, int, int], strength: float) -> QColor:
    """From white (0) to ``colour`` (1)."""
    return QColor(*(round(255 - strength * (255 - c)) for c in colour))


class _FramedSelection(QStyledItemDelegate):
    """Marks the chosen cell with a frame, so its heat colour stays visible."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        plain = QStyleOptionViewItem(option)
        plain.state &= ~QStyle.StateFlag.State_Selected
        plain.state &= ~QStyle.StateFlag.State_HasFocus
        super().paint(painter, plain, index)
        if selected:
            painter.save()
            painter.setPen(QPen(QColor(20, 20, 20), 3))
            painter.drawRect(option.rect.adjusted(1, 1, -2, -2))
            painter.restore()


class ConfusionTable(QTableWidget):
    cell_chosen = Signal(int, int)  # true class, predicted class

    def __init__(self) -> None:
        super().__init__()
        self.setAccessibleName("Confusion matrix")
        self.setAccessibleDescription("Rows are the true classes, columns the predicted ones. "
                                      "Choose a cell to see its samples.")
        self.setToolTip("Rows: true class · columns: predicted class. Click a cell to see its "
                        "samples below, most confidently wrong first.")
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setTabKeyNavigation(False)  # arrows choose cells; Tab leaves the matrix
        self.setItemDelegate(_FramedSelection(self))
        for header in (self.horizontalHeader(), self.verticalHeader()):
            header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
            header.setMinimumSectionSize(24)
        self._evaluation: Evaluation | None = None
        self._normalised = False
        self.currentCellChanged.connect(self._current_changed)

    @property
    def normalised(self) -> bool:
        return self._normalised

    def show_evaluation(self, evaluation: Evaluation | None) -> None:
        self._evaluation = evaluation
        self.blockSignals(True)
        self.clear()
        self.setCurrentCell(-1, -1)
        results = evaluation.classification if evaluation is not None else None
        if evaluation is None or results is None:
            self.setRowCount(0)
            self.setColumnCount(0)
            self.blockSignals(False)
            return
        names = evaluation.class_names
        self.setRowCount(len(names))
        self.setColumnCount(len(names))
        self.setHorizontalHeaderLabels([f"→ {name}" for name in names])
        self.setVerticalHeaderLabels(list(names))
        self.horizontalHeader().setToolTip("Predicted class")
        self.verticalHeader().setToolTip("True class")
        for true, row in enumerate(results.confusion):
            for guess, count in enumerate(row):
                share = results.confusion_normalised[true][guess]
                item = QTableWidgetItem()
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                item.setBackground(QBrush(_blend(_RIGHT if true == guess else _WRONG,
                                                 share ** 0.5)))
                item.setForeground(QBrush(QColor("white" if share > 0.35 else "black")))
                sample = "sample" if count == 1 else "samples"
                item.setToolTip(f"True {names[true]}, predicted {names[guess]}: {count:,} "
                                f"{sample} ({share:.1%} of class {names[true]})")
                self.setItem(true, guess, item)
        self.blockSignals(False)
        self._write_numbers()

    def set_normalised(self, normalised: bool) -> None:
        """Show each row's shares (which sum to 100%) instead of counts."""
        self._normalised = normalised
        self._write_numbers()

    def _write_numbers(self) -> None:
        results = self._evaluation.classification if self._evaluation is not None else None
        if results is None:
            return
        for true, row in enumerate(results.confusion):
            for guess, count in enumerate(row):
                item = self.item(true, guess)
                if item is not None:
                    share = results.confusion_normalised[true][guess]
                    item.setText(f"{share:.0%}" if self._normalised else f"{count:,}")

    def choose(self, true_class: int, predicted_class: int) -> None:
        """Select a cell as a click would (``cell_chosen`` follows, even for the current)."""
        if self.currentRow() == true_class and self.currentColumn() == predicted_class:
            self.cell_chosen.emit(true_class, predicted_class)
        else:
            self.setCurrentCell(true_class, predicted_class)

    def _current_changed(self, row: int, column: int, _row: int, _column: int) -> None:
        if row >= 0 and column >= 0:
            self.cell_chosen.emit(row, column)
